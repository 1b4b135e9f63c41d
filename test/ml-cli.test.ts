/**
 * `carbon train`, `carbon models` and `carbon backtest` as an operator runs them: real Postgres, real Kafka,
 * the promotion announced on model-updates as a ModelUpdate protobuf keyed by commodity.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { storeSeriesWithFeatures } from '../actors/training/series-store.ts';
import { ar1PriceSeries } from '../actors/training/synthetic-series.ts';
import { createKafka } from '../connectors/kafka/client.ts';
import { migrate } from '../connectors/postgres/migrate.ts';
import { postgresStore } from '../connectors/postgres/sql-store.ts';
import { ModelUpdate, ModelUpdateAction } from '../proto/gen/carbon/v1/model_update.ts';
import { eventually } from './eventually.ts';
import { freshDatabase, freshTopics, KAFKA_BROKERS, uniqueName } from './services.ts';

const bin = new URL('../cli/bin.js', import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function carbon(args: readonly string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, CARBON_LOG_LEVEL: 'warn', ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

const small = ['--trees', '15', '--depth', '5', '--threads', '0'];

test('train promotes and announces, rejects with reasons; models and backtest show and manage the result', async (t) => {
  const databaseUrl = await freshDatabase(t);
  const sql = postgresStore(databaseUrl, 2);
  t.teardown(() => sql.close());
  await migrate(sql);
  await storeSeriesWithFeatures(sql, 'AR', ar1PriceSeries({ length: 1200, phi: 0.5, seed: 31 }));
  await storeSeriesWithFeatures(sql, 'RW', ar1PriceSeries({ length: 1200, phi: 0, seed: 32 }));
  const { prefix, topics } = await freshTopics(t, 1);
  const env = { DATABASE_URL: databaseUrl, KAFKA_BROKERS: KAFKA_BROKERS.join(','), CARBON_TOPIC_PREFIX: prefix };

  const trained = await carbon(['train', '--commodity', 'AR', ...small], env);
  t.is(trained.code, 0, trained.stderr);
  t.regex(trained.stdout, /^AR: v1 PROMOTED, in service; announced on model-updates/);
  t.regex(trained.stdout, /pass {2}MASE [\d.]+ < 1/);

  const consumer = createKafka(KAFKA_BROKERS, 'carbon-test').consumer({ groupId: uniqueName('ml-cli') });
  t.teardown(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topic: topics.modelUpdates, fromBeginning: true });
  const seen: { key: string; update: ModelUpdate; contentType: string }[] = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push({ key: message.key!.toString(), update: ModelUpdate.decode(message.value!), contentType: String(message.headers?.['content-type']) });
    },
  });
  await eventually(() => seen.length >= 1, { what: 'the promotion on model-updates', timeoutMs: 30_000, intervalMs: 50 });
  t.is(seen[0]!.key, 'AR');
  t.is(seen[0]!.contentType, 'application/x-protobuf');
  t.like(seen[0]!.update, { commodity: 'AR', modelVersion: 1, action: ModelUpdateAction.MODEL_UPDATE_ACTION_PROMOTED });

  const rejected = await carbon(['train', '--commodity', 'RW', ...small], env);
  t.is(rejected.code, 0, 'a rejection is a normal outcome');
  t.regex(rejected.stdout, /^RW: v2 REJECTED, saved but not in service/);
  t.regex(rejected.stdout, /FAIL {2}/);

  const list = await carbon(['models', 'list', '--json'], env);
  t.deepEqual(list.stdout.trim().split('\n').map((l) => JSON.parse(l) as { version: number; status: string }).map((m) => [m.version, m.status]), [
    [2, 'rejected'],
    [1, 'active'],
  ]);
  const show = await carbon(['models', 'show', 'v2'], env);
  t.regex(show.stdout, /v2 {2}RW {2}REJECTED/);
  t.regex(show.stdout, /never in service/);

  const promoted = await carbon(['models', 'promote', '2', '--reason', 'test override', '--by', 'tester'], env);
  t.is(promoted.code, 0, promoted.stderr);
  t.regex(promoted.stdout, /RW: v2 is in service \(promoted; was none\)/);
  const noPrevious = await carbon(['models', 'rollback', 'RW', '--reason', 'undo'], env);
  t.is(noPrevious.code, 3);
  t.regex(noPrevious.stderr, /RW: no earlier version served before v2/);
  await eventually(() => seen.length >= 2, { what: 'the manual promotion on model-updates', timeoutMs: 30_000, intervalMs: 50 });
  t.like(seen[1]!.update, { commodity: 'RW', modelVersion: 2 });
  const audit = await sql.query<{ actor: string; action: string }>(`SELECT actor, action FROM audit_log WHERE subject = 'RW' ORDER BY id`);
  t.deepEqual(audit.rows.map((r) => [r.actor, r.action]), [['trainer', 'model.reject'], ['tester', 'model.promote']]);

  const dir = await mkdtemp(join(tmpdir(), 'carbon-backtest-'));
  const report = join(dir, 'ar.html');
  const backtest = await carbon(['backtest', '--commodity', 'AR', '--report', report, ...small], env);
  t.is(backtest.code, 0, backtest.stderr);
  t.regex(backtest.stdout, /walk-forward: 5 folds/);
  t.regex(await readFile(report, 'utf8'), /<h1>AR: walk-forward backtest<\/h1>/);
});

test('without DATABASE_URL the commands stop with a configuration error naming it', async (t) => {
  const r = await carbon(['train', '--commodity', 'WTI'], { DATABASE_URL: '' });
  t.is(r.code, 2);
  t.regex(r.stderr, /DATABASE_URL: expected a postgres:\/\/ URL/);
  const both = await carbon(['train', '--commodity', 'WTI', '--all'], { DATABASE_URL: '' });
  t.is(both.code, 2);
  t.regex(both.stderr, /either --commodity <id> or --all/);
});
