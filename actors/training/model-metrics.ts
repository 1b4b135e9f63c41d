/**
 * What a trained model stores in the registry: `models.params` (how it was made, and what a replica needs to
 * serve it) and `models.metrics` (its walk-forward scores and the promotion decision). JSON, versioned by shape.
 */
import type { ServingParams } from '../model/registry.ts';
import type { PromotionDecision, ValidationScores } from './promotion.ts';
import type { ExcludedRows, TrainingSet } from './training-set.ts';
import type { TrainParams } from './train-params.ts';
import type { FitPlan, WalkForwardMetrics } from './walk-forward.ts';

export interface StoredModelParams extends TrainParams, ServingParams {
  readonly interval: {
    readonly level: number;
    /** Split-conformal half-width q in log-return units: interval = prediction +- q. */
    readonly halfWidth: number;
    readonly calibrationRows: number;
    /** Time span of the calibration rows, UTC epoch ms. */
    readonly calibrationFromMs: number;
    readonly calibrationToMs: number;
  };
}

export interface StoredModelMetrics {
  readonly walkForward: WalkForwardMetrics;
  readonly excludedRows: ExcludedRows;
  readonly decision: PromotionDecision;
  /** The model in service the decision compared against (null: none). */
  readonly comparedWithVersion: number | null;
}

export function storedParams(set: TrainingSet, params: TrainParams, plan: FitPlan, halfWidth: number): StoredModelParams {
  return {
    ...params,
    featureNames: set.featureNames,
    interval: {
      level: params.walkForward.intervalLevel,
      halfWidth,
      calibrationRows: plan.calibrationEnd - plan.calibrationStart,
      calibrationFromMs: set.tsMs[plan.calibrationStart]!,
      calibrationToMs: set.tsMs[plan.calibrationEnd - 1]!,
    },
  };
}

/** The scores the promotion rule compares, from walk-forward metrics. */
export function validationScores(wf: WalkForwardMetrics): ValidationScores {
  return {
    mase: wf.pooled.model.mase,
    directionalAccuracy: wf.pooled.model.directionalAccuracy,
    majorityAccuracy: wf.pooled.majority.directionalAccuracy,
  };
}

/** The same from a stored `models.metrics` value; undefined when it lacks them (another writer, older shape). */
export function storedValidationScores(metrics: unknown): ValidationScores | undefined {
  const pooled = (metrics as { walkForward?: { pooled?: { model?: unknown; majority?: unknown } } } | null)?.walkForward?.pooled;
  const model = pooled?.model as { mase?: unknown; directionalAccuracy?: unknown } | undefined;
  const majority = pooled?.majority as { directionalAccuracy?: unknown } | undefined;
  if (typeof model?.directionalAccuracy !== 'number' || typeof majority?.directionalAccuracy !== 'number') return undefined;
  if (!(typeof model.mase === 'number' || model.mase === null)) return undefined;
  return { mase: model.mase, directionalAccuracy: model.directionalAccuracy, majorityAccuracy: majority.directionalAccuracy };
}
