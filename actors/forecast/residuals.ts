/**
 * The distribution of a forecaster's standardized residuals e = (y - point) / scale on calibration rows it was
 * not fitted on: its conformal quantiles give the forecast's quantiles (point + scale * offset), and its
 * percentiles give the raw probability of a rise before calibration.
 */
import { QUANTILE_LEVELS } from './distribution.ts';

export interface ResidualDistribution {
  /** Offsets at QUANTILE_LEVELS (finite-sample conformal ranks, conservative on both sides). */
  readonly offsets: readonly number[];
  /** The 1st to 99th percentiles of e, ascending. */
  readonly percentiles: readonly number[];
  readonly rows: number;
}

/** Fewest calibration residuals: below that the 5 % and 95 % ranks fall on the sample's extremes. */
export const MIN_RESIDUALS = 40;

/**
 * The k-th smallest of n residuals for level tau: k = floor((n + 1) tau) below the median and ceil((n + 1) tau)
 * above it, so that a central interval between two offsets covers at least its nominal share of new rows.
 */
function conformalRank(n: number, tau: number): number {
  const k = tau <= 0.5 ? Math.floor((n + 1) * tau) : Math.ceil((n + 1) * tau);
  return Math.min(n, Math.max(1, k));
}

export function fitResiduals(residuals: ArrayLike<number>, levels: readonly number[] = QUANTILE_LEVELS): ResidualDistribution {
  const n = residuals.length;
  if (n < MIN_RESIDUALS) throw new RangeError(`${n} calibration residuals; at least ${MIN_RESIDUALS} are needed`);
  const sorted = Float64Array.from(residuals);
  for (const e of sorted) if (!Number.isFinite(e)) throw new RangeError(`a calibration residual is not finite: ${e}`);
  sorted.sort();
  return {
    offsets: levels.map((tau) => sorted[conformalRank(n, tau) - 1]!),
    percentiles: Array.from({ length: 99 }, (_, i) => {
      // Linear interpolation between order statistics (the usual sample percentile).
      const at = ((i + 1) / 100) * (n - 1);
      const lo = Math.floor(at);
      return sorted[lo]! + (at - lo) * (sorted[Math.min(n - 1, lo + 1)]! - sorted[lo]!);
    }),
    rows: n,
  };
}

/** P(e > x) read off the percentiles by linear interpolation, kept within [0.005, 0.995]. */
export function shareAbove(r: ResidualDistribution, x: number): number {
  const p = r.percentiles;
  if (x < p[0]!) return 0.995;
  if (x >= p[p.length - 1]!) return 0.005;
  // Largest i with p[i] <= x; P(e <= p[i]) = (i + 1) / 100.
  let lo = 0;
  let hi = p.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (p[mid]! <= x) lo = mid;
    else hi = mid;
  }
  const span = p[hi]! - p[lo]!;
  const below = (lo + 1 + (span > 0 ? (x - p[lo]!) / span : 0)) / 100;
  return Math.min(0.995, Math.max(0.005, 1 - below));
}
