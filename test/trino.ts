/**
 * Trino for the tests and the analytics bench: the local coordinator that `npm test` starts
 * (deploy/local/services.sh), and a catalog of their own over their own fresh database, made from the same
 * catalog file as every other Trino of the platform (only where to connect differs), so that tests running side
 * by side never read each other's data and test what analysts get.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { runStatement, type TrinoSession } from '../connectors/trino/trino-client.ts';

export const TRINO_URL = process.env.TEST_TRINO_URL ?? 'http://127.0.0.1:8080';

const catalogFile = join(import.meta.dirname, '..', 'deploy', 'k8s', 'base', 'analytics', 'catalog', 'postgresql.properties');

/** key=value lines of a Java properties file (no continuation lines: the catalog file has none). */
export function parseProperties(text: string): Map<string, string> {
  const properties = new Map<string, string>();
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const at = trimmed.indexOf('=');
    if (at < 1) throw new Error(`not a key=value line: ${line}`);
    properties.set(trimmed.slice(0, at).trim(), trimmed.slice(at + 1).trim());
  }
  return properties;
}

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;

/**
 * CREATE CATALOG for `name` over the database of `databaseUrl` (postgres://user[:password]@host:port/db), with
 * every other setting of the platform's catalog file.
 */
export function createCatalogStatement(name: string, databaseUrl: string, properties = parseProperties(readFileSync(catalogFile, 'utf8'))): string {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`catalog name ${name}: lower-case letters, digits and _ only`);
  const url = new URL(databaseUrl);
  const connection: Record<string, string> = {
    'connection-url': `jdbc:postgresql://${url.hostname}:${url.port || '5432'}${url.pathname}`,
    'connection-user': decodeURIComponent(url.username),
    ...(url.password ? { 'connection-password': decodeURIComponent(url.password) } : {}),
  };
  const connector = properties.get('connector.name');
  if (connector === undefined) throw new Error('the catalog file names no connector.name');
  const settings = [...properties].filter(([key]) => key !== 'connector.name' && !key.startsWith('connection-'));
  const all = [...Object.entries(connection), ...settings].map(([key, value]) => `"${key}" = ${quote(value)}`);
  return `CREATE CATALOG ${name} USING ${connector} WITH (${all.join(', ')})`;
}

/** A session of the analytics schema in a catalog named `catalog`, times in UTC. */
export function analyticsSession(catalog: string): TrinoSession {
  return { serverUrl: TRINO_URL, user: 'carbon-test', catalog, schema: 'analytics', source: 'carbon-tests' };
}

/** A catalog over `databaseUrl` named after its database, dropped when the test ends. */
export async function freshTrinoCatalog(t: ExecutionContext, databaseUrl: string): Promise<TrinoSession> {
  const name = new URL(databaseUrl).pathname.slice(1);
  const admin: TrinoSession = { serverUrl: TRINO_URL, user: 'carbon-test' };
  await runStatement(admin, createCatalogStatement(name, databaseUrl));
  t.teardown(async () => {
    await runStatement(admin, `DROP CATALOG IF EXISTS ${name}`);
  });
  return analyticsSession(name);
}

/**
 * Whether a plan (the text of `EXPLAIN <query>`) leaves every aggregation and join to Postgres: Trino shows an
 * operator only for the work it does itself, and folds what it pushes down into the TableScan's query.
 */
export function planRunsInPostgres(plan: string): boolean {
  return !/^\s*(?:[│└├─ ]*)(?:Aggregate|(?:Inner|Left|Right|Full|Cross)?Join|SemiJoin)\b/m.test(plan);
}
