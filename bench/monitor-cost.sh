#!/usr/bin/env bash
# What the consistency monitor costs next to the service: both run as processes of the built CLI
# (`run` and `monitor`, each with a consumer group of its own) on the local stack while MariaDB
# produces change events (user_auth updates of ids of this run, ROUNDS × ROWS events); the CPU
# time each process spent (utime + stime from /proc, from before the load until both caught up
# and the monitor's checks ran) is compared. Usage (stack up, `npm run build` done):
#   bash bench/monitor-cost.sh [SAMPLE=0.01] [ROWS=2000] [ROUNDS=5]
# The windows are shortened to 1s,5s,10s so the run ends (a check costs the same at any window).
set -euo pipefail
cd "$(dirname "$0")/.."
SAMPLE="${1:-0.01}" ROWS="${2:-2000}" ROUNDS="${3:-5}"
# shellcheck disable=SC1091
. .stack/env
tag="bench$(date +%s)"
base=$((900000000 + RANDOM * 1000))
tmp=$(mktemp -d)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
export MCS_HTTP_PORT=0 MCS_MONITOR_HTTP_PORT=0 MCS_STATS_INTERVAL_MS=0 LOG_LEVEL=warn MCS_FROM_BEGINNING=false
MCS_GROUP_ID="$tag-svc" node dist/src/cli/main.js run >"$tmp/svc.log" 2>&1 &
svc=$!
MCS_GROUP_ID="$tag-svc" MCS_MONITOR_GROUP_ID="$tag-mon" MCS_MONITOR_SAMPLE="$SAMPLE" \
  MCS_MONITOR_WINDOWS=1s,5s,10s node dist/src/cli/main.js monitor >"$tmp/mon.out" 2>"$tmp/mon.log" &
mon=$!
trap 'kill $svc $mon 2>/dev/null || true; $STACK_MYSQL_CLIENT -e "DELETE FROM user_auth WHERE user_id BETWEEN $base AND $((base + ROWS))" || true; rm -rf "$tmp"' EXIT
sleep 12 # both joined their groups
# Idle cost first (kafkajs fetch loops, heartbeats): both processes pay it with or without events.
i0s=$(cpu $svc) i0m=$(cpu $mon) t0=$(date +%s%N)
sleep 15
svc0=$(cpu $svc) mon0=$(cpu $mon) t1=$(date +%s%N)
$STACK_MYSQL_CLIENT -e "INSERT INTO user_auth (user_id, menu_id, read_yn) SELECT $base + seq, 1, 'Y' FROM seq_0_to_$((ROWS - 1))"
for ((r = 0; r < ROUNDS; r++)); do
  $STACK_MYSQL_CLIENT -e "UPDATE user_auth SET read_yn = IF(read_yn = 'Y', 'N', 'Y') WHERE user_id BETWEEN $base AND $((base + ROWS - 1))"
done
sleep 25 # caught up, and the last window (10 s) checked
svc1=$(cpu $svc) mon1=$(cpu $mon) t2=$(date +%s%N)
kill -TERM $mon
wait $mon || true
events=$((ROWS * (ROUNDS + 1)))
echo "monitor-cost: sample $SAMPLE, $events change events: service $((svc1 - svc0)) ticks, monitor $((mon1 - mon0)) ticks (clock ticks of CPU, $(getconf CLK_TCK)/s)"
awk -v s=$((svc1 - svc0)) -v m=$((mon1 - mon0)) -v is=$((svc0 - i0s)) -v im=$((mon0 - i0m)) \
  -v idle=$((t1 - t0)) -v busy=$((t2 - t1)) 'BEGIN {
    f = busy / idle; ls = s - is * f; lm = m - im * f
    printf "monitor-cost: idle %.1f s: service %d, monitor %d ticks\n", idle / 1e9, is, im
    printf "monitor-cost: whole run: monitor / service CPU = %.1f %%\n", 100 * m / s
    printf "monitor-cost: caused by the events (idle rate subtracted): service %.0f, monitor %.0f ticks = %.1f %%\n", ls, lm, 100 * lm / ls
  }'
grep -E 'sampled|window' "$tmp/mon.out" || true
