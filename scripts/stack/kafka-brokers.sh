# shellcheck shell=bash
# Multi-broker Kafka for scripts/stack.sh (STACK_KAFKA_BROKERS=3), sourced after stack.sh's own
# functions, which it wraps: three KRaft nodes, each broker and controller (one combined quorum
# of three voters: any one node can die and the cluster keeps a controller majority and every
# partition a leader). Change topics get replication factor 3 and min.insync.replicas=2,
# `mis.mis.user_auth` gets STACK_USER_AUTH_PARTITIONS (6) partitions; Connect and Debezium's
# schema history use the same three brokers.
#
# Node i (1..3): listener KAFKA_PORT+10*(i-1), controller KAFKA_CONTROLLER_PORT+10*(i-1), data
# and config under $KDIR/b<i>/, pid file kafka.pid (node 1) / kafka2.pid / kafka3.pid; the parts
# are named kafka, kafka2, kafka3 (`stack.sh part stop kafka2`). `kafka` stands for the whole
# cluster in up/down/status and for node 1 in `part`.

KAFKA_NODES="$STACK_KAFKA_BROKERS"
[ "$KAFKA_NODES" = 3 ] || die "STACK_KAFKA_BROKERS must be 1 or 3, got '$KAFKA_NODES'"
USER_AUTH_PARTITIONS="${STACK_USER_AUTH_PARTITIONS:-6}"
STACK_VARIANT+=" brokers3"

wrap() { eval "orig_$1() $(declare -f "$1" | tail -n +2)"; }

kafka_part() { [ "$1" = 1 ] && echo kafka || echo "kafka$1"; }
node_port() { echo $((PORT[KAFKA_PORT] + 10 * ($1 - 1))); }
node_controller_port() { echo $((PORT[KAFKA_CONTROLLER_PORT] + 10 * ($1 - 1))); }
kafka_bootstrap() {
  local i out=()
  for ((i = 1; i <= KAFKA_NODES; i++)); do out+=("127.0.0.1:$(node_port "$i")"); done
  (IFS=,; echo "${out[*]}")
}

wrap pidfile
pidfile() {
  case "$1" in
    kafka2 | kafka3) echo "$KDIR/$1.pid" ;;
    *) orig_pidfile "$1" ;;
  esac
}

# Stopping `kafka` stops the whole cluster (down, a fresh `up`); kafka2/kafka3 are single nodes.
wrap stop_part
stop_part() {
  if [ "$1" = kafka ] && [ "${STOP_ONE_NODE:-0}" != 1 ]; then
    orig_stop_part kafka3 "${2:-30}"
    orig_stop_part kafka2 "${2:-30}"
  fi
  orig_stop_part "$@"
}

wrap healthy
healthy() {
  if [ "$1" = kafka ]; then
    local i
    for ((i = 1; i <= KAFKA_NODES; i++)); do
      running "$(kafka_part "$i")" && (exec 3<>"/dev/tcp/127.0.0.1/$(node_port "$i")") 2>/dev/null || return 1
    done
    return 0
  fi
  orig_healthy "$1"
}

node_config() { # node -> writes $KDIR/b<node>/server.properties from the single-node template
  local i="$1" voters=() j d="$KDIR/b$1"
  for ((j = 1; j <= KAFKA_NODES; j++)); do voters+=("$j@127.0.0.1:$(node_controller_port "$j")"); done
  mkdir -p "$d/data"
  render "$CONF_SRC/kafka/server.properties.in" "$d/server.properties" \
    KAFKA_PORT="$(node_port "$i")" KAFKA_CONTROLLER_PORT="$(node_controller_port "$i")" KAFKA_DATA="$d/data"
  sed -i \
    -e "s/^node.id=.*/node.id=$i/" \
    -e "s/^controller.quorum.voters=.*/controller.quorum.voters=$(IFS=,; echo "${voters[*]}")/" \
    -e 's/^\(default.replication.factor\|offsets.topic.replication.factor\|transaction.state.log.replication.factor\|share.coordinator.state.topic.replication.factor\)=.*/\1=3/' \
    -e 's/^\(min.insync.replicas\|transaction.state.log.min.isr\|share.coordinator.state.topic.min.isr\)=.*/\1=2/' \
    -e '1s/.*/# KRaft node of the 3-node local cluster (rendered by scripts\/stack.sh, STACK_KAFKA_BROKERS=3)./' \
    "$d/server.properties"
}

start_kafka() {
  rm -rf "$KDIR"; mkdir -p "$KDIR"
  local i cid
  rotate_log kafka
  for ((i = 1; i <= KAFKA_NODES; i++)); do node_config "$i"; done
  cid="$(kafka_tool kafka.tools.StorageTool random-uuid 2>>"$(logfile kafka)")" || fail_part kafka "StorageTool random-uuid failed"
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    [ "$i" = 1 ] || rotate_log "kafka$i"
    kafka_tool kafka.tools.StorageTool format -t "$cid" -c "$KDIR/b$i/server.properties" >>"$(logfile "$(kafka_part "$i")")" 2>&1 \
      || fail_part kafka "StorageTool format failed for node $i"
  done
  log "kafka: starting $KAFKA_NODES KRaft nodes on $(kafka_bootstrap) (combined quorum, cluster $cid)"
  for ((i = 1; i <= KAFKA_NODES; i++)); do launch_node "$i"; done
}

launch_node() { # node
  local i="$1" part; part="$(kafka_part "$1")"
  (cd "$KDIR/b$i" && exec setsid nohup "$JAVA" $KAFKA_HEAP $JVM_COMMON -cp "$LIB/broker/*" \
    -Dlog4j2.configurationFile="$CONF_SRC/kafka/log4j2.properties" -Dstack.dir="$STACK_DIR" \
    kafka.Kafka "$KDIR/b$i/server.properties" >>"$(logfile "$part")" 2>&1 </dev/null) &
  echo $! >"$(pidfile "$part")"
  STARTED+=("$part")
}

# `part start kafka` after `part stop kafka`: every node that is not running.
launch_kafka() {
  local i
  for ((i = 1; i <= KAFKA_NODES; i++)); do running "$(kafka_part "$i")" || launch_node "$i"; done
}

wait_kafka() {
  local i pid deadline=$((SECONDS + KAFKA_TIMEOUT))
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    pid="$(pid_of "$(pidfile "$(kafka_part "$i")")")"
    while ! (exec 3<>"/dev/tcp/127.0.0.1/$(node_port "$i")") 2>/dev/null; do
      is_ours "$pid" || fail_part kafka "node $i exited during startup; see $(logfile "$(kafka_part "$i")")"
      [ "$SECONDS" -lt "$deadline" ] || fail_part kafka "node $i: port $(node_port "$i") not open within ${KAFKA_TIMEOUT}s"
      sleep 0.25
    done
  done
  local topics
  topics="$(sed -n 's/^CREATE TABLE \([A-Za-z0-9_]*\).*/mis.mis.\1/p' "$REPO/schemas/mis.sql" |
    sed "s/^mis.mis.user_auth\$/mis.mis.user_auth:$USER_AUTH_PARTITIONS/" | tr '\n' ' ')"
  # shellcheck disable=SC2086
  until "$JAVA" $TOOL_JVM -Dtopics.replication.factor=3 -Dtopics.min.insync.replicas=2 -cp "$LIB/broker/*" \
      -Dlog4j2.configurationFile="$CONF_SRC/kafka/log4j2-tools.properties" \
      "$REPO/scripts/stack/CreateTopics.java" "$(kafka_bootstrap)" $topics >>"$(logfile kafka)" 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || fail_part kafka "no metadata answer / topic creation failed within ${KAFKA_TIMEOUT}s"
    sleep 1
  done
}

# Connect and the schema history talk to every node, not just node 1 (set before each launch).
wrap launch_connect
launch_connect() {
  sed -i "s#^bootstrap.servers=.*#bootstrap.servers=$(kafka_bootstrap)#" "$CDIR/worker.properties"
  sed -i "s#^schema.history.internal.kafka.bootstrap.servers=.*#schema.history.internal.kafka.bootstrap.servers=$(kafka_bootstrap)#" \
    "$CDIR/mis-connector.properties"
  orig_launch_connect
}

wrap write_env
write_env() {
  orig_write_env
  sed -i "s#^export KAFKA_BROKERS=.*#export KAFKA_BROKERS=$(kafka_bootstrap)#" "$ENV_FILE"
  echo "export STACK_KAFKA_BROKERS=$KAFKA_NODES" >>"$ENV_FILE"
}

# `part stop|start kafka2|kafka3` (and kafka = node 1 alone) for the leader-loss tests.
wrap cmd_part
cmd_part() {
  local action="${1:-}" part="${2:-}" i
  case "$part" in
    kafka | kafka2 | kafka3)
      find_java
      load_ports
      i="${part#kafka}"; i="${i:-1}"
      case "$action" in
        stop) STOP_ONE_NODE=1 stop_part "$part" 45 ;;
        start)
          running "$part" && return 0
          [ -f "$KDIR/b$i/server.properties" ] || die "kafka was never started: use up"
          launch_node "$i"
          local deadline=$((SECONDS + KAFKA_TIMEOUT))
          until (exec 3<>"/dev/tcp/127.0.0.1/$(node_port "$i")") 2>/dev/null; do
            [ "$SECONDS" -lt "$deadline" ] || die "node $i: port $(node_port "$i") not open within ${KAFKA_TIMEOUT}s"
            sleep 0.25
          done
          log "kafka: node $i restarted on its existing log dir" ;;
        *) die "usage: stack.sh part stop|start kafka|kafka2|kafka3" ;;
      esac ;;
    *) orig_cmd_part "$@" ;;
  esac
}
