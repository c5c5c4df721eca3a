#!/usr/bin/env bash
# Installs the locked npm packages of the client tests (and of the escape-hatch drill, which uses
# them) when node_modules is missing or older than package-lock.json. Fails — never skips — when
# node or npm is missing. The ctest fixture clients.install runs it before either.
set -euo pipefail
cd "$(dirname "$0")"
for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "the client tests need $tool (Node.js 20 or newer) on PATH" >&2
    exit 1
  fi
done
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
