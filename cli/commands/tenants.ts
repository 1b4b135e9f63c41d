/**
 * `carbon tenants add|list|show|rotate-token|revoke|set-quota`: the API's tenants, their tokens, entitlements and
 * quotas, in the database (DATABASE_URL, or the embedded store in CARBON_DATA_DIR while `npm start` is not
 * running). A new token is printed once and only its SHA-256 is stored. Every change is audited (who: --by or
 * $USER; why: --reason) and applied by every running worker within moments, without a restart.
 * Exit status: 0 done, 2 bad option or configuration, 3 refused (no such tenant, name taken).
 */
import { Command, InvalidArgumentError } from 'commander';
import { tenantAdmin, TenantError, type TenantAdmin, type TenantSummary } from '../../gateway/tenant-store.ts';
import { newToken, sha256Hex, TENANT_NAME_PATTERN } from '../../gateway/tenants.ts';
import { loadConfig, parseDurationMs } from '../../platform/config.ts';
import { openPlatformDatabase } from './database.ts';
import { fail, operatorName, parseCommodityId } from './train.ts';

function parseName(value: string): string {
  if (!TENANT_NAME_PATTERN.test(value)) throw new InvalidArgumentError('expected 1 to 64 letters, digits, "_", ".", "@" or "-"');
  return value;
}

function parsePositive(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`expected a number >= ${min}`);
    return n;
  };
}

/** `*` (every commodity) or a comma-separated list of commodity ids. */
export function parseCommodities(value: string): '*' | string[] {
  if (value.trim() === '*') return '*';
  const ids = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (ids.length === 0) throw new InvalidArgumentError('expected "*" or commodity ids such as WTI,BRENT');
  return [...new Set(ids.map(parseCommodityId))];
}

function parseOverlap(value: string): number {
  const ms = parseDurationMs(value);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration such as 10m, 24h or 0');
  return ms;
}

async function withTenants<T>(fn: (admin: TenantAdmin) => Promise<T>): Promise<T> {
  const sql = await openPlatformDatabase(loadConfig());
  try {
    return await fn(tenantAdmin(sql));
  } catch (err) {
    if (err instanceof TenantError) throw fail(3, `carbon tenants: ${err.message}`, undefined);
    throw err;
  } finally {
    await sql.close();
  }
}

const time = (ms: number) => `${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
const commoditiesText = (c: readonly string[] | null) => (c === null ? '*' : c.join(','));
/** As stored: null for every commodity. */
const stored = (c: '*' | string[]) => (c === '*' ? null : c);

function printList(tenants: readonly TenantSummary[]): void {
  const rows = [['tenant', 'calls/s', 'burst', 'commodities', 'tokens', 'status']];
  for (const t of tenants) rows.push([t.name, String(t.ratePerSecond), String(t.burst), commoditiesText(t.commodities), String(t.tokens.length), t.revokedAtMs === null ? 'active' : `revoked ${time(t.revokedAtMs)}`]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) process.stdout.write(`${r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()}\n`);
  if (tenants.length === 0) process.stdout.write('(no tenants: add one with carbon tenants add)\n');
}

function printShow(t: TenantSummary): void {
  const lines = [
    `${t.name}  ${t.revokedAtMs === null ? 'ACTIVE' : `REVOKED at ${time(t.revokedAtMs)}`}`,
    `  quota: ${t.ratePerSecond} calls/s across the cluster, burst ${t.burst}`,
    `  may read: ${commoditiesText(t.commodities)}`,
    `  created ${time(t.createdAtMs)}, changed ${time(t.updatedAtMs)}`,
    t.tokens.length === 0 ? '  no valid token' : '  tokens (SHA-256 prefix):',
    ...t.tokens.map((k) => `    ${k.sha256Prefix}  made ${time(k.createdAtMs)}${k.expiresAtMs === null ? '' : `, valid until ${time(k.expiresAtMs)}`}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

interface AuthorOptions {
  reason: string;
  by?: string;
}
const authorOf = (o: AuthorOptions) => ({ actor: operatorName(o.by), reason: o.reason });

/** The token, printed alone on stdout (so that `TOKEN=$(carbon tenants add ...)` works), the rest on stderr. */
function printToken(token: string, note: string): void {
  process.stdout.write(`${token}\n`);
  process.stderr.write(`${note}\nThe token is shown once: only its SHA-256 is stored.\n`);
}

export function registerTenantsCommand(program: Command): void {
  const tenants = program
    .command('tenants')
    .description('the API tenants: tokens, entitlements and quotas (DATABASE_URL, or the embedded store)')
    .addHelpText('after', `
Changes are audited (audit_log: who from --by or $USER, why from --reason) and applied by every running worker
within moments, without a restart. A token is printed once on stdout; only its SHA-256 is stored.

Examples:
  TOKEN=$(carbon tenants add acme --commodities WTI,BRENT --rate 200 --reason "contract 2026-114")
  carbon tenants list
  carbon tenants show acme
  carbon tenants rotate-token acme --overlap 1h --reason "yearly rotation"
  carbon tenants set-quota acme --rate 500 --reason "upgraded plan"
  carbon tenants revoke acme --reason "contract ended"`);

  tenants
    .command('add')
    .description('a new tenant with its first token')
    .argument('<name>', 'tenant name', parseName)
    .requiredOption('--commodities <ids>', 'what it may read: "*" or ids such as WTI,BRENT', parseCommodities)
    .requiredOption('--rate <calls/s>', 'its quota, calls per second across the cluster', parsePositive(Number.MIN_VALUE))
    .option('--burst <calls>', 'calls it may make at once above the rate (default: one second of it)', parsePositive(1))
    .requiredOption('--reason <text>', 'why, for the audit log')
    .option('--by <name>', 'who, for the audit log (default: $USER)')
    .action(async (name: string, opts: AuthorOptions & { commodities: '*' | string[]; rate: number; burst?: number }) => {
      const token = newToken();
      await withTenants((admin) => admin.add({ name, commodities: stored(opts.commodities), ratePerSecond: opts.rate, burst: opts.burst ?? Math.max(1, opts.rate), tokenSha256: sha256Hex(token) }, authorOf(opts)));
      printToken(token, `tenant ${name} added: ${opts.rate} calls/s, may read ${commoditiesText(stored(opts.commodities))}.`);
    });

  tenants
    .command('list')
    .description('every tenant with its quota, entitlements and number of valid tokens')
    .option('--json', 'JSON lines on stdout')
    .action(async (opts: { json?: boolean }) => {
      const list = await withTenants((admin) => admin.list());
      if (opts.json) for (const t of list) process.stdout.write(`${JSON.stringify(t)}\n`);
      else printList(list);
    });

  tenants
    .command('show')
    .description('one tenant: quota, entitlements, tokens (by hash prefix) and their expiry')
    .argument('<name>', 'tenant name', parseName)
    .option('--json', 'as JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      const t = await withTenants((admin) => admin.show(name));
      if (opts.json) process.stdout.write(`${JSON.stringify(t)}\n`);
      else printShow(t);
    });

  tenants
    .command('rotate-token')
    .description('a new token; the current ones keep working for the overlap, then are refused')
    .argument('<name>', 'tenant name', parseName)
    .option('--overlap <duration>', 'how long the current tokens stay valid beside the new one (0: refused at once; default CARBON_TOKEN_ROTATION_OVERLAP)', parseOverlap)
    .requiredOption('--reason <text>', 'why, for the audit log')
    .option('--by <name>', 'who, for the audit log (default: $USER)')
    .action(async (name: string, opts: AuthorOptions & { overlap?: number }) => {
      // Read here, not when the command is registered: a bad variable must not break every other carbon command.
      const overlap = opts.overlap ?? loadConfig().tenants.rotationOverlapMs;
      const token = newToken();
      const { oldTokensUntilMs } = await withTenants((admin) => admin.rotateToken(name, sha256Hex(token), overlap, authorOf(opts)));
      printToken(token, `tenant ${name}: new token; ${oldTokensUntilMs === null ? 'access restored (it was revoked)' : `the previous ones are valid until ${time(oldTokensUntilMs)}`}.`);
    });

  tenants
    .command('revoke')
    .description('refuse every token of the tenant from now on (rotate-token gives access back)')
    .argument('<name>', 'tenant name', parseName)
    .requiredOption('--reason <text>', 'why, for the audit log')
    .option('--by <name>', 'who, for the audit log (default: $USER)')
    .action(async (name: string, opts: AuthorOptions) => {
      await withTenants((admin) => admin.revoke(name, authorOf(opts)));
      process.stdout.write(`tenant ${name} revoked: its tokens are refused.\n`);
    });

  tenants
    .command('set-quota')
    .description("change a tenant's rate, burst or entitlements")
    .argument('<name>', 'tenant name', parseName)
    .option('--rate <calls/s>', 'calls per second across the cluster', parsePositive(Number.MIN_VALUE))
    .option('--burst <calls>', 'calls at once above the rate (default with --rate: one second of it)', parsePositive(1))
    .option('--commodities <ids>', 'what it may read: "*" or ids such as WTI,BRENT', parseCommodities)
    .requiredOption('--reason <text>', 'why, for the audit log')
    .option('--by <name>', 'who, for the audit log (default: $USER)')
    .action(async (name: string, opts: AuthorOptions & { rate?: number; burst?: number; commodities?: '*' | string[] }) => {
      if (opts.rate === undefined && opts.burst === undefined && opts.commodities === undefined) throw fail(2, 'carbon tenants set-quota: give --rate, --burst or --commodities', undefined);
      const t = await withTenants((admin) => admin.setQuota(name, { ratePerSecond: opts.rate, burst: opts.burst, commodities: opts.commodities === undefined ? undefined : stored(opts.commodities) }, authorOf(opts)));
      process.stdout.write(`tenant ${name}: ${t.ratePerSecond} calls/s, burst ${t.burst}, may read ${commoditiesText(t.commodities)}.\n`);
    });
}
