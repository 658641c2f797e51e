#!/usr/bin/env bash
# Installs what the local stack needs from Debian's packages, only what is missing:
# Java 17+, Maven, MariaDB server + client, Redis server + redis-cli, curl, Prometheus (promtool);
# for the container engine docker.io, debootstrap and docker-compose.
set -euo pipefail
need=()
command -v java >/dev/null || need+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || need+=(maven)
{ command -v mariadbd >/dev/null || [[ -x /usr/sbin/mariadbd ]]; } || need+=(mariadb-server)
command -v mariadb >/dev/null || need+=(mariadb-client)
{ command -v redis-server >/dev/null || [[ -x /usr/bin/redis-server ]]; } || need+=(redis-server)
command -v redis-cli >/dev/null || need+=(redis-tools)
command -v curl >/dev/null || need+=(curl)
# containers (STACK_ENGINE=docker, npm run test:containers; scripts/stack/docker.sh)
{ command -v dockerd >/dev/null || [[ -x /usr/sbin/dockerd ]]; } || need+=(docker.io)
{ command -v debootstrap >/dev/null || [[ -x /usr/sbin/debootstrap ]]; } || need+=(debootstrap)
command -v docker-compose >/dev/null || need+=(docker-compose)
# promtool (alert rule tests in CI) and prometheus (the alert integration test): one package.
command -v promtool >/dev/null || need+=(prometheus)
# Debian's python3 with python3-redis: the Python cache-aside reader of the pickle tests
[[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c 'import redis' 2>/dev/null || need+=(python3 python3-redis)
if ((${#need[@]} == 0)); then
  echo "prerequisites: all present"
  exit 0
fi
echo "prerequisites: installing ${need[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "not root: run  sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The Debian packages start their own services on the standard ports; ours run on other ports.
apt-get install -y -qq --no-install-recommends "${need[@]}"
