/**
 * Walk-forward evaluation with an expanding window: the rows after the first `firstTestFraction` are cut into
 * `folds` consecutive test blocks; each block is scored by forecasters fitted only on rows whose labels end before
 * the block starts, so no row is ever scored by a model that saw it or saw the prices its label is made of.
 *
 * Within each training window the last `calibrationFraction` of rows is held out (again with an embargo): the
 * forecasters' residual quantiles and probability calibration come from them, the point models from the rows
 * before. Every family is scored on the same rows, beside a fixed-width split-conformal interval around no change
 * (the interval a volatility-blind model would give).
 */
import { conformalHalfWidth } from './conformal.ts';
import type { PointRegressor } from '../forecast/forecaster.ts';
import { coverageByTercile, rowLosses, scoreForecastSeries, type ForecastScores, type RowLosses } from '../forecast/forecast-scores.ts';
import { QUANTILE_LEVELS } from '../forecast/distribution.ts';
import type { FamilyName, Forecaster } from '../forecast/forecaster.ts';
import { rowInputs } from '../forecast/fit-forecaster.ts';
import { MIN_RESIDUALS } from '../forecast/residuals.ts';
import { intervalScore } from '../forecast/scores.ts';
import { embargoedEnd, rowCount, type TrainingSet } from './training-set.ts';

export interface WalkForwardOptions {
  /** Number of test blocks. */
  readonly folds: number;
  /** Share of rows before the first test block (the first fold's training window). */
  readonly firstTestFraction: number;
  /** Share of each training window held out as calibration rows. */
  readonly calibrationFraction: number;
  /** Nominal coverage of the reported interval. */
  readonly intervalLevel: number;
}

export const DEFAULT_WALK_FORWARD: WalkForwardOptions = Object.freeze({
  folds: 5,
  firstTestFraction: 0.5,
  calibrationFraction: 0.2,
  intervalLevel: 0.8,
});

/** Fewest rows a point model is fitted on; below that, a walk-forward score says nothing. */
export const MIN_FIT_ROWS = 50;

export class NotEnoughRowsError extends Error {
  override readonly name = 'NotEnoughRowsError';
  readonly code = 'TRAINING_NOT_ENOUGH_ROWS';
}

/** One fit: point models learn rows [0, fitEnd); residuals and probabilities are calibrated on [calibrationStart, calibrationEnd). */
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
export type TrainRegressors<R extends PointRegressor = PointRegressor> = (
  jobs: readonly RegressorJob[],
  onJobDone?: (done: number, total: number) => void,
) => Promise<R[]>;

/** The fit of the rows before `boundaryTsMs` (all rows when it is +Infinity), among rows [0, end). */
export function planFit(set: TrainingSet, end: number, boundaryTsMs: number, options: WalkForwardOptions): FitPlan {
  const calibrationEnd = embargoedEnd(set, end, boundaryTsMs);
  const calibrationRows = Math.max(MIN_RESIDUALS, Math.round(calibrationEnd * options.calibrationFraction));
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

/** The fit of the forecasters to serve: every labelled row, the latest ones held out for calibration. */
export function planFinalFit(set: TrainingSet, options: WalkForwardOptions = DEFAULT_WALK_FORWARD): FitPlan {
  validateOptions(options);
  return planFit(set, rowCount(set), Number.POSITIVE_INFINITY, options);
}

/** The rows every family is scored on (every fold's test block, oldest first). */
export interface TestRows {
  readonly tsMs: Float64Array;
  readonly price: Float64Array;
  readonly actual: Float64Array;
  readonly volatility20: Float64Array;
  readonly fold: Uint8Array;
}

/** One family's out-of-sample forecasts and scores. */
export interface FamilyEvaluation {
  readonly family: FamilyName;
  readonly scores: ForecastScores;
  readonly folds: readonly { readonly fold: number; readonly scores: ForecastScores }[];
  /** Row-aligned with TestRows; quantiles row-major at QUANTILE_LEVELS. */
  readonly point: Float64Array;
  readonly quantiles: Float64Array;
  readonly probabilityUp: Float64Array;
  readonly losses: RowLosses;
}

/** The interval a volatility-blind model gives: no change +- the calibration rows' conformal |return|. */
export interface FixedIntervalScores {
  readonly intervalScore: number;
  readonly intervalCoverage: number;
  readonly meanIntervalWidth: number;
  readonly coverageByVolatilityTercile: readonly [number, number, number];
}

export interface WalkForwardEvaluation {
  readonly commodity: string;
  readonly horizonTicks: number;
  readonly options: WalkForwardOptions;
  readonly labelledRows: number;
  readonly folds: readonly { readonly fold: number; readonly fitRows: number; readonly calibrationRows: number; readonly testFromMs: number; readonly testToMs: number }[];
  readonly test: TestRows;
  readonly families: readonly FamilyEvaluation[];
  readonly fixedInterval: FixedIntervalScores;
}

/**
 * Scores forecasters on the plans' test blocks: forecasters.get(family)[k] was fitted on plans[k]'s split.
 */
export function evaluateFamilies(
  set: TrainingSet,
  plans: readonly FoldPlan[],
  forecasters: ReadonlyMap<FamilyName, readonly Forecaster[]>,
  options: WalkForwardOptions = DEFAULT_WALK_FORWARD,
): WalkForwardEvaluation {
  const first = plans[0];
  const last = plans[plans.length - 1];
  if (first === undefined || last === undefined) throw new RangeError('no folds to evaluate');
  const a = first.testStart;
  const b = last.testEnd;
  const test: TestRows = {
    tsMs: set.tsMs.slice(a, b),
    price: set.price.slice(a, b),
    actual: set.y.slice(a, b),
    volatility20: set.volatility20.slice(a, b),
    fold: new Uint8Array(b - a),
  };
  for (const p of plans) test.fold.fill(p.fold, p.testStart - a, p.testEnd - a);
  const families = [...forecasters].map(([family, fitted]) => {
    if (fitted.length !== plans.length) throw new RangeError(`${family}: ${plans.length} folds but ${fitted.length} forecasters`);
    return evaluateFamily(set, plans, family, fitted, test);
  });
  return {
    commodity: set.commodity,
    horizonTicks: set.horizonTicks,
    options: { ...options },
    labelledRows: rowCount(set),
    folds: plans.map((p) => ({
      fold: p.fold,
      fitRows: p.fitEnd,
      calibrationRows: p.calibrationEnd - p.calibrationStart,
      testFromMs: set.tsMs[p.testStart]!,
      testToMs: set.tsMs[p.testEnd - 1]!,
    })),
    test,
    families,
    fixedInterval: scoreFixedInterval(set, plans, test, options.intervalLevel),
  };
}

function evaluateFamily(set: TrainingSet, plans: readonly FoldPlan[], family: FamilyName, fitted: readonly Forecaster[], test: TestRows): FamilyEvaluation {
  const n = test.actual.length;
  const k = QUANTILE_LEVELS.length;
  const point = new Float64Array(n);
  const quantiles = new Float64Array(n * k);
  const probabilityUp = new Float64Array(n);
  const offset = plans[0]!.testStart;
  plans.forEach((plan, f) => {
    for (let i = plan.testStart; i < plan.testEnd; i++) {
      const d = fitted[f]!.forecastRow(set.ewmaVolatility[i]!, rowInputs(set, i));
      const j = i - offset;
      point[j] = d.point;
      quantiles.set(d.quantiles, j * k);
      probabilityUp[j] = d.probabilityUp;
    }
  });
  const series = { actual: test.actual, point, quantiles, probabilityUp, volatility: test.volatility20 };
  const folds = plans.map((plan) => {
    const from = plan.testStart - offset;
    const to = plan.testEnd - offset;
    return {
      fold: plan.fold,
      scores: scoreForecastSeries({
        actual: test.actual.subarray(from, to),
        point: point.subarray(from, to),
        quantiles: quantiles.subarray(from * k, to * k),
        probabilityUp: probabilityUp.subarray(from, to),
        volatility: test.volatility20.subarray(from, to),
      }),
    };
  });
  return { family, scores: scoreForecastSeries(series), folds, point, quantiles, probabilityUp, losses: rowLosses(series) };
}

function scoreFixedInterval(set: TrainingSet, plans: readonly FoldPlan[], test: TestRows, level: number): FixedIntervalScores {
  const offset = plans[0]!.testStart;
  const n = test.actual.length;
  const covered = new Uint8Array(n);
  let score = 0;
  let width = 0;
  for (const plan of plans) {
    const q = conformalHalfWidth(Float64Array.from(set.y.subarray(plan.calibrationStart, plan.calibrationEnd), Math.abs), level);
    for (let i = plan.testStart; i < plan.testEnd; i++) {
      const y = set.y[i]!;
      score += intervalScore(-q, q, y, level);
      width += 2 * q;
      covered[i - offset] = Math.abs(y) <= q ? 1 : 0;
    }
  }
  return {
    intervalScore: score / n,
    intervalCoverage: covered.reduce((s, c) => s + c, 0) / n,
    meanIntervalWidth: width / n,
    coverageByVolatilityTercile: coverageByTercile(covered, test.volatility20),
  };
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
