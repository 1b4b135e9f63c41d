import test from 'ava';
import { refreshAnalytics } from './analytics-refresh.ts';
import { migrate } from './migrate.ts';
import { pgliteStore, type SqlStore } from './sql-store.ts';

const HOUR_MS = 3_600_000;

// One embedded store for the file (a PGlite start takes seconds); each test has commodities of its own.
let shared: Promise<SqlStore> | undefined;
const store = (): Promise<SqlStore> => (shared ??= pgliteStore(undefined).then(async (s) => {
  await migrate(s);
  return s;
}));
test.after.always(async () => {
  if (shared) await (await shared).close();
});

/** Features rows of `commodity` numbered from 1, at the given times, at the given prices. */
async function ticks(s: SqlStore, commodity: string, rows: readonly { n: number; tsMs: number; price: number }[]): Promise<void> {
  for (const r of rows) {
    await s.query(
      `INSERT INTO features (commodity, ts_ms, price, non_positive_price, ema_5, ema_20, volatility_20, window_min, window_max, tick_count)
       VALUES ($1, $2, $3::float8, $3::float8 <= 0, $3::float8, $3::float8, 0.01, $3::float8, $3::float8, $4)`,
      [commodity, r.tsMs, r.price, r.n],
    );
  }
}

/** A prediction of a 1 % rise (interval -2 %..+4 %) on the tick at `tsMs`, `horizon` ticks ahead (model version = horizon). */
async function predict(s: SqlStore, commodity: string, tsMs: number, price: number, horizon: number): Promise<void> {
  await s.query(
    `INSERT INTO predictions (commodity, tick_ts_ms, model_version, horizon_ticks, tick_price, predicted_return, predicted_price,
       direction, probability_up, interval_low_return, interval_high_return, interval_level, inference_us, predicted_at_ms)
     VALUES ($1, $2::bigint, $4::bigint, $4::int, $3::float8, 0.01, $3::float8 * 1.01, 1, 0.6, -0.02, 0.04, 0.8, 10, $2::bigint)`,
    [commodity, tsMs, price, horizon],
  );
}

interface Outcome {
  at_ms: number;
  horizon_ticks: number;
  realised_ms: number | null;
  realised_return: number | null;
  hit: number | null;
  covered: number | null;
  known_ok: boolean | null;
}

async function outcomes(s: SqlStore, commodity: string): Promise<Outcome[]> {
  const { rows } = await s.query<Outcome>(
    `SELECT (extract(epoch FROM at) * 1000)::bigint AS at_ms, horizon_ticks, (extract(epoch FROM realised_at) * 1000)::bigint AS realised_ms,
       realised_return, hit, covered, outcome_known_at >= realised_at AS known_ok
     FROM analytics.prediction_outcomes WHERE commodity = $1 ORDER BY at, horizon_ticks`,
    [commodity],
  );
  return rows;
}

/** The sums of analytics.prediction_days of `commodity`, over its days. */
async function days(s: SqlStore, commodity: string): Promise<{ predictions: number; realised: number; hits: number }[]> {
  const { rows } = await s.query<{ predictions: number; realised: number; hits: number }>(
    'SELECT sum(predictions)::int AS predictions, sum(realised)::int AS realised, sum(hits)::int AS hits FROM analytics.prediction_days WHERE commodity = $1',
    [commodity],
  );
  return rows;
}

test.serial('an outcome is filled in only once the tick its horizon names is stored and its time has passed', async (t) => {
  const s = await store();
  const now = Date.now();
  const at = (n: number) => now + (n - 4) * HOUR_MS; // ticks 1..4 up to now, tick 5 an hour from now
  await ticks(s, 'AAA', [1, 2, 3, 4, 5].map((n) => ({ n, tsMs: at(n), price: 100 + n })));
  await predict(s, 'AAA', at(1), 101, 1); // realised by tick 2
  await predict(s, 'AAA', at(2), 102, 2); // realised by tick 4
  await predict(s, 'AAA', at(3), 103, 2); // tick 5 exists, but its time has not come
  await predict(s, 'AAA', at(4), 104, 1); // the same
  await predict(s, 'AAA', at(4), 104, 2); // tick 6 does not exist yet

  const first = await refreshAnalytics(s);
  t.is(first.predictions, 5);
  t.is(first.outcomes, 2);
  const rows = await outcomes(s, 'AAA');
  t.deepEqual(rows.map((r) => [r.horizon_ticks, r.realised_ms]), [[1, at(2)], [2, at(4)], [2, null], [1, null], [2, null]]);
  t.true(Math.abs((rows[0]?.realised_return ?? 0) - Math.log(102 / 101)) < 1e-12);
  t.deepEqual(rows.map((r) => r.hit), [1, 1, null, null, null], 'up predicted, up it went');
  t.deepEqual(rows.map((r) => r.covered), [1, 1, null, null, null], 'ln(102/101) and ln(104/102) are inside -2 %..+4 %');
  t.true(rows.filter((r) => r.realised_ms !== null).every((r) => r.known_ok), 'never known before its tick');

  t.like(await refreshAnalytics(s), { predictions: 0, outcomes: 0 }, 'a second refresh finds nothing new');
  t.deepEqual(await days(s, 'AAA'), [{ predictions: 5, realised: 2, hits: 2 }], "the day's sums count what is known");
});

test.serial('outcomes come in as their ticks do, also for a prediction stored before its own features row', async (t) => {
  const s = await store();
  const t0 = Date.now() - 10 * HOUR_MS;
  await predict(s, 'BBB', t0 + HOUR_MS, 50, 1);
  await refreshAnalytics(s);
  t.deepEqual((await outcomes(s, 'BBB')).map((r) => r.realised_ms), [null], 'no features row for its tick yet');

  await ticks(s, 'BBB', [{ n: 1, tsMs: t0, price: 49 }, { n: 2, tsMs: t0 + HOUR_MS, price: 50 }]);
  t.like(await refreshAnalytics(s), { predictions: 0, outcomes: 0 }, 'its tick is numbered now, the next one is not there');

  await ticks(s, 'BBB', [{ n: 3, tsMs: t0 + 2 * HOUR_MS, price: -1 }]);
  t.like(await refreshAnalytics(s), { predictions: 0, outcomes: 1 });
  const [row] = await outcomes(s, 'BBB');
  t.is(row?.realised_ms, t0 + 2 * HOUR_MS, 'realised by the tick after it');
  t.is(row?.realised_return, null, 'no log return to a negative price: realised, but not scored');
  t.is(row?.hit, null);
  t.deepEqual(await days(s, 'BBB'), [{ predictions: 1, realised: 0, hits: 0 }], 'an unscored outcome is not counted as realised');
});

test.serial('the refreshes are recorded, and two at once do not copy a prediction twice', async (t) => {
  const s = await store();
  const t0 = Date.now() - 10 * HOUR_MS;
  await ticks(s, 'CCC', [1, 2, 3].map((n) => ({ n, tsMs: t0 + n * HOUR_MS, price: 10 })));
  for (const n of [1, 2]) await predict(s, 'CCC', t0 + n * HOUR_MS, 10, 1);
  const before = await s.query<{ n: number }>('SELECT count(*)::int AS n FROM analytics.refreshes');
  const both = await Promise.all([refreshAnalytics(s), refreshAnalytics(s)]);
  t.is(both[0].predictions + both[1].predictions, 2);
  t.is(both[0].outcomes + both[1].outcomes, 2);
  const { rows } = await s.query<{ predictions: number; outcomes: number }>(
    'SELECT predictions, outcomes FROM analytics.refreshes ORDER BY refreshed_at DESC LIMIT 2');
  t.deepEqual(rows.map((r) => r.predictions + r.outcomes).sort(), [...both].map((r) => r.predictions + r.outcomes).sort(), 'as recorded');
  t.is((await s.query<{ n: number }>('SELECT count(*)::int AS n FROM analytics.refreshes')).rows[0]?.n, (before.rows[0]?.n ?? 0) + 2);
  t.deepEqual((await outcomes(s, 'CCC')).map((r) => r.hit), [0, 0], 'a rise predicted, no change came');
});
