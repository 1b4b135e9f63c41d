import test from 'ava';
import { readDailyPrices } from './daily-price-csv.ts';
import { createKafka } from '../connectors/kafka/client.ts';
import { dlqOf } from '../connectors/kafka/topics.ts';
import { PriceTick } from '../proto/gen/carbon/v1/price_tick.ts';
import { startCluster, testEnvironment, tickPublisher } from './cluster-harness.ts';
import { eventually } from './eventually.ts';
import { readTopic, type ReadMessage } from './ingest-kafka-helpers.ts';
import { assertStoredFeaturesMatch, seriesTicks, streamTicks, waitForRows } from './pipeline-expectations.ts';
import { KAFKA_BROKERS } from './services.ts';

test('malformed messages from any producer go to the DLQ with their reason before reaching an actor, and the stream goes on', async (t) => {
  const env = await testEnvironment(t, 2);
  await startCluster(t, env);
  const producer = createKafka(KAFKA_BROKERS, 'carbon-test-bad-producer').producer({ allowAutoTopicCreation: false });
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const good = { commodity: 'GOLD', tsMs: Date.UTC(2024, 0, 1), price: 2062.98, unit: '', source: 'test' };
  const pb = (tick: PriceTick) => Buffer.from(PriceTick.encode(tick).finish());
  const bad: Array<{ reason: string; key: string; value: Buffer; headers?: Record<string, string> }> = [
    { reason: 'bad_protobuf', key: 'GOLD', value: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]) },
    { reason: 'bad_json', key: 'GOLD', value: Buffer.from('{"commodity": "GOLD", '), headers: { 'content-type': 'application/json' } },
    { reason: 'unknown_content_type', key: 'GOLD', value: pb(good), headers: { 'content-type': 'text/plain' } },
    { reason: 'non_finite', key: 'GOLD', value: pb({ ...good, price: Number.NaN }) },
    { reason: 'oversized', key: 'GOLD', value: Buffer.alloc(200 * 1024, 7) },
    { reason: 'malformed_commodity', key: 'gold', value: pb({ ...good, commodity: 'gold' }) },
    { reason: 'missing_field', key: 'GOLD', value: Buffer.from('{"commodity":"GOLD","price":1}'), headers: { 'content-type': 'application/json' } },
  ];
  await producer.send({ topic: env.topics.prices, messages: bad.map((b) => ({ key: b.key, value: b.value, headers: b.headers })) });
  await producer.send({ topic: env.topics.prices, messages: [{ key: 'GOLD', value: pb(good) }] });
  await waitForRows(env, 1);
  // Dead letters are committed with their offsets, in the partition's transaction after the stores' write.
  let dlq: ReadMessage[] = [];
  await eventually(async () => (dlq = await readTopic(dlqOf(env.topics.prices))).length >= bad.length, { what: 'every dead letter committed', timeoutMs: 20_000, intervalMs: 250 });
  t.deepEqual(dlq.map((m) => m.headers['x-dlq-reason']).sort(), bad.map((b) => b.reason).sort());
  const oversized = dlq.find((m) => m.headers['x-dlq-reason'] === 'oversized');
  t.is(oversized?.headers['x-dlq-original-bytes'], String(200 * 1024), 'a cut value says how big the original was');
  const nan = dlq.find((m) => m.headers['x-dlq-reason'] === 'non_finite');
  t.true(nan?.value.equals(bad[3]?.value ?? Buffer.alloc(0)), 'the DLQ keeps the original bytes');
});

test('a poison tick is dead-lettered after K crashes and its commodity goes on without it', async (t) => {
  const env = await testEnvironment(t, 2);
  const cluster = await startCluster(t, env, { CARBON_POISON_MAX_TRIES: '3' });
  const series = readDailyPrices('wti-daily.csv');
  const poisonTs = Date.UTC(2020, 3, 20);
  await cluster.chaos(`commodity=WTI&poisonTsMs=${poisonTs}`);
  const publisher = await tickPublisher(t, env);
  await streamTicks(publisher, seriesTicks('WTI', 'wti-daily.csv'), 2_000, 0);
  const survivors = series.filter((p) => p.tsMs !== poisonTs);
  await waitForRows(env, survivors.length);
  let dlq: ReadMessage[] = [];
  await eventually(async () => (dlq = await readTopic(dlqOf(env.topics.prices))).length >= 1, { what: 'the poison tick committed to the DLQ', timeoutMs: 20_000, intervalMs: 250 });
  t.is(dlq.length, 1);
  t.is(dlq[0]?.headers['x-dlq-reason'], 'poison');
  t.regex(dlq[0]?.headers['x-dlq-detail'] ?? '', /crashed its actor 3 times/);
  t.is(PriceTick.decode(dlq[0]?.value ?? Buffer.alloc(0)).tsMs, poisonTs);
  await assertStoredFeaturesMatch(t, env, 'WTI', survivors);
  t.true((await cluster.metric('carbon_actor_restarts_total', { level: 'commodity' })) >= 2);
});

test('a restart storm escalates to the partition supervisor instead of looping, and the stream still completes exactly', async (t) => {
  const env = await testEnvironment(t, 2);
  const cluster = await startCluster(t, env);
  const publisher = await tickPublisher(t, env);
  const ticks = seriesTicks('BRENT', 'brent-daily.csv');
  await streamTicks(publisher, ticks.slice(0, 100), 100, 0);
  await waitForRows(env, 100);
  // commodityActorPolicy allows 5 restarts in 10 s: the 6th crash must escalate.
  for (let i = 0; i < 8; i++) await cluster.chaos('commodity=BRENT');
  await eventually(async () => (await cluster.metric('carbon_escalations_total', { level: 'commodity' })) >= 1, {
    what: 'an escalation from the commodity level', timeoutMs: 20_000, intervalMs: 100,
  });
  t.true((await cluster.metric('carbon_actor_restarts_total', { level: 'partition' })) >= 1, 'the partition supervisor restarted the actor');
  await streamTicks(publisher, ticks.slice(100), 2_000, 0);
  await waitForRows(env, ticks.length);
  await assertStoredFeaturesMatch(t, env, 'BRENT', readDailyPrices('brent-daily.csv'));
});
