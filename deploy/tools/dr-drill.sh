#!/usr/bin/env bash
# Disaster-recovery drill (docs/operations/disaster-recovery.md), run against a real Postgres server:
#   1. create a database, apply the platform's migrations, fill the feature store (ticks, features, predictions)
#      and the model registry (models, model_service, audit_log) with rows;
#   2. back it up with the runbook's commands: a full custom-format dump, and a registry-only dump;
#   3. restore the full dump into a second database and the registry-only dump into a third one (migrated, empty:
#      the "registry lost, feature store fine" case);
#   4. compare every table's row count and content digest with the source, and check that the model registry's
#      version sequence continues after the restored rows (a new model must not collide with a restored one).
# Prints one JSON line at the end; exits non-zero on any difference. Drops what it created, whatever happens.
#
# Usage: deploy/tools/dr-drill.sh [admin-url]   (default: $DR_PG_ADMIN_URL or postgres://postgres@127.0.0.1:5432/postgres)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

admin_url="${1:-${DR_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}}"
suffix="$$_${RANDOM}"
source_db="carbon_dr_source_${suffix}"
full_db="carbon_dr_full_${suffix}"
registry_db="carbon_dr_registry_${suffix}"
work_dir="$(mktemp -d)"

url_of() { # the admin URL with another database name
  local base="${admin_url%/*}"
  printf '%s/%s' "$base" "$1"
}
log() { printf '[dr-drill] %s\n' "$*" >&2; }
psql_at() { psql --no-psqlrc --quiet --tuples-only --no-align -v ON_ERROR_STOP=1 "$@"; }

cleanup() {
  local status=$?
  for db in "$source_db" "$full_db" "$registry_db"; do
    psql_at "$admin_url" -c "DROP DATABASE IF EXISTS ${db} WITH (FORCE)" >/dev/null || log "could not drop ${db}"
  done
  rm -rf "$work_dir"
  exit "$status"
}
trap cleanup EXIT

migrate() {
  DR_DATABASE_URL="$1" npx tsx -e "
    Promise.all([import('./connectors/postgres/migrate.ts'), import('./connectors/postgres/sql-store.ts')])
      .then(async ([{ migrate }, { postgresStore }]) => {
        const store = postgresStore(process.env.DR_DATABASE_URL);
        try {
          process.stderr.write('[dr-drill] migrations applied: ' + JSON.stringify(await migrate(store)) + '\n');
        } finally {
          await store.close();
        }
      })
      .catch((err) => { console.error(err); process.exit(1); });
  "
}

for db in "$source_db" "$full_db" "$registry_db"; do psql_at "$admin_url" -c "CREATE DATABASE ${db}" >/dev/null; done
log "databases ${source_db}, ${full_db}, ${registry_db} created"
migrate "$(url_of "$source_db")"
migrate "$(url_of "$registry_db")"

# 3 commodities x 2,000 days of ticks and features, a prediction for every tick, 4 models per commodity (the last
# one active) with the service history, and audit entries.
psql_at "$(url_of "$source_db")" <<'SQL'
INSERT INTO ticks (commodity, ts_ms, price, unit, source)
SELECT c, 1577836800000 + d::bigint * 86400000, 50 + 10 * sin(d / 30.0) + length(c), 'USD/bbl', 'dr-drill'
FROM unnest(ARRAY['WTI', 'BRENT', 'HENRY_HUB']) AS c, generate_series(0, 1999) AS d;

INSERT INTO features (commodity, ts_ms, price, simple_return, log_return, non_positive_price, sma_5, sma_20, ema_5,
                      ema_20, volatility_20, z_score, rsi_14, momentum_10, window_min, window_max, tick_count)
SELECT commodity, ts_ms, price, 0.001, 0.000999, false, price, price, price, price, 0.02, 0.5, 55, 0.3,
       price - 1, price + 1, 1 + (ts_ms - 1577836800000) / 86400000
FROM ticks;

INSERT INTO models (commodity, status, params, metrics, format, model, horizon_ticks, train_from_ms, train_to_ms, train_rows)
SELECT c, CASE WHEN v = 4 THEN 'active' ELSE 'retired' END,
       jsonb_build_object('trees', 100, 'maxDepth', 10, 'seed', v),
       jsonb_build_object('directional_accuracy', 0.52, 'mae', 0.011 * v),
       'compact-forest/1', decode(repeat(md5(c || v), 2000), 'hex'), 1, 1577836800000, 1577836800000 + v::bigint * 86400000 * 300,
       v * 300
FROM unnest(ARRAY['WTI', 'BRENT', 'HENRY_HUB']) AS c, generate_series(1, 4) AS v;

INSERT INTO model_service (commodity, model_version, from_at, to_at, reason)
SELECT commodity, version, timestamptz '2024-01-01' + version * interval '1 day',
       CASE WHEN status = 'active' THEN NULL ELSE timestamptz '2024-01-01' + (version + 1) * interval '1 day' END,
       'promoted'
FROM models;

INSERT INTO predictions (commodity, tick_ts_ms, model_version, horizon_ticks, tick_price, predicted_return, predicted_price,
                         direction, probability_up, interval_low_return, interval_high_return, interval_level,
                         inference_us, predicted_at_ms)
SELECT t.commodity, t.ts_ms, m.version, 1, t.price, 0.001, t.price * 1.001, 1, 0.53, -0.02, 0.02, 0.8, 80, t.ts_ms + 5
FROM ticks t JOIN models m ON m.commodity = t.commodity AND m.status = 'active';

INSERT INTO audit_log (actor, action, subject, details)
SELECT 'dr-drill', 'model.promote', commodity || ':' || version, jsonb_build_object('version', version)
FROM models;
SQL

tables=(schema_migrations ticks features predictions models model_service audit_log)
registry_tables=(models model_service audit_log)

# count|digest of a table: the digest covers every column of every row, in a stable order.
table_fingerprint() {
  psql_at "$1" -c "SELECT count(*) || '|' || coalesce(md5(string_agg(t::text, E'\n' ORDER BY t::text)), '-') FROM $2 t"
}

# --- Backup: the runbook's commands ---------------------------------------------------------------------------------
started=$(date +%s.%N)
pg_dump --format=custom --no-owner --no-privileges --dbname="$(url_of "$source_db")" --file="$work_dir/carbon-full.dump"
pg_dump --format=custom --no-owner --no-privileges --data-only \
  --table=models --table=models_version_seq --table=model_service --table=audit_log --table=audit_log_id_seq \
  --dbname="$(url_of "$source_db")" --file="$work_dir/carbon-registry.dump"
dumped=$(date +%s.%N)

# --- Restore ----------------------------------------------------------------------------------------------------
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction \
  --dbname="$(url_of "$full_db")" "$work_dir/carbon-full.dump"
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --data-only \
  --dbname="$(url_of "$registry_db")" "$work_dir/carbon-registry.dump"
restored=$(date +%s.%N)

# --- Compare ------------------------------------------------------------------------------------------------------
differences=0
counts_json=""
for table in "${tables[@]}"; do
  want=$(table_fingerprint "$(url_of "$source_db")" "$table")
  got=$(table_fingerprint "$(url_of "$full_db")" "$table")
  if [[ "$want" != "$got" ]]; then
    log "full restore: ${table} differs: source ${want}, restored ${got}"
    differences=$((differences + 1))
  fi
  counts_json+="${counts_json:+,}\"${table}\":${want%%|*}"
done
for table in "${registry_tables[@]}"; do
  want=$(table_fingerprint "$(url_of "$source_db")" "$table")
  got=$(table_fingerprint "$(url_of "$registry_db")" "$table")
  if [[ "$want" != "$got" ]]; then
    log "registry restore: ${table} differs: source ${want}, restored ${got}"
    differences=$((differences + 1))
  fi
done

# After a restore, the next model registered must get a fresh version, not collide with a restored one.
for db in "$full_db" "$registry_db"; do
  max_version=$(psql_at "$(url_of "$db")" -c "SELECT max(version) FROM models")
  new_version=$(psql_at "$(url_of "$db")" -c "INSERT INTO models (commodity, status, params, metrics, format, model, horizon_ticks, train_from_ms, train_to_ms, train_rows)
    VALUES ('WTI', 'candidate', '{}', '{}', 'compact-forest/1', '\\x00', 1, 0, 0, 0) RETURNING version" | head -n 1)
  if ((new_version <= max_version)); then
    log "${db}: a new model got version ${new_version}, not above the restored ${max_version}"
    differences=$((differences + 1))
  fi
done

full_bytes=$(stat -c %s "$work_dir/carbon-full.dump")
registry_bytes=$(stat -c %s "$work_dir/carbon-registry.dump")
log "compared ${#tables[@]} tables after the full restore and ${#registry_tables[@]} after the registry-only restore: ${differences} differences"
printf '{"drill":"dr","rows":{%s},"full_dump_bytes":%s,"registry_dump_bytes":%s,"dump_s":%.2f,"restore_s":%.2f,"differences":%d}\n' \
  "$counts_json" "$full_bytes" "$registry_bytes" "$(awk "BEGIN { print $dumped - $started }")" "$(awk "BEGIN { print $restored - $dumped }")" "$differences"
((differences == 0))
