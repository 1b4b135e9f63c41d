/**
 * Replays are duplicates, not disorder (issue 17): the same synthetic ingest run twice into a running cluster leaves
 * every table as the first run did and the DLQ empty, every replayed tick counted as a duplicate however old; only
 * a different price for a stored time, or a time older than the window with nothing stored, is dead-lettered.
 */
import test from 'ava';
import { SyntheticSource } from '../actors/ingest/sources/synthetic-source.ts';
import { dlqOf } from '../connectors/kafka/topics.ts';
import { countRows, startCluster, testEnvironment, tickPublisher } from './cluster-harness.ts';
import { eventually } from './eventually.ts';
import { ingestInto, readTopic, type ReadMessage } from './ingest-kafka-helpers.ts';
import { waitForRows } from './pipeline-expectations.ts';

/** 8 commodities x 500 steps: far more than the 50-tick window of each commodity. */
const synthetic = { seed: 11, commodities: 8, ticks: 4_000, startMs: Date.UTC(2015, 0, 1), intervalMs: 86_400_000 };

test('the same ingest twice: every replayed tick a counted duplicate, the tables unchanged, nothing dead-lettered; corrections and unplaceable ticks are', async (t) => {
  const env = await testEnvironment(t, 4);
  const cluster = await startCluster(t, env);
  const first = await ingestInto(env.topics.prices, new SyntheticSource(synthetic));
  t.is(first.published, synthetic.ticks);
  await waitForRows(env, synthetic.ticks);
  const before = await env.db.query<{ commodity: string; ts_ms: string; price: number }>('SELECT commodity, ts_ms, price FROM ticks ORDER BY commodity, ts_ms');

  const second = await ingestInto(env.topics.prices, new SyntheticSource(synthetic));
  t.is(second.published, synthetic.ticks);
  await eventually(async () => (await cluster.metric('carbon_ticks_skipped_total', { reason: 'duplicate' })) >= synthetic.ticks, {
    what: `${synthetic.ticks} replayed ticks counted as duplicates`, timeoutMs: 120_000, intervalMs: 250,
  });
  t.is(await cluster.metric('carbon_ticks_skipped_total', { reason: 'duplicate' }), synthetic.ticks);
  t.deepEqual((await env.db.query('SELECT commodity, ts_ms, price FROM ticks ORDER BY commodity, ts_ms')).rows, before.rows, 'the ticks as the first run stored them');
  t.is(await countRows(env, 'features'), synthetic.ticks);

  // A correction of an old stored price and a tick at an old time never stored: both refused, with their reason.
  const stored = before.rows[10];
  if (stored === undefined) return t.fail('no stored tick');
  const publisher = await tickPublisher(t, env);
  await publisher.publish([
    { commodity: stored.commodity, tsMs: Number(stored.ts_ms), price: stored.price + 1, unit: 'USD', source: 'test:correction' },
    { commodity: stored.commodity, tsMs: Number(stored.ts_ms) + 3_600_000, price: stored.price, unit: 'USD', source: 'test:late' },
  ]);
  await publisher.flush();
  let dlq: ReadMessage[] = [];
  await eventually(async () => (dlq = await readTopic(dlqOf(env.topics.prices))).length >= 2, { what: 'the correction and the late tick dead-lettered', timeoutMs: 60_000, intervalMs: 250 });
  t.deepEqual(dlq.map((m) => m.headers['x-dlq-reason']).sort(), ['conflicting_price', 'out_of_order']);
  t.is(await cluster.metric('carbon_dlq_total', { reason: 'out_of_order' }), 1);
  t.is(await cluster.metric('carbon_dlq_total', { reason: 'conflicting_price' }), 1);
});
