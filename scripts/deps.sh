#!/usr/bin/env bash
# Installs the Debian 12 packages monolite needs that are not installed yet.
#   scripts/deps.sh build       — to build and run the server
#   scripts/deps.sh test        — also what the test suite uses
#   scripts/deps.sh container   — also podman, runc and debootstrap (the container image test)
set -euo pipefail

build_packages=(g++ cmake ninja-build pkg-config libboost1.81-dev libboost-json1.81-dev
                libboost-test1.81-dev libsqlite3-dev libssl-dev libyaml-cpp-dev liblz4-dev libpq-dev)
test_packages=(python3 sqlite3 clang libclang-rt-14-dev caddy shellcheck pgloader postgresql-15)
container_packages=(podman runc debootstrap)

wanted=("${build_packages[@]}")
[ "${1:-build}" = test ] && wanted+=("${test_packages[@]}")
[ "${1:-build}" = container ] && wanted+=("${container_packages[@]}")
# The client tests (test/clients) need Node.js and npm: Debian's packages when none is on PATH.
[ "${1:-build}" = test ] && ! command -v npm >/dev/null 2>&1 && wanted+=(nodejs npm)

missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
# Debian's caddy package starts a system-wide Caddy on port 80 where systemd runs; the tests start
# their own, so that one is switched off again.
if [[ " ${missing[*]} " == *" caddy "* ]] && [ -d /run/systemd/system ]; then
  $sudo systemctl disable --now caddy.service >/dev/null 2>&1 || true
fi
