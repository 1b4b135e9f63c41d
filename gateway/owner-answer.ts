/**
 * What the gateway learns about one commodity from its owner (or, degraded, from the online store), in the
 * form every handler works on. Features and Prediction are the platform's wire types already (the actors hand
 * Prediction to the sinks, the online store holds Features), so they are kept as they are.
 */
import type { Features } from '../proto/gen/carbon/v1/features.ts';
import type { Prediction } from '../proto/gen/carbon/v1/prediction.ts';

/** How an answer was obtained; also the `path` label of carbon_grpc_calls_total. */
export type ServingPathName = 'local' | 'forwarded' | 'degraded';

export interface OwnerAnswer {
  readonly path: ServingPathName;
  readonly partition: number;
  /** True when a commodity actor answered, false when its last durable outputs did (online store). */
  readonly fromActor: boolean;
  readonly features: Features | undefined;
  readonly prediction: Prediction | undefined;
  /** Model version in service where the answer was made, 0 when none. */
  readonly modelVersion: number;
  /** Identity of the owning worker; empty when degraded. */
  readonly owner: string;
}

/** The call's time budget: an absolute deadline on this worker's wall clock (epoch ms). */
export interface Budget {
  readonly deadlineMs: number;
}

export function remainingMs(budget: Budget, nowMs = Date.now()): number {
  return budget.deadlineMs - nowMs;
}
