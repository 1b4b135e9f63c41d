-- The analytics schema: what analysts query through Trino (docs/analytics.md), shaped so that Trino hands the work
-- to Postgres. Trino pushes down filters on any column, TopN, joins and aggregations whose grouping keys are not
-- text, but it never pushes an aggregation grouped by a text column (its PostgreSQL connector refuses, since
-- collations may differ): so time is a date or timestamptz column here, never an epoch to convert, and the
-- questions asked per commodity are answered by views that group by commodity inside Postgres.
--
-- Base tables get stored generated columns only (inserts with explicit column lists, the sinks', are unchanged).
-- Adding them rewrites ticks and features once, under an exclusive lock: on a large store, apply this migration
-- in a quiet hour (docs/analytics.md, "Operating it").
CREATE SCHEMA analytics;

-- Epoch milliseconds (the platform's clock) as a timestamptz, a UTC calendar day and the first day of its month.
CREATE FUNCTION analytics.utc_time(ts_ms bigint) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN to_timestamp(ts_ms / 1000.0::float8);
CREATE FUNCTION analytics.utc_day(ts_ms bigint) RETURNS date
  LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN (to_timestamp(ts_ms / 1000.0::float8) AT TIME ZONE 'UTC')::date;
CREATE FUNCTION analytics.utc_month(ts_ms bigint) RETURNS date
  LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN date_trunc('month', to_timestamp(ts_ms / 1000.0::float8) AT TIME ZONE 'UTC')::date;

-- Stored, so that filters and GROUP BY on them cost nothing per row and push down as they are.
ALTER TABLE ticks ADD COLUMN day date GENERATED ALWAYS AS (analytics.utc_day(ts_ms)) STORED;
ALTER TABLE features ADD COLUMN day date GENERATED ALWAYS AS (analytics.utc_day(ts_ms)) STORED;
ALTER TABLE features ADD COLUMN month date GENERATED ALWAYS AS (analytics.utc_month(ts_ms)) STORED;

-- One row per tick: the rolling features as the commodity actor computed them.
CREATE VIEW analytics.features AS
SELECT f.commodity, analytics.utc_time(f.ts_ms) AS at, f.day, f.month, f.tick_count, f.price,
  f.simple_return, f.log_return, f.non_positive_price, f.sma_5, f.sma_20, f.ema_5, f.ema_20, f.volatility_20,
  f.z_score, f.rsi_14, f.momentum_10, f.window_min, f.window_max, f.stored_at
FROM features f;

-- One row per commodity and UTC day with ticks: open, high, low and close of the day's ticks.
CREATE VIEW analytics.daily_bars AS
SELECT t.commodity, t.day, date_trunc('month', t.day::timestamp)::date AS month,
  (array_agg(t.price ORDER BY t.ts_ms))[1] AS open, max(t.price) AS high, min(t.price) AS low,
  (array_agg(t.price ORDER BY t.ts_ms DESC))[1] AS close, count(*) AS ticks,
  analytics.utc_time(min(t.ts_ms)) AS first_at, analytics.utc_time(max(t.ts_ms)) AS last_at
FROM ticks t
GROUP BY t.commodity, t.day;

-- The log return from one price to another; NULL across a non-positive price, where none exists (such an outcome
-- is not scored, as in the live counts).
CREATE FUNCTION analytics.log_return(from_price double precision, to_price double precision) RETURNS double precision
  LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN CASE WHEN from_price > 0 AND to_price > 0 THEN ln(to_price / from_price) END;

-- One row per prediction, kept by `carbon analytics refresh` (connectors/postgres/analytics-refresh.ts): new
-- predictions are copied in, and an outcome is filled in once the tick `horizon_ticks` after the prediction's own
-- is stored and its time has passed. Kept rather than computed in a view because finding that tick is two joins
-- over the whole store, which no dashboard should pay for on every load; each refresh only touches new rows and
-- the predictions still waiting for their outcome. What queries group by or average is stored, worked out once.
CREATE TABLE analytics.prediction_facts (
  commodity            text             NOT NULL,
  tick_ts_ms           bigint           NOT NULL,  -- UTC, epoch milliseconds of the tick predicted on
  model_version        bigint           NOT NULL,
  horizon_ticks        integer          NOT NULL,
  day                  date             NOT NULL,  -- UTC day of the tick
  month                date             NOT NULL,
  predicted_at_ms      bigint           NOT NULL,
  tick_price           double precision NOT NULL,
  direction            smallint         NOT NULL,  -- carbon.v1.Direction
  predicted_return     double precision NOT NULL,
  probability_up       double precision NOT NULL,
  interval_low_return  double precision NOT NULL,
  interval_high_return double precision NOT NULL,
  interval_level       double precision NOT NULL,
  -- The model was in service (not in the shadow) when it made the prediction: model_service, by wall clock.
  served               boolean          NOT NULL,
  tick_count           bigint,                     -- the tick's number in its commodity; NULL until its features row is stored
  volatility_20        double precision,
  probability_decile   smallint GENERATED ALWAYS AS (least(floor(probability_up * 10), 9)::smallint) STORED,
  -- Volatility bands shared by every commodity, each twice the one below: -7 is 0.78 % to 1.56 % per tick.
  vol_band             smallint GENERATED ALWAYS AS (CASE WHEN volatility_20 > 0 THEN floor(ln(volatility_20) / ln(2)) END::smallint) STORED,
  realised_ts_ms       bigint,                     -- the realising tick; NULL until it is stored and its time has passed
  realised_price       double precision,
  outcome_known_at     timestamptz,                -- the refresh that filled the outcome in: never before realised_ts_ms
  realised_return      double precision GENERATED ALWAYS AS (analytics.log_return(tick_price, realised_price)) STORED,
  -- 1 or 0, NULL until realised: the price rose; the direction was right; the return fell inside the interval.
  realised_up          double precision GENERATED ALWAYS AS ((analytics.log_return(tick_price, realised_price) > 0)::int::float8) STORED,
  hit                  double precision GENERATED ALWAYS AS
    (((analytics.log_return(tick_price, realised_price) > 0) = (direction = 1))::int::float8) STORED,
  covered              double precision GENERATED ALWAYS AS
    ((analytics.log_return(tick_price, realised_price) BETWEEN interval_low_return AND interval_high_return)::int::float8) STORED,
  PRIMARY KEY (commodity, tick_ts_ms, model_version)
);
CREATE INDEX prediction_facts_waiting ON analytics.prediction_facts (commodity, tick_ts_ms) WHERE realised_ts_ms IS NULL;
CREATE INDEX prediction_facts_by_day ON analytics.prediction_facts (day);

-- The facts summed per commodity, day, model and horizon, and whether the model served: the per-commodity
-- questions read these few rows (the refresh recomputes the days it touched) instead of every prediction.
CREATE TABLE analytics.prediction_days (
  commodity          text             NOT NULL,
  day                date             NOT NULL,
  model_version      bigint           NOT NULL,
  horizon_ticks      integer          NOT NULL,
  served             boolean          NOT NULL,
  month              date             NOT NULL,
  predictions        bigint           NOT NULL,
  realised           bigint           NOT NULL,
  hits               double precision NOT NULL,
  covered            double precision NOT NULL,
  interval_level_sum double precision NOT NULL,  -- over the realised predictions, as are the error sums
  abs_error_sum      double precision NOT NULL,
  squared_error_sum  double precision NOT NULL,
  error_sum          double precision NOT NULL,
  PRIMARY KEY (commodity, day, model_version, horizon_ticks, served)
);

-- What each refresh did, so that anyone can tell how fresh the outcomes are.
CREATE TABLE analytics.refreshes (
  refreshed_at  timestamptz PRIMARY KEY,
  predictions   bigint      NOT NULL,  -- new predictions copied in
  outcomes      bigint      NOT NULL,  -- outcomes filled in
  duration_ms   double precision NOT NULL
);

-- Every prediction with its outcome; the outcome columns are NULL until it is known. hit, covered and realised_up
-- are 1 or 0, so that avg() is a rate and sum() a count, both pushed down by Trino.
CREATE VIEW analytics.prediction_outcomes AS
SELECT x.commodity, x.model_version, x.horizon_ticks, analytics.utc_time(x.tick_ts_ms) AS at, x.day, x.month,
  analytics.utc_time(x.predicted_at_ms) AS predicted_at, x.served, x.tick_price,
  CASE x.direction WHEN 1 THEN 'up' WHEN 2 THEN 'down' END AS direction,
  x.predicted_return, x.tick_price * exp(x.predicted_return) AS predicted_price, x.probability_up,
  x.probability_decile, x.interval_level, x.interval_low_return, x.interval_high_return,
  x.tick_price * exp(x.interval_low_return) AS interval_low_price,
  x.tick_price * exp(x.interval_high_return) AS interval_high_price,
  x.volatility_20, x.vol_band,
  analytics.utc_time(x.realised_ts_ms) AS realised_at, x.realised_price, x.realised_return,
  x.realised_return - x.predicted_return AS error,
  abs(x.realised_return - x.predicted_return) AS abs_error,
  (x.realised_return - x.predicted_return) * (x.realised_return - x.predicted_return) AS squared_error,
  x.realised_up, x.hit, x.covered, x.outcome_known_at
FROM analytics.prediction_facts x;

-- Prediction quality per commodity, day, model and horizon (served and shadow together), for time series. Counts
-- are cast back to bigint: Trino leaves out a numeric column without a declared precision, which sum() makes.
CREATE VIEW analytics.daily_prediction_quality AS
SELECT commodity, day, month, model_version, horizon_ticks, sum(predictions)::bigint AS predictions, sum(realised)::bigint AS realised,
  sum(hits) AS hits, sum(hits) / nullif(sum(realised), 0) AS hit_rate, sum(covered) / nullif(sum(realised), 0) AS coverage,
  sum(abs_error_sum) / nullif(sum(realised), 0) AS mae
FROM analytics.prediction_days
GROUP BY commodity, day, month, model_version, horizon_ticks;

-- The same per month, with the interval's nominal coverage, RMSE and bias (mean error).
CREATE VIEW analytics.monthly_prediction_quality AS
SELECT commodity, month, model_version, horizon_ticks, sum(predictions)::bigint AS predictions, sum(realised)::bigint AS realised,
  sum(hits) AS hits, sum(hits) / nullif(sum(realised), 0) AS hit_rate, sum(covered) / nullif(sum(realised), 0) AS coverage,
  sum(interval_level_sum) / nullif(sum(realised), 0) AS interval_level, sum(abs_error_sum) / nullif(sum(realised), 0) AS mae,
  sqrt(sum(squared_error_sum) / nullif(sum(realised), 0)) AS rmse, sum(error_sum) / nullif(sum(realised), 0) AS bias
FROM analytics.prediction_days
GROUP BY commodity, month, model_version, horizon_ticks;

-- Which model served each commodity when (to_at NULL: still in service), with what the registry knows of it.
CREATE VIEW analytics.model_service AS
SELECT s.commodity, s.model_version, s.from_at, s.to_at, (s.from_at AT TIME ZONE 'UTC')::date AS from_day,
  (s.to_at AT TIME ZONE 'UTC')::date AS to_day, s.to_at IS NULL AS in_service, s.reason, m.status, m.format,
  m.horizon_ticks, m.train_rows, analytics.utc_time(m.train_from_ms) AS train_from,
  analytics.utc_time(m.train_to_ms) AS train_to, m.trained_at
FROM model_service s
JOIN models m ON m.version = s.model_version;

-- The model registry: one row per model version.
CREATE VIEW analytics.models AS
SELECT m.version AS model_version, m.commodity, m.status, m.format, m.horizon_ticks, m.train_rows,
  analytics.utc_time(m.train_from_ms) AS train_from, analytics.utc_time(m.train_to_ms) AS train_to, m.trained_at
FROM models m;

-- Who did what when: promotions, rollbacks, refused calls...
CREATE VIEW analytics.audit_log AS
SELECT a.id, a.at, (a.at AT TIME ZONE 'UTC')::date AS day, date_trunc('month', a.at AT TIME ZONE 'UTC')::date AS month,
  a.actor, a.action, a.subject, a.details
FROM audit_log a;
