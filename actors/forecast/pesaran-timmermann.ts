/**
 * The Pesaran-Timmermann (1992) test of directional forecasting skill: does the share of correctly predicted
 * directions exceed what independent forecasts with the same up-shares would get by chance? Under the null of
 * no skill the statistic is asymptotically standard normal; large positive values mean skill.
 */
import { standardNormalUpperTail } from './normal-distribution.ts';

export interface PesaranTimmermannResult {
  /** Rows scored. */
  readonly n: number;
  /** Share of rows whose predicted direction was right (P). */
  readonly hitRate: number;
  /** Hit rate expected without skill: Py Px + (1 - Py)(1 - Px) (P*). */
  readonly expectedHitRate: number;
  /**
   * (P - P*) / sqrt(Var(P) - Var(P*)); null when the variance is not positive, which happens when either the
   * forecasts or the outcomes all point one way (then the test has nothing to say).
   */
  readonly statistic: number | null;
  /** One-sided p-value, P(Z >= statistic); null with the statistic. */
  readonly pValue: number | null;
}

/** `actualUp[i]` and `predictedUp[i]`: whether row i went up and whether it was predicted to. */
export function pesaranTimmermann(actualUp: readonly boolean[], predictedUp: readonly boolean[]): PesaranTimmermannResult {
  const n = actualUp.length;
  if (predictedUp.length !== n) throw new RangeError(`${n} outcomes but ${predictedUp.length} forecasts`);
  if (n === 0) throw new RangeError('the Pesaran-Timmermann test needs at least one row');
  let hits = 0;
  let ups = 0;
  let predictedUps = 0;
  for (let i = 0; i < n; i++) {
    const a = actualUp[i]!;
    const p = predictedUp[i]!;
    if (a === p) hits++;
    if (a) ups++;
    if (p) predictedUps++;
  }
  const hitRate = hits / n;
  const py = ups / n;
  const px = predictedUps / n;
  const expected = py * px + (1 - py) * (1 - px);
  const varP = (expected * (1 - expected)) / n;
  const varExpected =
    ((2 * py - 1) ** 2 * px * (1 - px)) / n +
    ((2 * px - 1) ** 2 * py * (1 - py)) / n +
    (4 * py * px * (1 - py) * (1 - px)) / (n * n);
  const variance = varP - varExpected;
  // Rounding can leave a tiny positive variance where the exact one is 0 (one-sided forecasts).
  if (!(variance > 1e-15)) return { n, hitRate, expectedHitRate: expected, statistic: null, pValue: null };
  const statistic = (hitRate - expected) / Math.sqrt(variance);
  return { n, hitRate, expectedHitRate: expected, statistic, pValue: standardNormalUpperTail(statistic) };
}
