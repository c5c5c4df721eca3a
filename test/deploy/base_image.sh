#!/usr/bin/env bash
# Makes `debian:bookworm-slim` available to podman without a registry (none is reachable here):
# a minimal Debian 12 root file system from debootstrap, imported under that name, so the
# Dockerfile's FROM resolves locally (`podman build --pull=never`).
#
# The debootstrap tarball is cached in MONOLITE_CACHE_DIR (default ~/.cache/monolite) and rebuilt
# after MONOLITE_BASE_MAX_AGE_DAYS (default 7) days, so security updates still arrive; an image
# already in podman's store is used as it is. Needs root, podman and debootstrap.
set -euo pipefail

image=docker.io/library/debian:bookworm-slim
cache_dir=${MONOLITE_CACHE_DIR:-${HOME:-/root}/.cache/monolite}
tarball=$cache_dir/debian-bookworm-minbase.tar
max_age_days=${MONOLITE_BASE_MAX_AGE_DAYS:-7}

if podman image exists "$image"; then
  echo "base image: $image (already in podman's store)" >&2
  exit 0
fi

if [ -z "$(find "$tarball" -mtime -"$max_age_days" 2>/dev/null)" ]; then
  # The mirror apt uses here, so a machine behind a local mirror keeps using it.
  mirror=${MONOLITE_DEBIAN_MIRROR:-$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null |
    grep -v security | head -n 1)}
  mirror=${mirror:-http://deb.debian.org/debian}
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
