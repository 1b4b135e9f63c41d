/**
 * Usage metering of one process: per tenant (calls by method and status, streamed messages, bytes sent, server
 * CPU time of its calls) and per commodity (ticks, actor CPU time, rows and bytes stored, training CPU time),
 * summed by UTC hour in memory, and exported as Prometheus counters with a `tenant` or `commodity` label (the
 * tenant ones brought up to date when they are read, so that a call costs a few additions and no counter update).
 *
 * The hourly sums are this process's totals since it started, never increments: the usage store writes them as
 * they are (`worker` is part of each row's key), so writing the same sums twice changes nothing and a restarted
 * worker writes rows of its own. Restarts neither lose (a worker writes its sums when it stops) nor double usage.
 * Hours already written and closed are forgotten, so memory holds about one hour of keys.
 */
import { commodityActorCpuSeconds, commodityRowsStored, commodityStoredBytes, commodityTicks, commodityTrainingCpuSeconds, onUsageRead, tenantBytesOut, tenantCalls, tenantCpuSeconds, tenantStreamMessages } from './metrics.ts';

const HOUR_MS = 3_600_000;

export interface TenantUsage {
  calls: number;
  streamMessages: number;
  bytesOut: number;
  cpuUs: number;
}

export interface CommodityUsage {
  ticks: number;
  actorCpuUs: number;
  rowsStored: number;
  bytesStored: number;
  trainingCpuUs: number;
}

export interface TenantUsageRow extends TenantUsage {
  /** Start of the UTC hour, epoch ms. */
  readonly hourMs: number;
  readonly tenant: string;
  readonly method: string;
  /** gRPC status name: OK, RESOURCE_EXHAUSTED, ... */
  readonly code: string;
}

export interface CommodityUsageRow extends CommodityUsage {
  readonly hourMs: number;
  readonly commodity: string;
}

/** What the meter holds: the rows of the hours not yet forgotten. */
export interface UsageSnapshot {
  readonly tenants: readonly TenantUsageRow[];
  readonly commodities: readonly CommodityUsageRow[];
}

export const hourOf = (ms: number) => ms - (ms % HOUR_MS);

const SEP = '\u0000';

interface Counters {
  readonly calls: { inc(n?: number): void };
  readonly stream: { inc(n?: number): void };
  readonly bytes: { inc(n?: number): void };
  readonly cpu: { inc(n?: number): void };
}

/** Totals of one (tenant, method, code) since the process started. */
interface Totals {
  calls: number;
  streamMessages: number;
  bytesOut: number;
  cpuUs: number;
}

/**
 * One (tenant, method, code): the row of the current hour, found without allocating; its totals since the start,
 * and how much of them the Prometheus counters already hold (they are brought up to date when read).
 */
interface Entry {
  row: TenantUsageRow;
  readonly counters: Counters;
  readonly total: Totals;
  readonly exported: Totals;
}

const tenantKey = (r: { hourMs: number; tenant: string; method: string; code: string }) => `${r.hourMs}${SEP}${r.tenant}${SEP}${r.method}${SEP}${r.code}`;
const commodityKey = (r: { hourMs: number; commodity: string }) => `${r.hourMs}${SEP}${r.commodity}`;

export class UsageMeter {
  private readonly tenantRows = new Map<string, TenantUsageRow>();
  private readonly commodityRows = new Map<string, CommodityUsageRow>();
  private readonly entries = new Map<string, Map<string, Map<string, Entry>>>();

  constructor(private readonly nowMs: () => number = Date.now) {}

  /** One call of `tenant`, finished with `code`, having sent `bytesOut` and taken `cpuUs` of this process. */
  call(tenant: string, method: string, code: string, bytesOut: number, cpuUs: number): void {
    const { row, total } = this.entry(tenant, method, code);
    row.calls += 1;
    row.bytesOut += bytesOut;
    row.cpuUs += cpuUs;
    total.calls += 1;
    total.bytesOut += bytesOut;
    total.cpuUs += cpuUs;
  }

  /** One message sent on a stream of `tenant` (the call itself is counted when it ends). */
  streamMessage(tenant: string, method: string, bytes: number): void {
    const { row, total } = this.entry(tenant, method, 'OK');
    row.streamMessages += 1;
    row.bytesOut += bytes;
    total.streamMessages += 1;
    total.bytesOut += bytes;
  }

  /** Work done for `commodity`. */
  commodity(commodity: string, usage: Partial<CommodityUsage>): void {
    const hourMs = hourOf(this.nowMs());
    const key = commodityKey({ hourMs, commodity });
    let row = this.commodityRows.get(key);
    if (row === undefined) {
      row = { hourMs, commodity, ticks: 0, actorCpuUs: 0, rowsStored: 0, bytesStored: 0, trainingCpuUs: 0 };
      this.commodityRows.set(key, row);
    }
    row.ticks += usage.ticks ?? 0;
    row.actorCpuUs += usage.actorCpuUs ?? 0;
    row.rowsStored += usage.rowsStored ?? 0;
    row.bytesStored += usage.bytesStored ?? 0;
    row.trainingCpuUs += usage.trainingCpuUs ?? 0;
    if (usage.ticks) commodityTicks.inc({ commodity }, usage.ticks);
    if (usage.actorCpuUs) commodityActorCpuSeconds.inc({ commodity }, usage.actorCpuUs / 1e6);
    if (usage.rowsStored) commodityRowsStored.inc({ commodity }, usage.rowsStored);
    if (usage.bytesStored) commodityStoredBytes.inc({ commodity }, usage.bytesStored);
    if (usage.trainingCpuUs) commodityTrainingCpuSeconds.inc({ commodity }, usage.trainingCpuUs / 1e6);
  }

  /** Adds to the tenant counters what was metered since they were last read. */
  exportCounters(): void {
    for (const byMethod of this.entries.values()) {
      for (const byCode of byMethod.values()) {
        for (const { counters, total, exported } of byCode.values()) {
          if (total.calls > exported.calls) counters.calls.inc(total.calls - exported.calls);
          if (total.streamMessages > exported.streamMessages) counters.stream.inc(total.streamMessages - exported.streamMessages);
          if (total.bytesOut > exported.bytesOut) counters.bytes.inc(total.bytesOut - exported.bytesOut);
          if (total.cpuUs > exported.cpuUs) counters.cpu.inc((total.cpuUs - exported.cpuUs) / 1e6);
          Object.assign(exported, total);
        }
      }
    }
  }

  /** Copies of the rows held now. */
  snapshot(): UsageSnapshot {
    return { tenants: [...this.tenantRows.values()].map((r) => ({ ...r })), commodities: [...this.commodityRows.values()].map((r) => ({ ...r })) };
  }

  /** After `written` is stored: forgets the rows of past hours that have not changed since (they never will again). */
  forgetWritten(written: UsageSnapshot): void {
    const current = hourOf(this.nowMs());
    for (const w of written.tenants) {
      const key = tenantKey(w);
      const row = this.tenantRows.get(key);
      if (row !== undefined && row.hourMs < current && row.calls === w.calls && row.streamMessages === w.streamMessages) this.tenantRows.delete(key);
    }
    for (const w of written.commodities) {
      const key = commodityKey(w);
      const row = this.commodityRows.get(key);
      if (row !== undefined && row.hourMs < current && row.ticks === w.ticks && row.rowsStored === w.rowsStored && row.trainingCpuUs === w.trainingCpuUs) this.commodityRows.delete(key);
    }
  }

  private entry(tenant: string, method: string, code: string): Entry {
    let byMethod = this.entries.get(tenant);
    if (byMethod === undefined) this.entries.set(tenant, (byMethod = new Map()));
    let byCode = byMethod.get(method);
    if (byCode === undefined) byMethod.set(method, (byCode = new Map()));
    let e = byCode.get(code);
    if (e === undefined) {
      e = {
        row: this.newTenantRow(tenant, method, code),
        counters: {
          calls: tenantCalls.labels(tenant, method, code),
          stream: tenantStreamMessages.labels(tenant, method),
          bytes: tenantBytesOut.labels(tenant),
          cpu: tenantCpuSeconds.labels(tenant),
        },
        total: { calls: 0, streamMessages: 0, bytesOut: 0, cpuUs: 0 },
        exported: { calls: 0, streamMessages: 0, bytesOut: 0, cpuUs: 0 },
      };
      byCode.set(code, e);
    } else if (e.row.hourMs !== hourOf(this.nowMs())) {
      e.row = this.newTenantRow(tenant, method, code);
    }
    return e;
  }

  private newTenantRow(tenant: string, method: string, code: string): TenantUsageRow {
    const row: TenantUsageRow = { hourMs: hourOf(this.nowMs()), tenant, method, code, calls: 0, streamMessages: 0, bytesOut: 0, cpuUs: 0 };
    this.tenantRows.set(tenantKey(row), row);
    return row;
  }
}

/**
 * The process's meter, like prom-client's default registry: the actors and sinks of a worker report into it
 * without it being handed down through every layer; the gateway is given it (or not: CARBON_METERING=false).
 */
export const usageMeter = new UsageMeter();
onUsageRead(() => usageMeter.exportCounters());
