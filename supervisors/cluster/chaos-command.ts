/**
 * The chaos control's command, from an operator (POST /chaos/crash on the primary, only with CARBON_CHAOS=true)
 * to every worker; the worker owning the commodity acts on it and says whether it did (ChaosApplied), so that the
 * operator learns how many workers acted: a crash announced is a crash that happened.
 * `crash`: the commodity's actor (a random live one when no commodity is named) throws once.
 * `poison`: the commodity's tick at `poisonTsMs` crashes its actor every time (a poison-message drill).
 */
export interface ChaosCommand {
  readonly type: 'carbon:chaos';
  /** Set by the primary to match each worker's answer. */
  readonly id: number;
  readonly action: 'crash' | 'poison';
  readonly commodity: string | undefined;
  readonly poisonTsMs: number | undefined;
}

/** A worker's answer to a ChaosCommand. */
export interface ChaosApplied {
  readonly type: 'carbon:chaos-applied';
  readonly id: number;
  /** Whether this worker acted (it holds the commodity's actor; for poison: it will crash on the tick). */
  readonly applied: boolean;
}

export function isChaosCommand(m: unknown): m is ChaosCommand {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'carbon:chaos';
}

export function isChaosApplied(m: unknown): m is ChaosApplied {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'carbon:chaos-applied';
}
