/**
 * Proper scores of predictive distributions, one outcome at a time (lower is better for all of them): the
 * pinball loss of the quantiles (its mean over levels approximates the CRPS), the interval score of a central
 * interval (Gneiting and Raftery's, also called Winkler's), and the Brier score of a probability.
 */
import { INTERVAL, QUANTILE_LEVELS } from './distribution.ts';

/** Mean over the levels of the pinball loss (y - q)(tau - 1{y < q}). */
export function pinballLoss(y: number, quantiles: ArrayLike<number>, levels: readonly number[] = QUANTILE_LEVELS): number {
  let sum = 0;
  for (let i = 0; i < levels.length; i++) {
    const d = y - quantiles[i]!;
    sum += d >= 0 ? levels[i]! * d : (levels[i]! - 1) * d;
  }
  return sum / levels.length;
}

/** Width plus 2 / alpha times the distance by which y falls outside [low, high]; alpha = 1 - level. */
export function intervalScore(low: number, high: number, y: number, level: number = INTERVAL.level): number {
  const penalty = 2 / (1 - level);
  return high - low + (y < low ? penalty * (low - y) : 0) + (y > high ? penalty * (y - high) : 0);
}

/** (p - 1{rose})^2; a return of exactly 0 is not a rise. */
export function brierScore(probabilityUp: number, y: number): number {
  const d = probabilityUp - (y > 0 ? 1 : 0);
  return d * d;
}
