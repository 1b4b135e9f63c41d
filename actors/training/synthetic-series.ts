/**
 * Test support (no production code imports this): price series with a known answer. Returns follow an AR(1)
 * process r_t = phi r_{t-1} + sigma e_t with Gaussian e_t; phi = 0 is a pure random walk in log price.
 */
import type { PricePoint } from '../features/window.ts';

/** mulberry32, a small seeded uniform generator in [0, 1). */
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws by Box-Muller. */
export function seededGaussian(seed: number): () => number {
  const u = seededUniform(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

export const DAY_MS = 86_400_000;

export function ar1PriceSeries(options: { length: number; phi: number; sigma?: number; seed: number; startPrice?: number }): PricePoint[] {
  const { length, phi, sigma = 0.01, seed, startPrice = 100 } = options;
  const e = seededGaussian(seed);
  const out: PricePoint[] = [];
  let r = 0;
  let logPrice = Math.log(startPrice);
  for (let i = 0; i < length; i++) {
    r = phi * r + sigma * e();
    logPrice += r;
    out.push({ tsMs: Date.UTC(2000, 0, 1) + i * DAY_MS, price: Math.exp(logPrice) });
  }
  return out;
}
