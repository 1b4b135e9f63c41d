/**
 * Friedman #1, the synthetic regression problem with a known answer that scikit-learn ships as
 * make_friedman1: features uniform on [0, 1], target
 *   10 sin(pi x0 x1) + 20 (x2 - 0.5)^2 + 10 x3 + 5 x4 + noise,
 * the other features pure noise. For tests and benchmarks of the forest trainer; seeded, so reproducible.
 */
import { createRandom } from '../actors/model/forest/random.ts';

export interface RegressionData {
  /** Row-major, rows x features. */
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly rows: number;
  readonly features: number;
}

/** `features` >= 5; `noiseSd` is the standard deviation of the Gaussian noise added to the target. */
export function friedman1(rows: number, features: number, noiseSd: number, seed: number): RegressionData {
  if (features < 5) throw new RangeError(`Friedman #1 needs at least 5 features, got ${features}`);
  const random = createRandom(seed, 0xf1);
  const uniform = (): number => random.nextUint32() / 4294967296;
  const x = new Float64Array(rows * features);
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * features;
    for (let f = 0; f < features; f++) x[o + f] = uniform();
    // Box-Muller; 1 - u keeps the logarithm finite.
    const gaussian = Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
    y[r] = friedman1Signal(x, o) + noiseSd * gaussian;
  }
  return { x, y, rows, features };
}

/** The noise-free target of the row starting at x[offset]. */
export function friedman1Signal(x: ArrayLike<number>, offset = 0): number {
  const [x0, x1, x2, x3, x4] = [x[offset]!, x[offset + 1]!, x[offset + 2]!, x[offset + 3]!, x[offset + 4]!];
  return 10 * Math.sin(Math.PI * x0 * x1) + 20 * (x2 - 0.5) ** 2 + 10 * x3 + 5 * x4;
}
