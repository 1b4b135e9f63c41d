-- The feature store, the predictions and the model registry. Every write is an idempotent upsert keyed as below,
-- so that a replay after a crash never duplicates a row.

CREATE TABLE ticks (
  commodity   text             NOT NULL,
  ts_ms       bigint           NOT NULL,  -- UTC, epoch milliseconds
  price       double precision NOT NULL,
  unit        text             NOT NULL DEFAULT '',
  source      text             NOT NULL DEFAULT '',
  stored_at   timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (commodity, ts_ms)
);

CREATE TABLE features (
  commodity          text             NOT NULL,
  ts_ms              bigint           NOT NULL,  -- UTC, epoch milliseconds of the tick
  price              double precision NOT NULL,
  simple_return      double precision,
  log_return         double precision,
  non_positive_price boolean          NOT NULL,
  sma_5              double precision,
  sma_20             double precision,
  ema_5              double precision,
  ema_20             double precision,
  volatility_20      double precision,
  z_score            double precision,
  rsi_14             double precision,
  momentum_10        double precision,
  window_min         double precision NOT NULL,
  window_max         double precision NOT NULL,
  tick_count         bigint           NOT NULL,
  stored_at          timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (commodity, ts_ms)
);

CREATE TABLE models (
  version        bigserial    PRIMARY KEY,
  commodity      text         NOT NULL,
  status         text         NOT NULL CHECK (status IN ('candidate', 'active', 'retired', 'rejected')),
  params         jsonb        NOT NULL,
  metrics        jsonb        NOT NULL,
  format         text         NOT NULL,   -- how `model` is encoded, e.g. 'compact-forest/1'
  model          bytea        NOT NULL,
  horizon_ticks  integer      NOT NULL,
  train_from_ms  bigint       NOT NULL,   -- first and last tick of the training rows, UTC epoch ms
  train_to_ms    bigint       NOT NULL,
  train_rows     integer      NOT NULL,
  trained_at     timestamptz  NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX models_one_active_per_commodity ON models (commodity) WHERE status = 'active';
CREATE INDEX models_by_commodity ON models (commodity, version DESC);

-- Which version served each commodity when: answers "which model made this prediction" for any past one.
CREATE TABLE model_service (
  commodity      text        NOT NULL,
  model_version  bigint      NOT NULL REFERENCES models (version),
  from_at        timestamptz NOT NULL,
  to_at          timestamptz,
  reason         text        NOT NULL,
  PRIMARY KEY (commodity, from_at)
);

CREATE TABLE predictions (
  commodity            text             NOT NULL,
  tick_ts_ms           bigint           NOT NULL,
  model_version        bigint           NOT NULL,
  horizon_ticks        integer          NOT NULL,
  tick_price           double precision NOT NULL,
  predicted_return     double precision NOT NULL,
  predicted_price      double precision NOT NULL,
  direction            smallint         NOT NULL,  -- carbon.v1.Direction
  probability_up       double precision NOT NULL,
  interval_low_return  double precision NOT NULL,
  interval_high_return double precision NOT NULL,
  interval_level       double precision NOT NULL,
  inference_us         double precision NOT NULL,
  predicted_at_ms      bigint           NOT NULL,
  PRIMARY KEY (commodity, tick_ts_ms, model_version)
);

CREATE TABLE audit_log (
  id        bigserial   PRIMARY KEY,
  at        timestamptz NOT NULL DEFAULT now(),
  actor     text        NOT NULL,   -- who: a tenant, an operator's user name, 'trainer'
  action    text        NOT NULL,   -- what: 'model.promote', 'model.rollback', 'auth.denied', ...
  subject   text        NOT NULL,   -- on what: a commodity, a model version, a method
  details   jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_by_time ON audit_log (at);
