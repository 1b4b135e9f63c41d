/**
 * What the gateway learns about one commodity from its owner (or, degraded, from the online store), in the
 * form every handler works on. Features and Prediction are the platform's wire types already (the actors hand
 * Prediction to the sinks, the online store holds Features), so they are kept as they are.
 */
import type { Features } from '../proto/gen/carbon/v1/features.ts';
import type { HorizonState } from '../proto/gen/carbon/v1/internal.ts';
import type { Prediction } from '../proto/gen/carbon/v1/prediction.ts';
import type { ForwardFailure } from './owner-client.ts';

/** How an answer was obtained; also the `path` label of carbon_grpc_calls_total. */
export type ServingPathName = 'local' | 'forwarded' | 'degraded';

/**
 * Why the owner's answer could not be had: `owner_unknown`, no worker holds the partition now (a rebalance is
 * under way); `local_failed`, this worker owns it and its actor did not answer; `owner_<failure>`, the forward
 * to the owning peer failed (owner-client.ts); `caller_deadline`, the owner was given less than TIGHT_BUDGET_MS
 * by the call's own deadline and did not answer within it. Also the `cause` label of
 * carbon_grpc_degraded_answers_total.
 */
export const degradedCauses = ['owner_unknown', 'local_failed', 'caller_deadline', 'owner_silent', 'owner_unresponsive', 'owner_declined', 'owner_failed'] as const satisfies readonly (
  'owner_unknown' | 'local_failed' | 'caller_deadline' | `owner_${ForwardFailure}`
)[];
export type DegradedCause = (typeof degradedCauses)[number];

export interface Degradation {
  readonly cause: DegradedCause;
  /** For the caller: which owner, and what went wrong. */
  readonly reason: string;
}

export interface OwnerAnswer {
  readonly path: ServingPathName;
  readonly partition: number;
  /** True when a commodity actor answered, false when its last durable outputs did (online store). */
  readonly fromActor: boolean;
  readonly features: Features | undefined;
  /** The latest prediction of each horizon that has one, by horizon ascending. */
  readonly predictions: readonly Prediction[];
  /** Each served horizon's champion version where the answer was made, and why it has no prediction if so. */
  readonly horizons: readonly HorizonState[];
  /** Identity of the owning worker; empty when degraded. */
  readonly owner: string;
  /** Set on the degraded path only. */
  readonly degradation?: Degradation;
}

/**
 * A budget below which running out of time is the caller's doing, not the server's: a live owner answers in a few
 * milliseconds and the online store in about one, so a question left unanswered within less says more about the
 * deadline its caller chose than about the owner (a forward, the owner client's suspicion, the fault of a call).
 */
export const TIGHT_BUDGET_MS = 50;

/** The call's time budget: an absolute deadline on this worker's wall clock (epoch ms). */
export interface Budget {
  readonly deadlineMs: number;
}

export function predictionAt(a: Pick<OwnerAnswer, 'predictions'>, horizonTicks: number): Prediction | undefined {
  return a.predictions.find((p) => p.horizonTicks === horizonTicks);
}

export function horizonAt(a: Pick<OwnerAnswer, 'horizons'>, horizonTicks: number): HorizonState | undefined {
  return a.horizons.find((h) => h.horizonTicks === horizonTicks);
}

export function remainingMs(budget: Budget, nowMs = Date.now()): number {
  return budget.deadlineMs - nowMs;
}
