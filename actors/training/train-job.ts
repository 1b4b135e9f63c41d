/**
 * The training job behind `carbon train`: for each commodity and horizon, fit every forecaster family, score them
 * walk-forward, and put the champion into service; the other families' final forecasters go into the shadow,
 * where they forecast every live tick beside it and can take over when they do better (see the shadow scoring in
 * the commodity actor). Every version is saved with its walk-forward metrics, so the registry says why.
 */
import type { SqlQuery } from '../../connectors/postgres/sql-store.ts';
import type { Logger } from '../../platform/logger.ts';
import type { ChampionDecision } from '../forecast/champion.ts';
import type { FamilyName, ForecasterSpec } from '../forecast/forecaster.ts';
import type { ForecastScores } from '../forecast/forecast-scores.ts';
import type { CompactForest } from '../model/forest/compact-forest.ts';
import { FORECASTER_FORMAT, type ModelRegistry } from '../model/registry.ts';
import { listFeatureCommodities, loadStoredSeries, trainingSetOf, type StoredSeries } from './feature-store-reader.ts';
import { fitAndEvaluate, prepareSets, type CommodityForecasts, type PreparedSet } from './forecast-training.ts';
import type { TrainParams } from './train-params.ts';
import type { ExcludedRows } from './training-set.ts';
import type { TrainRegressors, WalkForwardEvaluation } from './walk-forward.ts';

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

/** What `models.metrics` holds: the walk-forward without its row arrays, and the champion decision. */
export interface StoredMetrics {
  readonly walkForward: {
    readonly labelledRows: number;
    readonly folds: WalkForwardEvaluation['folds'];
    readonly families: readonly { readonly family: FamilyName; readonly scores: ForecastScores; readonly folds: readonly { readonly fold: number; readonly scores: ForecastScores }[] }[];
    readonly fixedInterval: WalkForwardEvaluation['fixedInterval'];
  };
  readonly champion: ChampionDecision;
  readonly excludedRows: ExcludedRows;
}

/** One saved family of a commodity and horizon. */
export interface SavedFamily {
  readonly family: FamilyName;
  readonly version: number;
  readonly status: 'active' | 'shadow';
}

/** One commodity and horizon's result. */
export type TrainOutcome =
  | {
      readonly commodity: string;
      readonly horizonTicks: number;
      readonly ok: true;
      readonly champion: SavedFamily;
      readonly families: readonly SavedFamily[];
      readonly forecasts: CommodityForecasts;
      /** False when no publisher is configured. */
      readonly announced: boolean;
    }
  | { readonly commodity: string; readonly horizonTicks: number; readonly ok: false; readonly error: Error };

export function storedMetrics(f: CommodityForecasts): StoredMetrics {
  const e = f.evaluation;
  return {
    walkForward: {
      labelledRows: e.labelledRows,
      folds: e.folds,
      families: e.families.map((x) => ({ family: x.family, scores: x.scores, folds: x.folds })),
      fixedInterval: e.fixedInterval,
    },
    champion: f.decision,
    excludedRows: f.set.excluded,
  };
}

function storedParams(f: CommodityForecasts, spec: ForecasterSpec, params: TrainParams): object {
  return {
    forecaster: spec,
    training: { forest: params.forest, pooledMaxRows: params.pooledMaxRows, walkForward: params.walkForward, families: params.families },
    calibration: {
      rows: f.final.calibrationEnd - f.final.calibrationStart,
      fromMs: f.set.tsMs[f.final.calibrationStart]!,
      toMs: f.set.tsMs[f.final.calibrationEnd - 1]!,
    },
  };
}

/** Reads the commodities' series; one that cannot be read fails alone. */
export async function loadSeries(sql: SqlQuery, commodities: readonly string[], log: Logger): Promise<{ series: StoredSeries[]; failed: Map<string, Error> }> {
  const series: StoredSeries[] = [];
  const failed = new Map<string, Error>();
  for (const commodity of commodities) {
    try {
      const s = await loadStoredSeries(sql, commodity);
      if (s.features.length === 0) throw new Error(`${commodity}: the feature store holds no rows for it`);
      series.push(s);
    } catch (err) {
      log.error('training_series_failed', { commodity, err });
      failed.set(commodity, err as Error);
    }
  }
  return { series, failed };
}

export async function trainCommodities(commodities: readonly string[], params: TrainParams, deps: TrainJobDeps): Promise<TrainOutcome[]> {
  const { series, failed } = await loadSeries(deps.sql, commodities, deps.log);
  const outcomes: TrainOutcome[] = [];
  for (const [commodity, error] of failed) for (const horizonTicks of params.horizons) outcomes.push({ commodity, horizonTicks, ok: false, error });
  const { prepared, failures } = prepareSets(series, params);
  for (const f of failures) {
    deps.log.info('training_skipped', { commodity: f.commodity, horizonTicks: f.horizonTicks, reason: f.error.message });
    outcomes.push({ ...f, ok: false });
  }
  const results = await fitAndEvaluate(prepared, params, deps.train, { onForest: deps.onForest });
  for (const f of results) {
    try {
      outcomes.push(await save(f, params, deps));
    } catch (err) {
      deps.log.error('training_failed', { commodity: f.commodity, horizonTicks: f.horizonTicks, err });
      outcomes.push({ commodity: f.commodity, horizonTicks: f.horizonTicks, ok: false, error: err as Error });
    }
  }
  const order = (c: string) => commodities.indexOf(c);
  return outcomes.sort((a, b) => order(a.commodity) - order(b.commodity) || a.horizonTicks - b.horizonTicks);
}

async function save(f: CommodityForecasts, params: TrainParams, deps: TrainJobDeps): Promise<TrainOutcome> {
  const metrics = storedMetrics(f);
  const versions = new Map<FamilyName, number>();
  for (const [family, final] of f.finals) {
    versions.set(
      family,
      await deps.registry.saveCandidate({
        commodity: f.commodity,
        family,
        params: storedParams(f, final.forecaster.spec, params),
        metrics,
        format: FORECASTER_FORMAT,
        blob: final.forest?.toBuffer() ?? new Uint8Array(0),
        horizonTicks: f.horizonTicks,
        trainFromMs: f.set.tsMs[0]!,
        trainToMs: f.set.labelTsMs[f.final.calibrationEnd - 1]!,
        trainRows: f.final.fitEnd,
      }),
    );
  }
  const championFamily = f.decision.champion;
  const why = (family: FamilyName) => f.decision.verdicts.find((v) => v.family === family)!.detail;
  const families: SavedFamily[] = [];
  for (const [family, version] of versions) {
    if (family === championFamily) continue;
    await deps.registry.shadow(version, { actor: deps.actor, reason: `challenger: ${why(family)}` });
    families.push({ family, version, status: 'shadow' });
  }
  const championVersion = versions.get(championFamily)!;
  const champion = f.finals.get(championFamily)!.forecaster.spec.skill!;
  const { announced } = await deps.registry.promote(championVersion, {
    actor: deps.actor,
    reason: `champion by walk-forward proper scores: ${why(championFamily)}`,
    previousBecomes: 'retired',
    evidence: { pinballRatio: champion.pinballRatio, intervalScoreRatio: champion.intervalScoreRatio, mase: champion.mase, brier: champion.brier, rows: champion.rows },
  });
  families.unshift({ family: championFamily, version: championVersion, status: 'active' });
  // Debug: a run's callers print its summary (one table), which says the same for every commodity at once.
  deps.log.debug('champion_promoted', {
    commodity: f.commodity,
    horizonTicks: f.horizonTicks,
    family: championFamily,
    version: championVersion,
    pinballRatio: Number(champion.pinballRatio.toFixed(4)),
    announced,
  });
  return { commodity: f.commodity, horizonTicks: f.horizonTicks, ok: true, champion: families[0]!, families, forecasts: f, announced };
}

/**
 * The walk-forward evaluation of one commodity at every horizon, nothing saved (`carbon backtest`). Its pooled
 * forests learn every commodity of the feature store, as a training run of them all would.
 */
export async function backtestCommodity(
  sql: SqlQuery,
  commodity: string,
  params: TrainParams,
  train: TrainRegressors<CompactForest>,
  log: Logger,
  onForest?: (done: number, total: number) => void,
): Promise<CommodityForecasts[]> {
  const target = await loadStoredSeries(sql, commodity);
  if (target.features.length === 0) throw new Error(`${commodity}: the feature store holds no rows for it`);
  const { prepared, failures } = prepareSets([target], params);
  const failure = failures[0];
  if (prepared.length === 0 && failure !== undefined) throw failure.error;
  for (const f of failures) log.info('backtest_horizon_skipped', { commodity, horizonTicks: f.horizonTicks, reason: f.error.message });
  const others = params.families.includes('pooled_forest') ? (await loadSeries(sql, (await listFeatureCommodities(sql)).filter((c) => c !== commodity), log)).series : [];
  const pool = [...prepared.map((p: PreparedSet) => p.set), ...params.horizons.flatMap((h) => others.map((s) => trainingSetOf(s, h)))];
  return fitAndEvaluate(prepared, params, train, { onForest, pool });
}
