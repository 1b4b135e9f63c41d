/**
 * Tenants in Postgres (or PGlite): the gateway's TenantSource, and the changes `carbon tenants` makes. Every change
 * runs in one transaction with its audit row (who, why, what) and a NOTIFY on `carbon_tenants`, which Postgres
 * delivers to the listening workers when the transaction commits: a change is applied by all of them or by none.
 */
import type { TenantRecord, TenantSource } from './tenant-directory.ts';
import type { SqlQuery, SqlStore } from '../connectors/postgres/sql-store.ts';

export const TENANTS_CHANNEL = 'carbon_tenants';

/** Who made a change and why, for the audit log. */
export interface ChangeAuthor {
  readonly actor: string;
  readonly reason: string;
}

export interface TenantSummary {
  readonly name: string;
  readonly commodities: readonly string[] | null;
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  readonly revokedAtMs: number | null;
  readonly tokens: readonly { readonly sha256Prefix: string; readonly createdAtMs: number; readonly expiresAtMs: number | null }[];
}

export class TenantError extends Error {
  override readonly name = 'TenantError';
  constructor(readonly code: 'NO_SUCH_TENANT' | 'TENANT_EXISTS', message: string) {
    super(message);
  }
}

interface TenantRow {
  name: string;
  commodities: string[] | null;
  rate_per_second: number;
  burst: number;
  created_at: Date;
  updated_at: Date;
  revoked_at: Date | null;
}
interface TokenRow {
  token_sha256: string;
  tenant: string;
  created_at: Date;
  expires_at: Date | null;
}

const ms = (d: Date | null) => (d === null ? null : d.getTime());

async function rows(sql: SqlQuery, name?: string): Promise<{ tenants: TenantRow[]; tokens: TokenRow[] }> {
  const where = name === undefined ? '' : ' WHERE name = $1';
  const tokenWhere = name === undefined ? '' : ' WHERE tenant = $1';
  const params = name === undefined ? [] : [name];
  const [tenants, tokens] = await Promise.all([
    sql.query<TenantRow>(`SELECT name, commodities, rate_per_second, burst, created_at, updated_at, revoked_at FROM tenants${where} ORDER BY name`, params),
    // Expired tokens stay until the next change of their tenant; readers skip them.
    sql.query<TokenRow>(`SELECT token_sha256, tenant, created_at, expires_at FROM tenant_tokens${tokenWhere} ORDER BY created_at`, params),
  ]);
  return { tenants: tenants.rows, tokens: tokens.rows };
}

/** The gateway's view: every tenant with its valid tokens, and the announcements of changes. */
export function sqlTenantSource(sql: SqlStore): TenantSource {
  return {
    async load() {
      const { tenants, tokens } = await rows(sql);
      const nowMs = Date.now();
      return tenants.map((t): TenantRecord => ({
        name: t.name,
        commodities: t.commodities,
        ratePerSecond: t.rate_per_second,
        burst: t.burst,
        revoked: t.revoked_at !== null,
        tokens: tokens
          .filter((k) => k.tenant === t.name && (k.expires_at === null || k.expires_at.getTime() > nowMs))
          .map((k) => ({ sha256: k.token_sha256, expiresAtMs: ms(k.expires_at) })),
      }));
    },
    watch: (onChange, onError) => sql.listen(TENANTS_CHANNEL, () => onChange(), onError),
  };
}

async function audit(tx: SqlQuery, author: ChangeAuthor, action: string, tenant: string, details: Record<string, unknown>): Promise<void> {
  await tx.query('INSERT INTO audit_log (actor, action, subject, details) VALUES ($1, $2, $3, $4::jsonb)', [author.actor, action, tenant, JSON.stringify({ ...details, reason: author.reason })]);
  await tx.query('SELECT pg_notify($1, $2)', [TENANTS_CHANNEL, tenant]);
}

async function existing(tx: SqlQuery, name: string): Promise<TenantRow> {
  const { rows: found } = await tx.query<TenantRow>('SELECT name, commodities, rate_per_second, burst, created_at, updated_at, revoked_at FROM tenants WHERE name = $1 FOR UPDATE', [name]);
  const row = found[0];
  if (row === undefined) throw new TenantError('NO_SUCH_TENANT', `no tenant ${name} (carbon tenants list)`);
  return row;
}

export interface NewTenant {
  readonly name: string;
  readonly commodities: readonly string[] | null;
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly tokenSha256: string;
}

/** What `carbon tenants` does to the tables. */
export function tenantAdmin(sql: SqlStore) {
  return {
    async list(): Promise<TenantSummary[]> {
      const { tenants, tokens } = await rows(sql);
      return tenants.map((t) => summary(t, tokens));
    },

    async show(name: string): Promise<TenantSummary> {
      const { tenants, tokens } = await rows(sql, name);
      const t = tenants[0];
      if (t === undefined) throw new TenantError('NO_SUCH_TENANT', `no tenant ${name} (carbon tenants list)`);
      return summary(t, tokens);
    },

    async add(tenant: NewTenant, author: ChangeAuthor): Promise<void> {
      await sql.transaction(async (tx) => {
        const inserted = await tx.query(
          'INSERT INTO tenants (name, commodities, rate_per_second, burst) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING RETURNING name',
          [tenant.name, tenant.commodities, tenant.ratePerSecond, tenant.burst],
        );
        if (inserted.rows.length === 0) throw new TenantError('TENANT_EXISTS', `tenant ${tenant.name} exists: rotate its token or change its quota instead`);
        await tx.query('INSERT INTO tenant_tokens (token_sha256, tenant) VALUES ($1, $2)', [tenant.tokenSha256, tenant.name]);
        await audit(tx, author, 'tenant.add', tenant.name, { commodities: tenant.commodities ?? '*', ratePerSecond: tenant.ratePerSecond, burst: tenant.burst, tokenSha256Prefix: tenant.tokenSha256.slice(0, 12) });
      });
    },

    /**
     * A new token; the tenant's current tokens stay valid for `overlapMs` more (never longer than they already
     * would). On a revoked tenant, it gives access back with the new token only.
     */
    async rotateToken(name: string, tokenSha256: string, overlapMs: number, author: ChangeAuthor): Promise<{ oldTokensUntilMs: number | null }> {
      return sql.transaction(async (tx) => {
        const t = await existing(tx, name);
        const until = new Date(Date.now() + overlapMs);
        if (t.revoked_at === null) {
          await tx.query('UPDATE tenant_tokens SET expires_at = $2 WHERE tenant = $1 AND (expires_at IS NULL OR expires_at > $2)', [name, until]);
        }
        await tx.query('DELETE FROM tenant_tokens WHERE tenant = $1 AND expires_at <= now()', [name]);
        await tx.query('INSERT INTO tenant_tokens (token_sha256, tenant) VALUES ($1, $2)', [tokenSha256, name]);
        await tx.query('UPDATE tenants SET revoked_at = NULL, updated_at = now() WHERE name = $1', [name]);
        await audit(tx, author, 'tenant.rotate_token', name, { tokenSha256Prefix: tokenSha256.slice(0, 12), oldTokensUntil: t.revoked_at === null ? until.toISOString() : null, wasRevoked: t.revoked_at !== null });
        return { oldTokensUntilMs: t.revoked_at === null ? until.getTime() : null };
      });
    },

    /** Every token of the tenant refused from now on (the tokens are deleted; the tenant's row and history stay). */
    async revoke(name: string, author: ChangeAuthor): Promise<void> {
      await sql.transaction(async (tx) => {
        await existing(tx, name);
        const deleted = await tx.query<{ token_sha256: string }>('DELETE FROM tenant_tokens WHERE tenant = $1 RETURNING token_sha256', [name]);
        await tx.query('UPDATE tenants SET revoked_at = now(), updated_at = now() WHERE name = $1', [name]);
        await audit(tx, author, 'tenant.revoke', name, { tokensRevoked: deleted.rows.length });
      });
    },

    async setQuota(name: string, quota: { ratePerSecond?: number; burst?: number; commodities?: readonly string[] | null }, author: ChangeAuthor): Promise<TenantSummary> {
      await sql.transaction(async (tx) => {
        const t = await existing(tx, name);
        const next = {
          ratePerSecond: quota.ratePerSecond ?? t.rate_per_second,
          burst: quota.burst ?? (quota.ratePerSecond === undefined ? t.burst : Math.max(1, quota.ratePerSecond)),
          commodities: quota.commodities === undefined ? t.commodities : quota.commodities,
        };
        await tx.query('UPDATE tenants SET rate_per_second = $2, burst = $3, commodities = $4, updated_at = now() WHERE name = $1', [name, next.ratePerSecond, next.burst, next.commodities]);
        await audit(tx, author, 'tenant.set_quota', name, {
          from: { ratePerSecond: t.rate_per_second, burst: t.burst, commodities: t.commodities ?? '*' },
          to: { ratePerSecond: next.ratePerSecond, burst: next.burst, commodities: next.commodities ?? '*' },
        });
      });
      return this.show(name);
    },

    /** Imports the bootstrap file's tenants that are not stored yet (never overwriting a stored one); their names. */
    async importMissing(records: readonly TenantRecord[], author: ChangeAuthor): Promise<string[]> {
      const imported: string[] = [];
      for (const r of records) {
        const added = await sql.transaction(async (tx) => {
          const inserted = await tx.query(
            'INSERT INTO tenants (name, commodities, rate_per_second, burst) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING RETURNING name',
            [r.name, r.commodities, r.ratePerSecond, r.burst],
          );
          if (inserted.rows.length === 0) return false;
          for (const t of r.tokens) await tx.query('INSERT INTO tenant_tokens (token_sha256, tenant) VALUES ($1, $2) ON CONFLICT (token_sha256) DO NOTHING', [t.sha256, r.name]);
          await audit(tx, author, 'tenant.import', r.name, { commodities: r.commodities ?? '*', ratePerSecond: r.ratePerSecond, burst: r.burst, tokens: r.tokens.length });
          return true;
        });
        if (added) imported.push(r.name);
      }
      return imported;
    },
  };
}

export type TenantAdmin = ReturnType<typeof tenantAdmin>;

function summary(t: TenantRow, tokens: readonly TokenRow[]): TenantSummary {
  const nowMs = Date.now();
  return {
    name: t.name,
    commodities: t.commodities,
    ratePerSecond: t.rate_per_second,
    burst: t.burst,
    createdAtMs: t.created_at.getTime(),
    updatedAtMs: t.updated_at.getTime(),
    revokedAtMs: ms(t.revoked_at),
    tokens: tokens
      .filter((k) => k.tenant === t.name && (k.expires_at === null || k.expires_at.getTime() > nowMs))
      .map((k) => ({ sha256Prefix: k.token_sha256.slice(0, 12), createdAtMs: k.created_at.getTime(), expiresAtMs: ms(k.expires_at) })),
  };
}
