/**
 * Point-in-time correct training rows for one commodity: the inputs of row t come from the features stored at
 * tick t (which use only ticks at or before t), its label is the forward log return over h ticks,
 * ln(p_{t+h} / p_t), which uses only the ticks after t up to t + h.
 */
import type { FeatureVector } from '../features/compute-features.ts';
import { MODEL_INPUT_NAMES, modelInputs } from '../forecast/model-inputs.ts';
import type { PricePoint } from '../features/window.ts';

/** Why feature rows were left out, counted. */
export interface ExcludedRows {
  /** Too few ticks before them for every model input (and the EWMA volatility) to exist (the first ~22 of a series). */
  readonly warmUp: number;
  /** The last h rows: the price h ticks later is not known yet. */
  readonly noLabelYet: number;
  /** p_t <= 0 or p_{t+h} <= 0, where the log return does not exist (WTI, 2020-04-20). */
  readonly nonPositivePrice: number;
}

/** Rows oldest first; row i's inputs are x[i * nFeatures .. (i + 1) * nFeatures). */
export interface TrainingSet {
  readonly commodity: string;
  readonly horizonTicks: number;
  readonly featureNames: readonly string[];
  readonly nFeatures: number;
  readonly x: Float64Array;
  /** Forward log return over horizonTicks. */
  readonly y: Float64Array;
  /** EWMA volatility per tick at the row's tick (the forecasters' scale). */
  readonly ewmaVolatility: Float64Array;
  /** 20-tick volatility of simple returns at the row's tick (what reports split calm from wild rows by). */
  readonly volatility20: Float64Array;
  /** Time of the tick the row's features were computed at; UTC epoch ms. */
  readonly tsMs: Float64Array;
  /** Time of the tick h ticks later, the last one its label uses; UTC epoch ms. */
  readonly labelTsMs: Float64Array;
  /** p_t, the price the return is measured from. */
  readonly price: Float64Array;
  readonly excluded: ExcludedRows;
}

export function rowCount(set: TrainingSet): number {
  return set.y.length;
}

/**
 * @param features the commodity's feature vectors, oldest first, each computed at one of `ticks`
 * @param ticks the commodity's ticks, oldest first
 * @param horizonTicks h >= 1
 */
export function buildTrainingSet(
  commodity: string,
  features: readonly FeatureVector[],
  ticks: readonly PricePoint[],
  horizonTicks: number,
): TrainingSet {
  if (!(Number.isInteger(horizonTicks) && horizonTicks >= 1)) {
    throw new RangeError(`horizonTicks must be an integer >= 1, got ${horizonTicks}`);
  }
  const tickIndex = new Map<number, number>();
  for (let i = 0; i < ticks.length; i++) {
    const t = ticks[i]!;
    if (i > 0 && !(t.tsMs > ticks[i - 1]!.tsMs)) {
      throw new RangeError(`${commodity}: ticks must be in strictly increasing time order (index ${i}, tsMs ${t.tsMs})`);
    }
    tickIndex.set(t.tsMs, i);
  }
  const nFeatures = MODEL_INPUT_NAMES.length;
  const x: number[] = [];
  const y: number[] = [];
  const ewmaVolatility: number[] = [];
  const volatility20: number[] = [];
  const tsMs: number[] = [];
  const labelTsMs: number[] = [];
  const price: number[] = [];
  let warmUp = 0;
  let noLabelYet = 0;
  let nonPositivePrice = 0;
  let previousTsMs = Number.NEGATIVE_INFINITY;
  for (const f of features) {
    if (!(f.tsMs > previousTsMs)) throw new RangeError(`${commodity}: feature rows must be in strictly increasing time order (tsMs ${f.tsMs})`);
    previousTsMs = f.tsMs;
    const i = tickIndex.get(f.tsMs);
    if (i === undefined) throw new Error(`${commodity}: the feature row at tsMs ${f.tsMs} has no tick (the store is inconsistent)`);
    const inputs = modelInputs(f);
    if (inputs === undefined) {
      warmUp++;
      continue;
    }
    const later = ticks[i + horizonTicks];
    if (later === undefined) {
      noLabelYet++;
      continue;
    }
    const p = ticks[i]!.price;
    if (!(p > 0 && later.price > 0)) {
      nonPositivePrice++;
      continue;
    }
    for (const v of inputs) x.push(v);
    y.push(Math.log(later.price / p));
    // Defined wherever the model inputs are (they are scaled by it).
    ewmaVolatility.push(f.ewmaVolatility!);
    volatility20.push(f.volatility20!);
    tsMs.push(f.tsMs);
    labelTsMs.push(later.tsMs);
    price.push(p);
  }
  return {
    commodity,
    horizonTicks,
    featureNames: [...MODEL_INPUT_NAMES],
    nFeatures,
    x: Float64Array.from(x),
    y: Float64Array.from(y),
    ewmaVolatility: Float64Array.from(ewmaVolatility),
    volatility20: Float64Array.from(volatility20),
    tsMs: Float64Array.from(tsMs),
    labelTsMs: Float64Array.from(labelTsMs),
    price: Float64Array.from(price),
    excluded: { warmUp, noLabelYet, nonPositivePrice },
  };
}

/** Rows [start, end) as a view (no copy). */
export function sliceRows(set: TrainingSet, start: number, end: number): { x: Float64Array; y: Float64Array } {
  return { x: set.x.subarray(start * set.nFeatures, end * set.nFeatures), y: set.y.subarray(start, end) };
}

/**
 * The end of the longest prefix of rows [0, end) whose labels all end strictly before `boundaryTsMs`: the
 * training rows a model may use when it is scored from `boundaryTsMs` on. Dropping the rows whose label
 * window reaches the boundary (h rows on a gapless series) is the embargo that keeps overlapping labels
 * from leaking the scored period into training.
 */
export function embargoedEnd(set: TrainingSet, end: number, boundaryTsMs: number): number {
  let k = end;
  while (k > 0 && !(set.labelTsMs[k - 1]! < boundaryTsMs)) k--;
  return k;
}
