/**
 * A trading signal only where there is evidence: the forecaster's walk-forward direction calls must beat chance
 * (Pesaran-Timmermann, p < SIGNAL_MAX_P), and the calibrated probability must stand clear of a coin flip.
 */

export type Signal = 'LONG' | 'SHORT' | 'NEUTRAL';

export const SIGNAL_MAX_P = 0.05;
/** How far from 0.5 the probability must be: 0.55 for LONG, 0.45 for SHORT. */
export const SIGNAL_MIN_EDGE = 0.05;

/** What the walk-forward says of a forecaster's direction calls. */
export interface DirectionEvidence {
  /** Null when the calls all point one way (no evidence of skill). */
  readonly pesaranTimmermannP: number | null;
}

export function tradingSignal(evidence: DirectionEvidence, probabilityUp: number): { readonly signal: Signal; readonly reason: string } {
  const p = evidence.pesaranTimmermannP;
  if (p === null) return { signal: 'NEUTRAL', reason: 'no directional skill: its walk-forward calls all point one way' };
  if (!(p < SIGNAL_MAX_P)) {
    return { signal: 'NEUTRAL', reason: `no significant directional skill (Pesaran-Timmermann p = ${p.toFixed(3)} >= ${SIGNAL_MAX_P})` };
  }
  const edge = `Pesaran-Timmermann p = ${p.toFixed(3)}, probability of a rise ${probabilityUp.toFixed(3)}`;
  if (probabilityUp >= 0.5 + SIGNAL_MIN_EDGE) return { signal: 'LONG', reason: edge };
  if (probabilityUp <= 0.5 - SIGNAL_MIN_EDGE) return { signal: 'SHORT', reason: edge };
  return { signal: 'NEUTRAL', reason: `${edge}: within ${SIGNAL_MIN_EDGE} of 0.5` };
}
