/**
 * Tenants and their API tokens. Tenants live in Postgres (tenant-directory.ts follows them, `carbon tenants`
 * changes them); the tokens file is a bootstrap, imported at start for the tenants not stored yet. It holds only
 * SHA-256 hashes of tokens (hex), never the tokens:
 *
 *   { "tenants": [ { "name": "acme", "tokenSha256": ["9f86d0..."], "commodities": ["WTI", "BRENT"],
 *                    "ratePerSecond": 200, "burst": 400 } ] }
 *
 * `commodities` is a list of ids or "*" for all. Make a hash with `printf %s "$TOKEN" | sha256sum`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { COMMODITY_ID_PATTERN } from '../actors/ingest/commodity-id.ts';
import { ConfigError } from '../platform/config.ts';
import { snapshotOf, type TenantRecord } from './tenant-directory.ts';

export interface Tenant {
  readonly name: string;
  /** undefined: every commodity. */
  readonly commodities: ReadonlySet<string> | undefined;
  readonly ratePerSecond: number;
  readonly burst: number;
}

export interface TenantDirectory {
  readonly tenants: readonly Tenant[];
  /** The tenant of a token hash (hex SHA-256) that is valid now, and when it stops being valid (null: no expiry). */
  byTokenHash(hashHex: string): { readonly tenant: Tenant; readonly expiresAtMs: number | null } | undefined;
  /** The tenant of calls without a token; undefined when tokens are required. */
  readonly anonymous: Tenant | undefined;
  /** Changes whenever the tenants do: what was derived from them (remembered tokens, limits) is then stale. */
  readonly generation: number;
}

export const TENANT_NAME_PATTERN = /^[\w.@-]{1,64}$/;

const tenantsFileSchema = z.object({
  tenants: z.array(z.object({
    name: z.string().regex(TENANT_NAME_PATTERN, 'letters, digits, "_", ".", "@" or "-", at most 64'),
    tokenSha256: z.array(z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits (sha256sum of the token)')).min(1),
    commodities: z.union([z.literal('*'), z.array(z.string().regex(COMMODITY_ID_PATTERN, 'commodity ids such as WTI')).min(1)]),
    ratePerSecond: z.number().positive(),
    burst: z.number().min(1).optional(),
  }).strict()).min(1),
}).strict();

export function sha256Hex(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Parses the tenants file's text into tenant records; a bad file is a ConfigError naming the variable and the first problem. */
export function parseTenants(text: string, source = 'CARBON_TOKENS_FILE'): TenantRecord[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(source, 'a JSON tenants file', (err as Error).message);
  }
  const parsed = tenantsFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(source, `a tenants file (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'})`, text.slice(0, 200));
  }
  const owner = new Map<string, string>();
  const names = new Set<string>();
  return parsed.data.tenants.map((t, i) => {
    // A second entry of a name would be another tenant's tokens and limits, silently merged or dropped on import.
    if (names.has(t.name)) throw new ConfigError(source, 'each tenant name once', `tenants.${i}.name: ${t.name}`);
    names.add(t.name);
    for (const h of t.tokenSha256) {
      const other = owner.get(h);
      if (other) throw new ConfigError(source, 'each token hash to belong to one tenant', `${h} in ${other} and ${t.name}`);
      owner.set(h, t.name);
    }
    return {
      name: t.name,
      commodities: t.commodities === '*' ? null : t.commodities,
      ratePerSecond: t.ratePerSecond,
      burst: t.burst ?? Math.max(1, t.ratePerSecond),
      revoked: false,
      tokens: t.tokenSha256.map((sha256) => ({ sha256, expiresAtMs: null })),
    };
  });
}

/** A directory that never changes (tests, and tools that read a file). */
export function fixedDirectory(records: readonly TenantRecord[]): TenantDirectory {
  const { tenants, byHash } = snapshotOf(records);
  return { tenants, byTokenHash: (h) => byHash.get(h), anonymous: undefined, generation: 0 };
}

export function loadTenantsFile(path: string): TenantRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('CARBON_TOKENS_FILE', 'a readable tenants file', `${path} (${(err as Error).message})`);
  }
  return parseTenants(text);
}

/** The tenant of local calls without a token (loopback only, and only while no tenant exists). */
export function localTenant(ratePerSecond: number, burst: number): Tenant {
  return { name: 'local', commodities: undefined, ratePerSecond, burst };
}

/** A new API token: 32 random bytes, printed once; only its SHA-256 is stored. */
export function newToken(): string {
  return `carbon_${randomBytes(32).toString('base64url')}`;
}

export function mayRead(tenant: Tenant, commodity: string): boolean {
  return tenant.commodities === undefined || tenant.commodities.has(commodity);
}
