/**
 * Scores of a forecaster's out-of-sample forecasts over many rows: the proper scores (pinball loss, interval
 * score, Brier), the point forecast's MAE against the no-change forecast's (MASE), the direction calls with the
 * Pesaran-Timmermann test, and the 80 % interval's coverage overall and in each volatility tercile (an interval
 * that ignores volatility covers too much on calm days and too little on wild ones). Pure.
 */
import { INTERVAL, QUANTILE_LEVELS } from './distribution.ts';
import { pesaranTimmermann } from './pesaran-timmermann.ts';
import { brierScore, intervalScore, pinballLoss } from './scores.ts';

/** Row i's forecast: point[i], quantiles[i * levels .. (i + 1) * levels), probabilityUp[i]. */
export interface ForecastSeries {
  readonly actual: ArrayLike<number>;
  readonly point: ArrayLike<number>;
  readonly quantiles: Float64Array;
  readonly probabilityUp: ArrayLike<number>;
  /** A volatility measure per row (20-tick volatility) that splits the rows into terciles. */
  readonly volatility: ArrayLike<number>;
}

export interface ForecastScores {
  readonly rows: number;
  /** Mean pinball loss over the quantile levels and rows (a CRPS approximation). */
  readonly pinball: number;
  /** Mean interval score of the 80 % interval. */
  readonly intervalScore: number;
  readonly intervalCoverage: number;
  readonly meanIntervalWidth: number;
  /** Coverage of the 80 % interval in the calmest, middle and most volatile third of rows. */
  readonly coverageByVolatilityTercile: readonly [number, number, number];
  readonly mae: number;
  /** MAE over the no-change forecast's MAE (mean |y|) on the same rows; null when every y is 0. */
  readonly mase: number | null;
  readonly brier: number;
  /** Share of rows whose call (probability of a rise > 0.5) was right. */
  readonly directionalAccuracy: number;
  readonly actualUpShare: number;
  readonly predictedUpShare: number;
  readonly pesaranTimmermann: { readonly statistic: number | null; readonly pValue: number | null };
}

/** Per-row losses, for Diebold-Mariano tests between forecasters on the same rows. */
export interface RowLosses {
  readonly pinball: Float64Array;
  readonly intervalScore: Float64Array;
}

export function rowLosses(s: ForecastSeries): RowLosses {
  const n = s.actual.length;
  const k = QUANTILE_LEVELS.length;
  const pinball = new Float64Array(n);
  const interval = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const q = s.quantiles.subarray(i * k, (i + 1) * k);
    pinball[i] = pinballLoss(s.actual[i]!, q);
    interval[i] = intervalScore(q[INTERVAL.lowIndex]!, q[INTERVAL.highIndex]!, s.actual[i]!);
  }
  return { pinball, intervalScore: interval };
}

export function scoreForecastSeries(s: ForecastSeries): ForecastScores {
  const n = s.actual.length;
  if (n === 0) throw new RangeError('no forecasts to score');
  for (const [name, length] of [['point', s.point.length], ['probabilityUp', s.probabilityUp.length], ['volatility', s.volatility.length], ['quantile rows', s.quantiles.length / QUANTILE_LEVELS.length]] as const) {
    if (length !== n) throw new RangeError(`${n} actual returns but ${length} ${name}`);
  }
  const k = QUANTILE_LEVELS.length;
  const losses = rowLosses(s);
  const actualUp: boolean[] = new Array(n);
  const predictedUp: boolean[] = new Array(n);
  const covered = new Uint8Array(n);
  let pinball = 0;
  let interval = 0;
  let width = 0;
  let absError = 0;
  let absActual = 0;
  let brier = 0;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const y = s.actual[i]!;
    const low = s.quantiles[i * k + INTERVAL.lowIndex]!;
    const high = s.quantiles[i * k + INTERVAL.highIndex]!;
    pinball += losses.pinball[i]!;
    interval += losses.intervalScore[i]!;
    width += high - low;
    covered[i] = y >= low && y <= high ? 1 : 0;
    absError += Math.abs(y - s.point[i]!);
    absActual += Math.abs(y);
    brier += brierScore(s.probabilityUp[i]!, y);
    actualUp[i] = y > 0;
    predictedUp[i] = s.probabilityUp[i]! > 0.5;
    if (actualUp[i] === predictedUp[i]) hits++;
  }
  const pt = pesaranTimmermann(actualUp, predictedUp);
  const mae = absError / n;
  return {
    rows: n,
    pinball: pinball / n,
    intervalScore: interval / n,
    intervalCoverage: covered.reduce((a, b) => a + b, 0) / n,
    meanIntervalWidth: width / n,
    coverageByVolatilityTercile: coverageByTercile(covered, s.volatility),
    mae,
    mase: absActual > 0 ? mae / (absActual / n) : null,
    brier: brier / n,
    directionalAccuracy: hits / n,
    actualUpShare: actualUp.filter(Boolean).length / n,
    predictedUpShare: predictedUp.filter(Boolean).length / n,
    pesaranTimmermann: { statistic: pt.statistic, pValue: pt.pValue },
  };
}

/** Coverage in each third of the rows sorted by volatility (ties broken by row order). */
export function coverageByTercile(covered: ArrayLike<number>, volatility: ArrayLike<number>): [number, number, number] {
  const n = covered.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => volatility[a]! - volatility[b]! || a - b);
  const share = (from: number, to: number): number => {
    if (to <= from) return Number.NaN;
    let c = 0;
    for (let j = from; j < to; j++) c += covered[order[j]!]!;
    return c / (to - from);
  };
  const third = Math.floor(n / 3);
  return [share(0, third), share(third, 2 * third), share(2 * third, n)];
}
