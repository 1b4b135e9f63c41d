/**
 * GatewayInternal on the worker's internal endpoint: answers a peer's forwarded question for a partition this
 * worker owns, from the actor (or the online store when no actor holds the commodity yet). A worker that does
 * not own the partition says so instead of answering, so that the peer never serves another worker's view.
 */
import type { handleUnaryCall, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import type { Logger } from '../platform/logger.ts';
import { OwnerSnapshotOutcome, type GatewayInternalServer, type OwnerSnapshotRequest, type OwnerSnapshotResponse } from '../proto/gen/carbon/v1/internal.ts';
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

function deadlineOf(call: ServerUnaryCall<unknown, unknown>): number {
  const d = call.getDeadline();
  return d instanceof Date ? d.getTime() : d;
}

export function internalService(deps: InternalServiceDeps): GatewayInternalServer {
  const notOwner: OwnerSnapshotResponse = { outcome: OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_NOT_OWNER, modelVersion: 0, fromActor: false, owner: deps.workerId };
  const draining: OwnerSnapshotResponse = { ...notOwner, outcome: OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_DRAINING };
  const ownerSnapshot: handleUnaryCall<OwnerSnapshotRequest, OwnerSnapshotResponse> = (call, callback: sendUnaryData<OwnerSnapshotResponse>) => {
    const { commodity, partition } = call.request;
    if (deps.draining()) return callback(null, draining);
    if (!deps.view.isLocal(partition)) return callback(null, notOwner);
    const timeoutMs = Math.min(deps.ownerTimeoutMs, deadlineOf(call) - Date.now());
    if (!(timeoutMs >= 1)) return callback({ code: status.DEADLINE_EXCEEDED, details: 'no time left' });
    deps.localState(partition, commodity, timeoutMs).then(
      (s) => callback(null, { outcome: OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_OWNED, features: s.features, prediction: s.prediction, modelVersion: s.modelVersion, fromActor: s.fromActor, owner: deps.workerId }),
      (err: unknown) => {
        deps.log.debug('gateway_internal_snapshot_failed', { commodity, partition, err });
        callback({ code: status.UNAVAILABLE, details: `owner could not answer for ${commodity}: ${(err as Error).message}` });
      },
    );
  };
  return { ownerSnapshot };
}
