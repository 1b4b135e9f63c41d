/**
 * GatewayInternal/OwnerSnapshot, what a worker answers on its internal endpoint: a peer's forwarded question for a
 * partition this worker owns, from the actor (or the online store when no actor holds the commodity yet). A worker
 * that does not own the partition says so instead of answering, so that the peer never serves another worker's
 * view. The transport is internal-server.ts.
 */
import { status } from '@grpc/grpc-js';
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

/** An answer, or the gRPC status of a failure. */
export type InternalAnswer =
  | { readonly ok: true; readonly response: OwnerSnapshotResponse }
  | { readonly ok: false; readonly code: status; readonly details: string };

export type OwnerSnapshotHandler = (request: OwnerSnapshotRequest, deadlineMs: number) => Promise<InternalAnswer>;

export function ownerSnapshotHandler(deps: InternalServiceDeps): OwnerSnapshotHandler {
  const notOwner: InternalAnswer = { ok: true, response: { outcome: OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_NOT_OWNER, modelVersion: 0, fromActor: false, owner: deps.workerId } };
  const draining: InternalAnswer = { ok: true, response: { ...notOwner.response, outcome: OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_DRAINING } };
  return async ({ commodity, partition }, deadlineMs) => {
    if (deps.draining()) return draining;
    if (!deps.view.isLocal(partition)) return notOwner;
    const timeoutMs = Math.min(deps.ownerTimeoutMs, deadlineMs - Date.now());
    if (!(timeoutMs >= 1)) return { ok: false, code: status.DEADLINE_EXCEEDED, details: 'no time left' };
    try {
      const s = await deps.localState(partition, commodity, timeoutMs);
      return { ok: true, response: { outcome: OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_OWNED, features: s.features, prediction: s.prediction, modelVersion: s.modelVersion, fromActor: s.fromActor, owner: deps.workerId } };
    } catch (err) {
      deps.log.debug('gateway_internal_snapshot_failed', { commodity, partition, err });
      return { ok: false, code: status.UNAVAILABLE, details: `owner could not answer for ${commodity}: ${(err as Error).message}` };
    }
  };
}
