/**
 * `npm run bench -- analytics [options]` (`--help` lists them with their defaults)
 *
 * The ten questions of docs/analytics.md through Trino (the local coordinator of `npm run services:up`, over a
 * catalog of its own) and the same SQL straight to Postgres through `pg`, on a fresh database holding a synthetic
 * store: `ticks` features rows over `commodities` commodities (the platform's synthetic prices and feature
 * math) and a prediction per row, refreshed into the analytics schema. Per question: the median time of each
 * side over `runs` runs (after one untimed run each), their ratio, and whether Trino's plan leaves every
 * aggregation and join to Postgres. Goals: every question under 1 s through Trino, the median ratio under 3.
 */
import { loadavg } from 'node:os';
import pg from 'pg';
import { refreshAnalytics } from '../connectors/postgres/analytics-refresh.ts';
import { migrate } from '../connectors/postgres/migrate.ts';
import { postgresStore } from '../connectors/postgres/sql-store.ts';
import { runStatement, type TrinoSession } from '../connectors/trino/trino-client.ts';
import { loadAnalyticsData } from '../test/analytics-data.ts';
import { exampleQueries } from '../test/analytics-examples.ts';
import { analyticsSession, createCatalogStatement, planRunsInPostgres, TRINO_URL } from '../test/trino.ts';
import type { OptionSpecs, OptionValues } from './_options.ts';
import type { BenchResult } from './run.ts';

const ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export const summary = 'The ten questions of docs/analytics.md through Trino and the same SQL straight to Postgres, on a fresh synthetic store: time of each, ratio, pushdown.';

export const options = {
  ticks: { default: 1_000_000, help: 'features rows (ticks) over all commodities, a prediction each', integer: true },
  commodities: { default: 200, help: 'synthetic commodities', integer: true },
  runs: { default: 5, help: 'timed runs of each question on each side; the median is reported', integer: true },
  seed: { default: 1, help: 'seed of the synthetic store', integer: true, min: 0 },
} as const satisfies OptionSpecs;

function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const round = (x: number, digits: number): number => Number(x.toFixed(digits));
const seconds = async (run: () => Promise<unknown>): Promise<number> => {
  const started = performance.now();
  await run();
  return (performance.now() - started) / 1000;
};

interface QuestionTiming {
  readonly number: number;
  readonly trinoS: number;
  readonly postgresS: number;
  readonly pushed: boolean;
}

async function timeQuestions(trino: TrinoSession, direct: pg.Client, runs: number): Promise<QuestionTiming[]> {
  const timings: QuestionTiming[] = [];
  for (const q of exampleQueries()) {
    // One untimed run each: plans, JIT and caches as an analyst's second query finds them.
    await runStatement(trino, q.sql);
    await direct.query(q.sql);
    const trinoS: number[] = [];
    const postgresS: number[] = [];
    for (let i = 0; i < runs; i++) {
      trinoS.push(await seconds(() => runStatement(trino, q.sql)));
      postgresS.push(await seconds(() => direct.query(q.sql)));
    }
    const plan = (await runStatement(trino, `EXPLAIN ${q.sql}`)).rows[0]?.[0];
    const t = { number: q.number, trinoS: median(trinoS), postgresS: median(postgresS), pushed: typeof plan === 'string' && planRunsInPostgres(plan) };
    timings.push(t);
    progress(`Q${q.number}: Trino ${t.trinoS.toFixed(3)} s (${trinoS.map((s) => s.toFixed(2)).join(' ')}), Postgres ${t.postgresS.toFixed(3)} s, ratio ${(t.trinoS / t.postgresS).toFixed(2)}, ${t.pushed ? 'all in Postgres' : 'aggregated in Trino'}: ${q.title}`);
  }
  return timings;
}

export default async function analyticsBench(o: OptionValues<typeof options>): Promise<BenchResult> {
  const name = `carbon_bench_analytics_${process.pid}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  const store = postgresStore(databaseUrl, 2);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const direct = new pg.Client({ connectionString: databaseUrl });
  const trinoAdmin: TrinoSession = { serverUrl: TRINO_URL, user: 'carbon-bench', source: 'carbon-bench' };
  const loadBefore = loadavg()[0]!;
  await direct.connect();
  try {
    await migrate(store);
    progress(`database ${name}: loading ${o.ticks} ticks of ${o.commodities} commodities with their features and predictions`);
    const start = Date.UTC(2024, 0, 1);
    let loaded = { features: 0, predictions: 0 };
    const loadS = await seconds(async () => {
      loaded = await loadAnalyticsData(pool, { seed: o.seed, commodities: o.commodities, ticks: o.ticks, startMs: start, intervalMs: 3_600_000, horizons: [1] });
      await store.exec('VACUUM ANALYZE');
    });
    progress(`loaded ${loaded.features} features rows and ${loaded.predictions} predictions in ${loadS.toFixed(1)} s`);
    const first = await refreshAnalytics(store);
    const refreshS = first.durationMs / 1000;
    progress(`first refresh: ${first.predictions} predictions, ${first.outcomes} outcomes in ${refreshS.toFixed(1)} s`);
    await store.exec('VACUUM ANALYZE analytics.prediction_facts');
    const noopRefreshS = (await refreshAnalytics(store)).durationMs / 1000;
    progress(`a refresh with nothing new: ${noopRefreshS.toFixed(1)} s`);

    await runStatement(trinoAdmin, createCatalogStatement(name, databaseUrl));
    // As in Trino's session: unqualified names are the analytics schema's.
    await direct.query('SET search_path TO analytics');
    const timings = await timeQuestions(analyticsSession(name), direct, o.runs);

    const ratios = timings.map((t) => t.trinoS / t.postgresS);
    const maxTrinoS = Math.max(...timings.map((t) => t.trinoS));
    const medianRatio = median(ratios);
    return {
      bench: 'analytics',
      features: loaded.features,
      predictions: loaded.predictions,
      commodities: o.commodities,
      runs: o.runs,
      load_s: round(loadS, 1),
      refresh_s: round(refreshS, 1),
      noop_refresh_s: round(noopRefreshS, 2),
      max_trino_s: round(maxTrinoS, 3),
      median_trino_s: round(median(timings.map((t) => t.trinoS)), 3),
      median_postgres_s: round(median(timings.map((t) => t.postgresS)), 3),
      median_ratio: round(medianRatio, 2),
      pushdown_share: round(timings.filter((t) => t.pushed).length / timings.length, 2),
      under_1s: timings.filter((t) => t.trinoS < 1).length,
      goals_met: maxTrinoS < 1 && medianRatio < 3,
      load_average_before: round(loadBefore, 2),
      load_average_after: round(loadavg()[0]!, 2),
    };
  } finally {
    await direct.end();
    await pool.end();
    await store.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    await runStatement(trinoAdmin, `DROP CATALOG IF EXISTS ${name}`);
  }
}
