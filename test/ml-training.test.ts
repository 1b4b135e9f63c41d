/**
 * The training job end to end on the real Postgres: series written to the feature store with the batch helper,
 * read back point-in-time, walk-forward scored, saved, and promoted or rejected by the rule.
 */
import test from 'ava';
import { createLogger } from '../platform/logger.ts';
import { ModelRegistry, type ModelUpdatePublisher } from '../actors/model/registry.ts';
import { featureVectorFromRow, listFeatureCommodities, loadTrainingSet } from '../actors/training/feature-store-reader.ts';
import { sequentialForestTrainer } from '../actors/training/forest-trainer.ts';
import type { StoredModelMetrics, StoredModelParams } from '../actors/training/model-metrics.ts';
import { computeSeriesFeatures } from '../actors/training/series-features.ts';
import { storeSeriesWithFeatures } from '../actors/training/series-store.ts';
import { ar1PriceSeries } from '../actors/training/synthetic-series.ts';
import { backtestCommodity, trainCommodities, type CommodityOutcome } from '../actors/training/train-job.ts';
import { resolveTrainParams } from '../actors/training/train-params.ts';
import { buildTrainingSet } from '../actors/training/training-set.ts';
import { NotEnoughRowsError } from '../actors/training/walk-forward.ts';
import { migrate } from '../connectors/postgres/migrate.ts';
import { sqlModelStore } from '../connectors/postgres/model-store.ts';
import { pgliteStore, postgresStore, type SqlStore } from '../connectors/postgres/sql-store.ts';
import type { ModelUpdate } from '../proto/gen/carbon/v1/model_update.ts';
import { freshDatabase } from './services.ts';

const params = resolveTrainParams({ forest: { trees: 20, maxDepth: 6, maxFeatures: 0.5, seed: 3 } });
const quiet = createLogger({}, () => undefined);
const ar = ar1PriceSeries({ length: 1500, phi: 0.5, seed: 21 });
const walk = ar1PriceSeries({ length: 1500, phi: 0, seed: 22 });

function expectOk(o: CommodityOutcome | undefined): Extract<CommodityOutcome, { ok: true }> {
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
  const fromStore = await loadTrainingSet(sql, 'AR', 2);
  t.deepEqual(fromStore, buildTrainingSet('AR', computeSeriesFeatures(ar), ar, 2));
  const nulls = featureVectorFromRow({
    ts_ms: 1, price: 2, simple_return: null, log_return: null, non_positive_price: false, sma_5: null, sma_20: null,
    ema_5: 2, ema_20: 2, volatility_20: null, z_score: null, rsi_14: null, momentum_10: null, window_min: 2, window_max: 2, tick_count: 1,
  });
  t.is(nulls.sma5, undefined);
});

test('train: a predictable series is promoted and announced, a random walk rejected with reasons, a short one fails alone', async (t) => {
  const sql = postgresStore(await freshDatabase(t), 4);
  t.teardown(() => sql.close());
  await withSeries(sql);
  const updates: ModelUpdate[] = [];
  const publisher: ModelUpdatePublisher = { publish: async (u) => void updates.push(u) };
  const registry = new ModelRegistry(sqlModelStore(sql), publisher);
  const deps = { sql, registry, train: sequentialForestTrainer(params.forest), log: quiet, actor: 'trainer' };
  let forests = 0;
  const [arOut, rwOut, shortOut] = await trainCommodities(['AR', 'RW', 'SHORT'], params, { ...deps, onForest: () => forests++ });
  t.is(forests, 12, 'five folds and the final fit for each trainable commodity');

  const a = expectOk(arOut);
  t.is(a.status, 'active');
  t.true(a.announced);
  t.true(a.metrics.pooled.model.directionalAccuracy > 0.6);
  t.deepEqual(updates.map((u) => [u.commodity, u.modelVersion]), [['AR', a.version]]);
  const stored = await registry.show(a.version);
  const p = stored.params as StoredModelParams;
  t.is(p.interval.halfWidth, a.intervalHalfWidth);
  t.is(p.interval.level, 0.8);
  t.is(p.forest.trees, 20);
  t.is((stored.metrics as StoredModelMetrics).decision.promote, true);
  t.is(stored.horizonTicks, 1);
  t.is(stored.trainFromMs, ar[21]!.tsMs, 'the first row with every input');
  t.true(stored.trainToMs <= ar.at(-1)!.tsMs);

  const replica = (await registry.loadActiveReplica('AR'))!;
  const latest = computeSeriesFeatures(ar).at(-1)!;
  const prediction = replica.predict(latest)!;
  t.is(prediction.interval.highReturn - prediction.predictedReturn, a.intervalHalfWidth);

  const r = expectOk(rwOut);
  t.is(r.status, 'rejected');
  t.true(r.decision.reasons.length >= 1);
  t.is((await registry.show(r.version)).status, 'rejected');
  t.is(shortOut?.ok, false);
  t.true(shortOut?.ok === false && shortOut.error instanceof NotEnoughRowsError);

  // The same data and seed again: an identical forest, which does not beat the one in service.
  const [again] = await trainCommodities(['AR'], params, deps);
  const b = expectOk(again);
  t.is(b.status, 'rejected');
  t.is(b.comparedWithVersion, a.version);
  t.regex(b.decision.reasons.join(), /does not beat the model in service/);
  t.deepEqual(Buffer.from((await registry.show(b.version)).blob), Buffer.from(stored.blob), 'a seeded run is reproducible');
  t.is((await registry.loadActiveReplica('AR'))?.version, a.version);
});

test('backtest scores without saving a model', async (t) => {
  const sql = postgresStore(await freshDatabase(t), 4);
  t.teardown(() => sql.close());
  await withSeries(sql);
  const { set, result } = await backtestCommodity(sql, 'AR', params, sequentialForestTrainer(params.forest));
  t.is(result.series.actual.length, result.metrics.pooled.model.rows);
  t.true(result.metrics.pooled.model.rows > set.y.length / 2 - 5);
  const { rows } = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM models');
  t.is(rows[0]!.n, 0);
});

test('the embedded store (PGlite) runs the same feature store and registry SQL', async (t) => {
  const sql = await pgliteStore(undefined);
  t.teardown(() => sql.close());
  await migrate(sql);
  await storeSeriesWithFeatures(sql, 'AR', ar.slice(0, 600));
  t.deepEqual(await loadTrainingSet(sql, 'AR', 1), buildTrainingSet('AR', computeSeriesFeatures(ar.slice(0, 600)), ar.slice(0, 600), 1));
  const registry = new ModelRegistry(sqlModelStore(sql), undefined);
  const deps = { sql, registry, train: sequentialForestTrainer(params.forest), log: quiet, actor: 'trainer' };
  const [first] = await trainCommodities(['AR'], params, deps);
  const o = expectOk(first);
  t.is(o.status, 'active');
  t.false(o.announced, 'no publisher configured');
  const saved = await registry.show(o.version);
  const v2 = await registry.saveCandidate({ ...saved, params: saved.params as object, metrics: saved.metrics as object });
  await registry.promote(v2, { actor: 'ops', reason: 'manual' });
  await registry.rollback('AR', { actor: 'ops', reason: 'undo' });
  t.is((await registry.loadActiveReplica('AR'))?.version, o.version);
  t.deepEqual((await registry.serviceHistory('AR')).map((h) => h.modelVersion), [o.version, v2, o.version]);
});
