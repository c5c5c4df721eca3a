#!/usr/bin/env bash
# Runs the client tests (node's built-in runner) against $MONOLITE_BIN. Installs the locked npm
# packages first when node_modules is missing or older than package-lock.json. Fails — never
# skips — when node or npm is missing.
set -euo pipefail
cd "$(dirname "$0")"
for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "the client tests need $tool (Node.js 20 or newer) on PATH" >&2
    exit 1
  fi
done
if [ -z "${MONOLITE_BIN:-}" ]; then
  echo "set MONOLITE_BIN to the monolite binary" >&2
  exit 1
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
exec node --test --test-concurrency=2 test/*.test.mjs
