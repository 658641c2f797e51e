#!/usr/bin/env bash
# The main job on the local stack: bring the stack up, start mis-cache-sync, then show a row
# change in MariaDB deleting exactly the affected Redis keys, live. The service keeps running
# in the foreground afterwards (Ctrl-C stops it); `--once` stops after the demonstration.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
once=false
[[ "${1:-}" == "--once" || ! -t 1 ]] && once=true

bash scripts/stack.sh up
# shellcheck source=/dev/null
source .stack/env
npm run build --silent

log=.stack/logs/service.log
mkdir -p .stack/logs
: >"$log"
MCS_GROUP_ID="mis-cache-sync-demo" node dist/src/cli/main.js run >>"$log" 2>&1 &
svc=$!
cleanup() { kill -TERM "$svc" 2>/dev/null && wait "$svc" 2>/dev/null || true; }
trap cleanup EXIT

for _ in $(seq 1 300); do
  grep -q '"consuming change events"' "$log" && break
  kill -0 "$svc" 2>/dev/null || { echo "service exited; see $log"; tail -20 "$log"; exit 1; }
  sleep 0.1
done
grep -q '"consuming change events"' "$log" || { echo "service did not start in 30 s; see $log"; exit 1; }
echo "service running (pid $svc), log: $log"

rcli() { redis-cli -u "$REDIS_URL" -n "$1" "${@:2}"; }
sqlc() { mariadb --protocol=tcp -h127.0.0.1 -P"${STACK_MYSQL_PORT}" -uapp -papp mis -e "$1"; }
now_ms() { date +%s%3N; }
show() { # db key...
  local db=$1
  shift
  for k in "$@"; do printf '    DB %s  %-40s %s\n' "$db" "$k" "$([[ $(rcli "$db" EXISTS "$k") == 1 ]] && echo present || echo GONE)"; done
}
wait_gone() { # db key
  local start=$1 db=$2 key=$3
  for _ in $(seq 1 3000); do
    [[ $(rcli "$db" EXISTS "$key") == 0 ]] && { echo "    $key deleted $(($(now_ms) - start)) ms after the UPDATE was issued (mariadb and redis-cli start-up included)"; return; }
    sleep 0.005
  done
  echo "    $key still present after 15 s: see $log"
  exit 1
}

# Arm keys only once the service has read everything already in the topics (the snapshot and
# older changes), so what follows shows the effect of the new changes alone.
node scripts/wait-caught-up.js mis-cache-sync-demo "$TOPIC_PREFIX.mis.brands" "$TOPIC_PREFIX.mis.user_auth"

echo
echo "== 1. UPDATE brands SET brand_name=... WHERE brand_id = 1"
rcli 1 SET master:brands '[{"id":1,"name":"리안","code":"REAN"}]' EX 21600 >/dev/null
for k in stats:daily_sales:brand:1 stats:monthly_revenue:brand:1:202401 stats:daily_sales:brand:10 stats:daily_sales:brand:12; do
  rcli 1 SET "$k" '{"total_amount":100}' EX 43200 >/dev/null
done
echo "  before:"
show 1 master:brands stats:daily_sales:brand:1 stats:monthly_revenue:brand:1:202401 stats:daily_sales:brand:10 stats:daily_sales:brand:12
t0=$(now_ms)
sqlc "UPDATE brands SET brand_name = '리안 $(date +%H%M%S)' WHERE brand_id = 1"
wait_gone "$t0" 1 master:brands
wait_gone "$t0" 1 stats:daily_sales:brand:1
echo "  after:"
show 1 master:brands stats:daily_sales:brand:1 stats:monthly_revenue:brand:1:202401 stats:daily_sales:brand:10 stats:daily_sales:brand:12

echo
echo "== 2. UPDATE user_auth SET read_yn = ... WHERE user_id = 1 (a permission revoked)"
rcli 1 SET permissions:user:1 '{"admin_user":{"read":true}}' EX 3600 >/dev/null
rcli 0 SET session:user:1 '{"user_id":1,"username":"admin"}' EX 86400 >/dev/null
rcli 1 SET permissions:user:2 '{"admin_user":{"read":true}}' EX 3600 >/dev/null
rcli 0 SET session:user:2 '{"user_id":2}' EX 86400 >/dev/null
echo "  before:"
show 1 permissions:user:1 permissions:user:2
show 0 session:user:1 session:user:2
t0=$(now_ms)
sqlc "UPDATE user_auth SET read_yn = IF(read_yn = 'Y', 'N', 'Y') WHERE user_id = 1 LIMIT 1"
wait_gone "$t0" 0 session:user:1
wait_gone "$t0" 1 permissions:user:1
echo "  after:"
show 1 permissions:user:1 permissions:user:2
show 0 session:user:1 session:user:2
rcli 1 DEL stats:daily_sales:brand:10 stats:daily_sales:brand:12 permissions:user:2 >/dev/null
rcli 0 DEL session:user:2 >/dev/null

echo
if $once; then
  echo "done (--once): stopping the service; the stack stays up (npm run stack:down stops it)."
  exit 0
fi
echo "The service keeps following the database. Change rows with:"
echo "  mariadb --protocol=tcp -h127.0.0.1 -P${STACK_MYSQL_PORT} -uapp -papp mis"
echo "Ctrl-C stops the service (the stack stays up; npm run stack:down stops it). Service log:"
tail -n 0 -f "$log" &
wait "$svc"
