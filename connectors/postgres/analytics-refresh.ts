/**
 * Keeps analytics.prediction_facts (migration 004) current: copies in the predictions it does not hold yet, and
 * fills in each outcome once the tick `horizon_ticks` after the prediction's own is stored and its time has
 * passed; then works out again the sums of analytics.prediction_days for the days it changed. Only new predictions
 * and those still waiting are touched, so a refresh costs what changed since the last one, not the size of the
 * store. Runs in one transaction under an advisory lock: two refreshes at once serialize, and a reader sees the
 * facts before or after a refresh, never half of one.
 */
import type { SqlQuery, SqlStore } from './sql-store.ts';

/** Arbitrary but fixed: the advisory lock key of analytics refreshes (migrations hold 254_0001). */
const REFRESH_LOCK_KEY = 254_0002;

export interface RefreshSummary {
  /** The refresh's transaction time: every outcome filled in is of a tick at or before it. */
  readonly refreshedAt: Date;
  /** Predictions copied in. */
  readonly predictions: number;
  /** Outcomes filled in, of new and of waiting predictions. */
  readonly outcomes: number;
  readonly durationMs: number;
}

/** Epoch milliseconds of the transaction's start: ticks after it are not known yet. */
const NOW_MS = '(extract(epoch FROM now()) * 1000)::bigint';

/**
 * Each prediction not copied yet, with its tick's number and volatility, whether its model was in service when
 * it made it (a service period starts before the model's first prediction and ends after its last, so this does
 * not change later), and its outcome if it is due.
 */
const copyNewPredictions = `
INSERT INTO analytics.prediction_facts AS x (commodity, tick_ts_ms, model_version, horizon_ticks, day, month,
  predicted_at_ms, tick_price, direction, predicted_return, probability_up, interval_low_return,
  interval_high_return, interval_level, served, tick_count, volatility_20, realised_ts_ms, realised_price,
  outcome_known_at)
SELECT p.commodity, p.tick_ts_ms, p.model_version, p.horizon_ticks, analytics.utc_day(p.tick_ts_ms),
  analytics.utc_month(p.tick_ts_ms), p.predicted_at_ms, p.tick_price, p.direction, p.predicted_return,
  p.probability_up, p.interval_low_return, p.interval_high_return, p.interval_level,
  EXISTS (SELECT 1 FROM model_service s WHERE s.commodity = p.commodity AND s.model_version = p.model_version
    AND s.from_at <= analytics.utc_time(p.predicted_at_ms)
    AND (s.to_at IS NULL OR s.to_at > analytics.utc_time(p.predicted_at_ms))),
  f.tick_count, f.volatility_20, r.ts_ms, r.price, CASE WHEN r.ts_ms IS NOT NULL THEN now() END
FROM predictions p
LEFT JOIN features f ON f.commodity = p.commodity AND f.ts_ms = p.tick_ts_ms
LEFT JOIN features r ON r.commodity = p.commodity AND r.tick_count = f.tick_count + p.horizon_ticks AND r.ts_ms <= ${NOW_MS}
WHERE NOT EXISTS (
  SELECT 1 FROM analytics.prediction_facts known
  WHERE known.commodity = p.commodity AND known.tick_ts_ms = p.tick_ts_ms AND known.model_version = p.model_version)`;

/** A waiting prediction whose tick's features row came after it was copied (written by another transaction). */
const numberWaitingTicks = `
UPDATE analytics.prediction_facts x SET tick_count = f.tick_count, volatility_20 = f.volatility_20
FROM features f
WHERE x.realised_ts_ms IS NULL AND x.tick_count IS NULL AND f.commodity = x.commodity AND f.ts_ms = x.tick_ts_ms`;

/**
 * Outcomes now due. The realising tick comes after the prediction's (ts_ms > tick_ts_ms), which lets Postgres
 * read only the few newest ticks of each commodity through the primary key: waiting predictions are recent ones.
 */
const fillDueOutcomes = `
UPDATE analytics.prediction_facts x SET realised_ts_ms = r.ts_ms, realised_price = r.price, outcome_known_at = now()
FROM features r
WHERE x.realised_ts_ms IS NULL AND r.commodity = x.commodity AND r.ts_ms > x.tick_ts_ms
  AND r.tick_count = x.tick_count + x.horizon_ticks AND r.ts_ms <= ${NOW_MS}`;

/** The keys of analytics.prediction_days whose rows a refresh changes, gathered as it goes. */
const createTouchedDays = `
CREATE TEMP TABLE touched_days (commodity text, day date, model_version bigint, horizon_ticks integer, served boolean,
  PRIMARY KEY (commodity, day, model_version, horizon_ticks, served)) ON COMMIT DROP`;

/** The sums of the touched days, worked out again from the facts (through the view, which defines the errors). */
const resumTouchedDays = [
  `DELETE FROM analytics.prediction_days d USING touched_days t
   WHERE d.commodity = t.commodity AND d.day = t.day AND d.model_version = t.model_version
     AND d.horizon_ticks = t.horizon_ticks AND d.served = t.served`,
  `INSERT INTO analytics.prediction_days (commodity, day, model_version, horizon_ticks, served, month, predictions,
     realised, hits, covered, interval_level_sum, abs_error_sum, squared_error_sum, error_sum)
   SELECT o.commodity, o.day, o.model_version, o.horizon_ticks, o.served, min(o.month), count(*), count(o.realised_return),
     coalesce(sum(o.hit), 0), coalesce(sum(o.covered), 0),
     coalesce(sum(o.interval_level) FILTER (WHERE o.realised_return IS NOT NULL), 0), coalesce(sum(o.abs_error), 0),
     coalesce(sum(o.squared_error), 0), coalesce(sum(o.error), 0)
   FROM analytics.prediction_outcomes o
   JOIN touched_days t USING (commodity, day, model_version, horizon_ticks, served)
   GROUP BY o.commodity, o.day, o.model_version, o.horizon_ticks, o.served`,
];

/** Runs a data-changing statement of the facts, notes the days it touched, and counts its rows and their outcomes. */
async function counted(tx: SqlQuery, statement: string): Promise<{ rows: number; withOutcome: number }> {
  const { rows } = await tx.query<{ rows: number; with_outcome: number }>(`
    WITH changed AS (${statement} RETURNING x.commodity, x.day, x.model_version, x.horizon_ticks, x.served, x.realised_ts_ms),
    noted AS (INSERT INTO touched_days SELECT DISTINCT commodity, day, model_version, horizon_ticks, served FROM changed ON CONFLICT DO NOTHING)
    SELECT count(*)::int AS rows, count(realised_ts_ms)::int AS with_outcome FROM changed`);
  return { rows: rows[0]?.rows ?? 0, withOutcome: rows[0]?.with_outcome ?? 0 };
}

export async function refreshAnalytics(store: SqlStore): Promise<RefreshSummary> {
  const started = performance.now();
  return store.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [REFRESH_LOCK_KEY]);
    await tx.query(createTouchedDays);
    const copied = await counted(tx, copyNewPredictions);
    await tx.query(numberWaitingTicks);
    const filled = await counted(tx, fillDueOutcomes);
    for (const statement of resumTouchedDays) await tx.query(statement);
    const durationMs = performance.now() - started;
    const { rows } = await tx.query<{ at: Date }>(
      'INSERT INTO analytics.refreshes (refreshed_at, predictions, outcomes, duration_ms) VALUES (now(), $1, $2, $3) RETURNING refreshed_at AS at',
      [copied.rows, copied.withOutcome + filled.rows, durationMs]);
    return { refreshedAt: rows[0]!.at, predictions: copied.rows, outcomes: copied.withOutcome + filled.rows, durationMs };
  });
}
