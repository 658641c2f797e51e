# shellcheck shell=bash
# Avro variant of the local stack (STACK_FORMAT=avro), sourced by scripts/stack.sh.
#   Apicurio Registry 2.6 (in-memory, loopback)  +  Kafka Connect with Apicurio's AvroConverter
#   writing Confluent framing (magic byte 0, 4-byte big-endian content id; ids not in headers).
# Everything the variant needs lives here and in stack/avro/; stack.sh only calls the avro_* hooks.
# The format of the running stack is kept in $STACK_DIR/format: `up` with another format restarts
# Kafka + Connect (fresh topics), `down` stops the registry whatever STACK_FORMAT says.

AVRO_DIR="$STACK_DIR/registry"
AVRO_LIB_REGISTRY="$LIB/avro-registry"
AVRO_LIB_CONVERTER="$LIB/avro-converter"
FORMAT_FILE="$STACK_DIR/format"
REGISTRY_TIMEOUT="${STACK_REGISTRY_TIMEOUT:-120}"
REGISTRY_HEAP="${STACK_REGISTRY_HEAP:--Xms64m -Xmx384m}"

stack_format() { # the requested format: json (default) or avro
  case "${STACK_FORMAT:-json}" in
    json | avro) echo "${STACK_FORMAT:-json}" ;;
    *) die "STACK_FORMAT must be json or avro, got '${STACK_FORMAT}'" ;;
  esac
}
running_format() { [ -s "$FORMAT_FILE" ] && cat "$FORMAT_FILE" || echo json; }

registry_pidfile() { echo "$AVRO_DIR/registry.pid"; }
registry_port() {
  local p; p="$(saved_port REGISTRY_PORT)"
  echo "${p:-${STACK_REGISTRY_PORT:-18081}}"
}
registry_running() { is_ours "$(pid_of "$(registry_pidfile)")"; }
registry_ok() { curl -sf --max-time 3 "http://127.0.0.1:$(registry_port)/apis/ccompat/v7/subjects" >/dev/null 2>&1; }

# Jars: the registry app (unpacked zip) and the converter's runtime jars minus what Connect has.
avro_ensure_libs() {
  local want p need=() pids=() i rc=0
  want="$(sha256sum <"$CONF_SRC/avro/pom.xml" | cut -c1-16)"
  for p in registry converter; do
    if [ -f "$LIB/avro-$p.stamp" ] && [ "$(cat "$LIB/avro-$p.stamp")" = "$want" ]; then continue; fi
    need+=("$p")
  done
  [ "${#need[@]}" -gt 0 ] || return 0
  log "avro: resolving Apicurio Registry and converter jars with Maven (${need[*]})"
  for p in "${need[@]}"; do
    rm -rf "${LIB:?}/avro-$p" "$LIB/avro-$p.stamp"
    # shellcheck disable=SC2086
    timeout "$MVN_TIMEOUT" mvn -B -q ${STACK_MVN_ARGS:-} -f "$CONF_SRC/avro/pom.xml" -P"$p" validate -Dstack.lib="$LIB" \
      >"$LOGS/mvn-avro-$p.log" 2>&1 </dev/null &
    pids+=("$!")
  done
  for i in "${!need[@]}"; do
    if wait "${pids[$i]}"; then echo "$want" >"$LIB/avro-${need[$i]}.stamp"
    else rc=1; warn "mvn failed for stack/avro profile ${need[$i]}; log: $LOGS/mvn-avro-${need[$i]}.log"
      tail -n 30 "$LOGS/mvn-avro-${need[$i]}.log" | sed 's/^/    /' >&2; fi
  done
  [ "$rc" = 0 ] || exit 1
  # One copy of each library on Connect's classpath: drop the converter's jars that Connect or
  # Debezium already ship (jackson, slf4j, compression codecs, commons-lang3) in another version.
  local jar base
  for jar in "$AVRO_LIB_CONVERTER"/*.jar; do
    base="$(basename "$jar" | sed -E 's/-[0-9][0-9A-Za-z.+_-]*\.jar$//')"
    if compgen -G "$LIB/connect/$base-[0-9]*.jar" >/dev/null; then rm -f "$jar"; fi
  done
  compgen -G "$AVRO_LIB_REGISTRY/apicurio-registry-app-*-runner.jar" >/dev/null \
    || die "avro: registry runner jar missing in $AVRO_LIB_REGISTRY"
}

avro_choose_port() { choose_port REGISTRY_PORT 18081 STACK_REGISTRY_PORT registry; }

avro_start_registry() {
  mkdir -p "$AVRO_DIR"
  local jar port
  jar="$(compgen -G "$AVRO_LIB_REGISTRY/apicurio-registry-app-*-runner.jar" | head -n1)"
  port="${PORT[REGISTRY_PORT]}"
  rotate_log registry
  log "registry: starting Apicurio Registry (in-memory) on 127.0.0.1:$port"
  # Quarkus: loopback only, in-memory storage (the default of the `all` app), no auth, quiet logs.
  (cd "$AVRO_DIR" && exec setsid nohup "$JAVA" $REGISTRY_HEAP $JVM_COMMON -Dstack.dir="$STACK_DIR" \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$port" \
    -Dquarkus.management.enabled=false -Dquarkus.log.level=INFO \
    -jar "$jar" >>"$(logfile registry)" 2>&1 </dev/null) &
  echo $! >"$(registry_pidfile)"
  STARTED+=(registry)
}

avro_wait_registry() {
  local deadline=$((SECONDS + REGISTRY_TIMEOUT))
  until registry_ok; do
    registry_running || fail_part registry "registry process exited during startup"
    [ "$SECONDS" -lt "$deadline" ] || fail_part registry "no answer on /apis/ccompat/v7/subjects within ${REGISTRY_TIMEOUT}s"
    sleep 0.5
  done
  log "registry: ready (Confluent-compatible API at http://127.0.0.1:${PORT[REGISTRY_PORT]}/apis/ccompat/v7)"
}

# Converter lines appended to the rendered worker.properties (keys and values alike).
avro_worker_properties() { # file
  local url="http://127.0.0.1:${PORT[REGISTRY_PORT]}/apis/registry/v2" side
  {
    echo "# --- STACK_FORMAT=avro (scripts/stack/avro.sh): Apicurio AvroConverter, Confluent framing"
    for side in key value; do
      echo "$side.converter=io.apicurio.registry.utils.converter.AvroConverter"
      echo "$side.converter.apicurio.registry.url=$url"
      echo "$side.converter.apicurio.registry.auto-register=true"
      echo "$side.converter.apicurio.registry.find-latest=true"
      # magic byte 0 + 4-byte id (the Confluent wire format); the id is the content id, which
      # the registry's Confluent-compatible API serves under /schemas/ids/{id}
      echo "$side.converter.apicurio.registry.as-confluent=true"
      echo "$side.converter.apicurio.registry.use-id=contentId"
      echo "$side.converter.apicurio.registry.headers.enabled=false"
    done
  } >>"$1"
}

avro_classpath() { echo "$LIB/connect/*:$AVRO_LIB_CONVERTER/*"; }

avro_env_lines() {
  PORT[REGISTRY_PORT]="${PORT[REGISTRY_PORT]:-$(registry_port)}"
  echo "export STACK_FORMAT=avro"
  echo "export SCHEMA_REGISTRY_URL=http://127.0.0.1:${PORT[REGISTRY_PORT]}/apis/ccompat/v7"
  echo "export STACK_REGISTRY_PORT=${PORT[REGISTRY_PORT]}"
}

avro_status_line() {
  local port; port="$(registry_port)"
  if registry_running && registry_ok; then printf '%-8s %sup%s    127.0.0.1:%s pid=%s\n' registry "$G" "$N" "$port" "$(pid_of "$(registry_pidfile)")"
  else printf '%-8s %sdown%s  127.0.0.1:%s\n' registry "$R" "$N" "$port"; return 1; fi
}
