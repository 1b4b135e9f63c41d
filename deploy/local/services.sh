#!/usr/bin/env bash
# Starts, stops and reports the real services that the platform and its integration tests talk to on one
# machine: a single-node Kafka broker (jars fetched once from Maven Central), Postgres, Redis, and a single-node
# Trino for the analytics schema (its server fetched once from Maven Central too).
# Usage: services.sh up | down | status | reset | restart kafka|postgres|redis [seconds down]
#        (see deploy/local/README.md)
# SERVICES_INSTANCE=<name> SERVICES_PORT_BASE=<n> runs a separate set for tests that stop and restart services,
# out of the way of everything else: Kafka on n (its controller on n+1), a Postgres cluster of its own on n+2,
# Redis on n+3, their state under $CACHE_ROOT/instances/<name> (no Trino); `down` stops all three.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
CACHE_ROOT="${CARBON_CACHE:-${HOME:-/tmp}/.cache/254carbon}"
KAFKA_DIR="$CACHE_ROOT/kafka-$KAFKA_VERSION"
LIBS_DIR="$KAFKA_DIR/libs"
LIBS_MARKER="$LIBS_DIR/.complete"
INSTANCE="${SERVICES_INSTANCE:-}"
if [[ -n "$INSTANCE" ]]; then
  [[ "$INSTANCE" =~ ^[a-z0-9_]+$ ]] || { echo "SERVICES_INSTANCE must be lowercase letters, digits or _" >&2; exit 2; }
  [[ "${SERVICES_PORT_BASE:-}" =~ ^[0-9]+$ ]] || { echo "SERVICES_INSTANCE needs SERVICES_PORT_BASE (a free port, and the next three)" >&2; exit 2; }
  INSTANCE_DIR="$CACHE_ROOT/instances/$INSTANCE"
  RUN_DIR="$INSTANCE_DIR/kafka"
else
  RUN_DIR="$KAFKA_DIR/run"
fi
DATA_DIR="$RUN_DIR/data"
LOG_DIR="$RUN_DIR/logs"
PID_FILE="$RUN_DIR/kafka.pid"
CONFIG_FILE="$RUN_DIR/server.properties"
# Fixed so that a wiped data directory comes back as the same cluster; any 22-char base64url UUID works.
KAFKA_CLUSTER_ID="${KAFKA_CLUSTER_ID:-nY_upB2xTMu9xazn-ysJcA}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}"
READY_TIMEOUT_S="${SERVICES_READY_TIMEOUT_S:-90}"
# Trino takes 20-25 s to start on a quiet machine, a minute or more on a busy one.
TRINO_READY_TIMEOUT_S="${TRINO_READY_TIMEOUT_S:-180}"
STOP_TIMEOUT_S=60

# Trino 476 needs Java 24 or newer: its own JVM, not the JAVA above (Kafka's).
TRINO_VERSION=476
TRINO_DIR="$CACHE_ROOT/trino-$TRINO_VERSION"
TRINO_SERVER_DIR="$TRINO_DIR/server"
TRINO_MARKER="$TRINO_SERVER_DIR/.complete"
TRINO_RUN_DIR="$TRINO_DIR/run"
TRINO_LOG_DIR="$TRINO_RUN_DIR/var/log"
TRINO_PID_FILE="$TRINO_RUN_DIR/trino.pid"
TRINO_URL="https://repo1.maven.org/maven2/io/trino/trino-server/$TRINO_VERSION/trino-server-$TRINO_VERSION.tar.gz"
TRINO_HEAP_OPTS="${TRINO_HEAP_OPTS:--Xmx2G}"
TRINO_MIN_JAVA=24
# The database the postgresql catalog reads (tests and the bench add catalogs of their own).
TRINO_PG_DATABASE="${TRINO_PG_DATABASE:-test}"
TRINO_CATALOG_FILE="$HERE/../k8s/base/analytics/catalog/postgresql.properties"
# Plugins kept from the tarball: postgresql, and geospatial, without which postgresql fails at start-up.
TRINO_PLUGINS=(postgresql geospatial)

KAFKA_HOST=127.0.0.1
KAFKA_PORT="${SERVICES_PORT_BASE:-9092}"
KAFKA_CONTROLLER_PORT=$((KAFKA_PORT + 1))
PG_HOST=127.0.0.1
PG_PORT=$([[ -n "$INSTANCE" ]] && echo $((KAFKA_PORT + 2)) || echo 5432)
# The Postgres cluster: the system's own, or one created for the instance.
PG_CLUSTER=$([[ -n "$INSTANCE" ]] && echo "carbon_$INSTANCE" || echo main)
REDIS_HOST=127.0.0.1
REDIS_PORT=$([[ -n "$INSTANCE" ]] && echo $((KAFKA_PORT + 3)) || echo 6379)
TRINO_HOST=127.0.0.1
TRINO_PORT="${TRINO_PORT:-8080}"

if [[ -n "${JAVA_HOME:-}" ]]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi

say() { printf '[services] %s\n' "$*"; }
die() { printf '[services] %s\n' "$*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

postgres_answers() { pg_isready -h "$PG_HOST" -p "$PG_PORT" -q; }
redis_answers() { [[ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }

# Prints the pid in a pid file if that process is still alive and its command line holds the given words: a
# recycled pid is never mistaken for the service.
started_pid() {
  local pid_file="$1" words="$2" pid cmdline
  [[ -f "$pid_file" ]] || return 1
  pid="$(<"$pid_file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  cmdline="$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null)" || return 1
  [[ "$cmdline" == *"$words"* ]] || return 1
  echo "$pid"
}

# The pid of the broker this script started, if it is still alive.
broker_pid() { started_pid "$PID_FILE" " kafka.Kafka "; }

# Runs a command in the background, in its own session, so that it outlives this script and the terminal or test
# run that called it: `launch_detached <name> <pid file> <working dir> <log> <command...>`. The shell writes its
# own pid, then execs the command, so the pid file names the JVM itself. Every inherited descriptor above 2 is
# closed first: the lock on fd 9 would otherwise be held for the service's whole life, and a caller's pipe (a CI
# runner's, say) would never see end-of-file. Returns once the pid file is written.
launch_detached() {
  local name="$1" pid_file="$2" dir="$3" log="$4"
  shift 4
  rm -f "$pid_file"
  setsid bash -c 'echo $$ >"$1"; cd "$2"; shift 2
    for fd in /proc/$$/fd/*; do fd="${fd##*/}"; if ((fd > 2)); then eval "exec $fd>&-"; fi; done
    exec "$@"' "start-$name" "$pid_file" "$dir" "$@" >"$log" 2>&1 </dev/null &
  local waited=0
  until [[ -s "$pid_file" ]]; do
    ((waited < 50)) || die "the $name launcher did not write $pid_file"
    sleep 0.1
    waited=$((waited + 1))
  done
}

# Stops what this script started: SIGTERM, SIGKILL after STOP_TIMEOUT_S. A process answering on the port that
# this script did not start is left alone. `stop_started <Name> <pid function> <pid file> <host> <port>`.
stop_started() {
  local name="$1" pid_of="$2" pid_file="$3" host="$4" port="$5" pid
  if ! pid="$("$pid_of")"; then
    rm -f "$pid_file"
    if port_open "$host" "$port"; then
      say "something answers on $host:$port but was not started by this script; leaving it"
    else
      say "$name is not running"
    fi
    return
  fi
  say "stopping $name (pid $pid)"
  kill -TERM "$pid"
  local deadline=$((SECONDS + STOP_TIMEOUT_S))
  while "$pid_of" >/dev/null; do
    if ((SECONDS >= deadline)); then
      say "$name did not stop within ${STOP_TIMEOUT_S} s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.5
  done
  rm -f "$pid_file"
  say "$name stopped"
}

# The major version of a java binary (default: Kafka's).
java_major() {
  local version
  version="$("${1:-$JAVA}" -version 2>&1 | sed -n '/version "/{s/.*version "\([^"]*\)".*/\1/p;}')"
  version="${version#1.}"
  echo "${version%%[.+-]*}"
}

# Prints the java binary for Trino: $TRINO_JAVA_HOME's, else the newest JDK of the system's JVM folder that is
# recent enough (Temurin's, installed beside the default Java 17).
trino_java() {
  local candidate major best="" best_major=0
  if [[ -n "${TRINO_JAVA_HOME:-}" ]]; then
    echo "$TRINO_JAVA_HOME/bin/java"
    return
  fi
  for candidate in /usr/lib/jvm/*/bin/java; do
    [[ -x "$candidate" ]] || continue
    major="$(java_major "$candidate")"
    if [[ "$major" =~ ^[0-9]+$ ]] && ((major > best_major)); then
      best="$candidate"
      best_major="$major"
    fi
  done
  echo "$best"
}

# Collects everything missing and names the Debian packages at once, rather than one failure per run.
check_tools() {
  local missing=()
  command -v "$JAVA" >/dev/null || missing+=("java (apt-get install default-jre-headless)")
  if [[ ! -f "$LIBS_MARKER" ]]; then
    command -v mvn >/dev/null || missing+=("maven, needed once to fetch the Kafka jars (apt-get install maven)")
  fi
  if ! command -v pg_isready >/dev/null; then
    missing+=("postgresql is not installed (apt-get install postgresql)")
  fi
  if ! command -v redis-cli >/dev/null; then
    if command -v redis-server >/dev/null; then
      missing+=("redis-cli is not installed (apt-get install redis-tools)")
    else
      missing+=("redis is not installed (apt-get install redis-server)")
    fi
  fi
  if [[ ! -f "$TRINO_MARKER" ]]; then
    command -v curl >/dev/null || missing+=("curl, needed once to fetch the Trino server (apt-get install curl)")
  fi
  local trino_java_bin trino_java_major=""
  trino_java_bin="$(trino_java)"
  if [[ -x "$trino_java_bin" ]]; then trino_java_major="$(java_major "$trino_java_bin")"; fi
  if [[ ! "$trino_java_major" =~ ^[0-9]+$ ]] || ((trino_java_major < TRINO_MIN_JAVA)); then
    missing+=("Java $TRINO_MIN_JAVA+ for Trino $TRINO_VERSION (found: ${trino_java_bin:-no JDK under /usr/lib/jvm}${trino_java_major:+, Java $trino_java_major}): install Temurin 25 (apt-get install temurin-25-jdk from Adoptium's repository, https://adoptium.net/installation/linux), or set TRINO_JAVA_HOME to a JDK $TRINO_MIN_JAVA+")
  fi
  if ((${#missing[@]} > 0)); then
    local item
    for item in "${missing[@]}"; do say "missing: $item" >&2; done
    die "install what is missing above, then run again"
  fi
  local major
  major="$(java_major)"
  if [[ ! "$major" =~ ^[0-9]+$ ]] || ((major < 17)); then
    die "Kafka $KAFKA_VERSION needs Java 17 or newer, found '${major:-unknown}': apt-get install default-jre-headless, or set JAVA_HOME"
  fi
}

ensure_postgres() {
  if postgres_answers; then
    say "Postgres up on $PG_HOST:$PG_PORT"
    return
  fi
  local version
  version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
  if [[ -z "$version" ]] || ! command -v pg_ctlcluster >/dev/null; then
    die "postgresql server is not installed (no cluster under /etc/postgresql): apt-get install postgresql"
  fi
  if [[ ! -d "/etc/postgresql/$version/$PG_CLUSTER" ]]; then
    say "creating Postgres cluster $version/$PG_CLUSTER on port $PG_PORT (trust auth, like the test machines')"
    pg_createcluster --port "$PG_PORT" "$version" "$PG_CLUSTER" -- --auth=trust >/dev/null 9>&- ||
      die "pg_createcluster could not create $version/$PG_CLUSTER"
  fi
  say "Postgres down; starting cluster $version/$PG_CLUSTER"
  pg_ctlcluster --skip-systemctl-redirect "$version" "$PG_CLUSTER" start 9>&- ||
    die "pg_ctlcluster could not start Postgres $version/$PG_CLUSTER (see /var/log/postgresql/)"
  local deadline=$((SECONDS + 30))
  until postgres_answers; do
    ((SECONDS < deadline)) || die "Postgres $version/$PG_CLUSTER started but does not answer on $PG_HOST:$PG_PORT after 30 s"
    sleep 1
  done
  say "Postgres up on $PG_HOST:$PG_PORT"
}

ensure_redis() {
  if redis_answers; then
    say "Redis up on $REDIS_HOST:$REDIS_PORT"
    return
  fi
  command -v redis-server >/dev/null || die "redis is not installed: apt-get install redis-server"
  mkdir -p "$CACHE_ROOT"
  local redis_log="$CACHE_ROOT/redis-$REDIS_PORT.log"
  say "Redis down; starting redis-server (no persistence, log $redis_log)"
  redis-server --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" --save "" --appendonly no \
    --logfile "$redis_log" 9>&- || die "redis-server failed to start (see $redis_log)"
  local deadline=$((SECONDS + 15))
  until redis_answers; do
    ((SECONDS < deadline)) || die "redis-server started but does not answer PING on $REDIS_HOST:$REDIS_PORT after 15 s"
    sleep 0.5
  done
  say "Redis up on $REDIS_HOST:$REDIS_PORT"
}

fetch_kafka_libs() {
  if [[ -f "$LIBS_MARKER" ]]; then return; fi
  say "fetching Kafka $KAFKA_VERSION jars from Maven Central into $LIBS_DIR (first run only)"
  local partial="$KAFKA_DIR/libs.partial"
  local started=$SECONDS
  rm -rf "$partial"
  if ! mvn -q -B -f "$HERE/kafka/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$partial" \
    >"$KAFKA_DIR/mvn.log" 2>&1; then
    tail -n 30 "$KAFKA_DIR/mvn.log" >&2
    die "mvn could not fetch Kafka $KAFKA_VERSION (full output: $KAFKA_DIR/mvn.log)"
  fi
  [[ -f "$partial/kafka_2.13-$KAFKA_VERSION.jar" ]] ||
    die "mvn finished but kafka_2.13-$KAFKA_VERSION.jar is not in $partial"
  # Swapped in whole and marked last, so an interrupted download is never taken for a complete one.
  rm -rf "$LIBS_DIR"
  mv "$partial" "$LIBS_DIR"
  touch "$LIBS_MARKER"
  say "fetched $(find "$LIBS_DIR" -name '*.jar' | wc -l) jars in $((SECONDS - started)) s"
}

# Fills KAFKA_JAVA with the java command line for one of Kafka's main classes.
kafka_java_cmd() {
  local heap
  read -r -a heap <<<"$KAFKA_HEAP_OPTS"
  KAFKA_JAVA=("$JAVA" "${heap[@]}" -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$HERE/kafka/log4j2.xml" -Dkafka.logs.dir="$LOG_DIR"
    -cp "$LIBS_DIR/*" "$@")
}

write_config() {
  mkdir -p "$DATA_DIR" "$LOG_DIR"
  # Regenerated at every start so that edits to the committed file take effect on restart. The listeners are
  # written again after it (the last value of a key wins): an instance has ports of its own.
  {
    cat "$HERE/kafka/server.properties"
    printf '\nlog.dirs=%s\n' "$DATA_DIR"
    printf 'listeners=PLAINTEXT://%s:%s,CONTROLLER://%s:%s\n' "$KAFKA_HOST" "$KAFKA_PORT" "$KAFKA_HOST" "$KAFKA_CONTROLLER_PORT"
    printf 'advertised.listeners=PLAINTEXT://%s:%s\n' "$KAFKA_HOST" "$KAFKA_PORT"
    printf 'controller.quorum.voters=1@%s:%s\n' "$KAFKA_HOST" "$KAFKA_CONTROLLER_PORT"
  } >"$CONFIG_FILE"
}

format_storage() {
  if [[ -f "$DATA_DIR/meta.properties" ]]; then return; fi
  say "formatting Kafka storage in $DATA_DIR (cluster id $KAFKA_CLUSTER_ID)"
  kafka_java_cmd kafka.tools.StorageTool format -t "$KAFKA_CLUSTER_ID" -c "$CONFIG_FILE"
  if ! "${KAFKA_JAVA[@]}" >"$LOG_DIR/format.log" 2>&1 9>&-; then
    cat "$LOG_DIR/format.log" >&2
    die "kafka-storage format failed"
  fi
}

print_broker_logs() {
  local file
  for file in "$LOG_DIR/kafka.out" "$LOG_DIR/server.log"; do
    if [[ -s "$file" ]]; then
      printf '[services] --- last lines of %s ---\n' "$file" >&2
      tail -n 40 "$file" >&2
    fi
  done
  # The root cause is usually the last 'Caused by' of a long stack trace.
  local errors
  errors="$(grep -E '^\[[^]]*\] (ERROR|FATAL) |^Caused by: ' "$LOG_DIR/server.log" 2>/dev/null | tail -n 6)" || true
  if [[ -n "$errors" ]]; then
    printf '[services] --- errors in server.log ---\n%s\n' "$errors" >&2
  fi
}

wait_for_kafka() {
  local pid="$1" started="$2"
  local deadline=$((started + READY_TIMEOUT_S)) next_report=$((SECONDS + 10))
  until port_open "$KAFKA_HOST" "$KAFKA_PORT"; do
    # Not kill -0: a broker that died as this script's child stays a zombie until the script exits.
    if ! broker_pid >/dev/null; then
      rm -f "$PID_FILE"
      print_broker_logs
      die "Kafka exited before it answered on $KAFKA_HOST:$KAFKA_PORT"
    fi
    if ((SECONDS >= deadline)); then
      print_broker_logs
      die "Kafka (pid $pid) does not answer on $KAFKA_HOST:$KAFKA_PORT after ${READY_TIMEOUT_S} s; it is left running: 'services.sh down' stops it, SERVICES_READY_TIMEOUT_S waits longer"
    fi
    if ((SECONDS >= next_report)); then
      say "waiting for Kafka on $KAFKA_HOST:$KAFKA_PORT ($((SECONDS - started)) s)"
      next_report=$((SECONDS + 10))
    fi
    sleep 0.5
  done
  say "Kafka $KAFKA_VERSION up on $KAFKA_HOST:$KAFKA_PORT after $((SECONDS - started)) s (pid $pid, logs $LOG_DIR)"
}

ensure_kafka() {
  local pid
  if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    if pid="$(broker_pid)"; then
      say "Kafka already up on $KAFKA_HOST:$KAFKA_PORT (pid $pid), reusing it"
    else
      say "something already answers on $KAFKA_HOST:$KAFKA_PORT (not started by this script), reusing it"
    fi
    return
  fi
  if pid="$(broker_pid)"; then
    say "Kafka (pid $pid) is still starting; waiting for it"
    wait_for_kafka "$pid" "$SECONDS"
    return
  fi
  if port_open "$KAFKA_HOST" "$KAFKA_CONTROLLER_PORT"; then
    die "port $KAFKA_CONTROLLER_PORT (Kafka controller) is taken by another process: $(ss -ltnpH "sport = :$KAFKA_CONTROLLER_PORT" 2>/dev/null | grep -o 'users:.*' || echo 'unknown')"
  fi
  fetch_kafka_libs
  write_config
  format_storage
  local started=$SECONDS
  say "starting Kafka $KAFKA_VERSION (heap $KAFKA_HEAP_OPTS, ready timeout ${READY_TIMEOUT_S} s)"
  kafka_java_cmd kafka.Kafka "$CONFIG_FILE"
  # server.log holds only this start, so that a failure shows its own errors; the last one is kept.
  rm -f "$LOG_DIR"/server.log.[0-9]*
  if [[ -f "$LOG_DIR/server.log" ]]; then mv "$LOG_DIR/server.log" "$LOG_DIR/server.log.previous"; fi
  launch_detached kafka "$PID_FILE" "$KAFKA_DIR" "$LOG_DIR/kafka.out" "${KAFKA_JAVA[@]}"
  wait_for_kafka "$(<"$PID_FILE")" "$started"
}

stop_kafka() { stop_started Kafka broker_pid "$PID_FILE" "$KAFKA_HOST" "$KAFKA_PORT"; }

stop_postgres() {
  local version
  version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
  if ! postgres_answers; then
    say "Postgres is not running on $PG_HOST:$PG_PORT"
    return
  fi
  say "stopping Postgres cluster $version/$PG_CLUSTER (fast: open connections are cut)"
  pg_ctlcluster --skip-systemctl-redirect "$version" "$PG_CLUSTER" stop -m fast 9>&- || die "pg_ctlcluster could not stop $version/$PG_CLUSTER"
}

stop_redis() {
  if ! redis_answers; then
    say "Redis is not running on $REDIS_HOST:$REDIS_PORT"
    return
  fi
  say "stopping Redis on $REDIS_HOST:$REDIS_PORT"
  # SHUTDOWN closes the connection as the server exits: the error redis-cli reports is the expected one.
  redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  local deadline=$((SECONDS + 15))
  while redis_answers; do
    ((SECONDS < deadline)) || die "Redis on $REDIS_HOST:$REDIS_PORT still answers 15 s after SHUTDOWN"
    sleep 0.2
  done
}

# Stops one service, leaves it down for the given seconds and starts it again: what the tests of dependencies that
# restart need. On the shared services it interrupts whoever uses them: tests use an instance of their own.
restart_service() {
  local service="$1" down_s="${2:-0}"
  [[ "$down_s" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "restart: the seconds down must be a number, got '$down_s'"
  case "$service" in
    kafka) stop_kafka; sleep "$down_s"; ensure_kafka ;;
    postgres) stop_postgres; sleep "$down_s"; ensure_postgres ;;
    redis) stop_redis; sleep "$down_s"; ensure_redis ;;
    *) die "restart: kafka, postgres or redis, got '${service:-nothing}'" ;;
  esac
}

# --- Trino ------------------------------------------------------------------------------------------------------

# The pid of the Trino this script started, if it is still alive.
trino_pid() { started_pid "$TRINO_PID_FILE" " io.trino.server.TrinoServer"; }

# Trino answers /v1/info while it starts; it takes queries once that says "starting":false.
trino_ready() {
  local answer
  answer="$( (exec 3<>"/dev/tcp/$TRINO_HOST/$TRINO_PORT" &&
    printf 'GET /v1/info HTTP/1.0\r\nHost: %s\r\n\r\n' "$TRINO_HOST" >&3 && timeout 2 cat <&3) 2>/dev/null)" || return 1
  [[ "$answer" == *'"starting":false'* ]]
}

# Downloads the server tarball once, checks it against Maven Central's SHA-1, and keeps only what the catalog
# needs. The tarball hard-links jars between lib/ and the plugin folders, so it is extracted whole and trimmed
# after; the 821 MB tarball is deleted, about 150 MB stay.
fetch_trino() {
  if [[ -f "$TRINO_MARKER" ]]; then return; fi
  local tarball="$TRINO_DIR/trino-server-$TRINO_VERSION.tar.gz" partial="$TRINO_DIR/server.partial" started=$SECONDS
  mkdir -p "$TRINO_DIR"
  say "fetching Trino $TRINO_VERSION from Maven Central into $TRINO_SERVER_DIR (first run only, 821 MB)"
  curl -fsSL --retry 3 -o "$tarball.partial" "$TRINO_URL" || die "curl could not fetch $TRINO_URL"
  local want got
  want="$(curl -fsSL --retry 3 "$TRINO_URL.sha1")" || die "curl could not fetch $TRINO_URL.sha1"
  got="$(sha1sum "$tarball.partial" | cut -d' ' -f1)"
  [[ "$got" == "${want:0:40}" ]] || die "$tarball.partial has SHA-1 $got, Maven Central says ${want:0:40}; deleted, run again"
  mv "$tarball.partial" "$tarball"
  rm -rf "$partial"
  mkdir -p "$partial"
  tar -xzf "$tarball" -C "$partial" --strip-components=1 || die "could not extract $tarball"
  rm -f "$tarball"
  local plugin keep wanted
  for plugin in "$partial"/plugin/*; do
    keep=0
    for wanted in "${TRINO_PLUGINS[@]}"; do [[ "${plugin##*/}" == "$wanted" ]] && keep=1; done
    ((keep)) || rm -rf "$plugin"
  done
  # The launcher is not used (java is started directly, below), nor are secret providers beyond ${ENV:...}.
  rm -rf "$partial/bin" "$partial/secrets-plugin"
  for wanted in "${TRINO_PLUGINS[@]}"; do
    [[ -d "$partial/plugin/$wanted" ]] || die "the Trino $TRINO_VERSION tarball has no plugin/$wanted"
  done
  # Swapped in whole and marked last, so an interrupted download is never taken for a complete one.
  rm -rf "$TRINO_SERVER_DIR"
  mv "$partial" "$TRINO_SERVER_DIR"
  touch "$TRINO_MARKER"
  say "fetched Trino $TRINO_VERSION ($(du -sh "$TRINO_SERVER_DIR" | cut -f1)) in $((SECONDS - started)) s"
}

# Regenerated at every start: edits to the committed files take effect on restart, and catalogs that tests
# created and did not drop are gone.
write_trino_config() {
  mkdir -p "$TRINO_LOG_DIR"
  rm -rf "$TRINO_RUN_DIR/etc"
  mkdir -p "$TRINO_RUN_DIR/etc/catalog"
  {
    cat "$HERE/trino/config.properties"
    printf '\nhttp-server.http.port=%s\ndiscovery.uri=http://%s:%s\nplugin.dir=%s\n' \
      "$TRINO_PORT" "$TRINO_HOST" "$TRINO_PORT" "$TRINO_SERVER_DIR/plugin"
  } >"$TRINO_RUN_DIR/etc/config.properties"
  # Read by Trino from its working directory: where CREATE CATALOG writes and where catalogs are read from.
  printf 'catalog.config-dir=etc/catalog\n' >"$TRINO_RUN_DIR/etc/catalog-store.properties"
  cp "$TRINO_CATALOG_FILE" "$TRINO_RUN_DIR/etc/catalog/postgresql.properties"
}

print_trino_logs() {
  local file
  for file in "$TRINO_LOG_DIR/trino.out" "$TRINO_LOG_DIR/server.log"; do
    if [[ -s "$file" ]]; then
      printf '[services] --- last lines of %s ---\n' "$file" >&2
      grep -v '^\s*at ' "$file" | tail -n 30 >&2
    fi
  done
}

# Starts the JVM in the background and returns at once: it takes 20 s or more to come up, time better spent
# starting Kafka meanwhile (wait_for_trino waits for it).
launch_trino() {
  if trino_pid >/dev/null || port_open "$TRINO_HOST" "$TRINO_PORT"; then return; fi
  fetch_trino
  write_trino_config
  local java heap options=() line
  java="$(trino_java)"
  read -r -a heap <<<"$TRINO_HEAP_OPTS"
  while IFS= read -r line; do
    [[ -z "$line" || "$line" == \#* ]] || options+=("$line")
  done <"$HERE/trino/jvm.config"
  TRINO_LAUNCHED_AT=$SECONDS
  if [[ -f "$TRINO_LOG_DIR/server.log" ]]; then mv "$TRINO_LOG_DIR/server.log" "$TRINO_LOG_DIR/server.log.previous"; fi
  say "starting Trino $TRINO_VERSION (Java $(java_major "$java"), heap $TRINO_HEAP_OPTS, catalog postgresql over database $TRINO_PG_DATABASE)"
  # The working directory is the run directory: Trino reads etc/catalog-store.properties from there.
  TRINO_PG_URL="jdbc:postgresql://$PG_HOST:$PG_PORT/$TRINO_PG_DATABASE" TRINO_PG_USER=postgres TRINO_PG_PASSWORD='' \
    launch_detached trino "$TRINO_PID_FILE" "$TRINO_RUN_DIR" "$TRINO_LOG_DIR/trino.out" \
    "$java" "${heap[@]}" "${options[@]}" -Dconfig=etc/config.properties -Dlog.output-file=var/log/server.log \
    -cp "$TRINO_SERVER_DIR/lib/*" io.trino.server.TrinoServer
}

wait_for_trino() {
  local started=${TRINO_LAUNCHED_AT:-$SECONDS} pid
  local deadline=$((started + TRINO_READY_TIMEOUT_S)) next_report=$((SECONDS + 10))
  if trino_ready; then
    if pid="$(trino_pid)"; then
      say "Trino up on $TRINO_HOST:$TRINO_PORT (pid $pid)"
    else
      say "something already answers as Trino on $TRINO_HOST:$TRINO_PORT (not started by this script), reusing it"
    fi
    return
  fi
  if ! pid="$(trino_pid)"; then
    if port_open "$TRINO_HOST" "$TRINO_PORT"; then
      die "port $TRINO_PORT is taken by a process that is not Trino: $(ss -ltnpH "sport = :$TRINO_PORT" 2>/dev/null | grep -o 'users:.*' || echo 'unknown'); set TRINO_PORT"
    fi
    print_trino_logs
    die "Trino is not running (see the logs above)"
  fi
  until trino_ready; do
    if ! trino_pid >/dev/null; then
      rm -f "$TRINO_PID_FILE"
      print_trino_logs
      die "Trino exited before it took queries on $TRINO_HOST:$TRINO_PORT"
    fi
    if ((SECONDS >= deadline)); then
      print_trino_logs
      die "Trino (pid $pid) does not take queries on $TRINO_HOST:$TRINO_PORT after ${TRINO_READY_TIMEOUT_S} s; it is left running: 'services.sh down' stops it, TRINO_READY_TIMEOUT_S waits longer"
    fi
    if ((SECONDS >= next_report)); then
      say "waiting for Trino on $TRINO_HOST:$TRINO_PORT ($((SECONDS - started)) s)"
      next_report=$((SECONDS + 10))
    fi
    sleep 0.5
  done
  say "Trino $TRINO_VERSION up on http://$TRINO_HOST:$TRINO_PORT after $((SECONDS - started)) s (pid $pid, logs $TRINO_LOG_DIR)"
}

stop_trino() { stop_started Trino trino_pid "$TRINO_PID_FILE" "$TRINO_HOST" "$TRINO_PORT"; }

status() {
  local down=0 pid
  if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    if pid="$(broker_pid)"; then
      say "Kafka     up on $KAFKA_HOST:$KAFKA_PORT (version $KAFKA_VERSION, pid $pid, data $DATA_DIR)"
    else
      say "Kafka     up on $KAFKA_HOST:$KAFKA_PORT (not started by this script)"
    fi
  elif pid="$(broker_pid)"; then
    say "Kafka     starting (pid $pid, not answering on $KAFKA_HOST:$KAFKA_PORT yet)"
    down=1
  else
    say "Kafka     down"
    down=1
  fi
  if trino_ready; then
    if pid="$(trino_pid)"; then
      say "Trino     up on http://$TRINO_HOST:$TRINO_PORT (version $TRINO_VERSION, pid $pid)"
    else
      say "Trino     up on http://$TRINO_HOST:$TRINO_PORT (not started by this script)"
    fi
  elif pid="$(trino_pid)"; then
    say "Trino     starting (pid $pid, not taking queries on $TRINO_HOST:$TRINO_PORT yet)"
    down=1
  else
    say "Trino     down"
    down=1
  fi
  if ! command -v pg_isready >/dev/null; then
    say "Postgres  unknown: pg_isready is not installed (apt-get install postgresql-client)"
    down=1
  elif postgres_answers; then
    say "Postgres  up on $PG_HOST:$PG_PORT"
  else
    say "Postgres  down"
    down=1
  fi
  if ! command -v redis-cli >/dev/null; then
    say "Redis     unknown: redis-cli is not installed (apt-get install redis-tools)"
    down=1
  elif redis_answers; then
    say "Redis     up on $REDIS_HOST:$REDIS_PORT"
  else
    say "Redis     down"
    down=1
  fi
  return "$down"
}

# Serializes up/down/reset: several test runs may call 'up' at the same moment.
take_lock() {
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/.lock"
  if ! flock -n 9; then
    say "another services.sh holds $RUN_DIR/.lock; waiting for it"
    flock -w 600 9 || die "gave up waiting for $RUN_DIR/.lock"
  fi
}

case "${1:-}" in
  up)
    check_tools
    take_lock
    ensure_postgres
    ensure_redis
    # An instance is for tests of restarts: no Trino there.
    [[ -n "$INSTANCE" ]] || launch_trino
    ensure_kafka
    [[ -n "$INSTANCE" ]] || wait_for_trino
    ;;
  down)
    take_lock
    stop_kafka
    if [[ -n "$INSTANCE" ]]; then
      stop_postgres
      stop_redis
    else
      stop_trino
      say "Postgres and Redis are left alone"
    fi
    ;;
  restart)
    take_lock
    restart_service "${2:-}" "${3:-0}"
    ;;
  status)
    status
    ;;
  reset)
    check_tools
    take_lock
    if ! broker_pid >/dev/null && port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
      die "the broker on $KAFKA_HOST:$KAFKA_PORT was not started by this script; not wiping anything"
    fi
    stop_kafka
    say "wiping Kafka data in $DATA_DIR"
    rm -rf "$DATA_DIR"
    ensure_postgres
    ensure_redis
    launch_trino
    ensure_kafka
    wait_for_trino
    ;;
  *)
    echo "usage: $0 up|down|status|reset|restart kafka|postgres|redis [seconds down]" >&2
    exit 2
    ;;
esac
