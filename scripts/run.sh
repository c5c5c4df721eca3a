#!/usr/bin/env bash
# Installs what is missing, builds (release), and runs the server on its defaults
# (./data/app.db, 127.0.0.1:8080). Extra arguments go to `monolite serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake --preset release >/dev/null
cmake --build --preset release --target monolite
exec ./build/release/monolite serve "$@"
