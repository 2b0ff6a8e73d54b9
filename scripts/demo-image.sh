#!/usr/bin/env bash
# scripts/demo-image.sh [TAG] - build a small RUNNABLE image offline, for trying copyedit.
#
# The image (default tag demo/busybox:1) is Debian's busybox-static binary (/bin/busybox, which
# scripts/engines/install.sh installs) on `FROM scratch`, with what copyedit edits: a VOLUME, two
# EXPOSEd ports, an ENV, a LABEL and an ENTRYPOINT that prints a line. Built with Docker 20.10's
# classic builder on the private engines (scripts/engines/start.sh, started here if needed; no
# network, no registry), saved to $DEMO_OUT (default /tmp/copyedit-demo.tar), and loaded into the
# private Docker 28 (classic store, d28) and Docker 28 with the containerd image store (d28c).
# Run as root (as start.sh). Environment: COPYEDIT_ENGINE_STATE (as start.sh), DEMO_OUT.
#
#   sudo bash scripts/demo-image.sh
#   npx copyedit edit /tmp/copyedit-demo.tar -o /tmp/demo-edited.tar --rm-volume all --env GREETING=bonjour
#   . /tmp/copyedit-engines/env && $DOCKER28_BIN -H $DOCKER28C_HOST load -i /tmp/demo-edited.tar
#   $DOCKER28_BIN -H $DOCKER28C_HOST run --rm --network none demo/busybox:1     # bonjour from the demo image
set -euo pipefail

TAG="${1:-demo/busybox:1}"
OUT="${DEMO_OUT:-/tmp/copyedit-demo.tar}"
STATE="${COPYEDIT_ENGINE_STATE:-/tmp/copyedit-engines}"
HERE="$(cd "$(dirname "$0")" && pwd)"

[ "$(id -u)" = 0 ] || { echo "demo-image.sh: run as root (the private engines need it)" >&2; exit 1; }
[ -x /bin/busybox ] || { echo "demo-image.sh: /bin/busybox is missing; run scripts/engines/install.sh (it installs busybox-static)" >&2; exit 1; }
COPYEDIT_ENGINE_STATE="$STATE" bash "$HERE/engines/start.sh" >/dev/null
# shellcheck disable=SC1091
. "$STATE/env"

ctx="$(mktemp -d "${TMPDIR:-/tmp}/copyedit-demo-XXXXXX")"
trap 'rm -rf "$ctx"' EXIT
cp /bin/busybox "$ctx/busybox"
cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
ENV GREETING=hello
LABEL org.example.demo=copyedit
VOLUME /data
EXPOSE 8080 9090/udp
WORKDIR /data
ENTRYPOINT ["/bin/busybox", "sh", "-c", "echo \"$GREETING from the demo image\"; ls -d /data 2>/dev/null || true"]
DOCKERFILE
DOCKER_BUILDKIT=0 "$DOCKER20_BIN" -H "$DOCKER20_HOST" build -q --network none -t "$TAG" "$ctx" >/dev/null
"$DOCKER20_BIN" -H "$DOCKER20_HOST" save -o "$OUT" "$TAG"
for host in "$DOCKER28_HOST" "$DOCKER28C_HOST"; do "$DOCKER28_BIN" -H "$host" load -q -i "$OUT" >/dev/null; done
echo "$TAG: built offline ($(du -h "$OUT" | cut -f1) archive $OUT), loaded into Docker 20.10, Docker 28 (classic store) and Docker 28 (containerd store)"
echo "run it:  . $STATE/env && \$DOCKER28_BIN -H \$DOCKER28C_HOST run --rm --network none $TAG"
