/**
 * Walk-forward evaluation with an expanding window: the rows after the first `firstTestFraction` are cut into
 * `folds` consecutive test blocks; each block is scored by a model fitted only on rows whose labels end before
 * the block starts, so no row is ever scored by a model that saw it or saw the prices its label is made of.
 *
 * Within each training window the last `calibrationFraction` of rows is held out (again with an embargo) for
 * the split-conformal interval; the model is fitted on the rows before it.
 */
import { forecastReturn, type Regressor } from '../model/model-replica.ts';
import { conformalHalfWidth, minCalibrationRows } from './conformal.ts';
import { constantDirectionAccuracy, majorityDirectionUp, scoreForecasts, type ForecastScores } from './forecast-metrics.ts';
import { embargoedEnd, rowCount, sliceRows, type TrainingSet } from './training-set.ts';

export interface WalkForwardOptions {
  /** Number of test blocks. */
  readonly folds: number;
  /** Share of rows before the first test block (the first fold's training window). */
  readonly firstTestFraction: number;
  /** Share of each training window held out as conformal calibration rows. */
  readonly calibrationFraction: number;
  /** Nominal coverage of the prediction interval. */
  readonly intervalLevel: number;
}

export const DEFAULT_WALK_FORWARD: WalkForwardOptions = Object.freeze({
  folds: 5,
  firstTestFraction: 0.5,
  calibrationFraction: 0.2,
  intervalLevel: 0.8,
});

/** Fewest rows a forest is fitted on; below that, a walk-forward score says nothing. */
export const MIN_FIT_ROWS = 50;

export class NotEnoughRowsError extends Error {
  override readonly name = 'NotEnoughRowsError';
  readonly code = 'TRAINING_NOT_ENOUGH_ROWS';
}

/** One fit: the model learns rows [0, fitEnd); its interval is calibrated on rows [calibrationStart, calibrationEnd). */
export interface FitPlan {
  readonly fitEnd: number;
  readonly calibrationStart: number;
  readonly calibrationEnd: number;
}

/** A fold: a fit, scored on rows [testStart, testEnd). */
export interface FoldPlan extends FitPlan {
  readonly fold: number;
  readonly testStart: number;
  readonly testEnd: number;
}

/** What one regressor is fitted on. */
export interface RegressorJob {
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly nFeatures: number;
}

/** Fits regressors for jobs (sequentially or on worker threads); result i belongs to job i. */
export type TrainRegressors<R extends Regressor = Regressor> = (
  jobs: readonly RegressorJob[],
  onJobDone?: (done: number, total: number) => void,
) => Promise<R[]>;

/** The fit of the rows before `boundaryTsMs` (all rows when it is +Infinity), among rows [0, end). */
export function planFit(set: TrainingSet, end: number, boundaryTsMs: number, options: WalkForwardOptions): FitPlan {
  const calibrationEnd = embargoedEnd(set, end, boundaryTsMs);
  const minCalibration = minCalibrationRows(options.intervalLevel);
  const calibrationRows = Math.max(minCalibration, Math.round(calibrationEnd * options.calibrationFraction));
  const calibrationStart = calibrationEnd - calibrationRows;
  const fitEnd = calibrationStart > 0 ? embargoedEnd(set, calibrationStart, set.tsMs[calibrationStart]!) : 0;
  if (fitEnd < MIN_FIT_ROWS) {
    throw new NotEnoughRowsError(
      `${set.commodity}: ${rowCount(set)} labelled rows leave ${Math.max(0, fitEnd)} to fit on before ` +
        `${calibrationRows} calibration rows; at least ${MIN_FIT_ROWS} are needed`,
    );
  }
  return { fitEnd, calibrationStart, calibrationEnd };
}

export function planWalkForward(set: TrainingSet, options: WalkForwardOptions = DEFAULT_WALK_FORWARD): FoldPlan[] {
  validateOptions(options);
  const n = rowCount(set);
  const firstTest = Math.floor(n * options.firstTestFraction);
  const blockRows = Math.floor((n - firstTest) / options.folds);
  if (blockRows < 1) {
    throw new NotEnoughRowsError(`${set.commodity}: ${n} labelled rows cannot make ${options.folds} test blocks`);
  }
  const plans: FoldPlan[] = [];
  for (let k = 0; k < options.folds; k++) {
    const testStart = firstTest + k * blockRows;
    const testEnd = k === options.folds - 1 ? n : testStart + blockRows;
    plans.push({ fold: k, testStart, testEnd, ...planFit(set, testStart, set.tsMs[testStart]!, options) });
  }
  return plans;
}

/** The fit of the model to serve: every labelled row, the latest ones held out for calibration. */
export function planFinalFit(set: TrainingSet, options: WalkForwardOptions = DEFAULT_WALK_FORWARD): FitPlan {
  validateOptions(options);
  return planFit(set, rowCount(set), Number.POSITIVE_INFINITY, options);
}

export function fitJob(set: TrainingSet, plan: FitPlan): RegressorJob {
  return { ...sliceRows(set, 0, plan.fitEnd), nFeatures: set.nFeatures };
}

/** The conformal half-width of `regressor` on the plan's calibration rows. */
export function calibrate(set: TrainingSet, plan: FitPlan, regressor: Regressor, level: number): number {
  const out = new Float64Array(regressor.nTrees);
  const residuals = new Float64Array(plan.calibrationEnd - plan.calibrationStart);
  for (let i = plan.calibrationStart; i < plan.calibrationEnd; i++) {
    const row = set.x.subarray(i * set.nFeatures, (i + 1) * set.nFeatures);
    residuals[i - plan.calibrationStart] = Math.abs(set.y[i]! - regressor.predictTrees(row, out));
  }
  return conformalHalfWidth(residuals, level);
}

/** Scores of the no-change forecast (return 0) with its own conformal interval 0 +- q0. */
export interface NoChangeScores {
  readonly mae: number;
  readonly intervalCoverage: number;
  readonly meanIntervalWidth: number;
}

/** Per-fold and pooled scores; JSON-safe (stored with the model). */
export interface WalkForwardMetrics {
  readonly options: WalkForwardOptions;
  readonly horizonTicks: number;
  readonly labelledRows: number;
  readonly folds: readonly {
    readonly fold: number;
    readonly fitRows: number;
    readonly calibrationRows: number;
    readonly testFromMs: number;
    readonly testToMs: number;
    readonly intervalHalfWidth: number;
    /** Direction of the majority of the training window's labels, the majority baseline's call. */
    readonly majorityUp: boolean;
    readonly model: ForecastScores;
    readonly majorityAccuracy: number;
    readonly noChange: NoChangeScores;
  }[];
  /** Every test row of every fold together. */
  readonly pooled: {
    readonly model: ForecastScores;
    readonly majority: { readonly directionalAccuracy: number };
    readonly noChange: NoChangeScores;
  };
}

/** The out-of-sample forecasts row by row (for charts), oldest first. */
export interface WalkForwardSeries {
  readonly tsMs: Float64Array;
  readonly price: Float64Array;
  readonly actual: Float64Array;
  readonly predicted: Float64Array;
  readonly low: Float64Array;
  readonly high: Float64Array;
  readonly probabilityUp: Float64Array;
  readonly majorityUp: Uint8Array;
  readonly fold: Uint8Array;
}

export interface WalkForwardResult {
  readonly metrics: WalkForwardMetrics;
  readonly series: WalkForwardSeries;
}

/** Scores each fold's regressor (regressors[k] fitted on fitJob(set, plans[k])) on its test block. */
export function evaluateWalkForward(
  set: TrainingSet,
  plans: readonly FoldPlan[],
  regressors: readonly Regressor[],
  options: WalkForwardOptions = DEFAULT_WALK_FORWARD,
): WalkForwardResult {
  if (regressors.length !== plans.length) throw new RangeError(`${plans.length} folds but ${regressors.length} regressors`);
  const first = plans[0];
  const last = plans[plans.length - 1];
  if (first === undefined || last === undefined) throw new RangeError('no folds to evaluate');
  const total = last.testEnd - first.testStart;
  const series: WalkForwardSeries = {
    tsMs: set.tsMs.slice(first.testStart, last.testEnd),
    price: set.price.slice(first.testStart, last.testEnd),
    actual: set.y.slice(first.testStart, last.testEnd),
    predicted: new Float64Array(total),
    low: new Float64Array(total),
    high: new Float64Array(total),
    probabilityUp: new Float64Array(total),
    majorityUp: new Uint8Array(total),
    fold: new Uint8Array(total),
  };
  const noChangeLow = new Float64Array(total);
  const noChangeHigh = new Float64Array(total);
  const folds: WalkForwardMetrics['folds'][number][] = [];
  plans.forEach((plan, k) => {
    const regressor = regressors[k]!;
    const q = calibrate(set, plan, regressor, options.intervalLevel);
    const q0 = conformalHalfWidth(
      Float64Array.from(set.y.subarray(plan.calibrationStart, plan.calibrationEnd), Math.abs),
      options.intervalLevel,
    );
    const majorityUp = majorityDirectionUp(set.y.subarray(0, plan.calibrationEnd));
    const out = new Float64Array(regressor.nTrees);
    for (let i = plan.testStart; i < plan.testEnd; i++) {
      const row = set.x.subarray(i * set.nFeatures, (i + 1) * set.nFeatures);
      const f = forecastReturn(regressor, row, q, options.intervalLevel, out);
      const j = i - first.testStart;
      series.predicted[j] = f.predictedReturn;
      series.low[j] = f.interval.lowReturn;
      series.high[j] = f.interval.highReturn;
      series.probabilityUp[j] = f.probabilityUp;
      series.majorityUp[j] = majorityUp ? 1 : 0;
      series.fold[j] = plan.fold;
      noChangeLow[j] = -q0;
      noChangeHigh[j] = q0;
    }
    const a = plan.testStart - first.testStart;
    const b = plan.testEnd - first.testStart;
    const actual = series.actual.subarray(a, b);
    folds.push({
      fold: plan.fold,
      fitRows: plan.fitEnd,
      calibrationRows: plan.calibrationEnd - plan.calibrationStart,
      testFromMs: set.tsMs[plan.testStart]!,
      testToMs: set.tsMs[plan.testEnd - 1]!,
      intervalHalfWidth: q,
      majorityUp,
      model: scoreForecasts({
        actual,
        predicted: series.predicted.subarray(a, b),
        low: series.low.subarray(a, b),
        high: series.high.subarray(a, b),
      }),
      majorityAccuracy: constantDirectionAccuracy(actual, majorityUp),
      noChange: scoreNoChange(actual, noChangeLow.subarray(a, b), noChangeHigh.subarray(a, b)),
    });
  });
  let majorityHits = 0;
  for (let j = 0; j < total; j++) if (series.actual[j]! > 0 === (series.majorityUp[j] === 1)) majorityHits++;
  return {
    metrics: {
      options: { ...options },
      horizonTicks: set.horizonTicks,
      labelledRows: rowCount(set),
      folds,
      pooled: {
        model: scoreForecasts(series),
        majority: { directionalAccuracy: majorityHits / total },
        noChange: scoreNoChange(series.actual, noChangeLow, noChangeHigh),
      },
    },
    series,
  };
}

function scoreNoChange(actual: Float64Array, low: Float64Array, high: Float64Array): NoChangeScores {
  const s = scoreForecasts({ actual, predicted: new Float64Array(actual.length), low, high });
  return { mae: s.mae, intervalCoverage: s.intervalCoverage, meanIntervalWidth: s.meanIntervalWidth };
}

function validateOptions(o: WalkForwardOptions): void {
  if (!(Number.isInteger(o.folds) && o.folds >= 1 && o.folds <= 255)) throw new RangeError(`folds must be an integer in [1, 255], got ${o.folds}`);
  if (!(o.firstTestFraction > 0 && o.firstTestFraction < 1)) {
    throw new RangeError(`firstTestFraction must be in (0, 1), got ${o.firstTestFraction}`);
  }
  if (!(o.calibrationFraction > 0 && o.calibrationFraction < 1)) {
    throw new RangeError(`calibrationFraction must be in (0, 1), got ${o.calibrationFraction}`);
  }
  if (!(o.intervalLevel > 0 && o.intervalLevel < 1)) throw new RangeError(`intervalLevel must be in (0, 1), got ${o.intervalLevel}`);
}

/** Runs the whole walk-forward: plan, fit every fold, score. */
export async function runWalkForward(
  set: TrainingSet,
  train: TrainRegressors,
  options: WalkForwardOptions = DEFAULT_WALK_FORWARD,
): Promise<WalkForwardResult> {
  const plans = planWalkForward(set, options);
  const regressors = await train(plans.map((p) => fitJob(set, p)));
  return evaluateWalkForward(set, plans, regressors, options);
}
