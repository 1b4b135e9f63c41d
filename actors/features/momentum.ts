/** Price momentum: how far the price moved over a fixed number of ticks. */

/** p_t - p_{t-lag}, in price units; undefined with fewer than lag + 1 prices. */
export function momentum(prices: ArrayLike<number>, lag: number): number | undefined {
  const n = prices.length;
  if (lag < 1 || n < lag + 1) return undefined;
  const m = (prices[n - 1] as number) - (prices[n - 1 - lag] as number);
  return Number.isFinite(m) ? m : undefined;
}
