/**
 * The chaos control's command, from an operator (POST /chaos/crash on the primary, only with CARBON_CHAOS=true)
 * to every worker; the worker owning the commodity acts on it.
 * `crash`: the commodity's actor (a random live one when no commodity is named) throws once.
 * `poison`: the commodity's tick at `poisonTsMs` crashes its actor every time (a poison-message drill).
 */
export interface ChaosCommand {
  readonly type: 'carbon:chaos';
  readonly action: 'crash' | 'poison';
  readonly commodity: string | undefined;
  readonly poisonTsMs: number | undefined;
}

export function isChaosCommand(m: unknown): m is ChaosCommand {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'carbon:chaos';
}
