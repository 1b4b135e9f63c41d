/**
 * GatewayInternal/OwnerSnapshots, what a worker answers on its internal endpoint: a peer's forwarded question for a
 * partition this worker owns, from the actor (or the online store when no actor holds the commodity yet). A worker
 * that does not own the partition says so instead of answering, so that the peer never serves another worker's
 * view. The transport is internal-server.ts.
 */
import type { Logger } from '../platform/logger.ts';
import { OwnerSnapshotOutcome, type OwnerSnapshotRequest, type OwnerSnapshotResponse } from '../proto/gen/carbon/v1/internal.ts';
import type { LocalState } from './local-owner.ts';
import type { OwnershipView } from './ownership-view.ts';

export interface InternalServiceDeps {
  /** The state of a commodity of a partition this worker owns (Router.localState). */
  readonly localState: (partition: number, commodity: string, timeoutMs: number) => Promise<LocalState>;
  readonly view: OwnershipView;
  readonly workerId: string;
  readonly draining: () => boolean;
  readonly ownerTimeoutMs: number;
  readonly log: Logger;
}

/** The answer to one question (its id is the transport's business); a failure is an outcome, never a throw. */
export type OwnerSnapshotHandler = (request: OwnerSnapshotRequest, deadlineMs: number) => Promise<OwnerSnapshotResponse>;

/** An answer that is not the owner's state: not owned, draining, or failed (with `failure`). */
export function ownerRefusal(workerId: string, outcome: OwnerSnapshotOutcome, failure = ''): OwnerSnapshotResponse {
  return { outcome, modelVersion: 0, fromActor: false, owner: workerId, id: 0, failure, predictions: [], horizons: [] };
}

export function ownerSnapshotHandler(deps: InternalServiceDeps): OwnerSnapshotHandler {
  const notOwner = ownerRefusal(deps.workerId, OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_NOT_OWNER);
  const draining = ownerRefusal(deps.workerId, OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_DRAINING);
  const failed = (failure: string) => ownerRefusal(deps.workerId, OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_FAILED, failure);
  return async ({ commodity, partition }, deadlineMs) => {
    if (deps.draining()) return draining;
    if (!deps.view.isLocal(partition)) return notOwner;
    const timeoutMs = Math.min(deps.ownerTimeoutMs, deadlineMs - Date.now());
    if (!(timeoutMs >= 1)) return failed(`no time left to ask the actor of ${commodity}`);
    try {
      const s = await deps.localState(partition, commodity, timeoutMs);
      // `prediction` and `model_version` are horizon 1's, for askers older than horizons.
      const first = s.horizons.find((h) => h.horizonTicks === 1);
      return {
        outcome: OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_OWNED,
        features: s.features,
        prediction: s.predictions.find((p) => p.horizonTicks === 1),
        modelVersion: first?.modelVersion ?? 0,
        predictions: [...s.predictions],
        horizons: [...s.horizons],
        fromActor: s.fromActor,
        owner: deps.workerId,
        id: 0,
        failure: '',
      };
    } catch (err) {
      deps.log.debug('gateway_internal_snapshot_failed', { commodity, partition, err });
      return failed(`owner could not answer for ${commodity}: ${(err as Error).message}`);
    }
  };
}
