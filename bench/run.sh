#!/usr/bin/env bash
# monolite benchmark: monolite vs PostgreSQL 15 vs the HTTP ceiling vs in-process SQLite.
#   bench/run.sh [--quick] [--scale] [--soak SECONDS] [--replication] [--no-main] [--seconds S]
#   bench/run.sh --drills | --drills-quick      (the replication drills instead of the comparison)
#   bench/run.sh --pg-engine [--seconds S]      (instead: monolite+PostgreSQL vs pgbench vs monolite+SQLite)
#   bench/run.sh --followers [--seconds S]      (instead: read followers' lag, insert req/s with 0, 1, 2 followers)
#   bench/run.sh --replicas [--seconds S]       (instead: libSQL embedded replica reads vs HTTP vs Hrana, and
#                                                inserts with the replication log off / on / on + a syncing replica)
# Prints a table and writes bench/results/<timestamp>.json. See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# --- packages -------------------------------------------------------------------------------
need=()
for pkg in wrk postgresql-15 sqlite3 python3 g++ cmake ninja-build libsqlite3-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing: ${need[*]}" >&2
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi
# The drills use the integration tests' S3 helpers: moto_server and boto3 (Python packages, as for
# the tests; not from Debian).
if [[ " $* " == *" --drills"* ]] && ! python3 -c "import boto3, moto.server" 2>/dev/null; then
  echo "bench/run.sh --drills needs the Python packages boto3 and moto[server] (>= 5.2), as test/integration does" >&2
  exit 2
fi
# --replicas runs @libsql/client from test/clients/node_modules (Node.js 20 or newer, as the client tests).
if [[ " $* " == *" --replicas "* ]]; then
  test/clients/install.sh >&2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "bench/run.sh runs as root (PostgreSQL is started with runuser -u postgres)" >&2; exit 2
fi

# --- binaries -------------------------------------------------------------------------------
MONOLITE=${MONOLITE_BIN:-$ROOT/build/release/monolite}
if [ ! -x "$MONOLITE" ]; then
  # It may be being rebuilt right now; give that a moment before building it ourselves.
  for _ in $(seq 30); do [ -x "$MONOLITE" ] && break; sleep 1; done
  if [ ! -x "$MONOLITE" ]; then
    scripts/deps.sh build
    cmake --preset release >/dev/null
    cmake --build --preset release --target monolite
  fi
fi
# The in-process loop is built on its own, so this never races a build of the server.
cmake -S bench -B bench/.cache/build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build bench/.cache/build --target monolite_sqlite_loop >/dev/null
LOOP=$ROOT/bench/.cache/build/monolite_sqlite_loop

# --- scratch directory, and stopping everything on exit ----------------------------------------
RUN_DIR=$(mktemp -d /tmp/monolite-bench.XXXXXX)
chmod 755 "$RUN_DIR"   # the postgres user must reach its data directory inside
PY_PID=""

stop_pid() {  # PID NAME: TERM, wait up to 15 s, KILL — only if PID is still that program
  local pid=$1 name=$2
  grep -qa "$name" "/proc/$pid/cmdline" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  [ -n "$PY_PID" ] && stop_pid "$PY_PID" harness
  if [ -f "$RUN_DIR/ledger" ]; then
    while read -r kind a b; do
      case $kind in
        pid) stop_pid "$a" "$b" ;;
        pgdata) [ -f "$a/postmaster.pid" ] &&
                  runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$a" -m immediate -w stop >/dev/null 2>&1 ;;
      esac
    done < "$RUN_DIR/ledger"
  fi
  rm -rf "$RUN_DIR"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ulimit -n 65536 2>/dev/null || true
PYTHONPATH=$ROOT/bench python3 -m harness --monolite "$MONOLITE" --loop "$LOOP" --run-dir "$RUN_DIR" "$@" &
PY_PID=$!
status=0
wait "$PY_PID" || status=$?
PY_PID=""
exit "$status"
