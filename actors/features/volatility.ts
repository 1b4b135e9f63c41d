/**
 * Dispersion of simple returns: sample standard deviation and the z-score of the latest return. Returns are
 * recomputed from prices on the fly (a division each) rather than stored, so these stay allocation-free.
 * A run of returns with any undefined member (a previous price of 0) has no statistics: the result is undefined.
 */
import { logReturn, simpleReturn } from './returns.ts';

/**
 * Mean of the `count` simple returns ending with the one into prices[lastIndex]; undefined if any is undefined
 * (a previous price of 0). The return is simpleReturn() written out: this loop is the hot path of a tick.
 */
function meanOfReturns(prices: ArrayLike<number>, lastIndex: number, count: number): number | undefined {
  let sum = 0;
  for (let i = lastIndex - count + 1; i <= lastIndex; i++) {
    const previous = prices[i - 1] as number;
    if (previous === 0) return undefined;
    sum += ((prices[i] as number) - previous) / Math.abs(previous);
  }
  return sum / count;
}

/** Sample (n - 1) standard deviation of the same returns as meanOfReturns, given their mean (two passes, stable). */
function stdDevOfReturns(prices: ArrayLike<number>, lastIndex: number, count: number, mean: number): number {
  let squares = 0;
  for (let i = lastIndex - count + 1; i <= lastIndex; i++) {
    const previous = prices[i - 1] as number;
    const deviation = ((prices[i] as number) - previous) / Math.abs(previous) - mean;
    squares += deviation * deviation;
  }
  return Math.sqrt(squares / (count - 1));
}

/**
 * Sample standard deviation of the last `period` simple returns (needs period + 1 prices); undefined with fewer,
 * or when one of those returns is undefined. Always >= 0.
 */
export function returnVolatility(prices: ArrayLike<number>, period: number): number | undefined {
  const last = prices.length - 1;
  if (period < 2 || last < period) return undefined;
  const mean = meanOfReturns(prices, last, period);
  if (mean === undefined) return undefined;
  const std = stdDevOfReturns(prices, last, period, mean);
  return Number.isFinite(std) ? std : undefined;
}

/**
 * (r_t - mean) / std, where r_t is the latest simple return and mean and std (sample) are of the `period` returns
 * before it, so the latest return does not dilute its own baseline (needs period + 2 prices). Undefined with
 * fewer prices, when any of those returns is undefined, or when std is 0.
 */
export function returnZScore(prices: ArrayLike<number>, period: number): number | undefined {
  const last = prices.length - 1;
  if (period < 2 || last < period + 1) return undefined;
  const latest = simpleReturn(prices[last - 1] as number, prices[last] as number);
  if (latest === undefined) return undefined;
  const mean = meanOfReturns(prices, last - 1, period);
  if (mean === undefined) return undefined;
  const std = stdDevOfReturns(prices, last - 1, period, mean);
  if (std === 0) return undefined;
  const z = (latest - mean) / std;
  return Number.isFinite(z) ? z : undefined;
}

/**
 * Decay of the EWMA variance: RiskMetrics' daily value. It is fixed rather than fitted so that the feature is one
 * stored number; each commodity's forecaster adapts it by fitting how much weight the long-run variance gets.
 */
export const EWMA_DECAY = 0.94;
/** Fewest log returns in the window for an EWMA volatility (as many as volatility20 needs). */
export const EWMA_MIN_RETURNS = 20;

/**
 * Exponentially weighted volatility of the log returns in the window: the variance starts at the mean square of
 * all of them (so that the start of a window weighs no more than its place in it), then v = d v + (1 - d) r^2 for
 * each return oldest first, d = EWMA_DECAY. Returns across a non-positive price are skipped (they do not exist).
 * Undefined with fewer than EWMA_MIN_RETURNS of them. Always >= 0.
 */
export function ewmaLogReturnVolatility(prices: ArrayLike<number>, decay: number = EWMA_DECAY): number | undefined {
  let count = 0;
  let sumSquares = 0;
  for (let i = 1; i < prices.length; i++) {
    const r = logReturn(prices[i - 1] as number, prices[i] as number);
    if (r === undefined) continue;
    count++;
    sumSquares += r * r;
  }
  if (count < EWMA_MIN_RETURNS) return undefined;
  let variance = sumSquares / count;
  for (let i = 1; i < prices.length; i++) {
    const r = logReturn(prices[i - 1] as number, prices[i] as number);
    if (r !== undefined) variance = decay * variance + (1 - decay) * r * r;
  }
  const volatility = Math.sqrt(variance);
  return Number.isFinite(volatility) ? volatility : undefined;
}
