#!/usr/bin/env bash
# The live check of the monitoring (issue 7) against a running cluster: a real Prometheus (Debian's prometheus
# package) and Pushgateway (prometheus-pushgateway) scrape it while the scenario after `--` runs, then every Grafana
# panel query must return data, every alert rule must evaluate, and `promtool check metrics` must be clean.
#
# Needs `carbon start` running against real Kafka, Postgres and Redis, its aggregated /metrics on METRICS_URL
# (default http://127.0.0.1:9464/metrics), and traffic that touches every panel during the scrape window: ticks
# flowing, an actor crash and an escalation (chaos control), a worker SIGKILL, a malformed message (DLQ), a model
# promotion, live predictions, gRPC calls with errors and a degraded answer, and a `carbon ingest` run with the
# CARBON_PUSHGATEWAY_URL the scenario is given. test/monitoring-live.test.ts is such a scenario, run in-process.
#
# Usage: deploy/tools/check-live.sh [-- scenario command...]      (details: deploy/tools/check-live.ts)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
exec npx tsx deploy/tools/check-live.ts "$@"
