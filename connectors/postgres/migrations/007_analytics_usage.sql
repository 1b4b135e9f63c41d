-- Usage for analysts: the hourly sums of every worker added up, so that a chart never sees a worker's share alone
-- (the same rollup `carbon usage` reads). Plain views over the hourly tables: the sum over workers pushes down. Sums
-- of bigint are numeric, which Trino cannot map: cast back, far from overflowing.
CREATE VIEW analytics.tenant_usage AS
SELECT u.hour, (u.hour AT TIME ZONE 'UTC')::date AS day, date_trunc('month', u.hour AT TIME ZONE 'UTC')::date AS month,
  u.tenant, u.method, u.code, sum(u.calls)::bigint AS calls, sum(u.stream_messages)::bigint AS stream_messages,
  sum(u.bytes_out)::bigint AS bytes_out, sum(u.cpu_us) / 1e6::float8 AS cpu_s
FROM usage_tenant_hourly u
GROUP BY u.hour, u.tenant, u.method, u.code;

CREATE VIEW analytics.commodity_usage AS
SELECT u.hour, (u.hour AT TIME ZONE 'UTC')::date AS day, date_trunc('month', u.hour AT TIME ZONE 'UTC')::date AS month,
  u.commodity, sum(u.ticks)::bigint AS ticks, sum(u.actor_cpu_us) / 1e6::float8 AS actor_cpu_s, sum(u.rows_stored)::bigint AS rows_stored,
  sum(u.bytes_stored)::bigint AS bytes_stored, sum(u.training_cpu_us) / 1e6::float8 AS training_cpu_s
FROM usage_commodity_hourly u
GROUP BY u.hour, u.commodity;
