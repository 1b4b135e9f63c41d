/**
 * Dispersion of simple returns: sample standard deviation and the z-score of the latest return. Returns are
 * recomputed from prices on the fly (a division each) rather than stored, so these stay allocation-free.
 * A run of returns with any undefined member (a previous price of 0) has no statistics: the result is undefined.
 */
import { simpleReturn } from './returns.ts';

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
