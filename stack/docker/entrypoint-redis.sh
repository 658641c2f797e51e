#!/bin/sh
# Redis on 127.0.0.1:$REDIS_PORT (default 6379), the MIS deployment's memory policy, no
# persistence. A command starting with redis-server runs as given.
set -e
[ "${1:-}" = redis-server ] && exec "$@"
exec redis-server --bind 127.0.0.1 --port "${REDIS_PORT:-6379}" --protected-mode yes --daemonize no \
  --maxmemory 512mb --maxmemory-policy allkeys-lru --timeout 300 --tcp-keepalive 60 \
  --save '' --appendonly no "$@"
