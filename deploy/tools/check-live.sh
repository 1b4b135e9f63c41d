#!/usr/bin/env bash
# The live check of the monitoring (issue 7): a real Prometheus (Debian's prometheus package) scrapes a running
# cluster while ticks flow, then every Grafana panel query must return data and every alert rule must evaluate.
#
# Needs, before it starts:
#   - `carbon start` running against real Kafka, Postgres and Redis, its aggregated /metrics on METRICS_URL
#     (default http://127.0.0.1:9464/metrics);
#   - traffic that touches every panel during the scrape window, given as the scenario command after `--`
#     (or produced by the caller meanwhile): ticks ingested, at least one actor crash through the chaos control
#     (recovery histogram, restarts), one escalation, one worker SIGKILL (worker restarts), a bad message (DLQ),
#     a model promotion (swaps, model version), gRPC calls including errors and a degraded answer, and the
#     `carbon ingest` job's counters reaching Prometheus.
# Steps: `promtool check metrics` on /metrics; a Prometheus config scraping METRICS_URL every 2 s with rules.yml
# loaded (`promtool check config`); Prometheus started on 127.0.0.1:PROM_PORT with a throwaway TSDB; the scenario;
# then deploy/tools/check-panels-live.ts. Exits non-zero when anything fails; stops the Prometheus it started.
#
# Usage: deploy/tools/check-live.sh [-- scenario command...]
#   env: METRICS_URL, PROM_PORT (19090), SCRAPE_WINDOW_S (60: how long to scrape when no scenario is given)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

metrics_url="${METRICS_URL:-http://127.0.0.1:9464/metrics}"
prom_port="${PROM_PORT:-19090}"
scrape_window_s="${SCRAPE_WINDOW_S:-60}"
prom_url="http://127.0.0.1:${prom_port}"
work_dir="$(mktemp -d)"
prom_pid=""

log() { printf '[check-live] %s\n' "$*" >&2; }
cleanup() {
  local status=$?
  if [[ -n "$prom_pid" ]]; then kill "$prom_pid" 2>/dev/null || true; wait "$prom_pid" 2>/dev/null || true; fi
  rm -rf "$work_dir"
  exit "$status"
}
trap cleanup EXIT

if [[ "${1:-}" == "--" ]]; then shift; fi
for tool in promtool prometheus curl; do
  command -v "$tool" >/dev/null || { log "$tool not found (apt-get install prometheus curl)"; exit 2; }
done

if ! curl -fsS --max-time 5 "$metrics_url" >"$work_dir/metrics.txt"; then
  log "no cluster answers on ${metrics_url}: start one with carbon start (real Kafka, Postgres, Redis) first"
  exit 2
fi
log "promtool check metrics on ${metrics_url}"
promtool check metrics <"$work_dir/metrics.txt"

target="${metrics_url#*://}"
target="${target%%/*}"
metrics_path="/${metrics_url#*://*/}"
cp deploy/prometheus/rules.yml "$work_dir/rules.yml"
cat >"$work_dir/prometheus.yml" <<EOF
global:
  scrape_interval: 2s
  evaluation_interval: 2s
rule_files:
  - rules.yml
scrape_configs:
  - job_name: carbon-metrics
    metrics_path: ${metrics_path}
    static_configs:
      - targets: ['${target}']
EOF
promtool check config "$work_dir/prometheus.yml"

prometheus --config.file="$work_dir/prometheus.yml" --storage.tsdb.path="$work_dir/tsdb" \
  --web.listen-address="127.0.0.1:${prom_port}" --log.level=warn >"$work_dir/prometheus.log" 2>&1 &
prom_pid=$!
for _ in $(seq 1 60); do
  curl -fsS --max-time 1 "${prom_url}/-/ready" >/dev/null 2>&1 && break
  kill -0 "$prom_pid" 2>/dev/null || { cat "$work_dir/prometheus.log" >&2; log "prometheus exited"; exit 1; }
  sleep 0.5
done
log "prometheus ${prom_url} scraping ${metrics_url}"

if (($# > 0)); then
  log "scenario: $*"
  "$@"
else
  log "no scenario given: scraping for ${scrape_window_s} s while the caller's traffic flows"
  sleep "$scrape_window_s"
fi
# Two more scrapes and a rule evaluation after the scenario's last event.
sleep 5

npx tsx deploy/tools/check-panels-live.ts "$prom_url" 1m
