#!/usr/bin/env bash
# A throwaway 3-master Redis Cluster for the cluster-mode tests, without Docker: daemonized
# redis-server processes on 127.0.0.1, joined with `redis-cli --cluster create`; with
# REDIS_CLUSTER_REPLICAS=1 each master gets a replica (6 nodes) for the failover tests.
# Nothing touches the machine's shared Redis.
#
# Usage: scripts/stack/redis-cluster.sh up|down|status|kill-node <port>
#
#   up      start a fresh cluster (data, nodes.conf, pid and log files under
#           <repo>/.stack/redis-cluster/<port>/, recreated on every start) and wait until every
#           node reports cluster_state:ok. Already ours and ok -> says so and exits 0.
#   down    stop the nodes whose pid files are ours (TERM, wait, KILL after a timeout); keeps
#           the logs.
#   status  one line per node; exit 1 if the cluster is not ok.
#   kill-node <port>  SIGKILL that node (a crash: its replica is promoted after the node timeout).
#
# Env overrides: REDIS_CLUSTER_BASE_PORT (17001; nodes use BASE, BASE+1, … and the cluster
#   bus BASE+10000, …), REDIS_CLUSTER_REPLICAS (0 or 1: replicas per master, 0),
#   REDIS_CLUSTER_NODE_TIMEOUT (cluster-node-timeout in ms, 5000), REDIS_CLUSTER_TIMEOUT
#   (seconds to wait for readiness, 60). A cluster with replicas lives in its own folder, so
#   both kinds can run at once on different base ports.
# Client URL: redis://127.0.0.1:<BASE> (any node works as the seed).
set -Eeuo pipefail

export PATH="$PATH:/usr/sbin:/sbin"
export LC_ALL=C.UTF-8

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
REPLICAS="${REDIS_CLUSTER_REPLICAS:-0}"
case "$REPLICAS" in 0) SUFFIX= ;; 1) SUFFIX=-r1 ;; *) echo "[redis-cluster] ERROR: REDIS_CLUSTER_REPLICAS must be 0 or 1, got '$REPLICAS'" >&2; exit 2 ;; esac
DIR="$REPO/.stack/redis-cluster$SUFFIX"
LOCK="$REPO/.stack/redis-cluster$SUFFIX.lock"
BASE="${REDIS_CLUSTER_BASE_PORT:-17001}"
TIMEOUT="${REDIS_CLUSTER_TIMEOUT:-60}"
NODE_TIMEOUT="${REDIS_CLUSTER_NODE_TIMEOUT:-5000}"
MASTERS=3
NODES=$((MASTERS * (1 + REPLICAS)))

case "$BASE" in '' | *[!0-9]*) echo "[redis-cluster] ERROR: REDIS_CLUSTER_BASE_PORT must be a number, got '$BASE'" >&2; exit 2 ;; esac
if [ "$BASE" -lt 1024 ] || [ $((BASE + NODES - 1 + 10000)) -gt 65535 ]; then
  echo "[redis-cluster] ERROR: REDIS_CLUSTER_BASE_PORT=$BASE is out of range (1024..$((65535 - 10000 - NODES + 1)))" >&2
  exit 2
fi
case "$TIMEOUT" in '' | *[!0-9]*) echo "[redis-cluster] ERROR: REDIS_CLUSTER_TIMEOUT must be a number of seconds, got '$TIMEOUT'" >&2; exit 2 ;; esac
case "$NODE_TIMEOUT" in '' | *[!0-9]*) echo "[redis-cluster] ERROR: REDIS_CLUSTER_NODE_TIMEOUT must be a number of ms, got '$NODE_TIMEOUT'" >&2; exit 2 ;; esac
PORTS=()
for ((i = 0; i < NODES; i++)); do PORTS+=($((BASE + i))); done

log()  { printf '[redis-cluster] %s\n' "$*"; }
die()  { printf '[redis-cluster] ERROR: %s\n' "$*" >&2; exit 1; }

node_dir() { echo "$DIR/$1"; }
pidfile()  { echo "$DIR/$1/redis.pid"; }
logfile()  { echo "$DIR/$1/redis.log"; }
all_logs() { local p out=(); for p in "${PORTS[@]}"; do out+=("$(logfile "$p")"); done; echo "${out[*]}"; }

pid_of() { [ -s "$1" ] && tr -dc '0-9' <"$1" || true; }

# A pid counts as ours only if it is alive, a redis-server, and its cwd is inside $DIR
# (redis-server chdirs to its `dir`, which is the node's folder).
is_ours() {
  local pid="$1"
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  local st; st="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo Z)"
  [ "$st" != Z ] || return 1
  case "$(cat "/proc/$pid/comm" 2>/dev/null)" in redis-server*) ;; *) return 1 ;; esac
  local cwd; cwd="$(readlink "/proc/$pid/cwd" 2>/dev/null || true)"
  case "$cwd" in "$DIR"/*) return 0 ;; esac
  return 1
}

cli() { local port="$1"; shift; redis-cli -h 127.0.0.1 -p "$port" "$@"; }

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

node_state() { # port -> cluster_state value (empty when the node does not answer)
  cli "$1" CLUSTER INFO 2>/dev/null | tr -d '\r' | sed -n 's/^cluster_state://p'
}

node_ok() { # port -> 0 when the node is ours, sees all masters and every slot, state ok
  local port="$1" info
  is_ours "$(pid_of "$(pidfile "$port")")" || return 1
  info="$(cli "$port" CLUSTER INFO 2>/dev/null | tr -d '\r')" || return 1
  grep -qx 'cluster_state:ok' <<<"$info" &&
    grep -qx 'cluster_slots_ok:16384' <<<"$info" &&
    grep -qx "cluster_size:$MASTERS" <<<"$info" &&
    grep -qx "cluster_known_nodes:$NODES" <<<"$info"
}

cluster_ok() { local p; for p in "${PORTS[@]}"; do node_ok "$p" || return 1; done; }

stop_node() { # port
  local port="$1" pf pid i
  pf="$(pidfile "$port")"; pid="$(pid_of "$pf")"
  if ! is_ours "$pid"; then rm -f "$pf"; return 0; fi
  log "stopping node $port (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    is_ours "$pid" || { rm -f "$pf"; return 0; }
    sleep 0.2
  done
  log "node $port did not stop within 10s: KILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 25; i++)); do is_ours "$pid" || break; sleep 0.2; done
  rm -f "$pf"
}

stop_all() {
  local p
  for p in "${PORTS[@]}"; do stop_node "$p"; done
  # nodes of an earlier `up` with another base port: their pid files are still ours
  local pf
  for pf in "$DIR"/*/redis.pid; do
    [ -e "$pf" ] || continue
    local pid; pid="$(pid_of "$pf")"
    if is_ours "$pid"; then stop_node "$(basename "$(dirname "$pf")")"; else rm -f "$pf"; fi
  done
}

write_conf() { # port
  local port="$1" d; d="$(node_dir "$port")"
  cat >"$d/redis.conf" <<EOF
# Node of the throwaway test cluster (written by scripts/stack/redis-cluster.sh).
bind 127.0.0.1
protected-mode yes
port $port
daemonize yes
pidfile $(pidfile "$port")
logfile $(logfile "$port")
dir $d
cluster-enabled yes
cluster-config-file $d/nodes.conf
cluster-node-timeout $NODE_TIMEOUT
cluster-require-full-coverage yes
maxmemory 128mb
maxmemory-policy allkeys-lru
# the pattern index (one subscriber per master) learns keys from keyspace notifications
notify-keyspace-events KA
save ""
appendonly no
EOF
}

cmd_up() {
  local t0 p i
  t0="$(date +%s%N)"
  command -v redis-server >/dev/null || die "redis-server not found (apt-get install -y redis-server)"
  command -v redis-cli >/dev/null || die "redis-cli not found (apt-get install -y redis-tools)"
  mkdir -p "$REPO/.stack"
  if cluster_ok; then
    log "cluster already up and ok on 127.0.0.1:${PORTS[0]}-${PORTS[$((NODES - 1))]} (nothing restarted)"
    return 0
  fi
  stop_all
  for p in "${PORTS[@]}"; do
    for i in "$p" $((p + 10000)); do
      listening "$i" && die "port $i is already in use by a process that is not ours (REDIS_CLUSTER_BASE_PORT picks other ports)"
    done
  done
  rm -rf "$DIR"
  for p in "${PORTS[@]}"; do
    mkdir -p "$(node_dir "$p")"
    write_conf "$p"
    (cd "$(node_dir "$p")" && redis-server "$(node_dir "$p")/redis.conf" </dev/null >>"$(logfile "$p")" 2>&1 9>&-) ||
      { stop_all; die "redis-server failed to start on $p; see $(logfile "$p")"; }
  done
  local deadline=$((SECONDS + TIMEOUT))
  for p in "${PORTS[@]}"; do
    until [ "$(cli "$p" PING 2>/dev/null)" = PONG ]; do
      [ "$SECONDS" -lt "$deadline" ] || { stop_all; die "node $p gave no PONG within ${TIMEOUT}s; see $(logfile "$p")"; }
      sleep 0.1
    done
  done
  local addrs=()
  for p in "${PORTS[@]}"; do addrs+=("127.0.0.1:$p"); done
  log "creating the cluster over ${addrs[*]}"
  if ! redis-cli --cluster create "${addrs[@]}" --cluster-replicas "$REPLICAS" --cluster-yes >"$DIR/create.log" 2>&1; then
    cat "$DIR/create.log" >&2
    stop_all
    die "redis-cli --cluster create failed; see $DIR/create.log and $(all_logs)"
  fi
  until cluster_ok; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      local states=()
      for p in "${PORTS[@]}"; do states+=("$p=$(node_state "$p" || true)"); done
      stop_all
      die "cluster_state not ok on every node within ${TIMEOUT}s (${states[*]}); see $(all_logs) and $DIR/create.log"
    fi
    sleep 0.1
  done
  local ms=$((($(date +%s%N) - t0) / 1000000))
  log "cluster ok in $((ms / 1000)).$(printf '%03d' $((ms % 1000)))s: $MASTERS masters, $((NODES - MASTERS)) replicas on 127.0.0.1:${PORTS[0]}-${PORTS[$((NODES - 1))]} (REDIS_URL=redis://127.0.0.1:${PORTS[0]})"
}

cmd_down() {
  stop_all
  log "cluster is down (logs kept in $DIR)"
}

cmd_status() {
  local p bad=0 pid
  for p in "${PORTS[@]}"; do
    pid="$(pid_of "$(pidfile "$p")")"
    if node_ok "$p"; then printf 'node %s up   pid=%s cluster_state=ok\n' "$p" "$pid"
    elif is_ours "$pid"; then bad=1; printf 'node %s unhealthy pid=%s cluster_state=%s log=%s\n' "$p" "$pid" "$(node_state "$p" || true)" "$(logfile "$p")"
    else bad=1; printf 'node %s down\n' "$p"; fi
  done
  return "$bad"
}

with_lock() { # serialize concurrent up/down (two test runs starting at once)
  mkdir -p "$REPO/.stack"
  if command -v flock >/dev/null; then
    exec 9>"$LOCK"
    flock -w 120 9 || die "another redis-cluster.sh holds $LOCK for over 120s"
  fi
  "$@"
}

case "${1:-}" in
  up) with_lock cmd_up ;;
  down) with_lock cmd_down ;;
  status) cmd_status ;;
  kill-node)
    [ -n "${2:-}" ] || die "kill-node needs a port"
    pid="$(pid_of "$(pidfile "$2")")"
    is_ours "$pid" || die "node $2 is not running (or not ours)"
    log "SIGKILL node $2 (pid $pid)"
    kill -KILL "$pid"
    ;;
  *) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; [ -z "${1:-}" ] || exit 2 ;;
esac
