import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelRegistry } from '../actors/model/registry.ts';
import { sequentialForestTrainer } from '../actors/training/forest-trainer.ts';
import { modelUpdatePublisher } from '../actors/training/model-update-publisher.ts';
import { resolveTrainParams } from '../actors/training/train-params.ts';
import { trainCommodities } from '../actors/training/train-job.ts';
import { createKafka } from '../connectors/kafka/client.ts';
import { kafkaProducer } from '../connectors/kafka/kafka-producer.ts';
import { sqlModelStore } from '../actors/model/model-store.ts';
import { postgresStore, type SqlQuery } from '../connectors/postgres/sql-store.ts';
import { producerTickPublisher } from '../connectors/producer-tick-publisher.ts';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { loadGatewayConfig } from '../gateway/gateway-config.ts';
import { openEdges } from '../supervisors/worker/edges.ts';
import { startWorkerCore } from '../supervisors/worker/worker-core.ts';
import { startCluster, testEnvironment, tickPublisher } from './cluster-harness.ts';
import { eventually } from './eventually.ts';
import { seriesTicks, streamTicks, waitForRows } from './pipeline-expectations.ts';
import { KAFKA_BROKERS } from './services.ts';

const quiet = createLogger({}, () => undefined);

async function rows(db: SqlQuery, sql: string): Promise<string[]> {
  return (await db.query<Record<string, unknown>>(sql)).rows.map((r) => JSON.stringify(Object.values(r)));
}

const featuresSql = `SELECT commodity, ts_ms, price, simple_return, log_return, non_positive_price, sma_5, sma_20, ema_5, ema_20,
  volatility_20, ewma_volatility, z_score, rsi_14, momentum_10, window_min, window_max, tick_count FROM features ORDER BY commodity, ts_ms`;
const predictionsSql = `SELECT commodity, tick_ts_ms, model_version, horizon_ticks, tick_price, predicted_return, predicted_price,
  direction, probability_up, interval_low_return, interval_high_return, interval_level, family, quantile_returns, signal
  FROM predictions ORDER BY commodity, tick_ts_ms, model_version`;

test('the embedded and the cluster modes store the same features and predictions for the same ticks', async (t) => {
  const ticks = seriesTicks('WTI', 'wti-daily.csv');
  const split = ticks.findIndex((k) => k.tsMs >= Date.UTC(2016, 0, 1));
  const [before, after] = [ticks.slice(0, split), ticks.slice(split)];

  // Embedded: PGlite, the in-process bus and memory, in this process.
  const dataDir = mkdtempSync(join(tmpdir(), 'carbon-embedded-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = loadConfig({ CARBON_DATA_DIR: dataDir, CARBON_TOPIC_PARTITIONS: '4' });
  const edges = await openEdges(config, quiet, 'embedded');
  const core = await startWorkerCore(config, loadGatewayConfig(config, { CARBON_GRPC_PORT: '0', CARBON_GRPC_INTERNAL_PORT_BASE: '0' }), edges, undefined, quiet, (reason, err) => t.fail(`${reason}: ${String(err)}`));
  t.teardown(async () => {
    await core.stop();
    await edges.close();
  });
  const embeddedFeed = producerTickPublisher(edges.producer, edges.topics.prices, config.pipeline.maxMessageBytes);
  await streamTicks(embeddedFeed, before, 2_000, 0);
  await eventually(() => edges.pricesDrained(), { what: 'the embedded pipeline to drain', timeoutMs: 120_000, intervalMs: 100 });

  // One training run on the embedded feature store; its champion is put in service in both registries.
  const embeddedRegistry = new ModelRegistry(sqlModelStore(edges.store), modelUpdatePublisher(edges.producer, edges.topics.modelUpdates));
  const params = resolveTrainParams({ horizons: [1], forest: { trees: 20, maxDepth: 6 } });
  const [outcome] = await trainCommodities(['WTI'], params, { sql: edges.store, registry: embeddedRegistry, train: sequentialForestTrainer(params.forest), log: quiet, actor: 'test' });
  if (!outcome?.ok) return t.fail(`training failed: ${outcome && !outcome.ok ? outcome.error.message : 'no outcome'}`);
  const champion = outcome.champion.version;
  await eventually(() => core.models.championVersion('WTI', 1) === champion, { what: 'the embedded champion swap' });

  // Cluster: Kafka, Postgres and Redis, two worker processes.
  const env = await testEnvironment(t, 4);
  const cluster = await startCluster(t, env);
  const publisher = await tickPublisher(t, env);
  await streamTicks(publisher, before, 2_000, 0);
  await waitForRows(env, before.length);
  const clusterStore = postgresStore(env.databaseUrl);
  const producer = await kafkaProducer(createKafka(KAFKA_BROKERS, 'carbon-test-models'));
  t.teardown(async () => {
    await producer.close();
    await clusterStore.close();
  });
  const clusterRegistry = new ModelRegistry(sqlModelStore(clusterStore), modelUpdatePublisher(producer, env.topics.modelUpdates));
  // Every model of the run, copied in order so that both registries number them alike; the champion's copy in service.
  for (const family of [...outcome.families].sort((a, b) => a.version - b.version)) {
    const model = await embeddedRegistry.show(family.version);
    const copy = await clusterRegistry.saveCandidate({
      commodity: model.commodity, family: model.family, params: model.params as object, metrics: model.metrics as object, format: model.format,
      blob: model.blob, horizonTicks: model.horizonTicks, trainFromMs: model.trainFromMs, trainToMs: model.trainToMs, trainRows: model.trainRows,
    });
    t.is(copy, model.version, 'both registries number the models alike');
  }
  await clusterRegistry.promote(champion, { actor: 'test', reason: 'same model in both modes' });
  await eventually(async () => (await cluster.metric('carbon_model_swaps_total')) >= 1, { what: 'a cluster replica swap', timeoutMs: 30_000, intervalMs: 100 });

  await streamTicks(embeddedFeed, after, 500, 0);
  await streamTicks(publisher, after, 500, 0);
  await eventually(() => edges.pricesDrained(), { what: 'the embedded pipeline to drain', timeoutMs: 60_000, intervalMs: 100 });
  await waitForRows(env, ticks.length);

  const [embeddedFeatures, clusterFeatures] = await Promise.all([rows(edges.store, featuresSql), rows(env.db, featuresSql)]);
  t.is(embeddedFeatures.length, ticks.length);
  t.deepEqual(embeddedFeatures, clusterFeatures, 'features agree row for row');
  await eventually(async () => (await rows(env.db, predictionsSql)).length >= after.length, { what: 'cluster predictions', timeoutMs: 30_000, intervalMs: 200 });
  const [embeddedPredictions, clusterPredictions] = await Promise.all([rows(edges.store, predictionsSql), rows(env.db, predictionsSql)]);
  t.true(embeddedPredictions.length >= after.length, `${embeddedPredictions.length} predictions`);
  t.deepEqual(embeddedPredictions, clusterPredictions, 'predictions agree row for row');
});
