/**
 * A forecaster: one family's fitted model of one commodity and horizon, turning the features at a tick into a
 * predictive distribution of the forward log return. Every family shares the same last steps: the quantiles are
 * point + scale * (conformal offsets of the standardized residuals), so their width follows volatility, and the
 * probability of a rise is the residual distribution's share above -point / scale, calibrated by Platt scaling.
 *
 * Families differ only in the point forecast:
 *   no_change      0 (a random walk)
 *   drift          the mean h-tick return of the training rows
 *   forest         scale0 * m(x), m a RandomForest of this commodity fitted to y / scale0 on model inputs x
 *   pooled_forest  the same with one forest fitted to every commodity's rows (scale-free inputs and targets)
 * where scale0 is the EWMA volatility over the horizon (forestTargetScale).
 */
import type { FeatureVector } from '../features/compute-features.ts';
import type { InputDeciles } from './distribution-shift.ts';
import { QUANTILE_LEVELS, type ReturnDistribution } from './distribution.ts';
import { forestTargetScale, modelInputs } from './model-inputs.ts';
import { applyPlatt, type PlattScaling } from './platt.ts';
import { shareAbove, type ResidualDistribution } from './residuals.ts';
import type { DirectionEvidence } from './signal.ts';
import { scaleOf, type VolatilityScale } from './volatility-scale.ts';

export const FAMILIES = ['no_change', 'drift', 'forest', 'pooled_forest'] as const;
export type FamilyName = (typeof FAMILIES)[number];

/** Families that need no learning beyond the volatility scale: always fit, always servable. */
export const BASELINE_FAMILIES: ReadonlySet<FamilyName> = new Set(['no_change', 'drift']);
/** The family every other must beat to be served. */
export const REFERENCE_FAMILY: FamilyName = 'no_change';

export function isFamilyName(name: unknown): name is FamilyName {
  return typeof name === 'string' && (FAMILIES as readonly string[]).includes(name);
}

/** A forest as a forecaster needs it (CompactForest has it). */
export interface PointRegressor {
  readonly nFeatures: number;
  predict(row: ArrayLike<number>): number;
}

/** Walk-forward skill of a forecaster (see carbon.v1.ForecastSkill). */
export interface ForecastSkill {
  readonly rows: number;
  readonly pinballRatio: number;
  readonly intervalScoreRatio: number;
  readonly mase: number;
  readonly brier: number;
  readonly directionalAccuracy: number;
  readonly pesaranTimmermannP: number | null;
  readonly intervalCoverage: number;
}

/** Everything of a fitted forecaster but its forest: JSON, stored as the model's params. */
export interface ForecasterSpec {
  readonly family: FamilyName;
  readonly horizonTicks: number;
  readonly scale: VolatilityScale;
  /** The drift family's constant h-tick return; 0 for the others. */
  readonly drift: number;
  readonly residuals: ResidualDistribution;
  readonly probability: PlattScaling;
  /** Input names of the forest families (MODEL_INPUT_NAMES when fitted), empty for the baselines. */
  readonly inputNames: readonly string[];
  /** Decile edges of each model input (MODEL_INPUT_NAMES) on the fit rows: the reference of the shift monitor. */
  readonly inputDeciles: InputDeciles;
  /** The walk-forward evidence behind the trading signal; undefined until the walk-forward has scored it. */
  readonly direction: DirectionEvidence | undefined;
  readonly skill: ForecastSkill | undefined;
}

export type ForecastResult =
  | { readonly ok: true; readonly distribution: ReturnDistribution }
  | { readonly ok: false; readonly reason: string };

export const usesForest = (family: FamilyName): boolean => family === 'forest' || family === 'pooled_forest';

export class Forecaster {
  constructor(
    readonly spec: ForecasterSpec,
    private readonly forest: PointRegressor | undefined,
  ) {
    if (usesForest(spec.family) && forest === undefined) throw new RangeError(`a ${spec.family} forecaster needs its forest`);
    if (forest !== undefined && forest.nFeatures !== spec.inputNames.length) {
      throw new RangeError(`the forest takes ${forest.nFeatures} inputs, the spec names ${spec.inputNames.length}`);
    }
  }

  get family(): FamilyName {
    return this.spec.family;
  }

  get horizonTicks(): number {
    return this.spec.horizonTicks;
  }

  /** The forecast at the tick of `f`, or why there is none. */
  forecast(f: FeatureVector): ForecastResult {
    if (!(f.price > 0)) return { ok: false, reason: `the latest price is ${f.price}: a log return does not exist from a non-positive price` };
    if (f.ewmaVolatility === undefined) return { ok: false, reason: 'fewer than 20 log returns in the window: no volatility to scale the quantiles by yet' };
    let inputs: Float64Array | undefined;
    if (this.forest !== undefined) {
      inputs = modelInputs(f);
      if (inputs === undefined) return { ok: false, reason: 'the forest inputs need a full feature window (22 ticks)' };
    }
    return { ok: true, distribution: this.forecastRow(f.ewmaVolatility, inputs) };
  }

  /** The forecast from a row's EWMA volatility and model inputs (inputs unused by the baselines). */
  forecastRow(ewmaVolatility: number, inputs: ArrayLike<number> | undefined): ReturnDistribution {
    const { spec } = this;
    const scale = scaleOf(spec.scale, ewmaVolatility);
    const point = this.pointOf(ewmaVolatility, inputs);
    const offsets = spec.residuals.offsets;
    const quantiles = new Float64Array(QUANTILE_LEVELS.length);
    for (let i = 0; i < quantiles.length; i++) quantiles[i] = point + scale * offsets[i]!;
    const raw = shareAbove(spec.residuals, -point / scale);
    return { point, quantiles, scale, probabilityUp: applyPlatt(spec.probability, raw) };
  }

  /** The point forecast alone (the step before the residuals exist, in fitting). */
  pointOf(ewmaVolatility: number, inputs: ArrayLike<number> | undefined): number {
    switch (this.spec.family) {
      case 'no_change':
        return 0;
      case 'drift':
        return this.spec.drift;
      case 'forest':
      case 'pooled_forest':
        return forestTargetScale(ewmaVolatility, this.spec.horizonTicks) * this.forest!.predict(inputs!);
      default: {
        const unknown: never = this.spec.family;
        throw new Error(`unknown family ${String(unknown)}`);
      }
    }
  }
}
