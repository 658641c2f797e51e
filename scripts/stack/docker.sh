#!/usr/bin/env bash
# Container engine of the local stack (STACK_ENGINE=docker). Two uses:
#
#  1. Sourced by scripts/stack.sh when STACK_ENGINE=docker: the same parts (MariaDB, Redis, Kafka
#     KRaft, Connect + Debezium) run as containers of the images below, with the same rendered
#     configs, ports, data dirs and log files as the process stack (the stack dir and stack/ are
#     bind-mounted at their own paths), so `.stack/env` is the same contract plus DOCKER_HOST.
#     Only the launch/stop functions are replaced here; readiness checks are stack.sh's own.
#
#  2. Run directly:  scripts/stack/docker.sh engine-up|engine-down|images|env
#     engine-up    use the engine at $DOCKER_HOST if one answers, else start a private dockerd
#     images       build the stack images (and the service image) unless current
#     env          print DOCKER_HOST=... of the running engine
#     engine-down  stop the private dockerd if this stack dir started it
#
# The engine: a private `dockerd` (bridge, iptables and ip6tables off; containers use the host
# network and listen on 127.0.0.1 only), data under $STACK_DOCKER_ROOT (default
# /var/cache/mis-cache-sync/engine, machine-wide so that built images survive a fresh clone).
# Images: Dockerfiles under stack/docker/, built FROM $STACK_BASE_IMAGE. Without a registry the
# base is a debootstrap of Debian bookworm (minbase) from the mirror apt uses, imported as
# mis-base:bookworm; the rootfs tarball is cached in $STACK_CACHE (default /var/cache/mis-cache-sync).
# With a registry: STACK_BASE_IMAGE=debian:bookworm-slim. An image is rebuilt only when the hash
# of its build context changed (label mis.context); `docker build` layer caching does the rest.
set -Eeuo pipefail

STACK_CACHE="${STACK_CACHE:-/var/cache/mis-cache-sync}"
DOCKER_ROOT="${STACK_DOCKER_ROOT:-$STACK_CACHE/engine}"
DOCKER_TIMEOUT="${STACK_DOCKER_TIMEOUT:-60}"
BASE_TARBALL="$STACK_CACHE/debian-bookworm-minbase.tar.gz"
LOCAL_BASE=mis-base:bookworm
IMAGE_TAG="${STACK_IMAGE_TAG:-local}"

_dk_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
_dk_log() { printf '[docker] %s\n' "$*" >&2; }
_dk_die() { printf '[docker] ERROR: %s\n' "$*" >&2; exit 1; }

docker_answers() { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# ------------------------------------------------------------------ engine
dockerd_pid() {
  local pid
  pid="$(tr -dc "0-9" 2>/dev/null <"$DOCKER_ROOT/dockerd.pid" || true)"
  [ -n "$pid" ] && [ -d "/proc/$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "--data-root $DOCKER_ROOT/data" && echo "$pid"
}

# Exports DOCKER_HOST of a working engine; starts the private one if none answers.
# $1 = directory where a marker records that this caller started the engine (stopped by engine_down).
engine_up() {
  local marker_dir="${1:-}"
  if [ -n "${DOCKER_HOST:-}" ] && docker_answers; then return 0; fi
  export DOCKER_HOST="unix://$DOCKER_ROOT/docker.sock"
  if [ -n "$(dockerd_pid)" ] && docker_answers; then return 0; fi
  command -v dockerd >/dev/null || _dk_die "no Docker engine answers and dockerd is not installed (apt-get install docker.io)"
  mkdir -p "$DOCKER_ROOT/data" "$DOCKER_ROOT/exec"
  rm -f "$DOCKER_ROOT/docker.sock"
  _dk_log "starting a private dockerd (data $DOCKER_ROOT/data, socket $DOCKER_ROOT/docker.sock)"
  # shellcheck disable=SC2016
  setsid nohup dockerd --data-root "$DOCKER_ROOT/data" --exec-root "$DOCKER_ROOT/exec" \
    --pidfile "$DOCKER_ROOT/dockerd.pid" --host "$DOCKER_HOST" \
    --bridge=none --iptables=false --ip6tables=false --ip-masq=false --userland-proxy=false \
    >>"$DOCKER_ROOT/dockerd.log" 2>&1 </dev/null &
  local i
  for ((i = 0; i < DOCKER_TIMEOUT * 4; i++)); do docker_answers && break; sleep 0.25; done
  docker_answers || { tail -n 20 "$DOCKER_ROOT/dockerd.log" >&2; _dk_die "dockerd did not answer within ${DOCKER_TIMEOUT}s"; }
  if [ -n "$marker_dir" ]; then mkdir -p "$marker_dir"; echo "$DOCKER_ROOT" >"$marker_dir/engine-started"; fi
}

# Stops the private engine if the marker in $1 says this caller started it.
engine_down() {
  local marker_dir="${1:-}" pid i
  [ -n "$marker_dir" ] && [ -f "$marker_dir/engine-started" ] || return 0
  pid="$(dockerd_pid || true)"
  rm -f "$marker_dir/engine-started"
  [ -n "$pid" ] || return 0
  _dk_log "stopping the private dockerd (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do [ -d "/proc/$pid" ] || return 0; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
}

# ------------------------------------------------------------------ images
base_image() {
  if [ -n "${STACK_BASE_IMAGE:-}" ]; then echo "$STACK_BASE_IMAGE"; return; fi
  if ! docker image inspect "$LOCAL_BASE" >/dev/null 2>&1; then
    if [ ! -s "$BASE_TARBALL" ]; then
      command -v debootstrap >/dev/null || _dk_die "debootstrap is not installed (apt-get install debootstrap)"
      local mirror tmp
      # the mirror apt really uses: skip comments (deb822 files carry a commented snapshot URL)
      mirror="$(grep -hvE '^[[:space:]]*#' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
        grep -oE 'https?://[^ ]+/debian/?$|https?://[^ ]+/debian/? ' | grep -v security | head -n1 | tr -d ' ' || true)"
      mirror="${mirror:-http://deb.debian.org/debian}"
      tmp="$STACK_CACHE/rootfs.$$"
      mkdir -p "$STACK_CACHE"
      _dk_log "debootstrap --variant=minbase bookworm from $mirror (once per machine; cached in $BASE_TARBALL)"
      debootstrap --variant=minbase bookworm "$tmp" "$mirror" >"$STACK_CACHE/debootstrap.log" 2>&1 \
        || { tail -n 20 "$STACK_CACHE/debootstrap.log" >&2; rm -rf "$tmp"; _dk_die "debootstrap failed"; }
      rm -rf "$tmp/var/cache/apt/archives/"*.deb "$tmp/var/lib/apt/lists/"*
      tar -C "$tmp" -c . | gzip -1 >"$BASE_TARBALL.tmp" && mv "$BASE_TARBALL.tmp" "$BASE_TARBALL"
      rm -rf "$tmp"
    fi
    _dk_log "importing $BASE_TARBALL as $LOCAL_BASE"
    docker import "$BASE_TARBALL" "$LOCAL_BASE" >/dev/null
  fi
  echo "$LOCAL_BASE"
}

# build_image NAME DOCKERFILE TARGET -- tar arguments producing the build context
# (TARGET may be empty). Skips the build when the image's mis.context label equals the hash of
# the context and the base image.
build_image() {
  local name="$1" dockerfile="$2" target="$3" base hash have t0=$SECONDS
  shift 4
  base="$(base_image)"
  hash="$( { echo "$base $(docker image inspect -f '{{.Id}}' "$base" 2>/dev/null) $target"; tar -c --sort=name --mtime=@0 --owner=0 --group=0 "$@" | sha256sum; } | sha256sum | cut -c1-20)"
  have="$(docker image inspect -f '{{index .Config.Labels "mis.context"}}' "$name" 2>/dev/null || true)"
  if [ "$have" = "$hash" ]; then return 0; fi
  _dk_log "building $name from $dockerfile (base $base)"
  local args=(--network host -f "$dockerfile" --build-arg "BASE_IMAGE=$base" --label "mis.context=$hash" -t "$name")
  [ -z "$target" ] || args+=(--target "$target")
  mkdir -p "$STACK_CACHE/build-logs"
  local blog="$STACK_CACHE/build-logs/${name%%:*}.log"
  tar -c "$@" | DOCKER_BUILDKIT=0 docker build --force-rm "${args[@]}" - >"$blog" 2>&1 \
    || { tail -n 30 "$blog" >&2; _dk_die "docker build of $name failed (log: $blog)"; }
  _dk_log "built $name in $((SECONDS - t0))s"
}

# Stack images; the Kafka and Connect jars are the ones stack/pom.xml resolved into $1 (= .stack/lib).
build_stack_images() {
  local lib="$1" d
  [ -d "$lib/broker" ] && [ -d "$lib/connect" ] || _dk_die "jars missing in $lib (scripts/stack.sh up resolves them)"
  d=stack/docker
  build_image "mis-stack-redis:$IMAGE_TAG" $d/redis.Dockerfile "" -- \
    -C "$_dk_repo" $d/redis.Dockerfile $d/entrypoint-redis.sh
  build_image "mis-stack-mariadb:$IMAGE_TAG" $d/mariadb.Dockerfile "" -- \
    -C "$_dk_repo" $d/mariadb.Dockerfile $d/entrypoint-mariadb.sh stack/mariadb schemas/mis.sql
  build_image "mis-stack-kafka:$IMAGE_TAG" $d/kafka.Dockerfile "" -- \
    -C "$_dk_repo" $d/kafka.Dockerfile $d/entrypoint-kafka.sh stack/kafka -C "$(dirname "$lib")" "$(basename "$lib")/broker"
  build_image "mis-stack-connect:$IMAGE_TAG" $d/connect.Dockerfile "" -- \
    -C "$_dk_repo" $d/connect.Dockerfile $d/entrypoint-connect.sh stack/connect -C "$(dirname "$lib")" "$(basename "$lib")/connect"
}

# The service's production image (Dockerfile at the repo root).
# The machine's extra CA certificates (e.g. an egress proxy's, in /usr/local/share/ca-certificates)
# go into the context as .build-ca/: the download and build stages trust them, the runtime stage
# never sees them.
build_service_image() {
  local ca="${STACK_BUILD_CA_DIR:-/usr/local/share/ca-certificates}" extra=()
  if compgen -G "$ca/*.crt" >/dev/null; then
    extra=(-C "$(dirname "$ca")" --transform "s|^$(basename "$ca")|.build-ca|" "$(basename "$ca")")
  fi
  build_image "mis-cache-sync:$IMAGE_TAG" Dockerfile runtime -- \
    -C "$_dk_repo" Dockerfile package.json package-lock.json tsconfig.json tsconfig.build.json \
    src consumers scripts/copy-rule-files.js "${extra[@]}"
}

# ------------------------------------------------------------------ stack.sh engine hooks
# Containers are named after the stack dir, so two stack dirs can share one engine.
dk_name() { echo "mcs-$(printf '%s' "$STACK_DIR" | sha256sum | cut -c1-8)-$1"; }
# Pid files hold the host pid of a container's main process. MariaDB and Redis write their own
# (container) pid to the process stack's files, so theirs move; stack.sh reads Kafka's and
# Connect's at their usual paths.
dk_pidfile() {
  case "$1" in
    kafka) echo "$KDIR/kafka.pid" ;;
    connect) echo "$CDIR/connect.pid" ;;
    *) echo "$STACK_DIR/docker/$1.pid" ;;
  esac
}

# docker_launch PART IMAGE WORKDIR CMD... : runs CMD in a container of IMAGE on the host network,
# the stack dir and stack/ mounted at their paths, output appended to the part's log file; the
# container's main process id (as seen by the host) goes to the part's pid file.
docker_launch() {
  local part="$1" image="$2" wd="$3" name pid
  shift 3
  name="$(dk_name "$part")"
  docker rm -f "$name" >/dev/null 2>&1 || true
  mkdir -p "$STACK_DIR/docker"
  docker run -d --name "$name" --network host --stop-timeout 40 --label "mis.stack-dir=$STACK_DIR" \
    -v "$STACK_DIR:$STACK_DIR" -v "$CONF_SRC:$CONF_SRC:ro" -v "$REPO/schemas:$REPO/schemas:ro" -w "$wd" \
    --entrypoint sh "$image" -c 'log="$1"; shift; exec "$@" >>"$log" 2>&1' sh "$(logfile "$part")" "$@" \
    >"$STACK_DIR/docker/$part.cid" || fail_part "$part" "docker run of $image failed"
  pid="$(docker inspect -f '{{.State.Pid}}' "$name")"
  [ "${pid:-0}" -gt 0 ] || fail_part "$part" "container $name exited at once"
  echo "$pid" >"$(dk_pidfile "$part")"
  STARTED+=("$part")
}

docker_engine_hooks() {
  export STACK_ENGINE=docker
  engine_up "$STACK_DIR/docker"

  pidfile() { dk_pidfile "$1"; }
  # ours = alive and inside a container docker_launch started for this stack dir (its id, from
  # the process's cgroup, is in one of the stack dir's .cid files)
  is_ours() {
    local pid="$1" id
    [ -n "$pid" ] && [ -r "/proc/$pid/cgroup" ] || return 1
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo Z)" != Z ] || return 1
    id="$(grep -oE '[0-9a-f]{64}' "/proc/$pid/cgroup" 2>/dev/null | head -n1)"
    [ -n "$id" ] && grep -qxF "$id" "$STACK_DIR"/docker/*.cid 2>/dev/null
  }
  stop_part() {
    local part="$1" t="${2:-30}" name
    name="$(dk_name "$part")"
    if docker inspect "$name" >/dev/null 2>&1; then
      log "stopping $part (container $name)"
      docker stop -t "$t" "$name" >/dev/null 2>&1 || true
      docker rm -f "$name" >/dev/null 2>&1 || true
    fi
    rm -f "$(dk_pidfile "$part")" "$STACK_DIR/docker/$part.cid"
  }
  launch_mariadb() {
    docker_launch mariadb "mis-stack-mariadb:$IMAGE_TAG" "$MDIR" mariadbd --defaults-file="$MDIR/my.cnf"
  }
  launch_redis() {
    docker_launch redis "mis-stack-redis:$IMAGE_TAG" "$RDIR" redis-server "$RDIR/redis.conf" --daemonize no
  }
  launch_kafka() {
    # shellcheck disable=SC2086
    docker_launch kafka "mis-stack-kafka:$IMAGE_TAG" "$KDIR" java $KAFKA_HEAP $JVM_COMMON -cp '/opt/mis/lib/*' \
      -Dlog4j2.configurationFile="$CONF_SRC/kafka/log4j2.properties" -Dstack.dir="$STACK_DIR" \
      kafka.Kafka "$KDIR/server.properties"
  }
  launch_connect() {
    # shellcheck disable=SC2086
    docker_launch connect "mis-stack-connect:$IMAGE_TAG" "$CDIR" java $CONNECT_HEAP $JVM_COMMON -cp '/opt/mis/lib/*' \
      -Dlog4j2.configurationFile="$CONF_SRC/connect/log4j2.properties" -Dstack.dir="$STACK_DIR" \
      -Djava.util.logging.manager=org.apache.logging.log4j.jul.LogManager \
      org.apache.kafka.connect.cli.ConnectStandalone "$CDIR/worker.properties" "$CDIR/mis-connector.properties"
  }

  # jars first (the images carry them), then the images, then the process stack's `up`
  eval "$(declare -f ensure_libs | sed '1s/ensure_libs/_process_ensure_libs/')"
  ensure_libs() {
    _process_ensure_libs
    build_stack_images "$LIB"
  }
  eval "$(declare -f write_env | sed '1s/write_env/_process_write_env/')"
  write_env() {
    _process_write_env
    printf '# container engine: parts run as containers (scripts/stack/docker.sh)\nexport STACK_ENGINE=docker\nexport DOCKER_HOST=%s\n' \
      "$DOCKER_HOST" >>"$ENV_FILE"
  }
  eval "$(declare -f cmd_down | sed '1s/cmd_down/_process_cmd_down/')"
  cmd_down() {
    _process_cmd_down
    engine_down "$STACK_DIR/docker"
  }
}

# ------------------------------------------------------------------ direct use
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case "${1:-}" in
    engine-up) engine_up "${2:-}"; echo "DOCKER_HOST=$DOCKER_HOST" ;;
    engine-down) engine_down "${2:-}" ;;
    env) engine_up; echo "DOCKER_HOST=$DOCKER_HOST" ;;
    images)
      engine_up "${2:-}"
      build_stack_images "${STACK_LIB:-${STACK_DIR:-$_dk_repo/.stack}/lib}"
      build_service_image
      echo "DOCKER_HOST=$DOCKER_HOST"
      ;;
    *) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
fi
