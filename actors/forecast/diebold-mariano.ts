/**
 * The Diebold-Mariano test of equal predictive accuracy, one-sided: is the challenger's loss lower than the
 * champion's on average? d_t = loss_champion - loss_challenger; DM = mean(d) / sqrt(LRV / n), where the long-run
 * variance LRV sums the autocovariances of d up to lag h - 1 (an h-tick forecast's errors overlap h - 1 ticks),
 * with the Harvey-Leybourne-Newbold small-sample factor. Large positive values favour the challenger.
 *
 * The differentials are kept as running sums (count, sum, sum of squares, lagged cross products, and the first
 * and last h - 1 values), so the live shadow scoring can store and resume a test without keeping every outcome.
 */
import { standardNormalUpperTail } from './normal-distribution.ts';

export interface LossDifferentials {
  /** Largest autocovariance lag, h - 1. */
  readonly maxLag: number;
  readonly n: number;
  readonly sum: number;
  readonly sumSquares: number;
  /** lagProducts[k - 1] = sum over t of d_t * d_{t-k}, k = 1..maxLag. */
  readonly lagProducts: readonly number[];
  /** The first maxLag differentials, oldest first. */
  readonly first: readonly number[];
  /** The last maxLag differentials, oldest first. */
  readonly recent: readonly number[];
}

export interface DieboldMarianoResult {
  readonly n: number;
  /** Mean of champion loss minus challenger loss. */
  readonly meanDifferential: number;
  /** Null with fewer than 2 rows or no variance. */
  readonly statistic: number | null;
  /** One-sided: P(Z >= statistic); null with the statistic. */
  readonly pValue: number | null;
}

export function noDifferentials(horizonTicks: number): LossDifferentials {
  const maxLag = Math.max(0, horizonTicks - 1);
  return { maxLag, n: 0, sum: 0, sumSquares: 0, lagProducts: new Array<number>(maxLag).fill(0), first: [], recent: [] };
}

export function addDifferential(acc: LossDifferentials, d: number): LossDifferentials {
  const { maxLag, recent } = acc;
  const lagProducts = acc.lagProducts.map((p, k) => {
    const earlier = recent[recent.length - 1 - k];
    return earlier === undefined ? p : p + d * earlier;
  });
  return {
    maxLag,
    n: acc.n + 1,
    sum: acc.sum + d,
    sumSquares: acc.sumSquares + d * d,
    lagProducts,
    first: acc.first.length < maxLag ? [...acc.first, d] : acc.first,
    recent: maxLag === 0 ? recent : [...recent, d].slice(-maxLag),
  };
}

export function differentialsOf(championLoss: ArrayLike<number>, challengerLoss: ArrayLike<number>, horizonTicks: number): LossDifferentials {
  if (championLoss.length !== challengerLoss.length) throw new RangeError(`${championLoss.length} champion losses but ${challengerLoss.length} challenger losses`);
  let acc = noDifferentials(horizonTicks);
  for (let i = 0; i < championLoss.length; i++) acc = addDifferential(acc, championLoss[i]! - challengerLoss[i]!);
  return acc;
}

export function dieboldMariano(acc: LossDifferentials): DieboldMarianoResult {
  const { n } = acc;
  const mean = n > 0 ? acc.sum / n : 0;
  if (n < 2) return { n, meanDifferential: mean, statistic: null, pValue: null };
  let lrv = acc.sumSquares / n - mean * mean;
  const lags = Math.min(acc.maxLag, n - 1);
  for (let k = 1; k <= lags; k++) {
    // sum_{t>k} (d_t - m)(d_{t-k} - m) from the running sums: the products, minus m times the two partial sums.
    const sumFirstK = sumOf(acc.first, k, 'head');
    const sumLastK = sumOf(acc.recent, k, 'tail');
    const cross = acc.lagProducts[k - 1]! - mean * (acc.sum - sumFirstK) - mean * (acc.sum - sumLastK) + (n - k) * mean * mean;
    lrv += (2 * cross) / n;
  }
  if (!(lrv > 1e-300)) {
    // No variance: every outcome differs by the same amount. A constant advantage is decisive; none at all is no test.
    if (mean === 0) return { n, meanDifferential: mean, statistic: null, pValue: null };
    return { n, meanDifferential: mean, statistic: mean > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY, pValue: mean > 0 ? 0 : 1 };
  }
  const h = acc.maxLag + 1;
  const hln = Math.sqrt((n + 1 - 2 * h + (h * (h - 1)) / n) / n);
  const statistic = (mean / Math.sqrt(lrv / n)) * (Number.isFinite(hln) && hln > 0 ? hln : 1);
  return { n, meanDifferential: mean, statistic, pValue: standardNormalUpperTail(statistic) };
}

function sumOf(values: readonly number[], k: number, end: 'head' | 'tail'): number {
  const part = end === 'head' ? values.slice(0, k) : values.slice(values.length - k);
  return part.reduce((a, b) => a + b, 0);
}
