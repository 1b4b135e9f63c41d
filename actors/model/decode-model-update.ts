/**
 * The gate in front of the model replicas: a `model-updates` value from any producer becomes either a ModelUpdate
 * that a worker may act on (it reloads the commodity's models from the registry) or a rejection with a stable
 * reason for the DLQ. A garbled one must not make a worker look a commodity up that is no commodity.
 */
import { isValidCommodityId } from '../ingest/commodity-id.ts';
import { ModelUpdate, ModelUpdateAction } from '../../proto/gen/carbon/v1/model_update.ts';

export const modelUpdateRejectReasons = ['bad_protobuf', 'missing_field', 'malformed_commodity', 'unknown_action', 'out_of_range'] as const;
export type ModelUpdateRejectReason = (typeof modelUpdateRejectReasons)[number];

export type ModelUpdateResult =
  | { readonly ok: true; readonly update: ModelUpdate }
  | { readonly ok: false; readonly reason: ModelUpdateRejectReason; readonly detail: string };

const actions: ReadonlySet<number> = new Set([
  ModelUpdateAction.MODEL_UPDATE_ACTION_PROMOTED,
  ModelUpdateAction.MODEL_UPDATE_ACTION_ROLLED_BACK,
  ModelUpdateAction.MODEL_UPDATE_ACTION_CHALLENGERS_CHANGED,
]);

const reject = (reason: ModelUpdateRejectReason, detail: string): ModelUpdateResult => ({ ok: false, reason, detail });

export function decodeModelUpdate(value: Uint8Array | null): ModelUpdateResult {
  if (value === null || value.length === 0) return reject('missing_field', 'empty message value');
  let u: ModelUpdate;
  try {
    u = ModelUpdate.decode(value);
  } catch (err) {
    return reject('bad_protobuf', err instanceof Error ? err.message : String(err));
  }
  if (u.commodity === '') return reject('missing_field', 'commodity is missing');
  if (!isValidCommodityId(u.commodity)) return reject('malformed_commodity', `commodity ${JSON.stringify(u.commodity.slice(0, 40))} is not a commodity id`);
  if (!actions.has(u.action)) return reject('unknown_action', `action ${u.action} is none of promoted (1), rolled back (2), challengers changed (3)`);
  if (!(u.modelVersion >= 0)) return reject('out_of_range', `model_version ${u.modelVersion} is negative`);
  // 0: a writer older than horizons.
  if (!(u.horizonTicks >= 0)) return reject('out_of_range', `horizon_ticks ${u.horizonTicks} is negative`);
  return { ok: true, update: u };
}
