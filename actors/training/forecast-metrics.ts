/**
 * Scores of return forecasts on rows the model never trained on. A direction is "up" when the return is > 0;
 * a zero return counts as "not up", so a flat price is a correct call for a forecast of <= 0.
 */
import { pesaranTimmermann } from './pesaran-timmermann.ts';

export interface ForecastScores {
  readonly rows: number;
  /** Share of rows whose direction (up / not up) was predicted right. */
  readonly directionalAccuracy: number;
  /** Share of rows that went up, and share predicted to. */
  readonly actualUpShare: number;
  readonly predictedUpShare: number;
  /** Pesaran-Timmermann test of the direction calls; null statistic when the forecasts all point one way. */
  readonly pesaranTimmermann: { readonly statistic: number | null; readonly pValue: number | null };
  /** Mean absolute error of the return, in log-return units. */
  readonly mae: number;
  /**
   * MAE relative to the no-change forecast (return 0) on the same rows: below 1 beats it. Null when every
   * actual return is 0 (no scale). Scaled out of sample, on the scored rows, not in sample as in Hyndman's MASE.
   */
  readonly mase: number | null;
  /** Share of actual returns inside [low, high]. */
  readonly intervalCoverage: number;
  readonly meanIntervalWidth: number;
}

/** Arrays of the same length: actual return, predicted return, interval bounds. */
export interface Forecasts {
  readonly actual: ArrayLike<number>;
  readonly predicted: ArrayLike<number>;
  readonly low: ArrayLike<number>;
  readonly high: ArrayLike<number>;
}

export function scoreForecasts(f: Forecasts): ForecastScores {
  const n = f.actual.length;
  if (n === 0) throw new RangeError('no forecasts to score');
  for (const [name, arr] of [['predicted', f.predicted], ['low', f.low], ['high', f.high]] as const) {
    if (arr.length !== n) throw new RangeError(`${n} actual returns but ${arr.length} ${name} values`);
  }
  const actualUp: boolean[] = new Array(n);
  const predictedUp: boolean[] = new Array(n);
  let hits = 0;
  let ups = 0;
  let predictedUps = 0;
  let absError = 0;
  let absActual = 0;
  let covered = 0;
  let width = 0;
  for (let i = 0; i < n; i++) {
    const y = f.actual[i]!;
    const p = f.predicted[i]!;
    const lo = f.low[i]!;
    const hi = f.high[i]!;
    const up = y > 0;
    const callUp = p > 0;
    actualUp[i] = up;
    predictedUp[i] = callUp;
    if (up === callUp) hits++;
    if (up) ups++;
    if (callUp) predictedUps++;
    absError += Math.abs(y - p);
    absActual += Math.abs(y);
    if (y >= lo && y <= hi) covered++;
    width += hi - lo;
  }
  const pt = pesaranTimmermann(actualUp, predictedUp);
  const mae = absError / n;
  return {
    rows: n,
    directionalAccuracy: hits / n,
    actualUpShare: ups / n,
    predictedUpShare: predictedUps / n,
    pesaranTimmermann: { statistic: pt.statistic, pValue: pt.pValue },
    mae,
    mase: absActual > 0 ? mae / (absActual / n) : null,
    intervalCoverage: covered / n,
    meanIntervalWidth: width / n,
  };
}

/** Share of `actual` whose direction matches a constant call (`up` true: every row called up). */
export function constantDirectionAccuracy(actual: ArrayLike<number>, up: boolean): number {
  if (actual.length === 0) throw new RangeError('no rows');
  let hits = 0;
  for (let i = 0; i < actual.length; i++) if (actual[i]! > 0 === up) hits++;
  return hits / actual.length;
}

/** The majority direction of training labels: up when strictly more than half went up. */
export function majorityDirectionUp(trainLabels: ArrayLike<number>): boolean {
  let ups = 0;
  for (let i = 0; i < trainLabels.length; i++) if (trainLabels[i]! > 0) ups++;
  return ups * 2 > trainLabels.length;
}
