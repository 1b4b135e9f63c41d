-- Forecaster families (issue: forecasts worth serving). Every family of every horizon is a model version; per
-- commodity and horizon one is in service (the champion) and the others forecast in the shadow.

-- The EWMA volatility the forecasters scale their quantiles by (a feature of the window, like the others).
ALTER TABLE features ADD COLUMN ewma_volatility double precision;

ALTER TABLE models ADD COLUMN family text NOT NULL DEFAULT 'forest';
ALTER TABLE models DROP CONSTRAINT models_status_check;
ALTER TABLE models ADD CONSTRAINT models_status_check CHECK (status IN ('candidate', 'active', 'shadow', 'retired', 'rejected'));
DROP INDEX models_one_active_per_commodity;
CREATE UNIQUE INDEX models_one_active_per_horizon ON models (commodity, horizon_ticks) WHERE status = 'active';
-- One challenger of a family per commodity and horizon (a newer version of the champion's own family may be one).
CREATE UNIQUE INDEX models_one_shadow_per_family ON models (commodity, horizon_ticks, family) WHERE status = 'shadow';

ALTER TABLE model_service ADD COLUMN horizon_ticks integer NOT NULL DEFAULT 1;
ALTER TABLE model_service DROP CONSTRAINT model_service_pkey;
ALTER TABLE model_service ADD PRIMARY KEY (commodity, horizon_ticks, from_at);

-- What a prediction now carries beside its point forecast and 80 % interval.
ALTER TABLE predictions ADD COLUMN family text NOT NULL DEFAULT '';
ALTER TABLE predictions ADD COLUMN quantile_levels double precision[];
ALTER TABLE predictions ADD COLUMN quantile_returns double precision[];
ALTER TABLE predictions ADD COLUMN scale double precision;
-- carbon.v1.TradingSignal
ALTER TABLE predictions ADD COLUMN signal smallint NOT NULL DEFAULT 0;
ALTER TABLE predictions ADD COLUMN signal_reason text NOT NULL DEFAULT '';
-- The champion's walk-forward mean pinball loss over the no-change forecast's (below 1: better than no change).
ALTER TABLE predictions ADD COLUMN skill_pinball_ratio double precision;

-- Realised scores of every model in the shadow against the champion of its commodity and horizon, over the live
-- ticks. Written by the commodity actor with its outputs (an upsert that only moves forward in time), so a restart
-- resumes the counts exactly where the durable ticks left them.
CREATE TABLE challenger_scores (
  commodity             text             NOT NULL,
  horizon_ticks         integer          NOT NULL,
  family                text             NOT NULL,
  model_version         bigint           NOT NULL,
  champion_version      bigint           NOT NULL,
  realised              bigint           NOT NULL,
  through_ts_ms         bigint           NOT NULL,  -- tick time of the latest outcome counted, UTC epoch ms
  interval_score        double precision NOT NULL,  -- mean over the realised outcomes
  champion_interval_score double precision NOT NULL,
  pinball               double precision NOT NULL,
  champion_pinball      double precision NOT NULL,
  covered               double precision NOT NULL,  -- share inside the 80 % interval
  dm_statistic          double precision,           -- Diebold-Mariano on the interval score (positive: challenger better)
  dm_p_value            double precision,
  state                 jsonb            NOT NULL,  -- the running sums the counts resume from
  updated_at            timestamptz      NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (commodity, horizon_ticks, model_version, champion_version)
);
