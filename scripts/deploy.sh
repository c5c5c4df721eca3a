#!/usr/bin/env bash
# Deploys monolite as a systemd service (deploy/monolite.service + deploy/monolite.socket).
#
#   scripts/deploy.sh [--ssh [USER@]HOST] [--binary PATH]   install or upgrade, then restart
#   scripts/deploy.sh [--ssh [USER@]HOST] --rollback         go back to the previous binary
#
# Without --binary it builds the statically linked binary (`static` CMake preset). A binary whose
# `monolite version` fails, here or on the server, is refused. On the server (as root, or through
# sudo with --ssh) it creates the `monolite` user, /etc/monolite and the units the first time,
# keeps the running binary as /usr/local/bin/monolite.previous, swaps the new one in and restarts
# the service. The socket stays open meanwhile, so clients wait instead of failing. If the new
# binary is not ready (/readyz) within MONOLITE_READY_TIMEOUT seconds (default 60), the previous
# one is put back and the script fails.
#
# DESTDIR (a folder standing in for /) and SYSTEMCTL (a stand-in for systemctl) are for tests.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
ssh_target="" binary="" rollback=false from=""
usage() { sed -n '2,7s/^# \{0,1\}//p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --ssh) ssh_target=${2:?--ssh needs a host}; shift 2 ;;
    --binary) binary=${2:?--binary needs a path}; shift 2 ;;
    --rollback) rollback=true; shift ;;
    --install-from) from=${2:?}; shift 2 ;;  # internal: the server side of --ssh
    -h | --help) usage ;;
    *) echo "deploy: unknown argument '$1'" >&2; usage ;;
  esac
done

say() { echo "deploy: $*" >&2; }
die() { say "$*"; exit 1; }

root=${DESTDIR:-}
bin=$root/usr/local/bin/monolite
etc=$root/etc/monolite
units=$root/etc/systemd/system
systemctl=${SYSTEMCTL:-systemctl}
ready_timeout=${MONOLITE_READY_TIMEOUT:-60}

# `monolite version` must work on the machine that will run the binary.
check_binary() {
  local output
  [ -f "$1" ] || die "no binary at $1"
  if ! output=$("$1" version 2>&1) || [[ $output != monolite* ]]; then
    die "refusing to deploy $1: 'monolite version' failed: ${output:-no output}"
  fi
  say "binary ok: $(head -n 1 <<<"$output")"
}

# MONOLITE_LISTEN as the service sees it: the unit's Environment=, overridden by the env file.
listen_address() {
  local line
  line=$(grep -h -E '^(Environment=)?MONOLITE_LISTEN=' "$units/monolite.service" "$etc/monolite.env" 2>/dev/null |
    tail -n 1 || true)
  line=${line#Environment=}
  line=${line#MONOLITE_LISTEN=}
  echo "${line:-127.0.0.1:8080}"
}

# Polls /readyz (bash's /dev/tcp: nothing to install on the server).
wait_ready() {
  local address port host status deadline=$((SECONDS + ready_timeout))
  address=$(listen_address)
  port=${address##*:} host=${address%:*}
  if [[ $host == 0.0.0.0 || $host == "[::]" ]]; then host=127.0.0.1; fi
  host=${host#[} host=${host%]}
  while [ $SECONDS -lt $deadline ]; do
    status=$( (exec 3<>"/dev/tcp/$host/$port" &&
      printf 'GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3 &&
      timeout 5 head -n 1 <&3) 2>/dev/null || true)
    [[ $status == "HTTP/1."?" 200 "* ]] && return 0
    sleep 0.2
  done
  return 1
}

restart_and_check() {
  "$systemctl" restart monolite.service
  if wait_ready; then
    say "monolite is ready on $(listen_address)"
    return 0
  fi
  return 1
}

first_install() {
  if [ -z "$root" ] && ! id monolite >/dev/null 2>&1; then
    useradd --system --user-group --home-dir /var/lib/monolite --no-create-home --shell /usr/sbin/nologin monolite
    say "created user monolite"
  fi
  install -d -m 0750 "$etc"
  if [ -z "$root" ]; then chown root:monolite "$etc"; fi
  if [ ! -e "$etc/monolite.env" ]; then
    install -m 0640 /dev/null "$etc/monolite.env"
    if [ -z "$root" ]; then chown root:monolite "$etc/monolite.env"; fi
    cat >"$etc/monolite.env" <<'EOF'
# monolite settings (any flag as MONOLITE_<FLAG>; see `monolite serve --help`).
# MONOLITE_LISTEN must match ListenStream= in /etc/systemd/system/monolite.socket.
#MONOLITE_AUTH=/etc/monolite/auth.yaml
#MONOLITE_ACCESS_LOG=true
#MONOLITE_REPLICA=s3://bucket/app?region=eu-west-1
#MONOLITE_RESTORE_IF_MISSING=true
#AWS_ACCESS_KEY_ID=
#AWS_SECRET_ACCESS_KEY=
EOF
    say "wrote $etc/monolite.env (edit it, then run this again)"
  fi
}

install_units() {
  local changed=false unit
  install -d "$units"
  for unit in monolite.service monolite.socket; do
    if ! cmp -s "$1/$unit" "$units/$unit"; then
      install -m 0644 "$1/$unit" "$units/$unit"
      changed=true
    fi
  done
  if $changed; then
    "$systemctl" daemon-reload
    "$systemctl" enable --quiet monolite.socket monolite.service
    say "installed the systemd units"
  fi
  "$systemctl" start monolite.socket
}

# The static binary links every library in but glibc and libpq (docs/operations.md, "Deploying"):
# a server without libpq gets Debian's package.
ensure_libpq() {
  ldconfig -p 2>/dev/null | grep -q 'libpq\.so\.5 ' && return 0
  command -v apt-get >/dev/null 2>&1 || die "libpq.so.5 is missing: install PostgreSQL's client library (libpq5)"
  say "installing libpq5"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libpq5 >&2
}

# On the server: `from` holds the new binary and the two unit files.
install_here() {
  [ "$(id -u)" -eq 0 ] || [ -n "$root" ] || die "run as root (or use --ssh, which uses sudo)"
  ensure_libpq
  check_binary "$from/monolite"
  first_install
  install_units "$from"
  install -d "$(dirname "$bin")"
  install -m 0755 "$from/monolite" "$bin.new"
  if [ -e "$bin" ]; then cp -p "$bin" "$bin.previous"; fi
  mv -f "$bin.new" "$bin"
  restart_and_check && return 0
  if [ -e "$bin.previous" ]; then
    say "the new binary is not ready after ${ready_timeout}s; rolling back"
    mv -f "$bin.previous" "$bin"
    restart_and_check || say "the previous binary is not ready either"
    die "deploy failed and was rolled back (journalctl -u monolite)"
  fi
  die "monolite is not ready after ${ready_timeout}s (journalctl -u monolite)"
}

rollback_here() {
  [ -e "$bin.previous" ] || die "no previous binary at $bin.previous"
  check_binary "$bin.previous"
  cp -p "$bin" "$bin.new"
  mv -f "$bin.previous" "$bin"
  mv -f "$bin.new" "$bin.previous"
  restart_and_check || die "the previous binary is not ready (journalctl -u monolite)"
  say "rolled back; run --rollback again to return"
}

if [ -n "$from" ]; then
  install_here
  exit
fi

if [ -n "$ssh_target" ]; then
  # shellcheck disable=SC2029  # the remote folder name is meant to expand here
  remote=$(ssh "$ssh_target" 'mktemp -d /tmp/monolite-deploy.XXXXXX')
  trap 'ssh "$ssh_target" "rm -rf $remote" || true' EXIT
  if $rollback; then
    scp -q "$0" "$ssh_target:$remote/deploy.sh"
    # shellcheck disable=SC2029
    ssh -t "$ssh_target" "sudo bash $remote/deploy.sh --rollback"
    exit
  fi
fi

if $rollback; then
  rollback_here
  exit
fi

if [ -z "$binary" ]; then
  say "building the static binary (CMake preset 'static')"
  "$repo/scripts/deps.sh" build
  (cd "$repo" && cmake --preset static >/dev/null && cmake --build --preset static >&2)
  binary=$repo/build/static/monolite
fi
check_binary "$binary"

if [ -n "$ssh_target" ]; then
  scp -q "$binary" "$ssh_target:$remote/monolite"
  scp -q "$repo/deploy/monolite.service" "$repo/deploy/monolite.socket" "$0" "$ssh_target:$remote/"
  # shellcheck disable=SC2029
  ssh -t "$ssh_target" "sudo bash $remote/deploy.sh --install-from $remote"
  exit
fi

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
cp "$binary" "$staging/monolite"
cp "$repo/deploy/monolite.service" "$repo/deploy/monolite.socket" "$staging/"
from=$staging
install_here
