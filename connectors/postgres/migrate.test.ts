import test from 'ava';
import { freshDatabase } from '../../test/services.ts';
import { loadMigrations, migrate, splitStatements } from './migrate.ts';
import { pgliteStore, postgresStore } from './sql-store.ts';

test('migrations apply once on a real Postgres, and two processes starting at once do not break each other', async (t) => {
  const url = await freshDatabase(t);
  const a = postgresStore(url);
  const b = postgresStore(url);
  t.teardown(() => Promise.all([a.close(), b.close()]).then(() => undefined));
  const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
  const all = loadMigrations().map((m) => m.version);
  t.deepEqual([...ra, ...rb].sort(), all, 'each migration applied by exactly one of the two');
  t.deepEqual(await migrate(a), [], 'a third start applies nothing');
  const { rows } = await a.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name");
  t.deepEqual(rows.map((r) => r.table_name),
    ['audit_log', 'challenger_scores', 'features', 'model_service', 'models', 'predictions', 'schema_migrations', 'tenant_tokens', 'tenants', 'ticks', 'usage_commodity_hourly', 'usage_tenant_hourly']);
});

test('the same migrations run on the embedded PGlite store, and bigint comes back as a number', async (t) => {
  const store = await pgliteStore(undefined);
  t.teardown(() => store.close());
  t.deepEqual(await migrate(store), loadMigrations().map((m) => m.version));
  await store.query('INSERT INTO ticks (commodity, ts_ms, price) VALUES ($1, $2, $3)', ['WTI', 1_587_340_800_000, -36.98]);
  const { rows } = await store.query<{ ts_ms: number; price: number }>('SELECT ts_ms, price FROM ticks');
  t.deepEqual(rows, [{ ts_ms: 1_587_340_800_000, price: -36.98 }]);
});

test('statements are split at line-ending semicolons and comments are dropped', (t) => {
  t.deepEqual(splitStatements('-- c\nCREATE TABLE a (x int);\nCREATE TABLE b (y int) ;\n'), ['CREATE TABLE a (x int)', 'CREATE TABLE b (y int)']);
});
