#!/usr/bin/env bash
# Makes `debian:bookworm-slim` available to podman without a registry (none is reachable here):
# a minimal Debian 12 root file system from debootstrap, imported under that name, so the
# Dockerfile's FROM resolves locally (`podman build --pull=never`).
#
# The debootstrap tarball is cached in MONOLITE_CACHE_DIR (default ~/.cache/monolite) and rebuilt
# after MONOLITE_BASE_MAX_AGE_DAYS (default 7) days, so security updates still arrive; an image
# already in podman's store is used as it is. Needs root, podman and debootstrap.
#
# The mirror is the one this machine's apt already uses for bookworm (MONOLITE_DEBIAN_MIRROR
# overrides it): never a built-in address, so a machine behind a local mirror keeps using it and a
# machine with none says so. `base_image.sh --mirror` prints it and stops; MONOLITE_APT_DIR (default
# /etc/apt) is where the sources are read, so a test can point it at a fake folder.
set -euo pipefail

# The URIs of the one-line entries "deb [options] URI bookworm components..." of the given files.
one_line_mirrors() {
  awk '$1 == "deb" {
    sub(/^[ \t]*deb[ \t]+/, ""); sub(/^\[[^]]*\][ \t]*/, ""); split($0, word, /[ \t]+/)
    if (word[2] == "bookworm") print word[1]
  }' "$@"
}

# The first URI of each deb822 stanza (Types: deb, Suites: … bookworm …, not Enabled: no) of the given files.
deb822_mirrors() {
  awk 'BEGIN { RS = ""; FS = "\n" }
  {
    types = suites = uris = enabled = ""
    for (i = 1; i <= NF; i++) {
      if ($i ~ /^#/ || $i !~ /:/) continue
      name = tolower(substr($i, 1, index($i, ":") - 1)); value = " " substr($i, index($i, ":") + 1) " "
      if (name == "types") types = value; else if (name == "suites") suites = value
      else if (name == "uris") uris = value; else if (name == "enabled") enabled = value
    }
    if (types ~ /[ \t]deb[ \t]/ && suites ~ /[ \t]bookworm[ \t]/ && enabled !~ /[ \t]no[ \t]/) {
      split(uris, uri, /[ \t]+/); if (uri[2] != "") print uri[2]
    }
  }' "$@"
}

# The mirror for debootstrap, from the override or the machine's own apt sources; fails with one
# line naming what was read when there is none.
debian_mirror() {
  if [ -n "${MONOLITE_DEBIAN_MIRROR:-}" ]; then
    echo "$MONOLITE_DEBIAN_MIRROR"
    return
  fi
  local apt_dir=${MONOLITE_APT_DIR:-/etc/apt} mirror=""
  local -a lists=() sources=()
  [ -f "$apt_dir/sources.list" ] && lists+=("$apt_dir/sources.list")
  for file in "$apt_dir"/sources.list.d/*.list; do [ -f "$file" ] && lists+=("$file"); done
  for file in "$apt_dir"/sources.list.d/*.sources; do [ -f "$file" ] && sources+=("$file"); done
  if [ "${#lists[@]}" -gt 0 ]; then mirror=$(one_line_mirrors "${lists[@]}" | head -n 1); fi
  if [ -z "$mirror" ] && [ "${#sources[@]}" -gt 0 ]; then mirror=$(deb822_mirrors "${sources[@]}" | head -n 1); fi
  if [ -z "$mirror" ]; then
    echo "base image: no Debian bookworm mirror in $apt_dir/sources.list, $apt_dir/sources.list.d/*.list or" \
      "*.sources; add an apt source for bookworm or set MONOLITE_DEBIAN_MIRROR" >&2
    return 1
  fi
  echo "$mirror"
}

if [ "${1:-}" = "--mirror" ]; then
  debian_mirror
  exit
fi

image=docker.io/library/debian:bookworm-slim
cache_dir=${MONOLITE_CACHE_DIR:-${HOME:-/root}/.cache/monolite}
tarball=$cache_dir/debian-bookworm-minbase.tar
max_age_days=${MONOLITE_BASE_MAX_AGE_DAYS:-7}

if podman image exists "$image"; then
  echo "base image: $image (already in podman's store)" >&2
  exit 0
fi

if [ -z "$(find "$tarball" -mtime -"$max_age_days" 2>/dev/null)" ]; then
  mirror=$(debian_mirror)
  echo "base image: debootstrap bookworm from $mirror" >&2
  mkdir -p "$cache_dir"
  rootfs=$(mktemp -d "$cache_dir/rootfs.XXXXXX")
  trap 'rm -rf "$rootfs" "$tarball.partial"' EXIT
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$cache_dir/debootstrap.log" 2>&1 ||
    { tail -n 20 "$cache_dir/debootstrap.log" >&2; exit 1; }
  # Like the real slim image: no package lists or caches, no documentation or translations, and
  # dpkg told to leave them out of later installs too.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/usr/share/doc/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/*
  printf 'path-exclude %s\n' '/usr/share/doc/*' '/usr/share/man/*' '/usr/share/info/*' '/usr/share/locale/*' \
    >"$rootfs/etc/dpkg/dpkg.cfg.d/slim"
  tar -C "$rootfs" -cf "$tarball.partial" .
  mv "$tarball.partial" "$tarball"
fi

echo "base image: importing $tarball as $image" >&2
podman import --quiet "$tarball" "$image" >/dev/null
