# shellcheck shell=bash
# STACK_SECURE=1: the local stack locked down. Sourced by scripts/stack.sh after its own
# functions, so the functions below replace (or wrap) the plain ones; nothing else changes.
#
#   certificates  a throwaway CA made when no part runs (openssl; keytool for Debezium's
#                 truststore), under $STACK_DIR/secure/certs
#   Kafka         SASL_SSL listener only (SCRAM-SHA-512), controller over mutual TLS, KRaft
#                 StandardAuthorizer; users admin (super user: stack tools), connect, mis-cache-sync;
#                 ACLs below (secure_kafka_acls)
#   Connect       worker, producer, admin and Debezium's schema history over SASL_SSL as "connect";
#                 MariaDB over TLS verified against the CA (verify-full); its REST API on HTTPS only,
#                 with a client certificate of the CA required (mutual TLS)
#   Redis         TLS port only, default user off; users stack-admin, mis-cache-sync (docs/security.md's
#                 least-privilege ACL), mis-app (the application)
#   MariaDB       require_secure_transport=ON; cdc, mis-cache-sync (SELECT on the loaders' tables,
#                 REFERENCES for the FK graph), mis-cache-sync-verify (SELECT on what verify judges)
#                 and mis-app (the application) must use TLS; root only on the unix socket
#
# Passwords are random, made with the certificates, kept in $STACK_DIR/secure/secrets (0600).

SDIR="$STACK_DIR/secure"
CERTS="$SDIR/certs"
SECRETS="$SDIR/secrets"
SECURE_SRC="$CONF_SRC/secure"
DLQ_TOPIC=mis.mis-cache-sync.dlq

# The service's Redis ACL: exactly docs/security.md's (test/faults/security.test.ts checks both).
REDIS_SERVICE_ACL='resetkeys ~session:* ~permissions:* ~master:* ~stats:* ~temp:* ~lock:* ~mcs:* resetchannels &__keyspace@1__:stats:* &__keyspace@1__:mcs:pidx:fence:* -@all +ping +info +config|get +select +client|setname +get +set +del +unlink +scan +eval +zadd +zrangebyscore +zrem +zscore +psubscribe +exists +sadd +srem +smembers +hget +hset +hsetnx +hexists'
# The tables the service reads (SELECT only, nothing else): those of the refresh loaders of
# consumers/, and user_auth for the holders of a changed menu while its row index is not complete.
SERVICE_MYSQL_TABLES='departments brands products user_auth'
# `verify` (and the consistency monitor) recompute what the application caches: every table the
# truth of a cached key reads (src/consistency/truth.ts, the loaders, existsOnlyIf). Their own user.
VERIFY_MYSQL_TABLES='departments brands products user_auth users menus trade_orders serials'

STACK_VARIANT+=" secure"

secret() { cat "$SECRETS/$1"; }

any_part_running() { local p; for p in mariadb redis kafka connect; do running "$p" && return 0; done; return 1; }

# Makes the CA, the server certificates and the passwords; only when no part runs (a part that
# runs holds the current ones), or when they are missing.
secure_prepare() {
  command -v openssl >/dev/null || die "STACK_SECURE=1 needs openssl (apt-get install -y openssl)"
  command -v keytool >/dev/null || die "STACK_SECURE=1 needs keytool (openjdk-17-jdk-headless)"
  if any_part_running && [ -s "$CERTS/ca.pem" ] && [ -s "$SECRETS/kafka-admin" ]; then return 0; fi
  log "secure: making a throwaway CA, certificates and passwords in $SDIR"
  rm -rf "$SDIR"; mkdir -p "$CERTS" "$SECRETS"; chmod 700 "$SDIR" "$SECRETS"
  local n
  for n in kafka-admin kafka-connect kafka-service redis-admin redis-service redis-app mysql-cdc mysql-service mysql-verify mysql-app keystore; do
    (umask 077; openssl rand -hex 16 >"$SECRETS/$n")
  done
  (
    cd "$CERTS" || exit 1
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=mis-cache-sync stack CA" \
      -keyout ca.key -out ca.pem 2>/dev/null || exit 1
    # server: Redis and MariaDB; kafka: the broker (its subject is also its controller principal);
    # connect: Connect's REST listener; connect-client: the client certificate its REST API requires
    for c in server:localhost kafka:kafka-broker connect:localhost connect-client:connect-rest-client; do
      name="${c%%:*}"; cn="${c#*:}"
      openssl req -newkey rsa:2048 -nodes -subj "/CN=$cn" -keyout "$name.key" -out "$name.csr" 2>/dev/null || exit 1
      printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >"$name.ext"
      openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 7 \
        -extfile "$name.ext" -out "$name.pem" 2>/dev/null || exit 1
      rm -f "$name.csr" "$name.ext"
    done
    pw="$(cat "$SECRETS/keystore")"
    openssl pkcs12 -export -in kafka.pem -inkey kafka.key -certfile ca.pem -name kafka \
      -out kafka.p12 -passout "pass:$pw" || exit 1
    openssl pkcs12 -export -in connect.pem -inkey connect.key -certfile ca.pem -name connect \
      -out connect.p12 -passout "pass:$pw" || exit 1
    keytool -importcert -noprompt -alias ca -file ca.pem -keystore truststore.p12 -storetype PKCS12 \
      -storepass "$pw" >/dev/null 2>&1 || exit 1
    chmod 644 ca.pem
  ) || die "secure: making the certificates failed"
}

secure_client_props() { # user password-file output
  render "$SECURE_SRC/kafka-client.properties.in" "$3" USER="$1" PASSWORD="$(secret "$2")" CERTS="$CERTS"
  chmod 600 "$3"
}

# ------------------------------------------------------------------ MariaDB
eval "plain_$(declare -f render_mysql_conf)"
render_mysql_conf() {
  plain_render_mysql_conf
  render "$SECURE_SRC/my-tls.cnf.in" "$MDIR/my-tls.cnf" CERTS="$CERTS"
  cat "$MDIR/my-tls.cnf" >>"$MDIR/my.cnf"; rm -f "$MDIR/my-tls.cnf"
}

eval "plain_$(declare -f provision_mariadb)"
provision_mariadb() {
  plain_provision_mariadb
  local grants="" t
  for t in $SERVICE_MYSQL_TABLES; do grants+="GRANT SELECT ON \`mis\`.\`$t\` TO 'mis-cache-sync'@'%';"$'\n'; done
  for t in $VERIFY_MYSQL_TABLES; do grants+="GRANT SELECT ON \`mis\`.\`$t\` TO 'mis-cache-sync-verify'@'%';"$'\n'; done
  mysql_root <<SQL || fail_part mariadb "secure provisioning (TLS users and grants) failed"
-- STACK_SECURE=1: every TCP user needs TLS; the plain stack's app/app user does not exist here.
DROP USER IF EXISTS 'app'@'%';
DROP USER IF EXISTS 'app'@'localhost';
ALTER USER 'cdc'@'%' IDENTIFIED BY '$(secret mysql-cdc)' REQUIRE SSL;
DROP USER IF EXISTS 'mis-cache-sync'@'%';
CREATE USER 'mis-cache-sync'@'%' IDENTIFIED BY '$(secret mysql-service)' REQUIRE SSL;
-- REFERENCES reads no row: it makes every table's keys visible in information_schema (MariaDB
-- shows only tables the user holds a privilege on), so the FK graph read at start is complete.
GRANT REFERENCES ON \`mis\`.* TO 'mis-cache-sync'@'%';
DROP USER IF EXISTS 'mis-cache-sync-verify'@'%';
CREATE USER 'mis-cache-sync-verify'@'%' IDENTIFIED BY '$(secret mysql-verify)' REQUIRE SSL;
$grants
DROP USER IF EXISTS 'mis-app'@'%';
CREATE USER 'mis-app'@'%' IDENTIFIED BY '$(secret mysql-app)' REQUIRE SSL;
GRANT SELECT, INSERT, UPDATE, DELETE, DROP ON \`mis\`.* TO 'mis-app'@'%';
FLUSH PRIVILEGES;
SQL
}

# ------------------------------------------------------------------ Redis
redis_cli_secure() {
  redis-cli --tls --cacert "$CERTS/ca.pem" -h 127.0.0.1 -p "${PORT[REDIS_PORT]}" \
    --user stack-admin --pass "$(secret redis-admin)" --no-auth-warning "$@"
}
redis_ok() { [ "$(redis_cli_secure PING 2>/dev/null)" = PONG ]; }

start_redis() {
  mkdir -p "$RDIR"
  render "$SECURE_SRC/redis.conf.in" "$RDIR/redis.conf" \
    REDIS_PORT="${PORT[REDIS_PORT]}" REDIS_PID="$RDIR/redis.pid" REDIS_LOG="$(logfile redis)" REDIS_DIR="$RDIR" \
    CERTS="$CERTS" REDIS_ADMIN_PASSWORD="$(secret redis-admin)" REDIS_SERVICE_PASSWORD="$(secret redis-service)" \
    REDIS_APP_PASSWORD="$(secret redis-app)" REDIS_SERVICE_ACL="$(sed_literal "$REDIS_SERVICE_ACL")"
  chmod 600 "$RDIR/redis.conf"
  log "redis: starting (TLS only) on 127.0.0.1:${PORT[REDIS_PORT]}"
  rm -f "$RDIR/redis.pid"
  (cd "$RDIR" && redis-server "$RDIR/redis.conf" </dev/null >>"$(logfile redis)" 2>&1) || fail_part redis "redis-server failed to start"
  STARTED+=(redis)
  local i
  for ((i = 0; i < REDIS_TIMEOUT * 4; i++)); do redis_ok && break; sleep 0.25; done
  redis_ok || fail_part redis "no PONG over TLS within ${REDIS_TIMEOUT}s"
}

# ------------------------------------------------------------------ Kafka
start_kafka() {
  rm -rf "$KDIR"; mkdir -p "$KDIR/data"
  render "$SECURE_SRC/kafka-server.properties.in" "$KDIR/server.properties" \
    KAFKA_PORT="${PORT[KAFKA_PORT]}" KAFKA_CONTROLLER_PORT="${PORT[KAFKA_CONTROLLER_PORT]}" KAFKA_DATA="$KDIR/data" \
    CERTS="$CERTS" ADMIN_PASSWORD="$(secret kafka-admin)" KEYSTORE_PASSWORD="$(secret keystore)"
  chmod 600 "$KDIR/server.properties"
  secure_client_props admin kafka-admin "$SDIR/kafka-admin.properties"
  rotate_log kafka
  local cid
  cid="$(kafka_tool kafka.tools.StorageTool random-uuid 2>>"$(logfile kafka)")" || fail_part kafka "StorageTool random-uuid failed"
  # SCRAM credentials go into the metadata log at format time (KRaft has no ZooKeeper to hold them)
  kafka_tool kafka.tools.StorageTool format -t "$cid" -c "$KDIR/server.properties" \
    --add-scram "SCRAM-SHA-512=[name=admin,password=$(secret kafka-admin)]" \
    --add-scram "SCRAM-SHA-512=[name=connect,password=$(secret kafka-connect)]" \
    --add-scram "SCRAM-SHA-512=[name=mis-cache-sync,password=$(secret kafka-service)]" \
    >>"$(logfile kafka)" 2>&1 || fail_part kafka "StorageTool format failed"
  log "kafka: starting broker (SASL_SSL only) on 127.0.0.1:${PORT[KAFKA_PORT]} (controller ${PORT[KAFKA_CONTROLLER_PORT]}, mTLS, cluster $cid)"
  launch_kafka
}

eval "plain_$(declare -f wait_kafka)"
wait_kafka() {
  # CreateTopics.java reads the admin's client settings from STACK_KAFKA_CLIENT_CONFIG; the
  # dead-letter topic is made here too (the service may write it, not create it)
  STACK_KAFKA_CLIENT_CONFIG="$SDIR/kafka-admin.properties" STACK_EXTRA_TOPICS="$DLQ_TOPIC" plain_wait_kafka
  secure_kafka_acls
}

acl() { kafka_tool org.apache.kafka.tools.AclCommand --bootstrap-server "127.0.0.1:${PORT[KAFKA_PORT]}" \
  --command-config "$SDIR/kafka-admin.properties" --add --force "$@" >>"$(logfile kafka)" 2>&1 \
  || fail_part kafka "adding ACL failed: $*"; }

# The service: read the change topics (mis.mis.*) and its consumer groups (mis-cache-sync*),
# write the dead-letter topic, delete replay's one-off groups. Nothing else (no Create, no other
# topic, no cluster operation).
# Connect/Debezium: everything on mis and mis.* topics (change, schema-change and schema-history
# topics) and on its groups.
secure_kafka_acls() {
  acl --allow-principal User:mis-cache-sync --operation Read --operation Describe \
    --topic mis.mis. --resource-pattern-type prefixed
  acl --allow-principal User:mis-cache-sync --operation Read --operation Describe \
    --group mis-cache-sync --resource-pattern-type prefixed
  acl --allow-principal User:mis-cache-sync --operation Write --operation Describe --topic "$DLQ_TOPIC"
  # `mis-cache-sync replay` deletes its one-off group <group>-replay-* when done
  acl --allow-principal User:mis-cache-sync --operation Delete \
    --group mis-cache-sync-replay- --resource-pattern-type prefixed
  acl --allow-principal User:connect --operation All --topic mis. --resource-pattern-type prefixed
  acl --allow-principal User:connect --operation All --topic mis # Debezium's schema-change topic
  # heartbeats (source freshness) and snapshot notifications, written by Debezium, read by the service
  acl --allow-principal User:connect --operation All --topic __debezium-heartbeat.mis
  acl --allow-principal User:mis-cache-sync --operation Read --operation Describe --topic __debezium-heartbeat.mis
  acl --allow-principal User:mis-cache-sync --operation Read --operation Describe --topic mis.notifications
  acl --allow-principal User:connect --operation All --group mis- --resource-pattern-type prefixed
  acl --allow-principal User:connect --operation Describe --operation Create --operation IdempotentWrite --cluster
  log "kafka: ACLs for mis-cache-sync (read mis.mis.*, heartbeats, notifications, groups mis-cache-sync*, write $DLQ_TOPIC, delete groups mis-cache-sync-replay-*) and connect"
}

# ------------------------------------------------------------------ Connect
eval "plain_$(declare -f start_connect)"
eval "plain_$(declare -f launch_connect)"
launch_connect() { [ -n "${SECURE_DEFER_LAUNCH:-}" ] || plain_launch_connect; }
start_connect() {
  SECURE_DEFER_LAUNCH=1 plain_start_connect # renders the plain files, launches nothing yet
  render "$SECURE_SRC/connect-security.properties.in" "$CDIR/security.properties" \
    CERTS="$CERTS" CONNECT_PASSWORD="$(secret kafka-connect)" CONNECT_PORT="${PORT[CONNECT_PORT]}" \
    KEYSTORE_PASSWORD="$(secret keystore)"
  render "$SECURE_SRC/connector-security.properties.in" "$CDIR/connector-security.properties" \
    CERTS="$CERTS" CONNECT_PASSWORD="$(secret kafka-connect)" CDC_PASSWORD="$(secret mysql-cdc)" \
    KEYSTORE_PASSWORD="$(secret keystore)"
  # the plain connector file has ssl.mode=disable and password cdc: drop them
  sed -i -e '/^database.ssl.mode=/d' -e '/^database.password=/d' "$CDIR/mis-connector.properties"
  # and the plain worker file has an http:// REST listener: the secure one is https
  sed -i -e '/^listeners=/d' -e '/^rest.advertised.listener=/d' "$CDIR/worker.properties"
  cat "$CDIR/security.properties" >>"$CDIR/worker.properties"
  cat "$CDIR/connector-security.properties" >>"$CDIR/mis-connector.properties"
  rm -f "$CDIR/security.properties" "$CDIR/connector-security.properties"
  chmod 600 "$CDIR/worker.properties" "$CDIR/mis-connector.properties"
  launch_connect
}

# The stack's own REST calls (wait_connect, status) present the client certificate.
connect_curl() {
  curl -sf --max-time 5 --cacert "$CERTS/ca.pem" --cert "$CERTS/connect-client.pem" \
    --key "$CERTS/connect-client.key" "$@"
}
connect_status_json() {
  connect_curl "https://127.0.0.1:${PORT[CONNECT_PORT]}/connectors/$CONNECTOR/status" 2>/dev/null
}

# Kafka CLI tools of the plain script (GetOffsetShell in wait_snapshot) get the admin's settings
# when STACK_TOOL_CONFIG is set.
eval "plain_$(declare -f kafka_tool)"
kafka_tool() {
  if [ -n "${STACK_TOOL_CONFIG:-}" ]; then plain_kafka_tool "$@" --command-config "$STACK_TOOL_CONFIG"
  else plain_kafka_tool "$@"; fi
}
eval "plain_$(declare -f wait_snapshot)"
wait_snapshot() { STACK_TOOL_CONFIG="$SDIR/kafka-admin.properties" plain_wait_snapshot; }

# ------------------------------------------------------------------ env
eval "plain_$(declare -f write_env)"
write_env() {
  plain_write_env
  local p="${PORT[MYSQL_PORT]}"
  sed -i -e '/^export \(MYSQL_URL\|REDIS_URL\|STACK_MYSQL_CLIENT\|CONNECT_URL\)=/d' "$ENV_FILE"
  cat >>"$ENV_FILE" <<EOF
# --- STACK_SECURE=1: every connection encrypted and authenticated (scripts/stack/secure.sh).
# The service's settings (its least-privilege users):
export STACK_SECURE=1
export MCS_KAFKA_SSL=true
export MCS_KAFKA_SSL_CA_FILE=$CERTS/ca.pem
export MCS_KAFKA_SASL_MECHANISM=scram-sha-512
export MCS_KAFKA_SASL_USERNAME=mis-cache-sync
export MCS_KAFKA_SASL_PASSWORD=$(secret kafka-service)
export REDIS_URL=rediss://mis-cache-sync:$(secret redis-service)@127.0.0.1:${PORT[REDIS_PORT]}
export MCS_REDIS_TLS_CA_FILE=$CERTS/ca.pem
export MYSQL_URL=mysql://mis-cache-sync:$(secret mysql-service)@127.0.0.1:$p/mis
export MCS_MYSQL_TLS_CA_FILE=$CERTS/ca.pem
# The application's credentials (tests and tools that write rows and cache entries as MIS does):
export APP_REDIS_URL=rediss://mis-app:$(secret redis-app)@127.0.0.1:${PORT[REDIS_PORT]}
export APP_MYSQL_URL=mysql://mis-app:$(secret mysql-app)@127.0.0.1:$p/mis
# \`verify\` and the consistency monitor: MYSQL_URL of their own user (SELECT on what they judge)
export VERIFY_MYSQL_URL=mysql://mis-cache-sync-verify:$(secret mysql-verify)@127.0.0.1:$p/mis
export STACK_CA_FILE=$CERTS/ca.pem
export STACK_SECRETS_DIR=$SECRETS
export STACK_KAFKA_ADMIN_CONFIG=$SDIR/kafka-admin.properties
# Kafka Connect's REST API: HTTPS with a client certificate (read by \`check\` and the stack tools)
export CONNECT_URL=https://127.0.0.1:${PORT[CONNECT_PORT]}
export MCS_CONNECT_TLS_CA_FILE=$CERTS/ca.pem
export MCS_CONNECT_TLS_CERT_FILE=$CERTS/connect-client.pem
export MCS_CONNECT_TLS_KEY_FILE=$CERTS/connect-client.key
export STACK_MYSQL_CLIENT="mariadb --defaults-file=$MDIR/my.cnf -uroot --protocol=socket mis"
EOF
  chmod 600 "$ENV_FILE"
}

# ------------------------------------------------------------------ commands
kafka_client_args() { # `stack.sh kafka …` runs the tools as the stack's admin
  case "$1" in
    *ConsoleConsumer) KAFKA_CLIENT_ARGS=(--consumer.config "$SDIR/kafka-admin.properties") ;;
    *ConsoleProducer) KAFKA_CLIENT_ARGS=(--producer.config "$SDIR/kafka-admin.properties") ;;
    *) KAFKA_CLIENT_ARGS=(--command-config "$SDIR/kafka-admin.properties") ;;
  esac
}

cmd_redis_cli() { load_ports; redis_cli_secure "$@"; }
variant_prepare() { secure_prepare; }
# the plain app/app user does not exist here: the client runs as root on the unix socket
cmd_mysql() { exec mariadb --defaults-file="$MDIR/my.cnf" -uroot --protocol=socket mis "$@"; }
