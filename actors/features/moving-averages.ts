/** Moving averages of the most recent prices (the last element of `prices` is the current price). */

/** Mean of the last `period` prices; undefined with fewer than `period` prices (or if their sum overflows). */
export function simpleMovingAverage(prices: ArrayLike<number>, period: number): number | undefined {
  const n = prices.length;
  if (period < 1 || n < period) return undefined;
  let sum = 0;
  for (let i = n - period; i < n; i++) sum += prices[i] as number;
  const mean = sum / period;
  return Number.isFinite(mean) ? mean : undefined;
}

/** The standard EMA smoothing factor for an n-period average: 2 / (n + 1). */
export function emaAlpha(period: number): number {
  return 2 / (period + 1);
}

/**
 * EMA over the whole of `prices` (the window, not all history, so that a rebuilt window gives the same value):
 * seeded with prices[0], then ema = alpha * p + (1 - alpha) * ema for each later price. Equals the price when
 * there is one; undefined when there is none. Written as ema + alpha * (p - ema), the same value, because with
 * alpha < 1 rounding can then never carry it outside the inputs' min and max (the other form can, by one ulp).
 */
export function exponentialMovingAverage(prices: ArrayLike<number>, period: number): number | undefined {
  const n = prices.length;
  if (n === 0) return undefined;
  const alpha = emaAlpha(period);
  let ema = prices[0] as number;
  for (let i = 1; i < n; i++) ema += alpha * ((prices[i] as number) - ema);
  return ema;
}
