/**
 * The hourly usage rollups on the real Postgres: a worker's sums written again change nothing, a restarted worker
 * (a new id) adds its own rows, and the rollups sum over workers.
 */
import test from 'ava';
import { migrate } from '../connectors/postgres/migrate.ts';
import { postgresStore } from '../connectors/postgres/sql-store.ts';
import { commodityUsage, tenantUsage, writeUsage } from '../connectors/postgres/usage-store.ts';
import { UsageMeter } from '../platform/usage-meter.ts';
import { freshDatabase } from './services.ts';

const H = 3_600_000;

test('sums written twice are the same rows; a restarted worker adds its own; rollups sum over workers', async (t) => {
  const sql = postgresStore(await freshDatabase(t), 2);
  t.teardown(() => sql.close());
  await migrate(sql);
  let now = 100 * H + 10;
  const before = new UsageMeter(() => now);
  before.call('acme', 'Predict', 'OK', 300, 50);
  before.call('acme', 'Predict', 'RESOURCE_EXHAUSTED', 0, 5);
  before.commodity('WTI', { ticks: 3, rowsStored: 9, bytesStored: 900, actorCpuUs: 30 });
  await writeUsage(sql, 'w1', before.snapshot());
  // The same sums again (a retry after an error whose write had in fact committed): nothing doubles.
  await writeUsage(sql, 'w1', before.snapshot());
  before.call('acme', 'Predict', 'OK', 100, 10);
  await writeUsage(sql, 'w1', before.snapshot());
  // w1 restarts as w2: its new meter starts from zero and writes rows of its own.
  now = 101 * H + 5;
  const after = new UsageMeter(() => now);
  after.call('acme', 'Predict', 'OK', 100, 20);
  after.commodity('WTI', { ticks: 1, rowsStored: 3, bytesStored: 300 });
  await writeUsage(sql, 'w2', after.snapshot());

  const window = { fromMs: 100 * H, toMs: 102 * H };
  const tenants = await tenantUsage(sql, window);
  t.deepEqual(tenants.map((r) => [r.tenant, r.method, r.code, r.calls, r.bytesOut]), [
    ['acme', 'Predict', 'OK', 3, 500],
    ['acme', 'Predict', 'RESOURCE_EXHAUSTED', 1, 0],
  ]);
  t.is(tenants[0]?.cpuSeconds, 80e-6);
  const commodities = await commodityUsage(sql, window);
  t.like(commodities[0], { commodity: 'WTI', ticks: 4, rowsStored: 12, bytesStored: 1200 });
  t.deepEqual(commodities[0]?.bytesByHour, [{ hourMs: 100 * H, bytes: 900 }, { hourMs: 101 * H, bytes: 300 }]);
  t.deepEqual(await tenantUsage(sql, { fromMs: 101 * H, toMs: 102 * H, tenant: 'acme' }).then((r) => r.map((x) => x.calls)), [1]);
  t.deepEqual(await tenantUsage(sql, { ...window, tenant: 'other' }), []);

  // The analysts' views add the workers up the same way.
  const { rows: byHour } = await sql.query<{ calls: string; cpu_s: number }>(
    "SELECT sum(calls) AS calls, sum(cpu_s) AS cpu_s FROM analytics.tenant_usage WHERE tenant = 'acme' AND code = 'OK'");
  t.is(Number(byHour[0]?.calls), 3);
  t.true(Math.abs((byHour[0]?.cpu_s ?? 0) - 80e-6) < 1e-12);
  const { rows: stored } = await sql.query<{ ticks: string; rows_stored: string }>(
    "SELECT sum(ticks) AS ticks, sum(rows_stored) AS rows_stored FROM analytics.commodity_usage WHERE commodity = 'WTI'");
  t.deepEqual(stored.map((r) => [Number(r.ticks), Number(r.rows_stored)]), [[4, 12]]);
});
