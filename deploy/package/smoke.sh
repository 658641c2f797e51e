#!/usr/bin/env bash
# The installable package, end to end (npm run test:package; .ci/run runs it after npm test):
#   1. npm pack (prepack builds dist/ afresh) and a look inside the tarball: the compiled
#      service and rules are there, test/, bench/, sources and the stack are not;
#   2. npm install -g of that tarball into a scratch prefix, run from a scratch directory
#      outside the repository (so neither the clone's node_modules nor .stack/env is seen);
#   3. mis-cache-sync --version, --help, and check against the running local stack (its
#      settings from .stack/env, exported: the package never reads the clone);
#   4. deploy/systemd/verify.sh against the installed binary (systemd-analyze verify).
# Needs the local stack up (npm run stack:up) and the npm registry for the dependencies.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
env_file="${STACK_DIR:-$repo/.stack}/env"
[ -f "$env_file" ] || { echo "package: no $env_file: start the local stack first (npm run stack:up)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
ok() { passed=$((passed + 1)); echo "package: ✓ $*"; }
fail() { echo "package: ✗ $*" >&2; echo "package: $passed passed, 1 failed"; exit 1; }

version=$(node -p "require('$repo/package.json').version")
(cd "$repo" && npm pack --silent --pack-destination "$work" >/dev/null) || fail "npm pack"
tgz="$work/mis-cache-sync-$version.tgz"
[ -f "$tgz" ] || fail "npm pack made no $tgz"
tar -tzf "$tgz" | sed 's|^package/||' | sort >"$work/files"
for f in package.json LICENSE README.md dist/src/cli/main.js dist/consumers/users.js dist/consumers/departments.yaml \
  deploy/systemd/mis-cache-sync.service; do
  grep -qx "$f" "$work/files" || fail "tarball lacks $f"
done
if grep -E '^(test|bench|src|stack|scripts|schemas|consumers|node_modules)/|\.ts$|^\.stack' "$work/files" | grep -v '\.d\.ts$' >"$work/extra"; then
  fail "tarball holds files it must not: $(head -5 "$work/extra" | tr '\n' ' ')"
fi
ok "npm pack: $(wc -l <"$work/files") files, compiled service and rules, no test/bench/sources"

mkdir -p "$work/prefix" "$work/elsewhere"
(cd "$work/elsewhere" && npm install -g --prefix "$work/prefix" --no-audit --no-fund --loglevel=error "$tgz" >/dev/null) ||
  fail "npm install -g --prefix <scratch> $tgz"
bin="$work/prefix/bin/mis-cache-sync"
[ -x "$bin" ] || fail "no $bin after the install"
ok "npm install -g into a scratch prefix: $bin"

cd "$work/elsewhere"
got=$(env -i PATH="$PATH" HOME="$HOME" "$bin" --version) || fail "--version exited $?"
[ "$got" = "$version" ] || fail "--version printed '$got', expected $version"
ok "mis-cache-sync --version: $got"
help=$(env -i PATH="$PATH" HOME="$HOME" "$bin" --help) || fail "--help exited $?"
for cmd in run check explain replay verify; do
  grep -qE "^\s+$cmd( |\$)" <<<"$help" || fail "--help does not list $cmd"
done
ok "mis-cache-sync --help lists run, check, explain, replay, verify"
if ! out=$(env -i PATH="$PATH" HOME="$HOME" bash -c "set -a; . '$env_file'; set +a; exec '$bin' check" 2>&1); then
  echo "$out" >&2
  fail "mis-cache-sync check against the local stack failed"
fi
ok "mis-cache-sync check against the local stack: $(grep -c '✓' <<<"$out") checks passed"

bash "$repo/deploy/systemd/verify.sh" "$bin" || fail "systemd-analyze verify"
ok "systemd unit verifies against the installed binary"
echo "package: $passed passed, 0 failed"
