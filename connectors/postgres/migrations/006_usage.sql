-- Usage, summed by UTC hour: each worker process writes its own totals of the hour (the key holds `worker`), the
-- same sums again on every write, so a repeated write changes nothing and a restarted worker writes rows of its
-- own: a rollup is the SUM over workers, never doubled and, workers writing when they stop, never short.
CREATE TABLE usage_tenant_hourly (
  hour             timestamptz NOT NULL,   -- start of the UTC hour
  tenant           text        NOT NULL,
  method           text        NOT NULL,   -- gRPC method: Predict, GetFeatures, ...
  code             text        NOT NULL,   -- gRPC status: OK, RESOURCE_EXHAUSTED, ...
  worker           text        NOT NULL,   -- the writing process: host:pid:random
  calls            bigint      NOT NULL,
  stream_messages  bigint      NOT NULL,
  bytes_out        bigint      NOT NULL,
  cpu_us           bigint      NOT NULL,   -- CPU time of the calls on the worker that took them, microseconds
  written_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (hour, tenant, method, code, worker)
);

CREATE TABLE usage_commodity_hourly (
  hour             timestamptz NOT NULL,
  commodity        text        NOT NULL,
  worker           text        NOT NULL,   -- a worker process, or a `carbon train` run
  ticks            bigint      NOT NULL,
  actor_cpu_us     bigint      NOT NULL,
  rows_stored      bigint      NOT NULL,
  bytes_stored     bigint      NOT NULL,
  training_cpu_us  bigint      NOT NULL,
  written_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (hour, commodity, worker)
);
