#!/usr/bin/env bash
# scripts/deploy.sh without systemd: DESTDIR stands in for /, and SYSTEMCTL for a systemctl that
# really starts the installed binary on a free loopback port (and stops it by PID). Checks that a
# binary failing `monolite version` is refused, that a good one is installed and ready, that one
# which cannot serve is rolled back automatically, and that --rollback swaps the binaries.
#   MONOLITE_BIN=build/release/monolite test/deploy/deploy_test.sh
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
real_bin=$(realpath "${MONOLITE_BIN:-$repo/build/release/monolite}")
work=$(mktemp -d /tmp/monolite-deploy-test.XXXXXX)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

stop_server() {
  local pid
  [ -f "$work/pid" ] || return 0
  pid=$(cat "$work/pid")
  rm -f "$work/pid"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT

export DESTDIR=$work/root SYSTEMCTL=$work/systemctl MONOLITE_READY_TIMEOUT=4
mkdir -p "$DESTDIR/etc/monolite"
echo "MONOLITE_LISTEN=127.0.0.1:$port" >"$DESTDIR/etc/monolite/monolite.env"

# The stand-in systemctl: `restart monolite.service` runs the installed binary; the rest is logged.
cat >"$SYSTEMCTL" <<EOF
#!/usr/bin/env bash
echo "\$*" >>"$work/systemctl.log"
[ "\$*" = "restart monolite.service" ] || exit 0
$(declare -f stop_server)
work=$work
stop_server
"$DESTDIR/usr/local/bin/monolite" serve --db "$work/app.db" --listen "127.0.0.1:$port" >>"$work/server.log" 2>&1 &
echo \$! >"$work/pid"
EOF
chmod +x "$SYSTEMCTL"

# Stand-in binaries: one whose `version` fails, one that passes `version` but cannot serve.
printf '#!/bin/sh\necho "error while loading shared libraries" >&2\nexit 127\n' >"$work/broken"
# shellcheck disable=SC2016  # $1 belongs to the stand-in script
printf '#!/bin/sh\n[ "$1" = version ] && exec "%s" version\nexit 3\n' "$real_bin" >"$work/cannot-serve"
chmod +x "$work/broken" "$work/cannot-serve"

fail() { echo "FAIL: $*" >&2; tail -n 20 "$work/out" "$work/server.log" >&2 2>/dev/null || true; exit 1; }
deploy() { "$repo/scripts/deploy.sh" "$@" >"$work/out" 2>&1; }
installed=$DESTDIR/usr/local/bin/monolite

deploy --binary "$work/broken" && fail "a binary failing 'monolite version' was deployed"
grep -q "refusing to deploy" "$work/out" || fail "no refusal message"
[ ! -e "$installed" ] || fail "the refused binary was installed"
echo "ok: a binary failing 'monolite version' is refused"

deploy --binary "$real_bin" || fail "deploying a good binary failed"
cmp -s "$installed" "$real_bin" || fail "the binary was not installed"
for unit in monolite.service monolite.socket; do
  cmp -s "$DESTDIR/etc/systemd/system/$unit" "$repo/deploy/$unit" || fail "$unit not installed"
done
grep -q "enable --quiet monolite.socket monolite.service" "$work/systemctl.log" || fail "units not enabled"
grep -q "ready on 127.0.0.1:$port" "$work/out" || fail "readiness not checked"
echo "ok: a good binary is installed, started and ready"

deploy --binary "$work/cannot-serve" && fail "a binary that cannot serve was kept"
grep -q "rolled back" "$work/out" || fail "no rollback message"
cmp -s "$installed" "$real_bin" || fail "the previous binary was not put back"
grep -q "ready on 127.0.0.1:$port" "$work/out" || fail "the previous binary is not serving again"
echo "ok: a binary that does not become ready is rolled back"

deploy --binary "$real_bin" || fail "redeploying failed"
deploy --rollback || fail "--rollback failed"
[ -e "$installed.previous" ] || fail "--rollback lost the binary it replaced"
grep -q "rolled back" "$work/out" || fail "no rollback message"
echo "ok: --rollback swaps the binaries and restarts"
