/**
 * `carbon ingest` as a user runs it: summaries, exit statuses that say what failed, and a real publish.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import test from 'ava';
import { freshTopics, KAFKA_BROKERS } from './services.ts';
import { readTopic } from './ingest-kafka-helpers.ts';

const root = join(import.meta.dirname, '..');
const fixture = join(import.meta.dirname, 'fixtures', 'bad-rows.csv');

function carbon(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, CARBON_LOG_LEVEL: 'error', KAFKAJS_NO_PARTITIONER_WARNING: '1', ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'cli', 'bin.js'), ...args], { cwd: root, env: childEnv, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

test('a dry run validates and counts, needs no Kafka, and exits 0 despite rejections', async (t) => {
  const r = await carbon(['ingest', 'csv', fixture, '--dry-run', '--json'], { KAFKA_BROKERS: undefined });
  t.is(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
  t.like(summary, { dryRun: true, published: 4, rejectedTotal: 11, filtered: 0 });
});

test('--from/--to count the rows outside as filtered', async (t) => {
  const r = await carbon(['ingest', 'csv', join(root, 'data', 'wti-daily.csv'), '--from', '2020-04-01', '--to', '2020-04-30', '--dry-run', '--json']);
  t.is(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
  t.is(summary.published, 21);
  t.is(summary.published + summary.filtered, 9_821);
});

test('exit statuses say what failed: bad option 1, no KAFKA_BROKERS 2, source 3', async (t) => {
  const badOption = await carbon(['ingest', 'csv', fixture, '--commodity', 'W$TI', '--dry-run']);
  t.is(badOption.code, 1);
  t.regex(badOption.stderr, /--commodity/);
  const noBrokers = await carbon(['ingest', 'csv', fixture], { KAFKA_BROKERS: undefined });
  t.is(noBrokers.code, 2);
  t.regex(noBrokers.stderr, /KAFKA_BROKERS is not set/);
  const noFile = await carbon(['ingest', 'csv', join(root, 'no-such-file.csv'), '--dry-run']);
  t.is(noFile.code, 3);
  t.regex(noFile.stderr, /source failed: csv source: cannot read .*no-such-file\.csv/);
});

test('a real run creates the topics and publishes; the summary says so', async (t) => {
  const { prefix, topics } = await freshTopics(t, 3);
  const r = await carbon(['ingest', 'synthetic', '--seed', '3', '--commodities', '4', '--ticks', '2000', '--start', '2024-01-01', '--interval', '1h'], {
    KAFKA_BROKERS: KAFKA_BROKERS.join(','),
    CARBON_TOPIC_PREFIX: prefix,
    CARBON_TOPIC_PARTITIONS: '3',
  });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /published\s+2,000/);
  t.is((await readTopic(topics.prices)).length, 2_000);
});
