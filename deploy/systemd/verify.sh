#!/usr/bin/env bash
# systemd-analyze verify of mis-cache-sync.service against an installed package:
#   bash deploy/systemd/verify.sh <prefix>/bin/mis-cache-sync
# verify needs ExecStart's binary and the EnvironmentFile to exist, so it checks a copy whose
# paths point at the given binary and at the example environment file; everything else is the
# unit as shipped. Any warning fails too (an unknown or misspelt key is only a warning).
set -euo pipefail
bin="${1:?usage: verify.sh <path of the installed mis-cache-sync binary>}"
here="$(cd "$(dirname "$0")" && pwd)"
[ -x "$bin" ] || { echo "systemd: $bin is not an executable" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -e "s|^ExecStart=/usr/local/bin/mis-cache-sync |ExecStart=$bin |" \
  -e "s|^EnvironmentFile=/etc/mis-cache-sync/mis-cache-sync.env\$|EnvironmentFile=$here/mis-cache-sync.env.example|" \
  "$here/mis-cache-sync.service" >"$tmp/mis-cache-sync.service"
grep -q "^ExecStart=$bin run\$" "$tmp/mis-cache-sync.service" || { echo "systemd: ExecStart is not /usr/local/bin/mis-cache-sync run" >&2; exit 1; }
out=$(systemd-analyze verify "$tmp/mis-cache-sync.service" 2>&1) && rc=0 || rc=$?
if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
  echo "systemd: systemd-analyze verify mis-cache-sync.service failed (rc=$rc):" >&2
  echo "$out" >&2
  exit 1
fi
echo "systemd: mis-cache-sync.service verifies (ExecStart=$bin)"
