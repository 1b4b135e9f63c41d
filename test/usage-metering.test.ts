/**
 * Usage metering and cluster quotas on a real `carbon start` cluster (two worker processes, Kafka, Postgres,
 * Redis): three tenants, each calling at three times its quota over several connections (so over both workers). The
 * calls metered for each tenant, in Prometheus and in the hourly rollups that survive the workers, equal the
 * client's count exactly, by status; each tenant's admitted rate is its quota within 10 %; `carbon usage` reports
 * the same numbers, priced.
 */
import test from 'ava';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { tenantAdmin } from '../gateway/tenant-store.ts';
import { postgresStore } from '../connectors/postgres/sql-store.ts';
import { migrate } from '../connectors/postgres/migrate.ts';
import { sha256Hex } from '../gateway/tenants.ts';
import { PredictionServiceClient } from '../proto/gen/carbon/v1/prediction_service.ts';
import { runCarbon } from './carbon-cli.ts';
import { startCluster, testEnvironment } from './cluster-harness.ts';

interface TenantLoad {
  readonly name: string;
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly token: string;
  calls: number;
  ok: number;
  limited: number;
  other: string[];
  /** When the first and the last admitted call came back (client clock, ms). */
  firstOkMs: number;
  lastOkMs: number;
}

const SECONDS = 8;
/** Each tenant calls at this multiple of its quota, so that it stays above it even when the machine is busy. */
const OVER_QUOTA = 3;
const CONNECTIONS = 4;

function call(client: PredictionServiceClient, token: string): Promise<ServiceError | null> {
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) => client.listCommodities({}, md, { deadline: Date.now() + 30_000 }, (err) => resolve(err)));
}

/** Calls at `perSecond` for SECONDS over CONNECTIONS connections, counting what came back. */
async function drive(address: string, load: TenantLoad, perSecond: number): Promise<void> {
  const clients = Array.from({ length: CONNECTIONS }, () => new PredictionServiceClient(address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
  const pending: Promise<void>[] = [];
  const started = Date.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.floor(((Date.now() - started) / 1_000) * perSecond);
      while (sent < due) {
        const client = clients[sent % clients.length] as PredictionServiceClient;
        sent += 1;
        load.calls += 1;
        pending.push(call(client, load.token).then((err) => {
          if (err === null) {
            load.ok += 1;
            load.lastOkMs = Date.now();
            if (load.firstOkMs === 0) load.firstOkMs = load.lastOkMs;
          }
          else if (err.code === status.RESOURCE_EXHAUSTED) load.limited += 1;
          else load.other.push(`${err.code} ${err.details}`);
        }));
      }
      if (Date.now() - started >= SECONDS * 1_000) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  await Promise.all(pending);
  for (const c of clients) c.close();
}

test('three tenants at three times their quotas through both workers: metered exactly, admitted at their quotas within 10 %', async (t) => {
  const env = await testEnvironment(t, 4);
  const sql = postgresStore(env.databaseUrl, 2);
  t.teardown(() => sql.close());
  await migrate(sql);
  const loads: TenantLoad[] = [
    { name: 'small', ratePerSecond: 8, burst: 16, token: 'token-small-0123456789', calls: 0, ok: 0, limited: 0, other: [], firstOkMs: 0, lastOkMs: 0 },
    { name: 'medium', ratePerSecond: 16, burst: 32, token: 'token-medium-0123456789', calls: 0, ok: 0, limited: 0, other: [], firstOkMs: 0, lastOkMs: 0 },
    { name: 'large', ratePerSecond: 32, burst: 64, token: 'token-large-0123456789', calls: 0, ok: 0, limited: 0, other: [], firstOkMs: 0, lastOkMs: 0 },
  ];
  const admin = tenantAdmin(sql);
  for (const l of loads) {
    await admin.add({ name: l.name, commodities: null, ratePerSecond: l.ratePerSecond, burst: l.burst, tokenSha256: sha256Hex(l.token) }, { actor: 'test', reason: 'usage test' });
  }
  const cluster = await startCluster(t, env, { CARBON_USAGE_FLUSH_INTERVAL: '1s' });
  const fromHour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);

  // Bursts of two seconds of their rates: a client that the busy machine stalls for a moment loses no quota to
  // the bucket's cap, so what is measured is the cluster's limit, not the client's pauses.
  // The quota is measured over the span of the admitted answers, as they come back: on a busy machine calls reach
  // the workers later than they are sent, and the span they are admitted in is what the bucket refills over.
  await Promise.all(loads.map((l) => drive(cluster.grpcAddress, l, l.ratePerSecond * OVER_QUOTA)));
  const spanS = (l: TenantLoad) => (l.lastOkMs - l.firstOkMs) / 1_000;
  t.log(loads.map((l) => `${l.name}: ${l.calls} calls, ${l.ok} admitted over ${spanS(l).toFixed(1)} s (${((l.ok - l.burst) / spanS(l)).toFixed(1)}/s beyond the burst, quota ${l.ratePerSecond}/s), ${l.limited} limited`).join('; '));

  for (const l of loads) {
    t.deepEqual(l.other, [], `${l.name}: every call answered OK or RESOURCE_EXHAUSTED`);
    const allowed = l.ratePerSecond * spanS(l) + l.burst;
    t.true(Math.abs(l.ok - allowed) <= allowed * 0.1, `${l.name}: ${l.ok} admitted, ${allowed.toFixed(0)} allowed`);
    t.is(await cluster.metric('carbon_tenant_calls_total', { tenant: l.name }), l.calls, `${l.name}: calls in Prometheus`);
    t.is(await cluster.metric('carbon_tenant_calls_total', { tenant: l.name, code: 'OK' }), l.ok);
    t.is(await cluster.metric('carbon_tenant_calls_total', { tenant: l.name, code: 'RESOURCE_EXHAUSTED' }), l.limited);
  }

  // The workers write their sums when they stop: the rollups then hold every call, whichever worker took it.
  t.is(await cluster.stop(), 0);
  const { rows } = await sql.query<{ tenant: string; code: string; calls: string; workers: string }>(
    'SELECT tenant, code, SUM(calls) AS calls, COUNT(DISTINCT worker) AS workers FROM usage_tenant_hourly GROUP BY tenant, code ORDER BY tenant, code',
  );
  for (const l of loads) {
    const of = (code: string) => Number(rows.find((r) => r.tenant === l.name && r.code === code)?.calls ?? 0);
    t.is(of('OK'), l.ok, `${l.name}: OK calls in the rollup`);
    t.is(of('RESOURCE_EXHAUSTED'), l.limited, `${l.name}: limited calls in the rollup`);
  }
  const { rows: workers } = await sql.query<{ n: string }>('SELECT COUNT(DISTINCT worker) AS n FROM usage_tenant_hourly');
  t.is(Number(workers[0]?.n), 2, 'the calls went through both workers (each connection lands on one)');

  const toHour = new Date(fromHour.getTime() + 2 * 3_600_000);
  const report = await runCarbon(['usage', '--from', fromHour.toISOString(), '--to', toHour.toISOString(), '--format', 'json'], { DATABASE_URL: env.databaseUrl, CARBON_PRICE_PER_1000_CALLS: '2' });
  t.is(report.code, 0, report.stderr);
  const json = JSON.parse(report.stdout) as { tenants: { tenant: string; calls: number; costDollars: number; cpuSeconds: number }[] };
  for (const l of loads) {
    const mine = json.tenants.filter((r) => r.tenant === l.name);
    t.is(mine.reduce((s, r) => s + r.calls, 0), l.calls, `${l.name}: calls in carbon usage`);
    t.true(mine.reduce((s, r) => s + r.cpuSeconds, 0) > 0, `${l.name}: CPU time metered`);
    t.true(mine.reduce((s, r) => s + r.costDollars, 0) >= (l.calls / 1_000) * 2, `${l.name}: priced at $2 per 1,000 calls at least`);
  }
  const csv = await runCarbon(['usage', '--from', fromHour.toISOString(), '--to', toHour.toISOString(), '--tenant', 'small', '--format', 'csv'], { DATABASE_URL: env.databaseUrl });
  t.is(csv.code, 0, csv.stderr);
  const lines = csv.stdout.trim().split('\n');
  t.regex(lines[0] ?? '', /^kind,name,method,code,calls,/);
  t.true(lines.slice(1).every((line) => line.startsWith('tenant,small,ListCommodities,')), csv.stdout);
});
