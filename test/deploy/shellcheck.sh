#!/usr/bin/env bash
# Runs shellcheck on every shell script of the project: scripts/*.sh, deploy/*.sh, .ci/run and the test
# scripts. A ctest test (lint.shellcheck); also runs on its own.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v shellcheck >/dev/null; then
  echo "shellcheck is not installed (scripts/deps.sh test installs it)" >&2
  exit 1
fi
mapfile -t scripts < <({
  ls scripts/*.sh deploy/*.sh .ci/run 2>/dev/null || true
  find test -name '*.sh' -not -path '*/node_modules/*'
} | sort -u)
shellcheck --external-sources "${scripts[@]}"
echo "shellcheck: ${#scripts[@]} scripts clean: ${scripts[*]}"
