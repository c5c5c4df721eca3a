#!/usr/bin/env bash
# Runs the client tests (node's built-in runner) against $MONOLITE_BIN, after installing the locked
# npm packages when needed (install.sh). Fails — never skips — when node or npm is missing.
set -euo pipefail
cd "$(dirname "$0")"
./install.sh
if [ -z "${MONOLITE_BIN:-}" ]; then
  echo "set MONOLITE_BIN to the monolite binary" >&2
  exit 1
fi
exec node --test --test-concurrency=2 test/*.test.mjs
