/**
 * `carbon analytics refresh` and `carbon sql` as an analyst runs them: a real Postgres, the real Trino of
 * `npm test`, the statement as an argument, a file or standard input, and each output format.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import pg from 'pg';
import { migrate } from '../connectors/postgres/migrate.ts';
import { postgresStore } from '../connectors/postgres/sql-store.ts';
import { loadAnalyticsData } from './analytics-data.ts';
import { freshDatabase } from './services.ts';
import { freshTrinoCatalog, TRINO_URL } from './trino.ts';

const bin = new URL('../cli/bin.js', import.meta.url).pathname;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function carbon(args: readonly string[], env: Record<string, string>, stdin = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, CARBON_LOG_LEVEL: 'warn', CARBON_TRINO_URL: TRINO_URL, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

test('an analyst refreshes the schema, then queries it as a table, CSV or JSON', async (t) => {
  const databaseUrl = await freshDatabase(t);
  const store = postgresStore(databaseUrl, 2);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  t.teardown(async () => {
    await pool.end();
    await store.close();
  });
  await migrate(store);
  const loaded = await loadAnalyticsData(pool, { seed: 7, commodities: 3, ticks: 300, startMs: Date.UTC(2024, 0, 1), intervalMs: 86_400_000, horizons: [1] });

  const refreshed = await carbon(['analytics', 'refresh'], { DATABASE_URL: databaseUrl });
  t.is(refreshed.code, 0, refreshed.stderr);
  t.regex(refreshed.stdout, new RegExp(`^analytics refreshed at \\S+: ${loaded.predictions} new predictions, \\d+ outcomes filled in`));

  const { catalog } = await freshTrinoCatalog(t, databaseUrl);
  const at = ['--catalog', catalog ?? ''];
  const query = 'SELECT commodity, count(*) AS days FROM daily_bars WHERE month = DATE \'2024-02-01\' GROUP BY commodity ORDER BY commodity';
  const expected = (await pool.query<{ commodity: string; days: number }>(query.replace('FROM daily_bars', 'FROM analytics.daily_bars'))).rows;
  t.is(expected.length, 3);
  const table = await carbon(['sql', ...at, query], {});
  t.is(table.code, 0, table.stderr);
  t.is(table.stdout, ['commodity | days', '----------+-----', ...expected.map((r) => `${r.commodity}   | ${String(r.days).padStart(4)}`), '(3 rows)', ''].join('\n'));

  const csv = await carbon(['sql', ...at, '--format', 'csv'], {}, `${query};\n`);
  t.is(csv.code, 0, csv.stderr);
  t.is(csv.stdout, `commodity,days\r\n${expected.map((r) => `${r.commodity},${r.days}\r\n`).join('')}`, 'from standard input, the psql-style semicolon dropped');

  const file = join(await mkdtemp(join(tmpdir(), 'carbon-sql-')), 'q.sql');
  await writeFile(file, 'SELECT count(*) AS n, max(realised_at) IS NOT NULL AS known FROM prediction_outcomes');
  const json = await carbon(['sql', ...at, '--format', 'json', '--file', file], {});
  t.is(json.code, 0, json.stderr);
  t.deepEqual(JSON.parse(json.stdout), { n: loaded.predictions, known: true });
});

test('an analyst is told what went wrong, with the exit status of its kind', async (t) => {
  const databaseUrl = await freshDatabase(t);
  const store = postgresStore(databaseUrl, 1);
  t.teardown(() => store.close());
  await migrate(store);
  const { catalog } = await freshTrinoCatalog(t, databaseUrl);

  const wrong = await carbon(['sql', '--catalog', catalog ?? '', 'SELECT hit_rat FROM monthly_prediction_quality'], {});
  t.is(wrong.code, 1);
  t.regex(wrong.stderr, /^carbon sql: .*Column 'hit_rat' cannot be resolved \(line 1, column 8\)/);

  const unreachable = await carbon(['sql', '--server', 'http://127.0.0.1:9', 'SELECT 1'], {});
  t.is(unreachable.code, 3);
  t.regex(unreachable.stderr, /^carbon sql: Trino does not answer at http:\/\/127\.0\.0\.1:9/);

  const both = await carbon(['sql', '--file', 'q.sql', 'SELECT 1'], {});
  t.is(both.code, 1);
  t.regex(both.stderr, /give the statement as an argument or with --file, not both/);

  const badFormat = await carbon(['sql', '--format', 'xml', 'SELECT 1'], {});
  t.is(badFormat.code, 1);
  t.regex(badFormat.stderr, /Allowed choices are table, csv, json/);
});
