#!/usr/bin/env bash
# Local CDC stack for mis-cache-sync, without Docker:
#   MariaDB (binlog ROW)  ->  Debezium MariaDB connector on Kafka Connect standalone  ->  Kafka (KRaft)
#   + Redis
# Every part is an isolated process of its own with data, config, logs and pid files under
# <repo>/.stack (override with STACK_DIR). Nothing touches the machine's shared MariaDB/Redis.
#
# Usage: scripts/stack.sh up|down|status|restart|env|logs [part]|kafka <tool> [args]|mysql [args]|redis-cli [args]
#
#   up       start what is not running and wait for real readiness (see README in stack/).
#            Already running and healthy -> says so and exits 0 (nothing restarted).
#            MariaDB/Redis that are ours and healthy are reused; Kafka and Connect are (re)started
#            together on a freshly formatted log dir with a fresh offsets file whenever either
#            of them is not healthy, so the connector always takes a new initial snapshot.
#   down     stop every part (TERM, wait, KILL after a timeout); keeps MariaDB and Redis data,
#            deletes Kafka log dirs and Connect offsets.
#   status   one line per part with port and up/down; exit 1 if any part is down.
#   restart  down + up.
#   env      print .stack/env.
#   libs     resolve the Kafka/Connect jars of stack/pom.xml (STACK_ENGINE=docker: also start the
#            engine and build the stack images; scripts/stack/docker.sh).
#   logs     tail a part's log (mariadb|redis|kafka|connect).
#   kafka    run a Kafka CLI tool with the stack classpath: topics | console-consumer |
#            console-producer | consumer-groups | get-offsets | api-versions | <main class>.
#   mysql    mariadb client on the stack socket as app/app (database mis).
#   redis-cli  redis-cli on the stack port.
#   part stop|start <redis|kafka|connect|mariadb>
#            fault injection: stop or (re)start one part, keeping every other part and its data
#            (a restarted broker keeps its topics, a restarted Connect resumes from its offsets).
#
# Env overrides: STACK_DIR, STACK_MYSQL_PORT (13306), STACK_REDIS_PORT (16379), STACK_KAFKA_PORT (19092),
#   STACK_KAFKA_CONTROLLER_PORT (19093), STACK_CONNECT_PORT (18083), STACK_RESEED=1 (reload
#   schemas/mis.sql), STACK_JAVA (java binary; default $JAVA_HOME/bin/java or java on PATH),
#   STACK_KAFKA_HEAP, STACK_CONNECT_HEAP, STACK_*_TIMEOUT (seconds, see below),
#   STACK_KEEP_ON_FAILURE=1 (do not stop the parts this `up` started when it fails),
#   STACK_MVN_ARGS (extra mvn arguments, e.g. -o or -Dmaven.repo.local=...),
#   STACK_KAFKA_BROKERS (1; 3 = three KRaft nodes, RF 3, min ISR 2, see scripts/stack/kafka-brokers.sh),
#   STACK_USER_AUTH_PARTITIONS (partitions of mis.mis.user_auth with three brokers, 6).
#   STACK_FORMAT=avro: Connect writes Avro (Apicurio converter, Confluent framing) through an
#   Apicurio Registry on STACK_REGISTRY_PORT (18081); see scripts/stack/avro.sh. Default: json.
#   STACK_ENGINE=docker (the same parts as containers: scripts/stack/docker.sh, docs/deployment.md "Run with Docker").
#   STACK_SECURE=1 (the locked-down variant: TLS, SASL/SCRAM and ACLs; scripts/stack/secure.sh).
set -Eeuo pipefail

export PATH="$PATH:/usr/sbin:/sbin"
export LC_ALL=C.UTF-8

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="${STACK_DIR:-$REPO/.stack}"
CONF_SRC="$REPO/stack"
LIB="$STACK_DIR/lib"
LOGS="$STACK_DIR/logs"
MDIR="$STACK_DIR/mariadb"
RDIR="$STACK_DIR/redis"
KDIR="$STACK_DIR/kafka"
CDIR="$STACK_DIR/connect"
PORTS_FILE="$STACK_DIR/ports"
ENV_FILE="$STACK_DIR/env"
CONNECTOR=mis-connector
# shellcheck source=scripts/stack/avro.sh
. "$REPO/scripts/stack/avro.sh"

MYSQL_TIMEOUT="${STACK_MYSQL_TIMEOUT:-60}"
REDIS_TIMEOUT="${STACK_REDIS_TIMEOUT:-20}"
KAFKA_TIMEOUT="${STACK_KAFKA_TIMEOUT:-90}"
CONNECT_TIMEOUT="${STACK_CONNECT_TIMEOUT:-120}"
SNAPSHOT_TIMEOUT="${STACK_SNAPSHOT_TIMEOUT:-120}"
MVN_TIMEOUT="${STACK_MVN_TIMEOUT:-900}"

# JVM settings (measured: see stack/README.md). Serial GC and C1-only keep CPU and RSS low on 2 cores.
JVM_COMMON="-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true"
KAFKA_HEAP="${STACK_KAFKA_HEAP:--Xms64m -Xmx256m -XX:MaxDirectMemorySize=128m}"
CONNECT_HEAP="${STACK_CONNECT_HEAP:--Xms64m -Xmx256m -XX:MaxDirectMemorySize=128m}"
TOOL_JVM="-Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto"

if [ -t 1 ] && [ -z "${CI:-}" ]; then B=$'\e[1m'; R=$'\e[31m'; G=$'\e[32m'; N=$'\e[0m'; else B= R= G= N=; fi
log()  { printf '%s[stack]%s %s\n' "$B" "$N" "$*"; }
warn() { printf '%s[stack] WARN:%s %s\n' "$R" "$N" "$*" >&2; }
die()  { printf '%s[stack] ERROR:%s %s\n' "$R" "$N" "$*" >&2; exit 1; }

# ------------------------------------------------------------------ prerequisites
JAVA=""
find_java() {
  if [ -n "${STACK_JAVA:-}" ]; then JAVA="$STACK_JAVA"
  elif [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then JAVA="$JAVA_HOME/bin/java"
  else JAVA="$(command -v java || true)"; fi
}

check_prereqs() {
  local missing=() pkgs=() t
  need() { # tool package
    if ! command -v "$1" >/dev/null 2>&1; then missing+=("$1"); pkgs+=("$2"); fi
  }
  find_java
  if [ -z "$JAVA" ] || ! "$JAVA" -version >/dev/null 2>&1; then
    missing+=("java (17+)"); pkgs+=("openjdk-17-jdk-headless")
  else
    local jv
    jv="$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n1)"
    if [ -z "$jv" ] || [ "${jv%%.*}" -lt 17 ] 2>/dev/null; then
      missing+=("java 17+ (found ${jv:-unknown} at $JAVA; set JAVA_HOME or STACK_JAVA)"); pkgs+=("openjdk-17-jdk-headless")
    elif ! "$JAVA" --list-modules 2>/dev/null | grep -q '^jdk.compiler@'; then
      # scripts/stack/CreateTopics.java runs through the JDK's source launcher
      missing+=("a JDK, not just a JRE ($JAVA lacks jdk.compiler)"); pkgs+=("openjdk-17-jdk-headless")
    fi
  fi
  need mvn maven
  need mariadbd mariadb-server
  need mariadb-install-db mariadb-server
  need mariadb mariadb-client
  need redis-server redis-server
  need redis-cli redis-tools
  need curl curl
  need node nodejs
  if [ "${#missing[@]}" -gt 0 ]; then
    local uniq
    uniq="$(printf '%s\n' "${pkgs[@]}" | awk '!s[$0]++' | tr '\n' ' ')"
    printf '%s[stack] ERROR:%s missing prerequisite(s): %s\n' "$R" "$N" "$(IFS=,; echo "${missing[*]}" | sed 's/,/, /g')" >&2
    printf '  install with: apt-get update && apt-get install -y %s\n' "$uniq" >&2
    printf '  (nothing else is needed: Kafka, Connect and Debezium jars come from Maven Central via stack/pom.xml)\n' >&2
    exit 2
  fi
}

# ------------------------------------------------------------------ process helpers
pid_of() { [ -s "$1" ] && tr -dc '0-9' <"$1" || true; }

# A pid counts as ours only if it is alive and its command line or cwd points into STACK_DIR.
is_ours() {
  local pid="$1"
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  local st; st="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo Z)"
  [ "$st" != Z ] || return 1
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$STACK_DIR"; then return 0; fi
  local cwd; cwd="$(readlink "/proc/$pid/cwd" 2>/dev/null || true)"
  case "$cwd" in "$STACK_DIR"|"$STACK_DIR"/*) return 0 ;; esac
  return 1
}

running() { # part -> 0 if our process of that part is alive
  local pf; pf="$(pidfile "$1")"
  is_ours "$(pid_of "$pf")"
}

pidfile() {
  case "$1" in
    mariadb) echo "$MDIR/mariadbd.pid" ;;
    redis)   echo "$RDIR/redis.pid" ;;
    kafka)   echo "$KDIR/kafka.pid" ;;
    connect) echo "$CDIR/connect.pid" ;;
    registry) registry_pidfile ;;
  esac
}
logfile() { echo "$LOGS/$1.log"; }

stop_part() { # part timeout
  local part="$1" t="${2:-30}" pf pid i
  pf="$(pidfile "$part")"; pid="$(pid_of "$pf")"
  if ! is_ours "$pid"; then rm -f "$pf"; return 0; fi
  log "stopping $part (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < t * 5; i++)); do
    is_ours "$pid" || { rm -f "$pf"; return 0; }
    sleep 0.2
  done
  warn "$part did not stop within ${t}s, killing pid $pid"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do is_ours "$pid" || break; sleep 0.1; done
  rm -f "$pf"
}

# ------------------------------------------------------------------ ports
port_busy() { # 0 if something listens on TCP port $1 (any local address)
  local p="$1"
  if command -v ss >/dev/null 2>&1; then
    [ -n "$(ss -Hltn "sport = :$p" 2>/dev/null)" ] && return 0
  fi
  (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 0
  return 1
}

declare -A PORT=()
saved_port() { [ -f "$PORTS_FILE" ] && sed -n "s/^$1=//p" "$PORTS_FILE" | tail -n1 || true; }

choose_port() { # key default envvar part-owning-it
  local key="$1" def="$2" ev="$3" part="$4" p used
  used=" ${PORT[*]:-} "
  if running "$part" && [ -n "$(saved_port "$key")" ]; then
    PORT[$key]="$(saved_port "$key")"; return
  fi
  if [ -n "${!ev:-}" ]; then
    p="${!ev}"
    port_busy "$p" && die "port $p ($ev) is already in use by another process"
    PORT[$key]="$p"; return
  fi
  p="$def"
  while port_busy "$p" || [[ "$used" == *" $p "* ]]; do
    p=$((p + 1)); [ "$p" -lt $((def + 200)) ] || die "no free port near $def for $key"
  done
  [ "$p" = "$def" ] || warn "$key: default port $def is in use by something else, using $p"
  PORT[$key]="$p"
}

resolve_ports() {
  choose_port MYSQL_PORT 13306 STACK_MYSQL_PORT mariadb
  choose_port REDIS_PORT 16379 STACK_REDIS_PORT redis
  choose_port KAFKA_PORT 19092 STACK_KAFKA_PORT kafka
  choose_port KAFKA_CONTROLLER_PORT 19093 STACK_KAFKA_CONTROLLER_PORT kafka
  choose_port CONNECT_PORT 18083 STACK_CONNECT_PORT connect
}

load_ports() { # for status/down: the ports of the last `up`, else defaults/env
  PORT[MYSQL_PORT]="$(saved_port MYSQL_PORT)"; PORT[MYSQL_PORT]="${PORT[MYSQL_PORT]:-${STACK_MYSQL_PORT:-13306}}"
  PORT[REDIS_PORT]="$(saved_port REDIS_PORT)"; PORT[REDIS_PORT]="${PORT[REDIS_PORT]:-${STACK_REDIS_PORT:-16379}}"
  PORT[KAFKA_PORT]="$(saved_port KAFKA_PORT)"; PORT[KAFKA_PORT]="${PORT[KAFKA_PORT]:-${STACK_KAFKA_PORT:-19092}}"
  PORT[KAFKA_CONTROLLER_PORT]="$(saved_port KAFKA_CONTROLLER_PORT)"; PORT[KAFKA_CONTROLLER_PORT]="${PORT[KAFKA_CONTROLLER_PORT]:-${STACK_KAFKA_CONTROLLER_PORT:-19093}}"
  PORT[CONNECT_PORT]="$(saved_port CONNECT_PORT)"; PORT[CONNECT_PORT]="${PORT[CONNECT_PORT]:-${STACK_CONNECT_PORT:-18083}}"
}

save_ports() {
  local k
  { for k in MYSQL_PORT REDIS_PORT KAFKA_PORT KAFKA_CONTROLLER_PORT CONNECT_PORT REGISTRY_PORT; do
      [ -z "${PORT[$k]:-}" ] || echo "$k=${PORT[$k]}"; done; } >"$PORTS_FILE"
}

write_env() {
  local sock="$MDIR/mariadbd.sock"
  cat >"$ENV_FILE" <<EOF
# Written by scripts/stack.sh up ($(date -u +%FT%TZ)). Source it: . .stack/env
export MYSQL_URL=mysql://app:app@127.0.0.1:${PORT[MYSQL_PORT]}/mis
export MYSQL_DATABASE=mis
export REDIS_URL=redis://127.0.0.1:${PORT[REDIS_PORT]}
export KAFKA_BROKERS=127.0.0.1:${PORT[KAFKA_PORT]}
export CONNECT_URL=http://127.0.0.1:${PORT[CONNECT_PORT]}
export TOPIC_PREFIX=mis
export CONNECTOR_NAME=$CONNECTOR
export STACK_DIR=$STACK_DIR
export STACK_MYSQL_SOCKET=$sock
export STACK_MYSQL_PORT=${PORT[MYSQL_PORT]}
export STACK_REDIS_PORT=${PORT[REDIS_PORT]}
export STACK_KAFKA_PORT=${PORT[KAFKA_PORT]}
export STACK_KAFKA_CONTROLLER_PORT=${PORT[KAFKA_CONTROLLER_PORT]}
export STACK_CONNECT_PORT=${PORT[CONNECT_PORT]}
# mariadb client: as the service/test user, and as root (socket only, no password)
# (MYSQL_HOST/MYSQL_TCP_PORT are deliberately not exported: the mariadb CLI would follow them)
export STACK_MYSQL_CLIENT="mariadb --protocol=socket --socket=$sock -uapp -papp mis"
export STACK_MYSQL_ROOT_CLIENT="mariadb --defaults-file=$MDIR/my.cnf -uroot"
EOF
  [ "$(running_format)" != avro ] || avro_env_lines >>"$ENV_FILE"
}

# A value for the replacement side of `s|…|…|`: `\`, `|` and `&` taken literally (ACLs hold `&…`).
sed_literal() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }

render() { # template output : replaces @KEY@ with values of the rest args KEY=VALUE
  local in="$1" out="$2"; shift 2
  local expr=() kv
  for kv in "$@"; do expr+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${expr[@]}" "$in" >"$out.tmp"
  if grep -q '@[A-Z_]*@' "$out.tmp"; then die "unrendered placeholder in $out: $(grep -o '@[A-Z_]*@' "$out.tmp" | head -n1)"; fi
  mv "$out.tmp" "$out"
}

fail_part() { # part message
  local part="$1" msg="$2" lf
  lf="$(logfile "$part")"
  printf '%s[stack] ERROR:%s %s: %s\n' "$R" "$N" "$part" "$msg" >&2
  if [ -f "$lf" ]; then
    printf '[stack] log: %s (last 40 lines)\n' "$lf" >&2
    tail -n 40 "$lf" | sed 's/^/    /' >&2
  else
    printf '[stack] log: %s (missing)\n' "$lf" >&2
  fi
  cleanup_on_failure
  exit 1
}

STARTED=()
cleanup_on_failure() {
  [ "${STACK_KEEP_ON_FAILURE:-0}" = 1 ] && { warn "STACK_KEEP_ON_FAILURE=1: leaving parts running"; return; }
  local i
  for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do stop_part "${STARTED[$i]}" 30 || true; done
}

rotate_log() { local lf; lf="$(logfile "$1")"; [ -f "$lf" ] && mv -f "$lf" "$lf.1"; : >"$lf"; }

# ------------------------------------------------------------------ jars (Maven)
ensure_libs() {
  local p stamp want need=()
  want="$(cat "$CONF_SRC/pom.xml" | sha256sum | cut -c1-16)"
  for p in broker connect; do
    stamp="$LIB/$p.stamp"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && compgen -G "$LIB/$p/*.jar" >/dev/null; then continue; fi
    need+=("$p")
  done
  [ "${#need[@]}" -gt 0 ] || return 0
  log "resolving jars with Maven (${need[*]}; first run downloads to ~/.m2)"
  local pids=() rc=0
  for p in "${need[@]}"; do
    rm -rf "${LIB:?}/$p" "$LIB/$p.stamp"
    mkdir -p "$LIB"
    # shellcheck disable=SC2086
    timeout "$MVN_TIMEOUT" mvn -B -q ${STACK_MVN_ARGS:-} -f "$CONF_SRC/pom.xml" -P"$p" validate -Dstack.lib="$LIB" \
      >"$LOGS/mvn-$p.log" 2>&1 </dev/null &
    pids+=("$!")
  done
  local i
  for i in "${!need[@]}"; do
    if wait "${pids[$i]}"; then echo "$want" >"$LIB/${need[$i]}.stamp"
    else rc=1; printf '%s[stack] ERROR:%s mvn failed for profile %s; log: %s\n' "$R" "$N" "${need[$i]}" "$LOGS/mvn-${need[$i]}.log" >&2
      tail -n 30 "$LOGS/mvn-${need[$i]}.log" | sed 's/^/    /' >&2; fi
  done
  [ "$rc" = 0 ] || exit 1
}

kafka_tool() { # MainClass args... (broker classpath, warnings to stderr)
  "$JAVA" $TOOL_JVM -cp "$LIB/broker/*" -Dlog4j2.configurationFile="$CONF_SRC/kafka/log4j2-tools.properties" "$@"
}

# ------------------------------------------------------------------ MariaDB
mysql_root() { mariadb --defaults-file="$MDIR/my.cnf" -uroot --protocol=socket "$@"; }
mysql_ok() { mysql_root -N -e 'SELECT 1' >/dev/null 2>&1; }

render_mysql_conf() {
  render "$CONF_SRC/mariadb/my.cnf.in" "$MDIR/my.cnf" \
    MYSQL_PORT="${PORT[MYSQL_PORT]}" MYSQL_SOCKET="$MDIR/mariadbd.sock" MYSQL_DATA="$MDIR/data" \
    MYSQL_PID="$MDIR/mariadbd.pid" MYSQL_LOG="$(logfile mariadb)" MYSQL_BINLOG="$MDIR/binlog/mariadb-bin"
}

start_mariadb() {
  mkdir -p "$MDIR/binlog"
  render_mysql_conf
  if [ ! -d "$MDIR/data/mysql" ]; then
    log "mariadb: initialising a fresh datadir in $MDIR/data"
    rm -rf "$MDIR/data" "$MDIR/binlog"; mkdir -p "$MDIR/binlog"
    mariadb-install-db --defaults-file="$MDIR/my.cnf" --user=root --auth-root-authentication-method=normal \
      --skip-test-db >"$LOGS/mariadb-install.log" 2>&1 </dev/null \
      || { cp "$LOGS/mariadb-install.log" "$(logfile mariadb)"; fail_part mariadb "mariadb-install-db failed"; }
  fi
  log "mariadb: starting on 127.0.0.1:${PORT[MYSQL_PORT]}"
  rm -f "$MDIR/mariadbd.sock" "$MDIR/mariadbd.pid"
  launch_mariadb
  local i
  for ((i = 0; i < MYSQL_TIMEOUT * 4; i++)); do
    if mysql_ok; then break; fi
    if ! running mariadb; then fail_part mariadb "mariadbd exited during startup"; fi
    sleep 0.25
  done
  mysql_ok || fail_part mariadb "no answer to SELECT 1 within ${MYSQL_TIMEOUT}s"
  provision_mariadb
}

launch_mariadb() { # process engine (scripts/stack/docker.sh replaces the launch_* functions)
  (cd "$MDIR" && exec setsid nohup mariadbd --defaults-file="$MDIR/my.cnf" >>"$(logfile mariadb)" 2>&1 </dev/null) &
  echo $! >"$MDIR/mariadbd.pid"
  STARTED+=(mariadb)
}

provision_mariadb() {
  # one grant set for both engines and the container image (stack/docker/entrypoint-mariadb.sh)
  mysql_root <"$CONF_SRC/mariadb/provision.sql" || fail_part mariadb "provisioning (database/users/grants) failed"
  local n
  # provision.sql made the signal table: the schema counts as loaded only with tables beside it
  n="$(mysql_root -N -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='mis' AND table_name <> 'debezium_signal'")"
  if [ "$n" = 0 ] || [ "${STACK_RESEED:-0}" = 1 ]; then
    log "mariadb: loading schemas/mis.sql into mis"
    mysql_root --default-character-set=utf8mb4 mis <"$REPO/schemas/mis.sql" >>"$(logfile mariadb)" 2>&1 \
      || fail_part mariadb "loading schemas/mis.sql failed"
  fi
}

# ------------------------------------------------------------------ Redis
redis_ok() { [ "$(redis-cli -h 127.0.0.1 -p "${PORT[REDIS_PORT]}" PING 2>/dev/null)" = PONG ]; }

start_redis() {
  mkdir -p "$RDIR"
  render "$CONF_SRC/redis/redis.conf.in" "$RDIR/redis.conf" \
    REDIS_PORT="${PORT[REDIS_PORT]}" REDIS_PID="$RDIR/redis.pid" REDIS_LOG="$(logfile redis)" REDIS_DIR="$RDIR"
  log "redis: starting on 127.0.0.1:${PORT[REDIS_PORT]}"
  rm -f "$RDIR/redis.pid"
  launch_redis
  local i
  for ((i = 0; i < REDIS_TIMEOUT * 4; i++)); do redis_ok && break; sleep 0.25; done
  redis_ok || fail_part redis "no PONG within ${REDIS_TIMEOUT}s"
}

launch_redis() {
  (cd "$RDIR" && redis-server "$RDIR/redis.conf" </dev/null >>"$(logfile redis)" 2>&1) || fail_part redis "redis-server failed to start"
  STARTED+=(redis)
}

# ------------------------------------------------------------------ Kafka broker

start_kafka() {
  rm -rf "$KDIR"; mkdir -p "$KDIR/data"
  render "$CONF_SRC/kafka/server.properties.in" "$KDIR/server.properties" \
    KAFKA_PORT="${PORT[KAFKA_PORT]}" KAFKA_CONTROLLER_PORT="${PORT[KAFKA_CONTROLLER_PORT]}" KAFKA_DATA="$KDIR/data"
  rotate_log kafka
  local cid
  cid="$(kafka_tool kafka.tools.StorageTool random-uuid 2>>"$(logfile kafka)")" || fail_part kafka "StorageTool random-uuid failed"
  kafka_tool kafka.tools.StorageTool format -t "$cid" -c "$KDIR/server.properties" >>"$(logfile kafka)" 2>&1 \
    || fail_part kafka "StorageTool format failed"
  log "kafka: starting broker on 127.0.0.1:${PORT[KAFKA_PORT]} (controller ${PORT[KAFKA_CONTROLLER_PORT]}, cluster $cid)"
  launch_kafka
}

# Starts the broker JVM on the existing log dir (used by `up` after formatting, and by
# `part start kafka`, which keeps the topics: a broker restart, not a new cluster).
launch_kafka() {
  (cd "$KDIR" && exec setsid nohup "$JAVA" $KAFKA_HEAP $JVM_COMMON -cp "$LIB/broker/*" \
    -Dlog4j2.configurationFile="$CONF_SRC/kafka/log4j2.properties" -Dstack.dir="$STACK_DIR" \
    kafka.Kafka "$KDIR/server.properties" >>"$(logfile kafka)" 2>&1 </dev/null) &
  echo $! >"$KDIR/kafka.pid"
  STARTED+=(kafka)
}

wait_kafka() {
  local pid i deadline=$((SECONDS + KAFKA_TIMEOUT))
  pid="$(pid_of "$KDIR/kafka.pid")"
  while ! (exec 3<>"/dev/tcp/127.0.0.1/${PORT[KAFKA_PORT]}") 2>/dev/null; do
    is_ours "$pid" || fail_part kafka "broker process exited during startup"
    [ "$SECONDS" -lt "$deadline" ] || fail_part kafka "port ${PORT[KAFKA_PORT]} not open within ${KAFKA_TIMEOUT}s"
    sleep 0.25
  done
  # ready = the broker answers an Admin metadata call (listTopics) and creates the table topics
  local topics
  topics="$(sed -n 's/^CREATE TABLE \([A-Za-z0-9_]*\).*/mis.mis.\1/p' "$REPO/schemas/mis.sql" | tr '\n' ' ')"
  # shellcheck disable=SC2086
  until "$JAVA" $TOOL_JVM -cp "$LIB/broker/*" -Dlog4j2.configurationFile="$CONF_SRC/kafka/log4j2-tools.properties" \
      "$REPO/scripts/stack/CreateTopics.java" "127.0.0.1:${PORT[KAFKA_PORT]}" $topics >>"$(logfile kafka)" 2>&1; do
    is_ours "$pid" || fail_part kafka "broker process exited during startup"
    [ "$SECONDS" -lt "$deadline" ] || fail_part kafka "no metadata answer / topic creation failed within ${KAFKA_TIMEOUT}s"
    sleep 1
  done
}

# ------------------------------------------------------------------ Kafka Connect + Debezium
connect_status_json() { curl -sf --max-time 5 "http://127.0.0.1:${PORT[CONNECT_PORT]}/connectors/$CONNECTOR/status" 2>/dev/null; }

# prints "<connector state> <task0 state or NONE>"
connect_states() {
  local j; j="$(connect_status_json)" || { echo "DOWN DOWN"; return; }
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const j=JSON.parse(s);const t=(j.tasks||[])[0];console.log((j.connector||{}).state||"UNKNOWN",t?t.state:"NONE")}catch(e){console.log("UNKNOWN UNKNOWN")}})' <<<"$j"
}

start_connect() {
  rm -rf "$CDIR"; mkdir -p "$CDIR"
  render "$CONF_SRC/connect/worker.properties.in" "$CDIR/worker.properties" \
    KAFKA_PORT="${PORT[KAFKA_PORT]}" CONNECT_PORT="${PORT[CONNECT_PORT]}" CONNECT_OFFSETS="$CDIR/offsets.dat"
  render "$CONF_SRC/connect/mis-connector.properties.in" "$CDIR/mis-connector.properties" \
    KAFKA_PORT="${PORT[KAFKA_PORT]}" MYSQL_PORT="${PORT[MYSQL_PORT]}"
  [ "$(running_format)" != avro ] || avro_worker_properties "$CDIR/worker.properties"
  rotate_log connect
  log "connect: starting Kafka Connect standalone + Debezium on 127.0.0.1:${PORT[CONNECT_PORT]}"
  launch_connect
}

# Starts the Connect worker with the existing config and offsets file (a restart resumes from
# the stored binlog position; used by `up` and by `part start connect`).
launch_connect() {
  local cp="$LIB/connect/*"
  [ "$(running_format)" != avro ] || cp="$(avro_classpath)"
  (cd "$CDIR" && exec setsid nohup "$JAVA" $CONNECT_HEAP $JVM_COMMON -cp "$cp" \
    -Dlog4j2.configurationFile="$CONF_SRC/connect/log4j2.properties" -Dstack.dir="$STACK_DIR" \
    -Djava.util.logging.manager=org.apache.logging.log4j.jul.LogManager \
    org.apache.kafka.connect.cli.ConnectStandalone "$CDIR/worker.properties" "$CDIR/mis-connector.properties" \
    >>"$(logfile connect)" 2>&1 </dev/null) &
  echo $! >"$CDIR/connect.pid"
  STARTED+=(connect)
}

wait_connect() {
  local pid st deadline=$((SECONDS + CONNECT_TIMEOUT))
  pid="$(pid_of "$CDIR/connect.pid")"
  while :; do
    is_ours "$pid" || fail_part connect "Connect worker exited during startup"
    st="$(connect_states)"
    [ "$st" = "RUNNING RUNNING" ] && break
    case "$st" in *FAILED*)
      connect_status_json | sed 's/\\n/\n/g; s/\\t/\t/g' | head -n 30 >&2 || true
      fail_part connect "connector $CONNECTOR or its task FAILED ($st)" ;;
    esac
    [ "$SECONDS" -lt "$deadline" ] || fail_part connect "connector $CONNECTOR not RUNNING within ${CONNECT_TIMEOUT}s (state: $st)"
    sleep 1
  done
  log "connect: connector $CONNECTOR and task 0 RUNNING"
}

# Snapshot done = Debezium logged the completed snapshot and mis.mis.brands holds records.
wait_snapshot() {
  local deadline=$((SECONDS + SNAPSHOT_TIMEOUT)) lf n
  lf="$(logfile connect)"
  until grep -qE 'Snapshot completed|SnapshotResult \[status=COMPLETED' "$lf"; do
    running connect || fail_part connect "Connect worker exited during the snapshot"
    grep -qE 'SnapshotResult \[status=(ABORTED|SKIPPED)' "$lf" && fail_part connect "snapshot did not complete"
    [ "$SECONDS" -lt "$deadline" ] || fail_part connect "initial snapshot not completed within ${SNAPSHOT_TIMEOUT}s"
    sleep 0.5
  done
  until grep -q 'Connected to binlog at' "$lf"; do
    running connect || fail_part connect "Connect worker exited before streaming started"
    [ "$SECONDS" -lt "$deadline" ] || fail_part connect "binlog streaming not started within ${SNAPSHOT_TIMEOUT}s"
    sleep 0.25
  done
  n="$(kafka_tool org.apache.kafka.tools.GetOffsetShell --bootstrap-server "127.0.0.1:${PORT[KAFKA_PORT]}" \
        --topic mis.mis.brands 2>/dev/null | awk -F: '{s+=$NF} END {print s+0}')"
  [ "${n:-0}" -gt 0 ] || fail_part connect "snapshot logged as completed but topic mis.mis.brands is empty"
  log "connect: initial snapshot completed (mis.mis.brands has $n record(s)); streaming from the binlog"
}

# ------------------------------------------------------------------ health / status
healthy() { # part
  case "$1" in
    mariadb) running mariadb && mysql_ok ;;
    redis)   running redis && redis_ok ;;
    kafka)   running kafka && (exec 3<>"/dev/tcp/127.0.0.1/${PORT[KAFKA_PORT]}") 2>/dev/null ;;
    connect) running connect && [ "$(connect_states)" = "RUNNING RUNNING" ] ;;
  esac
}

cmd_status() {
  load_ports
  find_java
  local bad=0 part port extra
  for part in mariadb redis kafka connect; do
    case "$part" in
      mariadb) port="${PORT[MYSQL_PORT]}" ;;
      redis) port="${PORT[REDIS_PORT]}" ;;
      kafka) port="${PORT[KAFKA_PORT]} (controller ${PORT[KAFKA_CONTROLLER_PORT]})" ;;
      connect) port="${PORT[CONNECT_PORT]}" ;;
    esac
    extra=""
    [ "$part" = connect ] && running connect && extra=" connector=$(connect_states | tr ' ' '/')"
    if healthy "$part"; then
      printf '%-8s %sup%s    127.0.0.1:%s pid=%s%s\n' "$part" "$G" "$N" "$port" "$(pid_of "$(pidfile "$part")")" "$extra"
    else
      bad=1
      if running "$part"; then printf '%-8s %sunhealthy%s 127.0.0.1:%s pid=%s%s log=%s\n' "$part" "$R" "$N" "$port" "$(pid_of "$(pidfile "$part")")" "$extra" "$(logfile "$part")"
      else printf '%-8s %sdown%s  127.0.0.1:%s\n' "$part" "$R" "$N" "$port"; fi
    fi
  done
  if [ "$(running_format)" = avro ]; then avro_status_line || bad=1; fi
  return "$bad"
}

cmd_down() {
  load_ports
  stop_part connect 30
  stop_part kafka 45
  stop_part redis 20
  stop_part mariadb 60
  stop_part registry 30
  rm -rf "$KDIR" "$CDIR"
  rm -f "$FORMAT_FILE"
  log "stack is down (MariaDB and Redis data kept in $STACK_DIR; Kafka and Connect state removed)"
}

cmd_up() {
  local t0=$SECONDS
  check_prereqs
  mkdir -p "$STACK_DIR" "$LOGS" "$LIB"
  load_ports
  # a stack of another variant (STACK_SECURE, ...) is stopped first: none of its parts is reused
  if [ "$(cat "$STACK_DIR/variant" 2>/dev/null || echo plain)" != "$STACK_VARIANT" ]; then
    log "switching the stack to variant: $STACK_VARIANT"; cmd_down
  fi
  variant_prepare
  local format; format="$(stack_format)"
  if healthy mariadb && healthy redis && healthy kafka && healthy connect \
    && [ "$(running_format)" = "$format" ] && { [ "$format" = json ] || registry_ok; }; then
    write_env
    log "stack is already up and healthy (nothing restarted; 'scripts/stack.sh restart' for a fresh one)"
    cmd_status || true
    return 0
  fi
  # MariaDB and Redis are reused when ours and healthy; Kafka + Connect always start together and fresh
  local reuse_mysql=0 reuse_redis=0
  healthy mariadb && reuse_mysql=1
  healthy redis && reuse_redis=1
  stop_part connect 30
  stop_part kafka 45
  [ "$reuse_redis" = 1 ] || stop_part redis 20
  [ "$reuse_mysql" = 1 ] || stop_part mariadb 60
  stop_part registry 30
  echo "$format" >"$FORMAT_FILE"
  PORT=()
  resolve_ports
  [ "$format" = json ] || avro_choose_port
  save_ports
  ensure_libs
  [ "$format" = json ] || { avro_ensure_libs; avro_start_registry; }
  start_kafka   # the broker JVM boots while MariaDB and Redis start
  if [ "$reuse_mysql" = 1 ]; then log "mariadb: already running on ${PORT[MYSQL_PORT]}"; provision_mariadb
  else start_mariadb; fi
  if [ "$reuse_redis" = 1 ]; then log "redis: already running on ${PORT[REDIS_PORT]}"
  else start_redis; fi
  wait_kafka
  log "kafka: broker ready (topics mis.mis.<table> created for every table of schemas/mis.sql)"
  [ "$format" = json ] || avro_wait_registry
  start_connect
  wait_connect
  wait_snapshot
  write_env
  echo "$STACK_VARIANT" >"$STACK_DIR/variant"
  log "${G}stack ready in $((SECONDS - t0))s${N}: MariaDB ${PORT[MYSQL_PORT]}, Redis ${PORT[REDIS_PORT]}, Kafka ${PORT[KAFKA_PORT]}, Connect ${PORT[CONNECT_PORT]}; env: $ENV_FILE"
}

# Fault injection for tests: stop or start one part without touching the others' state.
cmd_part() { # stop|start part
  local action="${1:-}" part="${2:-}"
  find_java
  load_ports
  case "$action:$part" in
    stop:redis | stop:kafka | stop:connect | stop:mariadb) stop_part "$part" 45 ;;
    start:redis) running redis || start_redis ;;
    start:mariadb) running mariadb || { start_mariadb; }; ;;
    start:kafka) running kafka || { [ -f "$KDIR/server.properties" ] || die "kafka was never started: use up"; launch_kafka; wait_kafka; log "kafka: broker restarted on its existing log dir"; } ;;
    start:connect) running connect || { [ -f "$CDIR/worker.properties" ] || die "connect was never started: use up"; rotate_log connect; launch_connect; wait_connect; } ;;
    *) die "usage: stack.sh part stop|start redis|kafka|connect|mariadb" ;;
  esac
}

# `stack.sh kafka <alias>`: the Kafka tool class of an alias (or the argument as a class name).
kafka_class() {
  case "$1" in
    topics) echo org.apache.kafka.tools.TopicCommand ;;
    console-consumer) echo org.apache.kafka.tools.consumer.ConsoleConsumer ;;
    console-producer) echo org.apache.kafka.tools.ConsoleProducer ;;
    consumer-groups) echo org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
    get-offsets) echo org.apache.kafka.tools.GetOffsetShell ;;
    api-versions) echo org.apache.kafka.tools.BrokerApiVersionsCommand ;;
    acls) echo org.apache.kafka.tools.AclCommand ;;
    *) echo "$1" ;;
  esac
}
# The client settings a tool class needs (none here; the secure variant adds its admin's).
kafka_client_args() { KAFKA_CLIENT_ARGS=(); }

cmd_kafka() {
  find_java; load_ports
  [ $# -gt 0 ] || die "usage: stack.sh kafka topics|console-consumer|console-producer|consumer-groups|get-offsets|api-versions|acls|<class> [args]"
  local cls
  cls="$(kafka_class "$1")"; shift
  kafka_client_args "$cls"
  kafka_tool "$cls" --bootstrap-server "127.0.0.1:${PORT[KAFKA_PORT]}" "${KAFKA_CLIENT_ARGS[@]}" "$@"
}

cmd_mysql() { exec mariadb --protocol=socket --socket="$MDIR/mariadbd.sock" -uapp -papp mis "$@"; }
cmd_redis_cli() { load_ports; exec redis-cli -h 127.0.0.1 -p "${PORT[REDIS_PORT]}" "$@"; }

# Variants replace functions above from their own files. The variant of a running stack is kept in
# $STACK_DIR/variant, so every command but up/restart follows the running one.
STACK_VARIANT=plain
variant_prepare() { :; }
if [ "${STACK_SECURE:-}" = 1 ] || { [ -z "${STACK_SECURE:-}" ] && [ "${1:-}" != up ] && [ "${1:-}" != restart ] &&
  grep -qw secure "$STACK_DIR/variant" 2>/dev/null; }; then
  # shellcheck source=stack/secure.sh
  . "$REPO/scripts/stack/secure.sh" # STACK_SECURE=1: TLS, SASL/SCRAM, ACLs everywhere
fi

main() {
  local cmd="${1:-}"; shift || true
  case "$cmd" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    restart) cmd_down; cmd_up ;;
    env) cat "$ENV_FILE" ;;
    logs) tail -n "${LINES_TO_SHOW:-100}" -f "$(logfile "${1:-connect}")" ;;
    kafka) cmd_kafka "$@" ;;
    part) cmd_part "$@" ;;
    mysql) cmd_mysql "$@" ;;
    redis-cli) cmd_redis_cli "$@" ;;
    libs) check_prereqs; mkdir -p "$STACK_DIR" "$LOGS" "$LIB"; ensure_libs ;;
    *) sed -n '2,42p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; [ -z "$cmd" ] || exit 2 ;;
  esac
}

# STACK_KAFKA_BROKERS=3: a three-node Kafka; scripts/stack/kafka-brokers.sh wraps the functions above.
[ "${STACK_KAFKA_BROKERS:-1}" = 1 ] || . "$REPO/scripts/stack/kafka-brokers.sh"

# STACK_ENGINE=docker: the same parts as containers (scripts/stack/docker.sh replaces the launch
# and stop functions and adds DOCKER_HOST to the env file).
if [ "${STACK_ENGINE:-process}" = docker ] && [ "${1:-}" != env ]; then
  # shellcheck source=scripts/stack/docker.sh
  . "$REPO/scripts/stack/docker.sh"
  docker_engine_hooks
fi

main "$@"
