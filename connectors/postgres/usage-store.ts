/**
 * Usage in Postgres: the workers' hourly sums (written as totals, so that writing again changes nothing; see
 * migrations/006_usage.sql) and the rollups that `carbon usage` reads, summed over workers.
 */
import type { CommodityUsageRow, TenantUsageRow, UsageSnapshot } from '../../platform/usage-meter.ts';
import type { SqlQuery, SqlStore } from './sql-store.ts';

/** Rows per INSERT: far below Postgres's 65,535 parameters. */
const ROWS_PER_STATEMENT = 500;

async function upsert(tx: SqlQuery, table: string, columns: readonly string[], key: readonly string[], rows: readonly unknown[][]): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
    const params: unknown[] = [];
    const values = chunk.map((r) => `(${r.map((v) => `$${params.push(v)}`).join(', ')})`);
    const updates = columns.filter((c) => !key.includes(c)).map((c) => `${c} = excluded.${c}`);
    await tx.query(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values.join(', ')} ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${updates.join(', ')}, written_at = now()`,
      params,
    );
  }
}

/** Writes a worker's sums as they are now (idempotent: the same sums written twice are the same rows). */
export async function writeUsage(sql: SqlStore, worker: string, usage: UsageSnapshot): Promise<void> {
  if (usage.tenants.length === 0 && usage.commodities.length === 0) return;
  await sql.transaction(async (tx) => {
    await upsert(tx, 'usage_tenant_hourly', ['hour', 'tenant', 'method', 'code', 'worker', 'calls', 'stream_messages', 'bytes_out', 'cpu_us'], ['hour', 'tenant', 'method', 'code', 'worker'],
      usage.tenants.map((r: TenantUsageRow) => [new Date(r.hourMs), r.tenant, r.method, r.code, worker, r.calls, r.streamMessages, r.bytesOut, Math.round(r.cpuUs)]));
    await upsert(tx, 'usage_commodity_hourly', ['hour', 'commodity', 'worker', 'ticks', 'actor_cpu_us', 'rows_stored', 'bytes_stored', 'training_cpu_us'], ['hour', 'commodity', 'worker'],
      usage.commodities.map((r: CommodityUsageRow) => [new Date(r.hourMs), r.commodity, worker, r.ticks, Math.round(r.actorCpuUs), r.rowsStored, r.bytesStored, Math.round(r.trainingCpuUs)]));
  });
}

export interface UsageWindow {
  /** UTC epoch ms; whole hours are counted: an hour belongs to the window when it starts inside it. */
  readonly fromMs: number;
  readonly toMs: number;
  readonly tenant?: string;
}

export interface TenantUsageTotal {
  readonly tenant: string;
  readonly method: string;
  readonly code: string;
  readonly calls: number;
  readonly streamMessages: number;
  readonly bytesOut: number;
  readonly cpuSeconds: number;
}

export interface CommodityUsageTotal {
  readonly commodity: string;
  readonly ticks: number;
  readonly actorCpuSeconds: number;
  readonly rowsStored: number;
  readonly bytesStored: number;
  readonly trainingCpuSeconds: number;
  /** Bytes written in each hour up to the window's end (all history: what is stored is what was ever written). */
  readonly bytesByHour: readonly { readonly hourMs: number; readonly bytes: number }[];
}

export async function tenantUsage(sql: SqlQuery, w: UsageWindow): Promise<TenantUsageTotal[]> {
  const { rows } = await sql.query<{ tenant: string; method: string; code: string; calls: number; stream_messages: number; bytes_out: number; cpu_us: number }>(
    `SELECT tenant, method, code, SUM(calls)::bigint AS calls, SUM(stream_messages)::bigint AS stream_messages, SUM(bytes_out)::bigint AS bytes_out, SUM(cpu_us)::bigint AS cpu_us
       FROM usage_tenant_hourly WHERE hour >= $1 AND hour < $2 AND ($3::text IS NULL OR tenant = $3)
      GROUP BY tenant, method, code ORDER BY tenant, method, code`,
    [new Date(w.fromMs), new Date(w.toMs), w.tenant ?? null],
  );
  return rows.map((r) => ({ tenant: r.tenant, method: r.method, code: r.code, calls: Number(r.calls), streamMessages: Number(r.stream_messages), bytesOut: Number(r.bytes_out), cpuSeconds: Number(r.cpu_us) / 1e6 }));
}

export async function commodityUsage(sql: SqlQuery, w: UsageWindow): Promise<CommodityUsageTotal[]> {
  const { rows } = await sql.query<{ commodity: string; hour: Date; ticks: number; actor_cpu_us: number; rows_stored: number; bytes_stored: number; training_cpu_us: number }>(
    `SELECT commodity, hour, SUM(ticks)::bigint AS ticks, SUM(actor_cpu_us)::bigint AS actor_cpu_us, SUM(rows_stored)::bigint AS rows_stored,
            SUM(bytes_stored)::bigint AS bytes_stored, SUM(training_cpu_us)::bigint AS training_cpu_us
       FROM usage_commodity_hourly WHERE hour < $1 GROUP BY commodity, hour ORDER BY commodity, hour`,
    [new Date(w.toMs)],
  );
  const byCommodity = new Map<string, { ticks: number; actorCpuUs: number; rowsStored: number; bytesStored: number; trainingCpuUs: number; bytesByHour: { hourMs: number; bytes: number }[] }>();
  for (const r of rows) {
    let c = byCommodity.get(r.commodity);
    if (c === undefined) byCommodity.set(r.commodity, (c = { ticks: 0, actorCpuUs: 0, rowsStored: 0, bytesStored: 0, trainingCpuUs: 0, bytesByHour: [] }));
    const hourMs = r.hour.getTime();
    c.bytesByHour.push({ hourMs, bytes: Number(r.bytes_stored) });
    if (hourMs < w.fromMs) continue;
    c.ticks += Number(r.ticks);
    c.actorCpuUs += Number(r.actor_cpu_us);
    c.rowsStored += Number(r.rows_stored);
    c.bytesStored += Number(r.bytes_stored);
    c.trainingCpuUs += Number(r.training_cpu_us);
  }
  return [...byCommodity].map(([commodity, c]) => ({
    commodity,
    ticks: c.ticks,
    actorCpuSeconds: c.actorCpuUs / 1e6,
    rowsStored: c.rowsStored,
    bytesStored: c.bytesStored,
    trainingCpuSeconds: c.trainingCpuUs / 1e6,
    bytesByHour: c.bytesByHour,
  }));
}
