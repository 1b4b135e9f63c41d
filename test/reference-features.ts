/**
 * An independent, deliberately naive reference for the feature definitions in actors/features/README.md:
 * for every tick t it takes the window (the last `windowSize` ticks up to t) by index from the full series and
 * evaluates each definition literally, with plain loops. It shares only the FeatureVector type with
 * actors/features, so integration tests can check the pipeline's stored features against it.
 */
import type { FeatureVector } from '../actors/features/compute-features.ts';

/** Features at every tick of `series` (oldest first), the first tick being tick count 1. */
export function referenceFeatures(
  series: readonly { tsMs: number; price: number }[],
  windowSize: number,
): FeatureVector[] {
  const p = series.map((tick) => tick.price);
  const out: FeatureVector[] = [];
  for (let t = 0; t < series.length; t++) {
    const start = Math.max(0, t - windowSize + 1);
    const count = t - start + 1;
    const ret = (i: number): number | undefined => {
      const prev = p[i - 1] as number;
      return prev === 0 ? undefined : ((p[i] as number) - prev) / Math.abs(prev);
    };

    const sma = (n: number): number | undefined => {
      if (count < n) return undefined;
      let sum = 0;
      for (let i = t - n + 1; i <= t; i++) sum += p[i] as number;
      return sum / n;
    };

    const ema = (n: number): number => {
      const alpha = 2 / (n + 1);
      let e = p[start] as number;
      for (let i = start + 1; i <= t; i++) e = alpha * (p[i] as number) + (1 - alpha) * e;
      return e;
    };

    // Mean and sample std of the returns into prices first..last; undefined if any of them is undefined.
    const stats = (first: number, last: number): { mean: number; std: number } | undefined => {
      const rs: number[] = [];
      for (let i = first; i <= last; i++) {
        const r = ret(i);
        if (r === undefined) return undefined;
        rs.push(r);
      }
      const mean = rs.reduce((a, b) => a + b, 0) / rs.length;
      const variance = rs.reduce((a, r) => a + (r - mean) ** 2, 0) / (rs.length - 1);
      return { mean, std: Math.sqrt(variance) };
    };

    let volatility20: number | undefined;
    if (count >= 21) volatility20 = stats(t - 19, t)?.std;

    // EWMA (decay 0.94) of the squared log returns of the window, started at their mean square; 20 of them at least.
    const logReturns: number[] = [];
    for (let i = start + 1; i <= t; i++) {
      const a = p[i - 1] as number;
      const b = p[i] as number;
      if (a > 0 && b > 0) logReturns.push(Math.log(b / a));
    }
    let ewmaVolatility: number | undefined;
    if (logReturns.length >= 20) {
      let v = logReturns.reduce((a, r) => a + r * r, 0) / logReturns.length;
      for (const r of logReturns) v = 0.94 * v + 0.06 * r * r;
      ewmaVolatility = Math.sqrt(v);
    }

    let zScore: number | undefined;
    if (count >= 22) {
      const r = ret(t);
      const before = stats(t - 20, t - 1);
      if (r !== undefined && before !== undefined && before.std !== 0) zScore = (r - before.mean) / before.std;
    }

    let rsi14: number | undefined;
    if (count >= 15) {
      let gains = 0;
      let losses = 0;
      for (let i = t - 13; i <= t; i++) {
        const d = (p[i] as number) - (p[i - 1] as number);
        if (d > 0) gains += d;
        if (d < 0) losses += -d;
      }
      const avgGain = gains / 14;
      const avgLoss = losses / 14;
      if (avgLoss === 0) rsi14 = avgGain > 0 ? 100 : 50;
      else rsi14 = 100 - 100 / (1 + avgGain / avgLoss);
    }

    let windowMin = Infinity;
    let windowMax = -Infinity;
    for (let i = start; i <= t; i++) {
      windowMin = Math.min(windowMin, p[i] as number);
      windowMax = Math.max(windowMax, p[i] as number);
    }

    const price = p[t] as number;
    const prev = t > 0 ? (p[t - 1] as number) : undefined;
    out.push({
      tsMs: (series[t] as { tsMs: number }).tsMs,
      price,
      simpleReturn: count >= 2 ? ret(t) : undefined,
      logReturn: prev !== undefined && prev > 0 && price > 0 ? Math.log(price / prev) : undefined,
      nonPositivePrice: price <= 0 || (prev !== undefined && prev <= 0),
      sma5: sma(5),
      sma20: sma(20),
      ema5: ema(5),
      ema20: ema(20),
      volatility20,
      ewmaVolatility,
      zScore,
      rsi14,
      momentum10: count >= 11 ? price - (p[t - 10] as number) : undefined,
      windowMin,
      windowMax,
      tickCount: t + 1,
    });
  }
  return out;
}
