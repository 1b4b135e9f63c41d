/**
 * `carbon usage --from --to [--tenant] [--format table|csv|json]`: what each tenant and each commodity used in a
 * window of whole UTC hours, from the hourly rollups the workers write (usage_tenant_hourly,
 * usage_commodity_hourly), and what it costs at the price sheet (CARBON_PRICE_*). Tenants: calls by method and
 * status, streamed messages, bytes sent, CPU time of their calls. Commodities: ticks, actor and training CPU time,
 * rows and bytes stored, and the storage held over the window in gigabyte-months.
 * Exit status: 0 done, 2 bad option or configuration.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { commodityUsage, tenantUsage, type CommodityUsageTotal, type TenantUsageTotal } from '../../connectors/postgres/usage-store.ts';
import { loadConfig } from '../../platform/config.ts';
import { commodityCost, storageGbMonths, tenantCost, type PriceSheet } from '../../platform/price-sheet.ts';
import { openPlatformDatabase } from './database.ts';
import { fail } from './train.ts';

/** `2026-12-01`, `2026-12-01T06:00` or a full ISO time; UTC unless it says otherwise. */
export function parseTime(value: string): number {
  const withZone = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(value) ? `${value.length === 10 ? `${value}T00:00` : value}Z` : value;
  const ms = Date.parse(withZone);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('expected a UTC date or time such as 2026-12-01 or 2026-12-01T06:00');
  return ms;
}

export interface UsageReport {
  readonly fromMs: number;
  readonly toMs: number;
  readonly prices: PriceSheet;
  readonly tenants: readonly (TenantUsageTotal & { readonly costDollars: number })[];
  readonly commodities: readonly (Omit<CommodityUsageTotal, 'bytesByHour'> & { readonly storageGbMonths: number; readonly costDollars: number })[];
}

/** The report's numbers, priced. */
export function priceUsage(fromMs: number, toMs: number, prices: PriceSheet, tenants: readonly TenantUsageTotal[], commodities: readonly CommodityUsageTotal[]): UsageReport {
  return {
    fromMs,
    toMs,
    prices,
    tenants: tenants.map((t) => ({ ...t, costDollars: tenantCost(prices, t.calls, t.cpuSeconds) })),
    commodities: commodities.map(({ bytesByHour, ...c }) => {
      const gbMonths = storageGbMonths(bytesByHour, fromMs, toMs);
      return { ...c, storageGbMonths: gbMonths, costDollars: commodityCost(prices, c.actorCpuSeconds + c.trainingCpuSeconds, gbMonths) };
    }),
  };
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const dollars = (n: number) => n.toFixed(6);

function table(header: readonly string[], rows: readonly (readonly string[])[], leftColumns: number): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  return all.map((r) => r.map((cell, c) => (c < leftColumns ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ').trimEnd()).join('\n');
}

function asTable(r: UsageReport, withCommodities: boolean): string {
  const out = [`usage from ${iso(r.fromMs)} to ${iso(r.toMs)} (whole UTC hours); prices: $${r.prices.per1000Calls} per 1,000 calls, $${r.prices.perCpuSecond} per CPU-second, $${r.prices.perGbMonth} per GB-month`, ''];
  const tenantRows = r.tenants.map((t) => [t.tenant, t.method, t.code, String(t.calls), String(t.streamMessages), String(t.bytesOut), t.cpuSeconds.toFixed(3), dollars(t.costDollars)]);
  const totals = new Map<string, { calls: number; cost: number }>();
  for (const t of r.tenants) {
    const sum = totals.get(t.tenant) ?? { calls: 0, cost: 0 };
    totals.set(t.tenant, { calls: sum.calls + t.calls, cost: sum.cost + t.costDollars });
  }
  for (const [tenant, sum] of totals) tenantRows.push([tenant, '(all)', '', String(sum.calls), '', '', '', dollars(sum.cost)]);
  out.push(r.tenants.length === 0 ? 'tenants: no usage in the window' : table(['tenant', 'method', 'code', 'calls', 'stream msgs', 'bytes out', 'cpu s', 'cost $'], tenantRows, 3));
  if (withCommodities) {
    out.push('');
    const commodityRows = r.commodities.map((c) => [c.commodity, String(c.ticks), c.actorCpuSeconds.toFixed(3), c.trainingCpuSeconds.toFixed(3), String(c.rowsStored), String(c.bytesStored), c.storageGbMonths.toExponential(3), dollars(c.costDollars)]);
    out.push(r.commodities.length === 0 ? 'commodities: no usage in the window' : table(['commodity', 'ticks', 'actor cpu s', 'training cpu s', 'rows', 'bytes', 'GB-month', 'cost $'], commodityRows, 1));
  }
  return `${out.join('\n')}\n`;
}

const csvColumns = ['kind', 'name', 'method', 'code', 'calls', 'stream_messages', 'bytes_out', 'cpu_seconds', 'ticks', 'actor_cpu_seconds', 'training_cpu_seconds', 'rows_stored', 'bytes_stored', 'storage_gb_months', 'cost_dollars'] as const;

function asCsv(r: UsageReport, withCommodities: boolean): string {
  const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines = [csvColumns.join(',')];
  for (const t of r.tenants) lines.push(['tenant', t.tenant, t.method, t.code, t.calls, t.streamMessages, t.bytesOut, t.cpuSeconds, '', '', '', '', '', '', t.costDollars].map((v) => quote(String(v))).join(','));
  if (withCommodities) {
    for (const c of r.commodities) lines.push(['commodity', c.commodity, '', '', '', '', '', '', c.ticks, c.actorCpuSeconds, c.trainingCpuSeconds, c.rowsStored, c.bytesStored, c.storageGbMonths, c.costDollars].map((v) => quote(String(v))).join(','));
  }
  return `${lines.join('\n')}\n`;
}

export function registerUsageCommand(program: Command): void {
  program
    .command('usage')
    .description('usage and cost per tenant and per commodity over a window (DATABASE_URL, or the embedded store)')
    .requiredOption('--from <time>', 'start, UTC (2026-12-01 or 2026-12-01T06:00); hours starting at or after it count', parseTime)
    .requiredOption('--to <time>', 'end, UTC, exclusive', parseTime)
    .option('--tenant <name>', 'only this tenant (and no commodities: they are not any tenant\'s)')
    .addOption(new Option('--format <format>', 'output').choices(['table', 'csv', 'json']).default('table'))
    .addHelpText('after', `
Workers write their hourly sums every CARBON_USAGE_FLUSH_INTERVAL (10 s) and when they stop. Costs use the price
sheet of this command's environment: CARBON_PRICE_PER_1000_CALLS, CARBON_PRICE_PER_CPU_SECOND, CARBON_PRICE_PER_GB_MONTH.

Examples:
  carbon usage --from 2026-11-01 --to 2026-12-01
  carbon usage --from 2026-12-01 --to 2026-12-02 --tenant acme --format csv > acme.csv`)
    .action(async (opts: { from: number; to: number; tenant?: string; format: 'table' | 'csv' | 'json' }) => {
      if (!(opts.from < opts.to)) throw fail(2, 'carbon usage: --from must be before --to', undefined);
      const config = loadConfig();
      const sql = await openPlatformDatabase(config);
      let report: UsageReport;
      try {
        const window = { fromMs: opts.from, toMs: opts.to, ...(opts.tenant === undefined ? {} : { tenant: opts.tenant }) };
        const [tenants, commodities] = await Promise.all([tenantUsage(sql, window), opts.tenant === undefined ? commodityUsage(sql, window) : Promise.resolve([])]);
        report = priceUsage(opts.from, opts.to, config.usage.prices, tenants, commodities);
      } finally {
        await sql.close();
      }
      const withCommodities = opts.tenant === undefined;
      if (opts.format === 'json') process.stdout.write(`${JSON.stringify(withCommodities ? report : { ...report, commodities: undefined })}\n`);
      else process.stdout.write(opts.format === 'csv' ? asCsv(report, withCommodities) : asTable(report, withCommodities));
    });
}
