/**
 * The training job end to end on the real Postgres: series written to the feature store with the batch helper,
 * read back point-in-time, every forecaster family scored walk-forward, the champion of each horizon put in
 * service and the others in the shadow.
 */
import test from 'ava';
import { createLogger } from '../platform/logger.ts';
import { featureVectorFromRow } from '../actors/features/feature-columns.ts';
import { ModelRegistry, type ModelUpdatePublisher } from '../actors/model/registry.ts';
import { listFeatureCommodities, loadStoredSeries, trainingSetOf } from '../actors/training/feature-store-reader.ts';
import { sequentialForestTrainer } from '../actors/training/forest-trainer.ts';
import { computeSeriesFeatures } from '../actors/training/series-features.ts';
import { storeSeriesWithFeatures } from '../actors/training/series-store.ts';
import { ar1PriceSeries } from '../actors/training/synthetic-series.ts';
import { backtestCommodity, trainCommodities, type TrainOutcome } from '../actors/training/train-job.ts';
import { resolveTrainParams } from '../actors/training/train-params.ts';
import { buildTrainingSet } from '../actors/training/training-set.ts';
import { NotEnoughRowsError } from '../actors/training/walk-forward.ts';
import { migrate } from '../connectors/postgres/migrate.ts';
import { sqlModelStore } from '../actors/model/model-store.ts';
import { pgliteStore, postgresStore, type SqlStore } from '../connectors/postgres/sql-store.ts';
import { ModelUpdateAction, type ModelUpdate } from '../proto/gen/carbon/v1/model_update.ts';
import { freshDatabase } from './services.ts';

const params = resolveTrainParams({ horizons: [1, 5], forest: { trees: 20, maxDepth: 6, maxFeatures: 0.5, minSamplesLeaf: 20, seed: 3 } });
const quiet = createLogger({}, () => undefined);
const ar = ar1PriceSeries({ length: 1500, phi: 0.5, seed: 21 });
const walk = ar1PriceSeries({ length: 1500, phi: 0, seed: 22 });

function expectOk(o: TrainOutcome | undefined): Extract<TrainOutcome, { ok: true }> {
  if (o === undefined || !o.ok) throw new Error(`expected a trained model, got ${o?.ok === false ? o.error.message : 'nothing'}`);
  return o;
}

async function withSeries(sql: SqlStore): Promise<void> {
  await migrate(sql);
  await storeSeriesWithFeatures(sql, 'AR', ar, { source: 'synthetic:ar1' });
  await storeSeriesWithFeatures(sql, 'RW', walk);
  await storeSeriesWithFeatures(sql, 'SHORT', walk.slice(0, 100));
}

test('the feature store gives back exactly the training set computed in memory, and rewriting it changes nothing', async (t) => {
  const sql = postgresStore(await freshDatabase(t), 4);
  t.teardown(() => sql.close());
  await withSeries(sql);
  await storeSeriesWithFeatures(sql, 'AR', ar);
  const { rows } = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM features WHERE commodity = 'AR'`);
  t.is(rows[0]!.n, ar.length);
  t.deepEqual(await listFeatureCommodities(sql), ['AR', 'RW', 'SHORT']);
  const fromStore = trainingSetOf(await loadStoredSeries(sql, 'AR'), 2);
  t.deepEqual(fromStore, buildTrainingSet('AR', computeSeriesFeatures(ar), ar, 2));
  const nulls = featureVectorFromRow({
    ts_ms: 1, price: 2, simple_return: null, log_return: null, non_positive_price: false, sma_5: null, sma_20: null,
    ema_5: 2, ema_20: 2, volatility_20: null, ewma_volatility: null, z_score: null, rsi_14: null, momentum_10: null, window_min: 2, window_max: 2, tick_count: 1,
  });
  t.is(nulls.sma5, undefined);
  t.is(nulls.ewmaVolatility, undefined);
});

test('train: every commodity with history gets a champion per horizon; the others go into the shadow; a short one fails alone', async (t) => {
  const sql = postgresStore(await freshDatabase(t), 4);
  t.teardown(() => sql.close());
  await withSeries(sql);
  const updates: ModelUpdate[] = [];
  const publisher: ModelUpdatePublisher = { publish: async (u) => void updates.push(u) };
  const registry = new ModelRegistry(sqlModelStore(sql), publisher);
  const deps = { sql, registry, train: sequentialForestTrainer(params.forest), log: quiet, actor: 'trainer' };
  let forests = 0;
  const outcomes = await trainCommodities(['AR', 'RW', 'SHORT'], params, { ...deps, onForest: () => forests++ });
  t.is(forests, 2 * 2 * 6 * 2, 'two commodities x two horizons x (five folds + the final fit) x two forest families');
  t.deepEqual(outcomes.map((o) => [o.commodity, o.horizonTicks, o.ok]), [['AR', 1, true], ['AR', 5, true], ['RW', 1, true], ['RW', 5, true], ['SHORT', 1, false], ['SHORT', 5, false]]);

  const a = expectOk(outcomes[0]);
  t.true(a.champion.family === 'forest' || a.champion.family === 'pooled_forest', `AR(1) returns are learnable: ${a.champion.family}`);
  t.true(a.announced);
  t.deepEqual(a.families.map((f) => f.status).sort(), ['active', 'shadow', 'shadow', 'shadow']);
  const skill = a.forecasts.finals.get(a.champion.family)!.forecaster.spec.skill!;
  t.true(skill.pinballRatio < 0.97 && skill.directionalAccuracy > 0.6, JSON.stringify(skill));
  const r = expectOk(outcomes[2]);
  t.is(r.champion.family, 'no_change', 'nothing beats no change on a random walk, and no change is served');
  const promoted = updates.filter((u) => u.action === ModelUpdateAction.MODEL_UPDATE_ACTION_PROMOTED).map((u) => `${u.commodity}:${u.horizonTicks}`);
  t.deepEqual(promoted.sort(), ['AR:1', 'AR:5', 'RW:1', 'RW:5']);

  const stored = await registry.show(a.champion.version);
  t.is(stored.status, 'active');
  t.is(stored.family, a.champion.family);
  t.is(stored.horizonTicks, 1);
  t.is(stored.trainFromMs, ar[21]!.tsMs, 'the first row with every input');
  t.is((stored.params as { training: { forest: { trees: number } } }).training.forest.trees, 20);
  t.is((stored.metrics as { champion: { champion: string } }).champion.champion, a.champion.family);

  const serving = await registry.loadServing('AR');
  t.is(serving.served.length, 8, 'four families at two horizons');
  t.is(serving.served.filter((s) => s.status === 'active').length, 2);
  const champion = serving.served.find((s) => s.version === a.champion.version)!;
  const latest = computeSeriesFeatures(ar).at(-1)!;
  const forecast = champion.forecaster.forecast(latest);
  t.true(forecast.ok && forecast.distribution.quantiles[1]! < forecast.distribution.quantiles[5]!);

  const short = outcomes[4]!;
  t.true(!short.ok && short.error instanceof NotEnoughRowsError);

  // The same data and seed again: identical forests; the new champion takes over and the older models retire.
  const [again] = await trainCommodities(['AR'], resolveTrainParams({ ...params, horizons: [1] }), deps);
  const b = expectOk(again);
  t.is(b.champion.family, a.champion.family);
  t.deepEqual(Buffer.from((await registry.show(b.champion.version)).blob), Buffer.from(stored.blob), 'a seeded run is reproducible');
  t.is((await registry.show(a.champion.version)).status, 'retired');
  const after = await registry.loadServing('AR');
  t.deepEqual(after.served.filter((s) => s.forecaster.horizonTicks === 1).map((s) => s.version).sort(), b.families.map((f) => f.version).sort());
});

test('backtest scores every family without saving a model', async (t) => {
  const sql = postgresStore(await freshDatabase(t), 4);
  t.teardown(() => sql.close());
  await withSeries(sql);
  const results = await backtestCommodity(sql, 'AR', params, sequentialForestTrainer(params.forest), quiet);
  t.deepEqual(results.map((r) => r.horizonTicks), [1, 5]);
  for (const r of results) {
    t.deepEqual(r.evaluation.families.map((f) => f.family), ['no_change', 'drift', 'forest', 'pooled_forest']);
    t.true(r.evaluation.test.actual.length > r.set.y.length / 2 - 10);
  }
  const { rows } = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM models');
  t.is(rows[0]!.n, 0);
});

test('the embedded store (PGlite) runs the same feature store and registry SQL', async (t) => {
  const sql = await pgliteStore(undefined);
  t.teardown(() => sql.close());
  await migrate(sql);
  await storeSeriesWithFeatures(sql, 'AR', ar.slice(0, 600));
  t.deepEqual(trainingSetOf(await loadStoredSeries(sql, 'AR'), 1), buildTrainingSet('AR', computeSeriesFeatures(ar.slice(0, 600)), ar.slice(0, 600), 1));
  const registry = new ModelRegistry(sqlModelStore(sql), undefined);
  const deps = { sql, registry, train: sequentialForestTrainer(params.forest), log: quiet, actor: 'trainer' };
  const [first] = await trainCommodities(['AR'], resolveTrainParams({ ...params, horizons: [1] }), deps);
  const o = expectOk(first);
  t.false(o.announced, 'no publisher configured');
  const saved = await registry.show(o.champion.version);
  const v2 = await registry.saveCandidate({ ...saved, params: saved.params as object, metrics: saved.metrics as object });
  await registry.promote(v2, { actor: 'ops', reason: 'manual' });
  await registry.rollback('AR', 1, { actor: 'ops', reason: 'undo' });
  const active = (await registry.loadServing('AR')).served.filter((s) => s.status === 'active');
  t.deepEqual(active.map((s) => s.version), [o.champion.version]);
  t.deepEqual((await registry.serviceHistory('AR')).map((h) => h.modelVersion), [o.champion.version, v2, o.champion.version]);
});
