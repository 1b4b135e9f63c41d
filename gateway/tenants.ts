/**
 * Tenants and their API tokens. The tokens file holds only SHA-256 hashes of tokens (hex), never the tokens:
 *
 *   { "tenants": [ { "name": "acme", "tokenSha256": ["9f86d0..."], "commodities": ["WTI", "BRENT"],
 *                    "ratePerSecond": 200, "burst": 400 } ] }
 *
 * `commodities` is a list of ids or "*" for all. Rates are per worker process (each worker keeps its own
 * buckets: no shared state on the hot path), so a client spreading connections over N workers gets up to N times.
 * Make a hash with `printf %s "$TOKEN" | sha256sum`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { COMMODITY_ID_PATTERN } from '../actors/ingest/commodity-id.ts';
import { ConfigError } from '../platform/config.ts';

export interface Tenant {
  readonly name: string;
  /** undefined: every commodity. */
  readonly commodities: ReadonlySet<string> | undefined;
  readonly ratePerSecond: number;
  readonly burst: number;
}

export interface TenantDirectory {
  readonly tenants: readonly Tenant[];
  /** The tenant of a token hash (hex SHA-256), if any. */
  byTokenHash(hashHex: string): Tenant | undefined;
  /** The tenant of calls without a token; undefined when tokens are required. */
  readonly anonymous: Tenant | undefined;
}

const tenantsFileSchema = z.object({
  tenants: z.array(z.object({
    name: z.string().regex(/^[\w.@-]{1,64}$/, 'letters, digits, "_", ".", "@" or "-", at most 64'),
    tokenSha256: z.array(z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits (sha256sum of the token)')).min(1),
    commodities: z.union([z.literal('*'), z.array(z.string().regex(COMMODITY_ID_PATTERN, 'commodity ids such as WTI')).min(1)]),
    ratePerSecond: z.number().positive(),
    burst: z.number().min(1).optional(),
  }).strict()).min(1),
}).strict();

export function sha256Hex(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Parses the tenants file's text; a bad file is a ConfigError naming the variable and the first problem. */
export function parseTenants(text: string, source = 'CARBON_TOKENS_FILE'): TenantDirectory {
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
  const byHash = new Map<string, Tenant>();
  const tenants: Tenant[] = [];
  for (const t of parsed.data.tenants) {
    const tenant: Tenant = {
      name: t.name,
      commodities: t.commodities === '*' ? undefined : new Set(t.commodities),
      ratePerSecond: t.ratePerSecond,
      burst: t.burst ?? Math.max(1, t.ratePerSecond),
    };
    tenants.push(tenant);
    for (const h of t.tokenSha256) {
      const other = byHash.get(h);
      if (other) throw new ConfigError(source, 'each token hash to belong to one tenant', `${h} in ${other.name} and ${t.name}`);
      byHash.set(h, tenant);
    }
  }
  return { tenants, byTokenHash: (h) => byHash.get(h), anonymous: undefined };
}

export function loadTenantsFile(path: string): TenantDirectory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('CARBON_TOKENS_FILE', 'a readable tenants file', `${path} (${(err as Error).message})`);
  }
  return parseTenants(text);
}

/** Local access without tokens (loopback only, see gateway-config.ts). */
export function anonymousDirectory(ratePerSecond: number, burst: number): TenantDirectory {
  const local: Tenant = { name: 'local', commodities: undefined, ratePerSecond, burst };
  return { tenants: [local], byTokenHash: () => undefined, anonymous: local };
}

export function mayRead(tenant: Tenant, commodity: string): boolean {
  return tenant.commodities === undefined || tenant.commodities.has(commodity);
}
