/**
 * The tenants as the gateway sees them, kept current while it runs: loaded from the tenant source (Postgres or
 * PGlite) at start, reloaded whenever a change is announced (NOTIFY carbon_tenants, sent by `carbon tenants` in
 * the transaction of the change, so a worker applies it within milliseconds of the commit), and every
 * `refreshMs` as a safety net. A failed reload keeps the tenants it had. Lookups are synchronous and
 * allocation-free on the call path; each reload replaces the whole snapshot at once and bumps `generation`, which
 * tells the authenticator to forget what it derived from the previous one.
 */
import type { Logger } from '../platform/logger.ts';
import { tenantReloads } from '../platform/metrics.ts';
import type { Tenant, TenantDirectory } from './tenants.ts';

/** One tenant as stored. */
export interface TenantRecord {
  readonly name: string;
  /** Commodity ids it may read; null: every commodity. */
  readonly commodities: readonly string[] | null;
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly revoked: boolean;
  readonly tokens: readonly { readonly sha256: string; /** UTC epoch ms; null: no expiry. */ readonly expiresAtMs: number | null }[];
}

/** Where tenants are stored (tenant-store.ts, over Postgres or PGlite). */
export interface TenantSource {
  load(): Promise<TenantRecord[]>;
  /** Calls `onChange` for each announced change (and after a lost announcement channel) until the stop. */
  watch(onChange: () => void, onError: (err: unknown) => void): Promise<() => Promise<void>>;
}

interface Snapshot {
  readonly tenants: readonly Tenant[];
  readonly byHash: ReadonlyMap<string, { readonly tenant: Tenant; readonly expiresAtMs: number | null }>;
}

export function snapshotOf(records: readonly TenantRecord[]): Snapshot {
  const tenants: Tenant[] = [];
  const byHash = new Map<string, { tenant: Tenant; expiresAtMs: number | null }>();
  for (const r of records) {
    if (r.revoked) continue;
    const tenant: Tenant = { name: r.name, commodities: r.commodities === null ? undefined : new Set(r.commodities), ratePerSecond: r.ratePerSecond, burst: r.burst };
    tenants.push(tenant);
    for (const t of r.tokens) byHash.set(t.sha256, { tenant, expiresAtMs: t.expiresAtMs });
  }
  return { tenants, byHash };
}

export class LiveTenantDirectory implements TenantDirectory {
  private snapshot: Snapshot = { tenants: [], byHash: new Map() };
  private version = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopWatching: (() => Promise<void>) | undefined;
  /** A reload running, and whether another was asked for meanwhile (announcements coalesce). */
  private loading: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly source: TenantSource,
    /** Anonymous access (tenant `local`) while no tenant exists: the loopback-only local mode. */
    private readonly localAnonymous: Tenant | undefined,
    private readonly log: Logger,
    private readonly nowMs: () => number = Date.now,
  ) {}

  get tenants(): readonly Tenant[] {
    return this.snapshot.tenants;
  }

  get generation(): number {
    return this.version;
  }

  get anonymous(): Tenant | undefined {
    return this.snapshot.tenants.length === 0 ? this.localAnonymous : undefined;
  }

  byTokenHash(hashHex: string): { tenant: Tenant; expiresAtMs: number | null } | undefined {
    const entry = this.snapshot.byHash.get(hashHex);
    return entry !== undefined && (entry.expiresAtMs === null || this.nowMs() < entry.expiresAtMs) ? entry : undefined;
  }

  /** Loads the tenants, then follows the announcements; a first load that fails stops the start. */
  async start(refreshMs: number): Promise<void> {
    await this.load();
    this.stopWatching = await this.source.watch(
      () => this.reload(),
      (err) => this.log.warn('tenants_watch_failed', { err }),
    );
    this.timer = setInterval(() => this.reload(), refreshMs);
    this.timer.unref();
  }

  /** Reloads now (coalescing with one running); failures are logged and counted, the previous tenants stay. */
  reload(): void {
    if (this.loading !== undefined) {
      this.again = true;
      return;
    }
    this.loading = this.load()
      .catch((err: unknown) => {
        tenantReloads.inc({ outcome: 'failed' });
        this.log.error('tenants_reload_failed', { err });
      })
      .finally(() => {
        this.loading = undefined;
        if (this.again) {
          this.again = false;
          this.reload();
        }
      });
  }

  /** Resolves once no reload is running (tests, and stop). */
  async settled(): Promise<void> {
    while (this.loading !== undefined) await this.loading;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.stopWatching?.();
    await this.settled();
  }

  private async load(): Promise<void> {
    const records = await this.source.load();
    this.snapshot = snapshotOf(records);
    this.version += 1;
    tenantReloads.inc({ outcome: 'loaded' });
    this.log.debug('tenants_loaded', { tenants: this.snapshot.tenants.length, tokens: this.snapshot.byHash.size, generation: this.version });
  }
}
