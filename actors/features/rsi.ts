/** Relative strength index over a fixed number of price changes (simple averages, not Wilder's smoothing). */

/**
 * Over the last `period` price changes: avgGain = sum of rises / period, avgLoss = sum of |falls| / period,
 * RSI = 100 - 100 / (1 + avgGain / avgLoss). Computed as 100 * (gain / (gain + loss)), the same value without
 * the division by a zero loss (100 when only rises, 0 when only falls, 50 when the price did not move), and a
 * quotient <= 1 that rounding cannot push above 100.
 * Undefined with fewer than `period` changes (period + 1 prices). Always in [0, 100].
 */
export function relativeStrengthIndex(prices: ArrayLike<number>, period: number): number | undefined {
  const n = prices.length;
  if (period < 1 || n < period + 1) return undefined;
  let gain = 0;
  let loss = 0;
  for (let i = n - period; i < n; i++) {
    const change = (prices[i] as number) - (prices[i - 1] as number);
    // Branch-free: price changes flip sign unpredictably, and a mispredicted branch costs more than both adds.
    gain += Math.max(change, 0);
    loss += Math.max(-change, 0);
  }
  const total = gain + loss;
  if (total === 0) return 50;
  const rsi = 100 * (gain / total);
  return Number.isFinite(rsi) ? rsi : undefined;
}
