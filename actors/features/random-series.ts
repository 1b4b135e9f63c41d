/**
 * Test support (no production code imports this): reproducible pseudo-random price series for the property
 * tests, so that a failure names a seed that reproduces it.
 */
import type { PricePoint } from './window.ts';

/** mulberry32: a tiny seeded generator of uniform numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `length` daily ticks of a random walk that, with the odds given, jumps to 0 or to a negative price, and
 * sometimes sits flat (runs of equal prices exercise the zero-variance and zero-change guards).
 */
export function randomSeries(
  random: () => number,
  length: number,
  odds: { zero: number; negative: number; flat: number } = { zero: 0.03, negative: 0.05, flat: 0.1 },
): PricePoint[] {
  const series: PricePoint[] = [];
  let price = 1 + random() * 100;
  for (let i = 0; i < length; i++) {
    const u = random();
    if (u < odds.zero) price = 0;
    else if (u < odds.zero + odds.negative) price = -random() * 50;
    else if (u < odds.zero + odds.negative + odds.flat) price = series[i - 1]?.price ?? price;
    else price = Math.round((Math.abs(price) + 0.01) * (1 + (random() - 0.5) * 0.2) * 100) / 100;
    series.push({ tsMs: Date.UTC(2020, 0, 1) + i * 86_400_000, price });
  }
  return series;
}
