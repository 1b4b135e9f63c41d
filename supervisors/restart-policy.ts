/**
 * Restart policies as data (after OTP's supervisor flags) and the pure arithmetic that decides whether one more
 * restart is allowed and how long to wait before it. No clock, no timers, no randomness of its own: callers pass
 * `nowMs` and a random source, so every decision can be replayed in a test.
 */

/** Exponential backoff between restarts of one actor (or process) within a restart window. */
export interface BackoffPolicy {
  /** Delay of the second restart in a window; the first restart in a window is immediate. */
  readonly minMs: number;
  /** Hard upper bound on any delay, jitter included. */
  readonly maxMs: number;
  /** Relative spread in [0, 1]: a delay d becomes uniform in [d * (1 - jitter), d * (1 + jitter)]. */
  readonly jitter: number;
}

/** What a level does once it has used up its restarts: hand the fault to the level above, or stop for good. */
export type ExhaustedAction = 'escalate' | 'stop';

export interface RestartPolicy {
  /** Restarts allowed within any sliding window of `periodMs`; the next crash past that is not restarted. */
  readonly intensity: number;
  readonly periodMs: number;
  readonly backoff: BackoffPolicy;
  readonly onExhausted: ExhaustedAction;
}

/** The one place where defaults live: OTP's 1 restart in 5 s is too strict for actors, so 5 in 10 s. */
export const defaultRestartPolicy: RestartPolicy = Object.freeze({
  intensity: 5,
  periodMs: 10_000,
  backoff: Object.freeze({ minMs: 10, maxMs: 2_000, jitter: 0.2 }),
  onExhausted: 'escalate',
});

/** A policy field that fails validation; `field` is the dotted path (`backoff.maxMs`). */
export class InvalidRestartPolicyError extends Error {
  readonly code = 'INVALID_RESTART_POLICY';
  readonly retriable = false;
  constructor(readonly field: string, detail: string) {
    super(`restart policy: ${field} ${detail}`);
    this.name = 'InvalidRestartPolicyError';
  }
}

function requireNumber(field: string, value: number, atLeast: number, options: { integer?: boolean; bound?: string } = {}): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidRestartPolicyError(field, `must be a finite number (got ${String(value)})`);
  }
  if (options.integer === true && !Number.isInteger(value)) {
    throw new InvalidRestartPolicyError(field, `must be an integer (got ${value})`);
  }
  if (value < atLeast) {
    throw new InvalidRestartPolicyError(field, `must be >= ${options.bound ?? String(atLeast)} (got ${value})`);
  }
}

/** Checks every field and returns the policy frozen; throws InvalidRestartPolicyError naming the first bad field. */
export function validatePolicy(policy: RestartPolicy): RestartPolicy {
  requireNumber('intensity', policy.intensity, 0, { integer: true });
  requireNumber('periodMs', policy.periodMs, 1);
  if (typeof policy.backoff !== 'object' || policy.backoff === null) {
    throw new InvalidRestartPolicyError('backoff', 'must be an object with minMs, maxMs and jitter');
  }
  requireNumber('backoff.minMs', policy.backoff.minMs, 0);
  requireNumber('backoff.maxMs', policy.backoff.maxMs, policy.backoff.minMs, { bound: `backoff.minMs (${policy.backoff.minMs})` });
  requireNumber('backoff.jitter', policy.backoff.jitter, 0);
  if (policy.backoff.jitter > 1) {
    throw new InvalidRestartPolicyError('backoff.jitter', `must be <= 1 (got ${policy.backoff.jitter})`);
  }
  if (policy.onExhausted !== 'escalate' && policy.onExhausted !== 'stop') {
    throw new InvalidRestartPolicyError('onExhausted', `must be 'escalate' or 'stop' (got ${String(policy.onExhausted)})`);
  }
  return Object.freeze({
    intensity: policy.intensity,
    periodMs: policy.periodMs,
    backoff: Object.freeze({ ...policy.backoff }),
    onExhausted: policy.onExhausted,
  });
}

export type RestartPolicyOverrides = Partial<Omit<RestartPolicy, 'backoff'>> & { backoff?: Partial<BackoffPolicy> };

/** Builds a validated, frozen policy from the defaults and the given overrides. */
export function restartPolicy(overrides: RestartPolicyOverrides = {}): RestartPolicy {
  return validatePolicy({
    ...defaultRestartPolicy,
    ...overrides,
    backoff: { ...defaultRestartPolicy.backoff, ...overrides.backoff },
  });
}

/**
 * Delay before a restart, given how many restarts already happened in the current window. The first restart is
 * immediate so that an isolated crash costs nothing; after that minMs * 2^(previous - 1), jittered, capped at maxMs.
 */
export function backoffDelayMs(backoff: BackoffPolicy, previousRestarts: number, random: () => number): number {
  if (previousRestarts <= 0) return 0;
  const base = backoff.minMs * 2 ** (previousRestarts - 1);
  const spread = 1 + backoff.jitter * (2 * random() - 1);
  return Math.min(backoff.maxMs, Math.round(base * spread));
}

export type RestartVerdict =
  | { readonly allowed: true; readonly delayMs: number; readonly history: readonly number[] }
  | { readonly allowed: false; readonly history: readonly number[] };

/**
 * Whether one more restart is allowed at `nowMs`, given the times of past restarts. `history` is what to keep
 * for next time: the restarts still inside the window (now included when allowed). Times must come from one
 * monotonic clock; a past time later than `nowMs` counts as inside the window.
 */
export function recordRestart(
  policy: RestartPolicy,
  pastRestartsMs: readonly number[],
  nowMs: number,
  random: () => number = Math.random,
): RestartVerdict {
  const inWindow = pastRestartsMs.filter((t) => nowMs - t < policy.periodMs);
  if (inWindow.length >= policy.intensity) return { allowed: false, history: inWindow };
  return {
    allowed: true,
    delayMs: backoffDelayMs(policy.backoff, inWindow.length, random),
    history: [...inWindow, nowMs],
  };
}
