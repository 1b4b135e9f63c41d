/**
 * `carbon train`, `carbon models` and `carbon backtest` as an operator runs them: real Postgres, real Kafka,
 * the promotion announced on model-updates as a ModelUpdate protobuf keyed by commodity.
 */
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
import { runCarbon as carbon } from './carbon-cli.ts';
import { eventually } from './eventually.ts';
import { freshDatabase, freshTopics, KAFKA_BROKERS, uniqueName } from './services.ts';

const small = ['--trees', '15', '--depth', '5', '--threads', '0'];

test('train serves a champion per commodity and announces it; models and backtest show and manage the result', async (t) => {
  const databaseUrl = await freshDatabase(t);
  const sql = postgresStore(databaseUrl, 2);
  t.teardown(() => sql.close());
  await migrate(sql);
  await storeSeriesWithFeatures(sql, 'AR', ar1PriceSeries({ length: 1200, phi: 0.5, seed: 31 }));
  await storeSeriesWithFeatures(sql, 'RW', ar1PriceSeries({ length: 1200, phi: 0, seed: 32 }));
  const { prefix, topics } = await freshTopics(t, 1);
  const env = { DATABASE_URL: databaseUrl, KAFKA_BROKERS: KAFKA_BROKERS.join(','), CARBON_TOPIC_PREFIX: prefix };

  const trained = await carbon(['train', '--commodity', 'AR', '--horizons', '1', ...small], env);
  t.is(trained.code, 0, trained.stderr);
  t.regex(trained.stdout, /commodity\s+horizon\s+in service\s+pinball vs no_change/);
  t.regex(trained.stdout, /\nAR\s+1\s+(forest|pooled_forest) v\d\s+0\.\d+/, 'an AR(1) series is learnable: a forest serves');
  t.regex(trained.stdout, /Announced on model-updates/);

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
  t.like(seen[0]!.update, { commodity: 'AR', horizonTicks: 1, action: ModelUpdateAction.MODEL_UPDATE_ACTION_PROMOTED });

  const walk = await carbon(['train', '--commodity', 'RW', '--horizons', '1', '--details', ...small], env);
  t.is(walk.code, 0, walk.stderr);
  t.regex(walk.stdout, /\nRW\s+1\s+no_change v\d+\s+1\.0000/, 'on a random walk no change serves');
  t.regex(walk.stdout, /forest: not significantly better than no_change/);
  t.regex(walk.stdout, /walk-forward, horizon 1 tick: 5 folds/);

  const list = await carbon(['models', 'list', '--commodity', 'RW', '--json'], env);
  const listed = list.stdout.trim().split('\n').map((l) => JSON.parse(l) as { version: number; status: string; family: string });
  t.deepEqual(listed.map((m) => [m.family, m.status]).sort(), [['drift', 'shadow'], ['forest', 'shadow'], ['no_change', 'active'], ['pooled_forest', 'shadow']]);
  const forest = listed.find((m) => m.family === 'forest')!;
  const show = await carbon(['models', 'show', `v${forest.version}`], env);
  t.regex(show.stdout, new RegExp(`v${forest.version} {2}RW {2}forest {2}SHADOW`));
  t.regex(show.stdout, /never in service/);

  const promoted = await carbon(['models', 'promote', String(forest.version), '--reason', 'test override', '--by', 'tester'], env);
  t.is(promoted.code, 0, promoted.stderr);
  t.regex(promoted.stdout, /RW \(1 tick\(s\)\): v\d+ is in service \(promoted; was v\d+\)/);
  const back = await carbon(['models', 'rollback', 'RW', '--reason', 'undo'], env);
  t.is(back.code, 0, back.stderr);
  const noPrevious = await carbon(['models', 'rollback', 'RW', '--horizon', '5', '--reason', 'undo'], env);
  t.is(noPrevious.code, 3);
  t.regex(noPrevious.stderr, /RW has no model in service for 5 tick\(s\) to roll back/);
  await eventually(() => seen.some((s) => s.update.commodity === 'RW' && s.update.modelVersion === forest.version), { what: 'the manual promotion on model-updates', timeoutMs: 30_000, intervalMs: 50 });
  const audit = await sql.query<{ actor: string; action: string }>(`SELECT actor, action FROM audit_log WHERE subject = 'RW' ORDER BY id`);
  t.deepEqual(audit.rows.map((r) => [r.actor, r.action]), [
    ['trainer', 'model.shadow'], ['trainer', 'model.shadow'], ['trainer', 'model.shadow'], ['trainer', 'model.promote'],
    ['tester', 'model.promote'], ['operator', 'model.rollback'],
  ].map(([actor, action]) => [actor === 'operator' ? (process.env.USER ?? 'operator') : actor, action]));

  const dir = await mkdtemp(join(tmpdir(), 'carbon-backtest-'));
  const report = join(dir, 'ar.html');
  const backtest = await carbon(['backtest', '--commodity', 'AR', '--horizons', '1', '--report', report, ...small], env);
  t.is(backtest.code, 0, backtest.stderr);
  t.regex(backtest.stdout, /walk-forward, horizon 1 tick: 5 folds/);
  t.regex(await readFile(report, 'utf8'), /<h1>AR: walk-forward backtest<\/h1>/);
});

test('without DATABASE_URL the commands use the embedded store, and say what it lacks', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'carbon-embedded-'));
  const embedded = { DATABASE_URL: '', CARBON_DATA_DIR: dataDir };
  const r = await carbon(['train', '--commodity', 'WTI'], embedded);
  t.is(r.code, 1);
  t.regex(r.stdout, /WTI +1 +none .*FAILED: the feature store holds no rows for it/);
  const list = await carbon(['models', 'list'], embedded);
  t.is(list.code, 0, list.stderr);
  t.regex(list.stdout, /\(no models\)/);
  const both = await carbon(['train', '--commodity', 'WTI', '--all'], embedded);
  t.is(both.code, 2);
  t.regex(both.stderr, /either --commodity <id> or --all/);
});

test('a bad variable stops the commands that read the configuration, and only them', async (t) => {
  const bad = { CARBON_HORIZONS: 'abc' };
  const version = await carbon(['--version'], bad);
  t.is(version.code, 0, version.stderr);
  const help = await carbon(['tenants', '--help'], bad);
  t.is(help.code, 0, help.stderr);
  const models = await carbon(['models', 'list'], bad);
  t.is(models.code, 2);
  t.regex(models.stderr, /^carbon: configuration error: CARBON_HORIZONS: /m);
});
