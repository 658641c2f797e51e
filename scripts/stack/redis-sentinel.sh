#!/usr/bin/env bash
# A throwaway Redis Sentinel setup for the failover tests, without Docker: a master, one replica
# and three sentinels (quorum 2), all daemonized redis-server processes on 127.0.0.1. Nothing
# touches the machine's shared Redis.
#
# Usage: scripts/stack/redis-sentinel.sh up|down|status|master|kill-master|start-node <port>
#
#   up           start a fresh setup (data, configs, pid and log files under
#                <repo>/.stack/redis-sentinel/<port>/, recreated on every start) and wait until
#                every sentinel knows the master, the replica and the other sentinels.
#                Already ours and healthy -> says so and exits 0.
#   down         stop every process whose pid file is ours (TERM, then KILL); keeps the logs.
#   status       one line per process; exit 1 if any is down.
#   master       print the current master's port, as the sentinels report it.
#   kill-master  SIGKILL the current master's process (a crash, not a clean shutdown).
#   start-node   start a data node again on its old config (it rejoins as a replica of the
#                new master, which the sentinels tell it).
#
# Env overrides: REDIS_SENTINEL_BASE_PORT (17011: master BASE, replica BASE+1, sentinels
#   BASE+2..BASE+4), REDIS_SENTINEL_MASTER (mis-master), REDIS_SENTINEL_DOWN_AFTER_MS (1000),
#   REDIS_SENTINEL_TIMEOUT (seconds to wait for readiness, 60).
# Client: MCS_REDIS_SENTINELS=127.0.0.1:BASE+2,127.0.0.1:BASE+3,127.0.0.1:BASE+4
#         MCS_REDIS_SENTINEL_MASTER=mis-master  (or REDIS_URL=redis+sentinel://…/mis-master)
set -Eeuo pipefail

export PATH="$PATH:/usr/sbin:/sbin"
export LC_ALL=C.UTF-8

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="$REPO/.stack/redis-sentinel"
LOCK="$REPO/.stack/redis-sentinel.lock"
BASE="${REDIS_SENTINEL_BASE_PORT:-17011}"
NAME="${REDIS_SENTINEL_MASTER:-mis-master}"
DOWN_AFTER="${REDIS_SENTINEL_DOWN_AFTER_MS:-1000}"
TIMEOUT="${REDIS_SENTINEL_TIMEOUT:-60}"

for v in BASE DOWN_AFTER TIMEOUT; do
  case "${!v}" in '' | *[!0-9]*) echo "[redis-sentinel] ERROR: $v must be a number, got '${!v}'" >&2; exit 2 ;; esac
done
DATA_PORTS=("$BASE" $((BASE + 1)))
SENTINEL_PORTS=($((BASE + 2)) $((BASE + 3)) $((BASE + 4)))
ALL_PORTS=("${DATA_PORTS[@]}" "${SENTINEL_PORTS[@]}")

log() { printf '[redis-sentinel] %s\n' "$*"; }
die() { printf '[redis-sentinel] ERROR: %s\n' "$*" >&2; exit 1; }

node_dir() { echo "$DIR/$1"; }
pidfile() { echo "$DIR/$1/redis.pid"; }
logfile() { echo "$DIR/$1/redis.log"; }
pid_of() { [ -s "$1" ] && tr -dc '0-9' <"$1" || true; }
cli() { local port="$1"; shift; redis-cli -h 127.0.0.1 -p "$port" "$@"; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Ours: alive, a redis-server (sentinels are redis-server --sentinel), cwd inside $DIR.
is_ours() {
  local pid="$1"
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  local st; st="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo Z)"
  [ "$st" != Z ] || return 1
  case "$(cat "/proc/$pid/comm" 2>/dev/null)" in redis-server* | redis-sentinel*) ;; *) return 1 ;; esac
  local cwd; cwd="$(readlink "/proc/$pid/cwd" 2>/dev/null || true)"
  case "$cwd" in "$DIR"/*) return 0 ;; esac
  return 1
}

stop_node() { # port [signal]
  local port="$1" sig="${2:-TERM}" pf pid i
  pf="$(pidfile "$port")"; pid="$(pid_of "$pf")"
  if ! is_ours "$pid"; then rm -f "$pf"; return 0; fi
  kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    is_ours "$pid" || { rm -f "$pf"; return 0; }
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 25; i++)); do is_ours "$pid" || break; sleep 0.2; done
  rm -f "$pf"
}

stop_all() {
  local pf pid
  for pf in "$DIR"/*/redis.pid; do
    [ -e "$pf" ] || continue
    pid="$(pid_of "$pf")"
    if is_ours "$pid"; then stop_node "$(basename "$(dirname "$pf")")"; else rm -f "$pf"; fi
  done
}

common_conf() { # port
  local d; d="$(node_dir "$1")"
  cat <<EOF
bind 127.0.0.1
protected-mode yes
port $1
daemonize yes
pidfile $(pidfile "$1")
logfile $(logfile "$1")
dir $d
EOF
}

write_data_conf() { # port [replicaof-port]
  local port="$1" d; d="$(node_dir "$port")"
  {
    echo "# Data node of the throwaway sentinel setup (scripts/stack/redis-sentinel.sh)."
    common_conf "$port"
    cat <<EOF
maxmemory 128mb
maxmemory-policy allkeys-lru
save ""
appendonly no
databases 16
# the service's pattern index learns written keys from these (docs/pattern-deletes.md)
notify-keyspace-events KA
EOF
    [ -z "${2:-}" ] || echo "replicaof 127.0.0.1 $2"
  } >"$d/redis.conf"
}

write_sentinel_conf() { # port
  local port="$1" d; d="$(node_dir "$port")"
  {
    echo "# Sentinel of the throwaway sentinel setup (scripts/stack/redis-sentinel.sh); rewritten by the sentinel."
    common_conf "$port"
    cat <<EOF
sentinel monitor $NAME 127.0.0.1 $BASE 2
sentinel down-after-milliseconds $NAME $DOWN_AFTER
sentinel failover-timeout $NAME 5000
sentinel parallel-syncs $NAME 1
EOF
  } >"$d/sentinel.conf"
}

start_data() { # port
  local d; d="$(node_dir "$1")"
  (cd "$d" && redis-server "$d/redis.conf" </dev/null >>"$(logfile "$1")" 2>&1 9>&-) ||
    die "redis-server failed to start on $1; see $(logfile "$1")"
}

start_sentinel() { # port
  local d; d="$(node_dir "$1")"
  (cd "$d" && redis-server "$d/sentinel.conf" --sentinel </dev/null >>"$(logfile "$1")" 2>&1 9>&-) ||
    die "sentinel failed to start on $1; see $(logfile "$1")"
}

# Healthy: every process ours and answering, each sentinel sees a master, 1 replica, 2 other sentinels.
healthy() {
  local p pid info
  for p in "${ALL_PORTS[@]}"; do
    pid="$(pid_of "$(pidfile "$p")")"
    is_ours "$pid" || return 1
  done
  for p in "${SENTINEL_PORTS[@]}"; do
    info="$(cli "$p" SENTINEL MASTER "$NAME" 2>/dev/null | tr -d '\r' | paste - -)" || return 1
    grep -qP '^num-slaves\t1$' <<<"$info" || return 1
    grep -qP '^num-other-sentinels\t2$' <<<"$info" || return 1
    grep -qP '^flags\tmaster$' <<<"$info" || return 1
  done
}

current_master() {
  local p addr
  for p in "${SENTINEL_PORTS[@]}"; do
    addr="$(cli "$p" SENTINEL get-master-addr-by-name "$NAME" 2>/dev/null | tr -d '\r' | tail -n 1)" || continue
    [ -n "$addr" ] && { echo "$addr"; return 0; }
  done
  return 1
}

cmd_up() {
  local t0=$SECONDS p
  command -v redis-server >/dev/null || die "redis-server not found (apt-get install -y redis-server)"
  mkdir -p "$REPO/.stack"
  if healthy; then
    log "already up and healthy (master on $(current_master), sentinels ${SENTINEL_PORTS[*]}; nothing restarted)"
    return 0
  fi
  stop_all
  for p in "${ALL_PORTS[@]}"; do
    listening "$p" && die "port $p is already in use by a process that is not ours (REDIS_SENTINEL_BASE_PORT picks other ports)"
  done
  rm -rf "$DIR"
  for p in "${ALL_PORTS[@]}"; do mkdir -p "$(node_dir "$p")"; done
  write_data_conf "$BASE"
  write_data_conf $((BASE + 1)) "$BASE"
  for p in "${SENTINEL_PORTS[@]}"; do write_sentinel_conf "$p"; done
  start_data "$BASE"
  start_data $((BASE + 1))
  for p in "${SENTINEL_PORTS[@]}"; do start_sentinel "$p"; done
  local deadline=$((SECONDS + TIMEOUT))
  until healthy; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      stop_all
      die "sentinels did not see the master, its replica and each other within ${TIMEOUT}s; see $DIR/*/redis.log"
    fi
    sleep 0.2
  done
  log "up in $((SECONDS - t0))s: master 127.0.0.1:$BASE, replica 127.0.0.1:$((BASE + 1)), sentinels $(printf '127.0.0.1:%s ' "${SENTINEL_PORTS[@]}")(master name $NAME)"
}

cmd_status() {
  local p pid bad=0
  for p in "${ALL_PORTS[@]}"; do
    pid="$(pid_of "$(pidfile "$p")")"
    if is_ours "$pid"; then printf '%s up   pid=%s\n' "$p" "$pid"; else bad=1; printf '%s down\n' "$p"; fi
  done
  printf 'master %s\n' "$(current_master || echo unknown)"
  return "$bad"
}

cmd_kill_master() {
  local addr port
  addr="$(current_master)" || die "no sentinel answers"
  port="${addr##*:}"
  log "SIGKILL master on $port (pid $(pid_of "$(pidfile "$port")"))"
  stop_node "$port" KILL
}

with_lock() {
  mkdir -p "$REPO/.stack"
  if command -v flock >/dev/null; then
    exec 9>"$LOCK"
    flock -w 120 9 || die "another redis-sentinel.sh holds $LOCK for over 120s"
  fi
  "$@"
}

case "${1:-}" in
  up) with_lock cmd_up ;;
  down) with_lock stop_all; log "down (logs kept in $DIR)" ;;
  status) cmd_status ;;
  master) current_master | sed 's/.*://' ;;
  kill-master) cmd_kill_master ;;
  start-node) [ -n "${2:-}" ] || die "start-node needs a port"; start_data "$2" ;;
  *) sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; [ -z "${1:-}" ] || exit 2 ;;
esac
