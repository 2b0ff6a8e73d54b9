#!/usr/bin/env bash
# scripts/engines/load-matrix.sh [ARCHIVE...] - which real loaders accept which archive.
#
# Starts a THROWAWAY engine set (start.sh with COPYEDIT_ENGINE_STATE=/tmp/copyedit-matrix, or
# $MATRIX_STATE) so loads are checked against empty stores (a store that already has a layer skips
# its DiffID check), and stops + purges it at the end (MATRIX_KEEP=1 keeps it running).
# For each archive (default: samples/*.tar*) it tries, each from an empty store:
#   docker 20.10 `docker load`, docker 26 `docker load`, `ctr images import` (fresh namespace),
#   `podman load` and `skopeo copy docker-archive:F dir:X` (containers/image reader, checks DiffIDs).
# Prints a markdown table (ok / FAIL: first error line) on stdout; progress on stderr.
# Useful later to check archives written by image-copyedit:  load-matrix.sh out.tar
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export COPYEDIT_ENGINE_STATE="${MATRIX_STATE:-/tmp/copyedit-matrix}"

if [ "$#" -eq 0 ]; then
  set -- "$ROOT"/samples/*.tar "$ROOT"/samples/*.tar.*
fi

bash "$HERE/start.sh" >&2 || exit 1
# shellcheck disable=SC1091
. "$COPYEDIT_ENGINE_STATE/env"
finish() {
  if [ "${MATRIX_KEEP:-0}" != 1 ]; then bash "$HERE/stop.sh" --purge >&2; fi
}
trap finish EXIT

D20() { "$DOCKER20_BIN" -H "$DOCKER20_HOST" "$@"; }
D26() { "$DOCKER26_BIN" -H "$DOCKER26_HOST" "$@"; }
# shellcheck disable=SC2086
PODMAN() { "$PODMAN_BIN" $PODMAN_FLAGS "$@"; }

docker_wipe() { # client-fn
  local ids
  ids="$("$1" images -aq 2>/dev/null | sort -u)"
  # shellcheck disable=SC2086
  [ -z "$ids" ] || "$1" rmi -f $ids >/dev/null 2>&1
  "$1" image prune -af >/dev/null 2>&1
}

result() { # rc errfile
  if [ "$1" = 0 ]; then
    echo "ok"
  else
    echo "FAIL: $(grep -v '^\s*$' "$2" | tail -n 1 | cut -c1-140 | tr '|' '/')"
  fi
}

err="$(mktemp)"
echo "| archive | docker 20.10 load | docker 26 load | ctr import | podman load | skopeo copy docker-archive: |"
echo "|---|---|---|---|---|---|"
n=0
for f in "$@"; do
  n=$((n + 1))
  name="$(basename "$f")"
  printf '[matrix] %s\n' "$name" >&2

  docker_wipe D20
  timeout 120 "$DOCKER20_BIN" -H "$DOCKER20_HOST" load -q -i "$f" >/dev/null 2>"$err"
  r20="$(result $? "$err")"

  docker_wipe D26
  timeout 120 "$DOCKER26_BIN" -H "$DOCKER26_HOST" load -q -i "$f" >/dev/null 2>"$err"
  r26="$(result $? "$err")"

  timeout 120 "$CTR_BIN" --address "$CONTAINERD_ADDRESS" -n "matrix$n" images import "$f" >/dev/null 2>"$err"
  rctr="$(result $? "$err")"

  PODMAN rmi -af >/dev/null 2>&1
  timeout 120 "$PODMAN_BIN" $PODMAN_FLAGS load -q -i "$f" >/dev/null 2>"$err"
  rpod="$(result $? "$err")"

  rm -rf "$COPYEDIT_ENGINE_STATE/skopeo-dir"
  timeout 60 "$SKOPEO_BIN" copy -q "docker-archive:$f" "dir:$COPYEDIT_ENGINE_STATE/skopeo-dir" >/dev/null 2>"$err"
  rsko="$(result $? "$err")"

  echo "| $name | $r20 | $r26 | $rctr | $rpod | $rsko |"
done
rm -f "$err"
