/**
 * The training job behind `carbon train`: for each commodity, read its training set from the feature store,
 * score a walk-forward evaluation, fit the model to serve (its interval calibrated on the latest rows), save it
 * as a candidate and apply the promotion rule: promote (and announce) or reject with the reasons.
 *
 * Every forest of every commodity (the folds' and the final ones) goes to the trainer in one list, so that
 * worker threads spread across commodities.
 */
import type { SqlQuery } from '../../connectors/postgres/sql-store.ts';
import type { Logger } from '../../platform/logger.ts';
import type { CompactForest } from '../model/forest/compact-forest.ts';
import { COMPACT_FOREST_FORMAT, type ModelRegistry } from '../model/registry.ts';
import { loadTrainingSet } from './feature-store-reader.ts';
import {
  storedParams,
  storedValidationScores,
  validationScores,
  type StoredModelMetrics,
} from './model-metrics.ts';
import { decidePromotion, type PromotionDecision } from './promotion.ts';
import type { TrainParams } from './train-params.ts';
import { rowCount, type TrainingSet } from './training-set.ts';
import {
  calibrate,
  evaluateWalkForward,
  fitJob,
  NotEnoughRowsError,
  planFinalFit,
  planWalkForward,
  type FitPlan,
  type FoldPlan,
  type RegressorJob,
  type TrainRegressors,
  type WalkForwardMetrics,
  type WalkForwardResult,
} from './walk-forward.ts';

export interface TrainJobDeps {
  readonly sql: SqlQuery;
  readonly registry: ModelRegistry;
  readonly train: TrainRegressors<CompactForest>;
  readonly log: Logger;
  /** Who the audit rows name. */
  readonly actor: string;
  /** Called after each forest is fitted, with forests done and in total. */
  readonly onForest?: (done: number, total: number) => void;
}

/** One commodity's result. */
export type CommodityOutcome =
  | {
      readonly commodity: string;
      readonly ok: true;
      readonly version: number;
      readonly status: 'active' | 'rejected';
      readonly decision: PromotionDecision;
      readonly comparedWithVersion: number | null;
      readonly metrics: WalkForwardMetrics;
      readonly set: Pick<TrainingSet, 'excluded' | 'horizonTicks'> & { readonly rows: number };
      readonly intervalHalfWidth: number;
      readonly modelBytes: number;
      /** False when promoted with no publisher configured (or rejected). */
      readonly announced: boolean;
    }
  | { readonly commodity: string; readonly ok: false; readonly error: Error };

interface Prepared {
  readonly set: TrainingSet;
  readonly folds: readonly FoldPlan[];
  readonly final: FitPlan;
}

/** Reads and plans one commodity; a commodity that cannot be trained fails alone. */
async function prepare(sql: SqlQuery, commodity: string, params: TrainParams): Promise<Prepared> {
  const set = await loadTrainingSet(sql, commodity, params.horizonTicks);
  if (rowCount(set) === 0 && set.excluded.warmUp === 0) throw new NotEnoughRowsError(`${commodity}: the feature store holds no rows for it`);
  return { set, folds: planWalkForward(set, params.walkForward), final: planFinalFit(set, params.walkForward) };
}

export async function trainCommodities(commodities: readonly string[], params: TrainParams, deps: TrainJobDeps): Promise<CommodityOutcome[]> {
  const outcomes = new Map<string, CommodityOutcome>();
  const prepared: Prepared[] = [];
  for (const commodity of commodities) {
    try {
      const p = await prepare(deps.sql, commodity, params);
      prepared.push(p);
      deps.log.info('training_set_loaded', { commodity, rows: rowCount(p.set), excluded: p.set.excluded, horizonTicks: params.horizonTicks });
    } catch (err) {
      deps.log.error('training_set_failed', { commodity, err });
      outcomes.set(commodity, { commodity, ok: false, error: err as Error });
    }
  }
  const jobs: RegressorJob[] = prepared.flatMap((p) => [...p.folds.map((f) => fitJob(p.set, f)), fitJob(p.set, p.final)]);
  const forests = await deps.train(jobs, deps.onForest);
  let next = 0;
  for (const p of prepared) {
    const foldForests = forests.slice(next, next + p.folds.length);
    const finalForest = forests[next + p.folds.length]!;
    next += p.folds.length + 1;
    try {
      outcomes.set(p.set.commodity, await decideAndSave(p, foldForests, finalForest, params, deps));
    } catch (err) {
      deps.log.error('training_failed', { commodity: p.set.commodity, err });
      outcomes.set(p.set.commodity, { commodity: p.set.commodity, ok: false, error: err as Error });
    }
  }
  return commodities.map((c) => outcomes.get(c)!);
}

async function decideAndSave(
  p: Prepared,
  foldForests: readonly CompactForest[],
  finalForest: CompactForest,
  params: TrainParams,
  deps: TrainJobDeps,
): Promise<CommodityOutcome> {
  const { set } = p;
  const commodity = set.commodity;
  const { metrics } = evaluateWalkForward(set, p.folds, foldForests, params.walkForward);
  const halfWidth = calibrate(set, p.final, finalForest, params.walkForward.intervalLevel);
  const serving = await deps.registry.activeModel(commodity);
  const comparedWithVersion = serving?.version ?? null;
  const decision = decidePromotion(
    validationScores(metrics),
    serving === undefined ? undefined : { version: serving.version, scores: storedValidationScores(serving.metrics) },
  );
  const stored: StoredModelMetrics = { walkForward: metrics, excludedRows: set.excluded, decision, comparedWithVersion };
  const blob = finalForest.toBuffer();
  const version = await deps.registry.saveCandidate({
    commodity,
    params: storedParams(set, params, p.final, halfWidth),
    metrics: stored,
    format: COMPACT_FOREST_FORMAT,
    blob,
    horizonTicks: set.horizonTicks,
    trainFromMs: set.tsMs[0]!,
    trainToMs: set.labelTsMs[p.final.calibrationEnd - 1]!,
    trainRows: p.final.fitEnd,
  });
  const base = {
    commodity,
    ok: true as const,
    version,
    decision,
    comparedWithVersion,
    metrics,
    set: { excluded: set.excluded, horizonTicks: set.horizonTicks, rows: rowCount(set) },
    intervalHalfWidth: halfWidth,
    modelBytes: blob.length,
  };
  if (!decision.promote) {
    await deps.registry.reject(version, { actor: deps.actor, reason: 'promotion rule', reasons: decision.reasons });
    deps.log.info('model_rejected', { commodity, version, reasons: decision.reasons });
    return { ...base, status: 'rejected', announced: false };
  }
  const { announced } = await deps.registry.promote(version, {
    actor: deps.actor,
    reason: decision.checks.map((c) => c.detail).join('; '),
    expectedActiveVersion: comparedWithVersion,
  });
  deps.log.info('model_promoted', { commodity, version, previousVersion: comparedWithVersion, announced });
  return { ...base, status: 'active', announced };
}

/** The walk-forward evaluation alone (no model saved): `carbon backtest`. */
export async function backtestCommodity(
  sql: SqlQuery,
  commodity: string,
  params: TrainParams,
  train: TrainRegressors,
  onForest?: (done: number, total: number) => void,
): Promise<{ set: TrainingSet; result: WalkForwardResult }> {
  const set = await loadTrainingSet(sql, commodity, params.horizonTicks);
  const folds = planWalkForward(set, params.walkForward);
  const regressors = await train(folds.map((f) => fitJob(set, f)), onForest);
  return { set, result: evaluateWalkForward(set, folds, regressors, params.walkForward) };
}
