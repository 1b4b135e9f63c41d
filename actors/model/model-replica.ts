/**
 * A model loaded from the registry and ready to predict: feature vector in, forward log return with its
 * direction probability and conformal interval out. One replica per commodity lives in its commodity actor.
 */
import { performance } from 'node:perf_hooks';
import { toModelInputs, type FeatureVector } from '../features/compute-features.ts';

/** What the replica needs of a trained forest (CompactForest has it). */
export interface Regressor {
  readonly nTrees: number;
  readonly nFeatures: number;
  /** Writes each tree's prediction into outTrees[0 .. nTrees) and returns their mean. */
  predictTrees(row: ArrayLike<number>, outTrees: Float64Array): number;
}

/** A forecast of the forward log return over the model's horizon. */
export interface ReturnForecast {
  readonly predictedReturn: number;
  /** Share of trees predicting a return > 0, 0..1. */
  readonly probabilityUp: number;
  readonly interval: { readonly lowReturn: number; readonly highReturn: number; readonly level: number };
}

export interface ModelPrediction extends ReturnForecast {
  readonly modelVersion: number;
  readonly horizonTicks: number;
  /** Time this replica took, microseconds. */
  readonly inferenceUs: number;
}

/** The serving facts of a model, from its registry row. */
export interface ReplicaInfo {
  readonly version: number;
  readonly commodity: string;
  readonly horizonTicks: number;
  /** Half-width q of the split-conformal interval, in log-return units. */
  readonly intervalHalfWidth: number;
  /** Nominal coverage of the interval, e.g. 0.8. */
  readonly intervalLevel: number;
}

/**
 * The mean of the trees, the share of them predicting a rise, and mean +- halfWidth. `outTrees` is scratch
 * space of at least nTrees values (reused across calls, so the hot path allocates only the result).
 */
export function forecastReturn(
  regressor: Regressor,
  inputs: ArrayLike<number>,
  intervalHalfWidth: number,
  intervalLevel: number,
  outTrees: Float64Array,
): ReturnForecast {
  const mean = regressor.predictTrees(inputs, outTrees);
  let ups = 0;
  for (let t = 0; t < regressor.nTrees; t++) if (outTrees[t]! > 0) ups++;
  return {
    predictedReturn: mean,
    probabilityUp: ups / regressor.nTrees,
    interval: { lowReturn: mean - intervalHalfWidth, highReturn: mean + intervalHalfWidth, level: intervalLevel },
  };
}

export class ModelReplica {
  private readonly outTrees: Float64Array;

  constructor(
    readonly info: ReplicaInfo,
    private readonly regressor: Regressor,
  ) {
    if (!(Number.isFinite(info.intervalHalfWidth) && info.intervalHalfWidth >= 0)) {
      throw new RangeError(`model ${info.version}: interval half-width must be finite and >= 0, got ${info.intervalHalfWidth}`);
    }
    this.outTrees = new Float64Array(regressor.nTrees);
  }

  get version(): number {
    return this.info.version;
  }

  /** Undefined while the features are still warming up (not every model input exists yet). */
  predict(features: FeatureVector): ModelPrediction | undefined {
    const started = performance.now();
    const inputs = toModelInputs(features);
    if (inputs === undefined) return undefined;
    const n = this.regressor.nFeatures;
    if (inputs.length < n) {
      throw new RangeError(`model ${this.info.version} expects ${n} inputs, the features give ${inputs.length}`);
    }
    // Inputs are only ever appended (FEATURE_NAMES), so an older model reads the prefix it was trained on.
    const row = inputs.length === n ? inputs : inputs.subarray(0, n);
    const forecast = forecastReturn(this.regressor, row, this.info.intervalHalfWidth, this.info.intervalLevel, this.outTrees);
    return {
      ...forecast,
      modelVersion: this.info.version,
      horizonTicks: this.info.horizonTicks,
      inferenceUs: (performance.now() - started) * 1_000,
    };
  }
}
