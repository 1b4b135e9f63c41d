import test from 'ava';
import { ModelRegistry } from '../actors/model/registry.ts';
import { sequentialForestTrainer } from '../actors/training/forest-trainer.ts';
import { modelUpdatePublisher } from '../actors/training/model-update-publisher.ts';
import { resolveTrainParams } from '../actors/training/train-params.ts';
import { trainCommodities } from '../actors/training/train-job.ts';
import { createKafka } from '../connectors/kafka/client.ts';
import { kafkaProducer } from '../connectors/kafka/kafka-producer.ts';
import { sqlModelStore } from '../actors/model/model-store.ts';
import { postgresStore } from '../connectors/postgres/sql-store.ts';
import { createLogger } from '../platform/logger.ts';
import { startCluster, testEnvironment, tickPublisher } from './cluster-harness.ts';
import { eventually } from './eventually.ts';
import { assertStoredFeaturesMatch, seriesTicks, streamTicks, waitForRows } from './pipeline-expectations.ts';
import { readDailyPrices } from './daily-price-csv.ts';
import { KAFKA_BROKERS } from './services.ts';
import { readTopic } from './ingest-kafka-helpers.ts';
import { Prediction } from '../proto/gen/carbon/v1/prediction.ts';

test('promoting models during a running stream swaps the replicas without losing, doubling or reordering a tick', async (t) => {
  const env = await testEnvironment(t, 2);
  const cluster = await startCluster(t, env);
  const publisher = await tickPublisher(t, env);
  const ticks = seriesTicks('BRENT', 'brent-daily.csv');
  const firstPart = Math.floor(ticks.length * 0.6);
  await streamTicks(publisher, ticks.slice(0, firstPart), 2_000, 0);
  await waitForRows(env, firstPart);

  const store = postgresStore(env.databaseUrl);
  const producer = await kafkaProducer(createKafka(KAFKA_BROKERS, 'carbon-test-swap'));
  t.teardown(async () => {
    await producer.close();
    await store.close();
  });
  const registry = new ModelRegistry(sqlModelStore(store), modelUpdatePublisher(producer, env.topics.modelUpdates));
  const quiet = createLogger({}, () => undefined);
  const versions: number[] = [];
  for (const seed of [1, 2]) {
    // Trained without announcing: the workers hear of the champions only from the promotions below.
    const params = resolveTrainParams({ horizons: [1], forest: { trees: 10, maxDepth: 5, seed } });
    const [o] = await trainCommodities(['BRENT'], params, { sql: store, registry: new ModelRegistry(sqlModelStore(store), undefined), train: sequentialForestTrainer(params.forest), log: quiet, actor: 'test' });
    if (!o?.ok) return t.fail('training failed');
    versions.push(o.champion.version);
  }
  const [first, second] = versions as [number, number];
  // Promotions by hand, each in the middle of a running stream.
  const rest = ticks.slice(firstPart);
  let promoted = 0;
  await streamTicks(publisher, rest, 100, 10, async (sent) => {
    if (promoted === 0 && sent >= rest.length / 4) {
      promoted++;
      await registry.promote(first, { actor: 'test', reason: 'swap during a stream' });
    } else if (promoted === 1 && sent >= rest.length / 2) {
      promoted++;
      await registry.promote(second, { actor: 'test', reason: 'swap during a stream' });
    }
  });
  t.is(promoted, 2);
  await waitForRows(env, ticks.length);
  await assertStoredFeaturesMatch(t, env, 'BRENT', readDailyPrices('brent-daily.csv'));
  await eventually(async () => (await cluster.metric('carbon_model_swaps_total')) >= 2, { what: 'both swaps', timeoutMs: 20_000, intervalMs: 100 });

  const { rows } = await env.db.query<{ tick_ts_ms: number; model_version: number }>('SELECT tick_ts_ms, model_version FROM predictions ORDER BY tick_ts_ms, model_version');
  const perTick = new Map<number, number[]>();
  for (const r of rows) perTick.set(Number(r.tick_ts_ms), [...(perTick.get(Number(r.tick_ts_ms)) ?? []), Number(r.model_version)]);
  // A new champion forecasts the latest tick it has at once: the tick of the second swap may carry the first
  // champion's prediction and the second's; every other tick has exactly one.
  const doubled = [...perTick.values()].filter((v) => v.length > 1);
  t.true(doubled.length <= 1 && doubled.every((v) => v.length === 2 && v[0] === first && v[1] === second), `ticks with two predictions: ${JSON.stringify(doubled)}`);
  const predictedTs = [...perTick.keys()];
  const firstPredicted = ticks.findIndex((k) => k.tsMs === predictedTs[0]);
  t.deepEqual(predictedTs, ticks.slice(firstPredicted).map((k) => k.tsMs), 'every tick after the first swap has its prediction: none lost');
  // The newest version each tick was predicted by (versions grow: `second` was trained after `first`).
  const order = [...perTick.values()].map((v) => v[v.length - 1]);
  const switchAt = order.indexOf(second);
  t.true(switchAt > 0, 'both models served');
  t.true(order.slice(0, switchAt).every((v) => v === first) && order.slice(switchAt).every((v) => v === second), 'the versions change once, in tick order');

  // Every stored prediction was also published on ml-predictions, keyed by commodity (at least once: a replay
  // after a crash may publish one again, with the same key, tick and version).
  const published = await readTopic(env.topics.predictions);
  const onTopic = new Set(published.map((m) => {
    const p = Prediction.decode(m.value);
    t.is(m.key, p.commodity);
    return `${p.tickTsMs}/${p.modelVersion}`;
  }));
  t.deepEqual([...onTopic].sort(), rows.map((r) => `${r.tick_ts_ms}/${r.model_version}`).sort(), 'the topic holds the stored predictions');
});
