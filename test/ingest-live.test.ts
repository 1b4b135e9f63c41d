/**
 * `carbon ingest synthetic --start now --rate R` is a live feed (issue 17): the help's live example, run as is
 * against the real broker, publishes while it runs (long before a batch of --batch-size could fill), and every
 * tick's time is on the wall clock, never ahead of the moment it is read back.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import test from 'ava';
import { createKafka } from '../connectors/kafka/client.ts';
import { PriceTick } from '../proto/gen/carbon/v1/price_tick.ts';
import { eventually } from './eventually.ts';
import { freshTopics, KAFKA_BROKERS, uniqueName } from './services.ts';

const bin = join(import.meta.dirname, '..', 'cli', 'bin.js');

interface Seen {
  readonly tick: PriceTick;
  /** The record's Kafka timestamp (the producer's: the tick time). */
  readonly timestampMs: number;
  /** Wall clock when the record reached this test. */
  readonly readMs: number;
}

test('the live example publishes as it goes, with tick times on the wall clock and never ahead of it', async (t) => {
  const { prefix, topics } = await freshTopics(t, 3);
  const seen: Seen[] = [];
  const consumer = createKafka(KAFKA_BROKERS, 'carbon-test').consumer({ groupId: uniqueName('live-test'), sessionTimeout: 6_000, heartbeatInterval: 500 });
  t.teardown(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topic: topics.prices, fromBeginning: true });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push({ tick: PriceTick.decode(message.value ?? Buffer.alloc(0)), timestampMs: Number(message.timestamp), readMs: Date.now() });
    },
  });
  await eventually(() => joined, { what: 'the test consumer joined its group', timeoutMs: 60_000, intervalMs: 50 });

  // The help's example, word for word: one hour of ticks at 10 a second, batches of the default 5,000.
  const spawnedMs = Date.now();
  const child = spawn(process.execPath, [bin, 'ingest', 'synthetic', '--start', 'now', '--interval', '1s', '--rate', '10', '--ticks', '36000'], {
    env: { ...process.env, KAFKA_BROKERS: KAFKA_BROKERS.join(','), CARBON_TOPIC_PREFIX: prefix, CARBON_TOPIC_PARTITIONS: '3', CARBON_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let exitCode: number | null | undefined;
  child.on('exit', (code) => {
    exitCode = code;
  });
  t.teardown(() => {
    if (exitCode === undefined) child.kill('SIGKILL');
  });

  await eventually(() => seen.length >= 30 || exitCode !== undefined, { what: '30 ticks read from the live feed', timeoutMs: 110_000, intervalMs: 50 });
  t.is(exitCode, undefined, `the feed ended before publishing 30 ticks: ${stderr}`);
  child.kill('SIGTERM');

  const got = seen.slice();
  t.true(got.length < 5_000, 'ticks arrive before a batch of --batch-size is full');
  const phaseMs = ((got[0]?.tick.tsMs ?? 0) % 1000 + 1000) % 1000;
  const last = new Map<string, number>();
  for (const { tick, timestampMs, readMs } of got) {
    t.is(timestampMs, tick.tsMs, 'the record time is the tick time');
    t.true(tick.tsMs >= spawnedMs, `tick at ${tick.tsMs} is before the feed started at ${spawnedMs}`);
    t.true(tick.tsMs <= readMs, `tick at ${new Date(tick.tsMs).toISOString()} was read at ${new Date(readMs).toISOString()}, before its time`);
    t.is(((tick.tsMs % 1000) + 1000) % 1000, phaseMs, 'every tick is on the 1 s grid of the start');
    const previous = last.get(tick.commodity);
    if (previous !== undefined) t.true(tick.tsMs >= previous + 1000, `${tick.commodity} twice within an interval`);
    last.set(tick.commodity, tick.tsMs);
  }
});
