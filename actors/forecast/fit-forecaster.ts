/**
 * Fitting a forecaster of any family on the rows of one commodity, split as a walk-forward fold (or the final
 * fit) splits them: the volatility scale and the point model learn rows [0, fitEnd); the residual distribution and
 * the probability calibration are fitted on the calibration rows [calibrationStart, calibrationEnd), which the
 * point model never saw. Pure; a forest is fitted elsewhere (on worker threads) and handed in.
 */
import { inputDeciles } from './distribution-shift.ts';
import { Forecaster, type FamilyName, type PointRegressor } from './forecaster.ts';
import { forestTargetScale, MODEL_INPUT_NAMES } from './model-inputs.ts';
import { fitPlatt } from './platt.ts';
import { fitResiduals, shareAbove } from './residuals.ts';
import { fitVolatilityScale, scaleOf } from './volatility-scale.ts';

/** A commodity's rows, oldest first: what every family fits on. */
export interface ForecastRows {
  readonly horizonTicks: number;
  readonly nFeatures: number;
  /** Model inputs, row-major (MODEL_INPUT_NAMES). */
  readonly x: Float64Array;
  /** Forward log return over horizonTicks. */
  readonly y: Float64Array;
  /** EWMA volatility per tick at the row's tick. */
  readonly ewmaVolatility: Float64Array;
}

export interface FitSplit {
  readonly fitEnd: number;
  readonly calibrationStart: number;
  readonly calibrationEnd: number;
}

export const rowInputs = (rows: ForecastRows, i: number): Float64Array => rows.x.subarray(i * rows.nFeatures, (i + 1) * rows.nFeatures);

/** What a forest family's forest learns on rows [start, end): inputs and y / forestTargetScale. */
export function forestTargets(rows: ForecastRows, start: number, end: number): { x: Float64Array; y: Float64Array } {
  const y = new Float64Array(end - start);
  for (let i = start; i < end; i++) y[i - start] = rows.y[i]! / forestTargetScale(rows.ewmaVolatility[i]!, rows.horizonTicks);
  return { x: rows.x.subarray(start * rows.nFeatures, end * rows.nFeatures), y };
}

/** The drift family's point: the mean h-tick return of the fit rows. */
function meanReturn(y: Float64Array, end: number): number {
  let sum = 0;
  for (let i = 0; i < end; i++) sum += y[i]!;
  return sum / end;
}

/** Fits `family` on `rows` split by `split`; forest families take their fitted forest. */
export function fitForecaster(family: FamilyName, rows: ForecastRows, split: FitSplit, forest?: PointRegressor): Forecaster {
  const { horizonTicks } = rows;
  const scale = fitVolatilityScale(rows.ewmaVolatility, rows.y, horizonTicks, 0, split.fitEnd);
  const uncalibrated = new Forecaster(
    {
      family,
      horizonTicks,
      scale,
      drift: family === 'drift' ? meanReturn(rows.y, split.fitEnd) : 0,
      // Placeholders until the residuals are known: the point forecast does not use them.
      residuals: { offsets: [], percentiles: [], rows: 0 },
      probability: { intercept: 0, slope: 0 },
      inputNames: forest === undefined ? [] : [...MODEL_INPUT_NAMES],
      inputDeciles: inputDeciles(rows.x, rows.nFeatures, 0, split.fitEnd),
      direction: undefined,
      skill: undefined,
    },
    forest,
  );
  const n = split.calibrationEnd - split.calibrationStart;
  const standardized = new Float64Array(n);
  const points = new Float64Array(n);
  const scales = new Float64Array(n);
  for (let i = split.calibrationStart; i < split.calibrationEnd; i++) {
    const v = rows.ewmaVolatility[i]!;
    const j = i - split.calibrationStart;
    points[j] = uncalibrated.pointOf(v, rowInputs(rows, i));
    scales[j] = scaleOf(scale, v);
    standardized[j] = (rows.y[i]! - points[j]!) / scales[j]!;
  }
  const residuals = fitResiduals(standardized);
  const raw = Float64Array.from(points, (p, j) => shareAbove(residuals, -p / scales[j]!));
  const up = Array.from(rows.y.subarray(split.calibrationStart, split.calibrationEnd), (y) => y > 0);
  return new Forecaster({ ...uncalibrated.spec, residuals, probability: fitPlatt(raw, up) }, forest);
}
