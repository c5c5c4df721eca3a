#!/bin/bash
# Entry point of the container image (Dockerfile). With no arguments, or `serve [flags]`:
#   - checks the settings a container gets wrong most often (authentication, a writable /data);
#   - with MONOLITE_REPLICA set, turns on --restore-if-missing: an empty volume is first restored
#     from the replica's newest state (a replica that holds nothing means a first boot);
#   - replaces itself with `monolite serve` (exec), so monolite is PID 1 and `docker stop`'s
#     SIGTERM reaches it directly: it drains, checkpoints and exits 0.
# `healthcheck` probes /readyz (the image's HEALTHCHECK; bash only, no curl in the image).
# Any other arguments run that monolite command: `restore ...`, `generations ...`, `version`.
set -euo pipefail

export MONOLITE_DB="${MONOLITE_DB:-/data/app.db}"
export MONOLITE_LISTEN="${MONOLITE_LISTEN:-0.0.0.0:8080}"

log() {  # one JSON line on stderr, like monolite's own logs
  printf '{"level":"%s","msg":"%s"}\n' "$1" "$2" >&2
}

healthcheck() {
  local port=${MONOLITE_LISTEN##*:} status
  exec 3<>"/dev/tcp/127.0.0.1/${port}" || exit 1
  printf 'GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
  IFS= read -r -t 5 status <&3 || exit 1
  [[ $status == "HTTP/1."?" 200 "* ]]
}

case "${1:-serve}" in
  healthcheck) healthcheck; exit ;;
  serve) if [ $# -gt 0 ]; then shift; fi ;;
  -*) ;;  # flags only: they are serve's
  *) exec monolite "$@" ;;
esac

host=${MONOLITE_LISTEN%:*}
if [[ -z ${MONOLITE_AUTH:-} && ${MONOLITE_INSECURE_NO_AUTH:-false} != true && $host != 127.* && $host != "[::1]" ]]; then
  log error "no authentication: mount a tokens file and set MONOLITE_AUTH to its path (docs/security.md), or set MONOLITE_INSECURE_NO_AUTH=true if only trusted peers (say, Caddy on a private network) can reach ${MONOLITE_LISTEN}"
  exit 2
fi

data_dir=$(dirname "$MONOLITE_DB")
mkdir -p "$data_dir" 2>/dev/null || true
if [[ ! -w $data_dir ]]; then
  log error "${data_dir} is not writable by uid $(id -u); on a bind mount: chown $(id -u):$(id -g) the host folder"
  exit 1
fi

if [[ -n ${MONOLITE_REPLICA:-} ]]; then
  export MONOLITE_RESTORE_IF_MISSING="${MONOLITE_RESTORE_IF_MISSING:-true}"
else
  log warn "MONOLITE_REPLICA is not set: nothing is replicated, and the database lives only in this volume"
fi

exec monolite serve "$@"
