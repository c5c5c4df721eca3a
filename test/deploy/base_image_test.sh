#!/usr/bin/env bash
# The mirror base_image.sh gives debootstrap: read from fake apt folders (MONOLITE_APT_DIR) through
# `base_image.sh --mirror`, so nothing is downloaded and no image is built.
set -euo pipefail
script="$(cd "$(dirname "$0")" && pwd)/base_image.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# check NAME EXPECTED: the mirror read from $work/NAME is EXPECTED ("" means: none, a clear failure).
check() {
  local name=$1 expected=$2 out rc=0
  out=$(MONOLITE_APT_DIR="$work/$name" "$script" --mirror 2>"$work/$name.err") || rc=$?
  if [ -n "$expected" ] && { [ "$rc" -ne 0 ] || [ "$out" != "$expected" ]; }; then
    echo "FAIL $name: got '$out' (exit $rc), expected '$expected'; stderr: $(cat "$work/$name.err")"
    failures=$((failures + 1))
  elif [ -z "$expected" ] && { [ "$rc" -eq 0 ] || ! grep -q "no Debian bookworm mirror" "$work/$name.err"; }; then
    echo "FAIL $name: got '$out' (exit $rc), expected a failure naming the missing mirror"
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}

# source NAME FILE TEXT: writes $work/NAME/FILE.
source_file() {
  mkdir -p "$(dirname "$work/$1/$2")"
  printf '%s\n' "$3" >"$work/$1/$2"
}

source_file deb822 sources.list.d/debian.sources "Types: deb
URIs: http://security.mirror.test/debian-security
Suites: bookworm-security
Components: main

Types: deb
# a comment inside the stanza
URIs: http://mirror.test/debian
Suites: bookworm bookworm-updates
Components: main"
check deb822 http://mirror.test/debian

source_file one_line sources.list "# deb http://commented.test/debian bookworm main
deb-src http://source.test/debian bookworm main
deb http://security.test/debian-security bookworm-security main
deb [arch=amd64 signed-by=/usr/share/keyrings/debian.gpg] http://local.test/debian bookworm main contrib"
check one_line http://local.test/debian

source_file in_list_d sources.list.d/mirror.list "deb http://list-d.test/debian bookworm main"
source_file in_list_d sources.list.d/old.list.disabled "deb http://disabled.test/debian bookworm main"
check in_list_d http://list-d.test/debian

source_file disabled sources.list.d/debian.sources "Types: deb
URIs: http://off.test/debian
Suites: bookworm
Enabled: no

Types: deb-src
URIs: http://src.test/debian
Suites: bookworm"
check disabled ""

source_file only_security sources.list "deb http://security.test/debian-security bookworm-security main"
check only_security ""

mkdir -p "$work/empty"
check empty ""

out=$(MONOLITE_APT_DIR="$work/empty" MONOLITE_DEBIAN_MIRROR=http://chosen.test/debian "$script" --mirror)
if [ "$out" = http://chosen.test/debian ]; then echo "ok   override"; else echo "FAIL override: '$out'"; failures=$((failures + 1)); fi

echo "base_image_mirror: $((7 - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
