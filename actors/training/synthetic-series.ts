/**
 * Test support (no production code imports this): price series with a known answer. Returns follow an AR(1)
 * process r_t = phi r_{t-1} + sigma e_t with Gaussian e_t; phi = 0 is a pure random walk in log price.
 */
import { seededRandom } from '../features/random-series.ts';
import type { PricePoint } from '../features/window.ts';

/** Seeded uniform draws in [0, 1) (the property tests' generator). */
export const seededUniform = seededRandom;

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

/**
 * Returns with GARCH(1,1) volatility: v_t = omega + alpha r_{t-1}^2 + beta v_{t-1}, r_t = sqrt(v_t) e_t, and an
 * optional drift per tick; volatility clusters as in real prices, with a known unconditional variance
 * omega / (1 - alpha - beta).
 */
export function garchPriceSeries(options: { length: number; seed: number; omega?: number; alpha?: number; beta?: number; drift?: number }): PricePoint[] {
  const { length, seed, omega = 2e-6, alpha = 0.08, beta = 0.9, drift = 0 } = options;
  const e = seededGaussian(seed);
  const out: PricePoint[] = [];
  let v = omega / (1 - alpha - beta);
  let r = 0;
  let logPrice = Math.log(100);
  for (let i = 0; i < length; i++) {
    v = omega + alpha * r * r + beta * v;
    r = drift + Math.sqrt(v) * e();
    logPrice += r;
    out.push({ tsMs: Date.UTC(2000, 0, 1) + i * DAY_MS, price: Math.exp(logPrice) });
  }
  return out;
}
