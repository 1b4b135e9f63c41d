/**
 * Split-conformal prediction intervals: the absolute residuals of a model on calibration rows it never trained
 * on give a half-width q such that, for a new exchangeable row, P(|y - prediction| <= q) >= level.
 */

/**
 * The ceil((n + 1) * level)-th smallest of the n absolute residuals (the finite-sample conformal quantile).
 * Infinity when n is too small for the level (then no finite interval has the guarantee).
 */
export function conformalHalfWidth(absResiduals: ArrayLike<number>, level: number): number {
  if (!(level > 0 && level < 1)) throw new RangeError(`interval level must be in (0, 1), got ${level}`);
  const n = absResiduals.length;
  const rank = Math.ceil((n + 1) * level);
  if (rank > n) return Number.POSITIVE_INFINITY;
  const sorted = Float64Array.from(absResiduals);
  for (const r of sorted) {
    if (!(r >= 0)) throw new RangeError(`absolute residuals must be >= 0 and not NaN, got ${r}`);
  }
  sorted.sort();
  return sorted[rank - 1]!;
}
