/**
 * Forecasts for the real commodities, end to end on the real services: the shipped prices (data/) in the feature
 * store, `carbon train --all` as an operator runs it, a cluster serving them. Every real commodity gets a champion at
 * every horizon, Predict answers with the quantiles, the family and the skill, a new tick is forecast by the
 * champions, and the challengers' realised scores are stored after live ticks.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { Metadata } from '@grpc/grpc-js';
import { QUANTILE_LEVELS } from '../actors/forecast/distribution.ts';
import { parsePriceCsv } from '../actors/training/price-csv.ts';
import { storeSeriesWithFeatures } from '../actors/training/series-store.ts';
import { postgresStore } from '../connectors/postgres/sql-store.ts';
import { migrate } from '../connectors/postgres/migrate.ts';
import type { PriceTick } from '../proto/gen/carbon/v1/price_tick.ts';
import { TradingSignal } from '../proto/gen/carbon/v1/prediction.ts';
import { startCluster, testEnvironment, tickPublisher } from './cluster-harness.ts';
import { eventually } from './eventually.ts';
import { call, client } from './gateway-harness.ts';

const REAL = [
  ['WTI', 'wti-daily.csv'],
  ['BRENT', 'brent-daily.csv'],
  ['HENRY_HUB', 'henry-hub-daily.csv'],
  ['GOLD', 'gold-monthly.csv'],
] as const;
const HORIZONS = [1, 5, 20];
const LIVE_TICKS = 4;
const DAY_MS = 86_400_000;

function carbon(args: readonly string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['cli/bin.js', ...args], { env: { ...process.env, CARBON_LOG_LEVEL: 'warn', ...env }, timeout: 600_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

test('after carbon train --all every real commodity is served at every horizon, and the challengers are scored on live ticks', async (t) => {
  // Four real series, four families, three horizons: minutes on a busy 2-core machine.
  t.timeout(900_000);
  const env = await testEnvironment(t, 4);
  const sql = postgresStore(env.databaseUrl, 2);
  t.teardown(() => sql.close());
  await migrate(sql);
  const history = new Map<string, { tsMs: number; price: number }[]>();
  for (const [commodity, file] of REAL) {
    const { ticks } = parsePriceCsv(readFileSync(join('data', file), 'utf8'), file);
    history.set(commodity, ticks);
    await storeSeriesWithFeatures(sql, commodity, ticks, { source: `csv:${file}` });
  }

  const cluster = await startCluster(t, env);
  // Smaller forests than the daily job's: this test is about serving every commodity, not about the forests' skill.
  const trained = await carbon(['train', '--all', '--trees', '10', '--depth', '4'], env.env);
  t.is(trained.code, 0, trained.stderr);
  for (const [commodity] of REAL) {
    for (const h of HORIZONS) t.regex(trained.stdout, new RegExp(`\\n${commodity}\\s+${h}\\s+(no_change|drift|forest|pooled_forest) v\\d+`), `${commodity} at ${h}: a champion`);
  }
  const { rows: active } = await sql.query<{ commodity: string; horizon_ticks: number }>(`SELECT commodity, horizon_ticks FROM models WHERE status = 'active'`);
  t.is(active.length, REAL.length * HORIZONS.length, 'served share 1: a champion for every commodity and horizon');
  await eventually(async () => (await cluster.metric('carbon_model_swaps_total')) >= REAL.length, { what: 'the workers to load the champions', timeoutMs: 60_000, intervalMs: 250 });

  // Live ticks after the shipped history: a small move a day, so that outcomes of horizon 1 are realised.
  const publisher = await tickPublisher(t, env);
  const live: PriceTick[] = [];
  for (const [commodity] of REAL) {
    const last = history.get(commodity)!.at(-1)!;
    for (let i = 1; i <= LIVE_TICKS; i++) live.push({ commodity, tsMs: last.tsMs + i * DAY_MS, price: last.price * (1 + 0.004 * Math.sin(i)), unit: 'USD', source: 'test:live' });
  }
  await publisher.publish(live);
  await publisher.flush();
  await eventually(async () => {
    const { rows } = await sql.query<{ n: string }>(
      `SELECT count(*) AS n FROM predictions p JOIN ticks t ON t.commodity = p.commodity AND t.ts_ms = p.tick_ts_ms WHERE t.source = 'test:live'`,
    );
    return Number(rows[0]?.n) >= REAL.length * LIVE_TICKS * HORIZONS.length;
  }, { what: 'a prediction of every live tick at every horizon', timeoutMs: 60_000, intervalMs: 250 });

  const c = client(Number(cluster.grpcAddress.split(':')[1]));
  t.teardown(() => c.close());
  for (const [commodity] of REAL) {
    const lastLive = live.filter((l) => l.commodity === commodity).at(-1)!;
    for (const horizonTicks of HORIZONS) {
      const r = await call(c.predict.bind(c), { commodity, horizonTicks, acceptStale: true }, new Metadata());
      if (!r.ok) return t.fail(`${commodity} at ${horizonTicks}: ${r.err.message}`);
      const p = r.res.prediction!;
      t.is(p.tickTsMs, lastLive.tsMs, `${commodity}: the latest tick`);
      t.is(p.horizonTicks, horizonTicks);
      t.true(['no_change', 'drift', 'forest', 'pooled_forest'].includes(p.family), p.family);
      t.deepEqual(p.quantileLevels, [...QUANTILE_LEVELS]);
      t.true(p.quantileReturns.every((q, i) => i === 0 || q >= p.quantileReturns[i - 1]!), 'quantiles ascend');
      t.is(p.intervalLowReturn, p.quantileReturns[1]!);
      t.true(p.probabilityUp > 0 && p.probabilityUp < 1);
      t.is(p.direction === 1, p.probabilityUp > 0.5, 'the direction follows the probability');
      t.true(p.skill !== undefined && p.skill.rows > 0);
      t.not(p.signal, TradingSignal.TRADING_SIGNAL_UNSPECIFIED);
      t.true(p.signalReason.length > 0);
    }
  }

  // Each challenger forecast the live ticks beside its champion; the first outcomes are realised and stored.
  await eventually(async () => {
    const { rows } = await sql.query<{ commodity: string }>(`SELECT DISTINCT commodity FROM challenger_scores WHERE horizon_ticks = 1 AND realised >= 1`);
    return rows.length === REAL.length;
  }, { what: 'challenger scores of every commodity', timeoutMs: 60_000, intervalMs: 250 });
  const { rows: scores } = await sql.query<{ realised: string; family: string }>(`SELECT realised, family FROM challenger_scores WHERE commodity = 'WTI' AND horizon_ticks = 1`);
  t.is(scores.length, 3, 'the three families that are not champion');
  t.true(scores.every((s) => Number(s.realised) >= LIVE_TICKS - 2), JSON.stringify(scores));
  t.true((await cluster.metric('carbon_shadow_outcomes', { commodity: 'WTI', horizon: '1' })) > 0);
});
