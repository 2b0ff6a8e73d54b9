#!/usr/bin/env bash
# scripts/engines/start.sh - start private container engines (vfs storage) for samples and tests.
#
# Idempotent: a daemon that already answers is reused. Needs scripts/engines/install.sh first.
# Run as root. Stop everything with scripts/engines/stop.sh.
#
# Starts, under $STATE (default /tmp/copyedit-engines, env COPYEDIT_ENGINE_STATE; keep it short,
# unix socket paths are limited to 107 bytes):
#   - Docker 20.10 (/usr/sbin/dockerd)            socket $STATE/d20.sock, data $STATE/d20/data,
#     exec-root $STATE/d20/exec, log $STATE/d20.log. It starts its own managed containerd at
#     $STATE/d20/exec/containerd/containerd.sock, which we also use for `ctr`.
#   - Docker 26 ($COPYEDIT_ENGINES_DIR/docker26/usr/sbin/dockerd, default
#     /var/cache/copyedit-engines) socket $STATE/d26.sock, data $STATE/d26/data,
#     exec-root $STATE/d26/exec, log $STATE/d26.log; its own managed containerd (the system
#     containerd 1.6 binary found on PATH) at $STATE/d26/exec/containerd/containerd.sock.
#     Classic (graphdriver) image store, so `docker save` writes OCI layout + manifest.json.
#   - Docker 28.5 twice ($COPYEDIT_ENGINES_DIR/docker28), each with its own managed containerd 2.1
#     ($COPYEDIT_ENGINES_DIR/containerd21/usr/bin first on its PATH; runc is the system runc 1.1):
#       d28   classic (graphdriver) image store: socket $STATE/d28.sock, data $STATE/d28/data,
#             exec-root $STATE/d28/exec
#       d28c  containerd image store (private --config-file $STATE/daemon-c8d.json =
#             {"features":{"containerd-snapshotter":true}}): socket $STATE/d28c.sock, data
#             $STATE/d28c/data, exec-root $STATE/d28c/exec, snapshotter `native` (the containerd
#             store takes a snapshotter name as --storage-driver: "vfs" makes every build fail). Its managed containerd 2.1
#             ($STATE/d28c/exec/containerd/containerd.sock) is also the one `ctr` 2.1 talks to
#             (CONTAINERD21_ADDRESS; Docker keeps its images in namespace "moby", tests use their own).
#   All: --storage-driver vfs --iptables=false --ip6tables=false --bridge=none, and an empty
#   private --config-file (so /etc/docker/daemon.json is never read). Containers need
#   `--network none` (there is no bridge).
#   - podman/skopeo need no daemon; podman gets private storage $STATE/podman/{root,run,tmp}.
#
# Writes $STATE/env (source it: `. /tmp/copyedit-engines/env`), exporting:
#   COPYEDIT_ENGINE_STATE  the state dir
#   DOCKER20_HOST  unix://$STATE/d20.sock        DOCKER20_BIN  /usr/bin/docker (20.10 client)
#   DOCKER26_HOST  unix://$STATE/d26.sock        DOCKER26_BIN  .../docker26/usr/bin/docker (26 client)
#   CONTAINERD_ADDRESS  $STATE/d20/exec/containerd/containerd.sock (ctr reads this env var itself)
#   CTR_BIN  /usr/bin/ctr      (use a namespace of your own: `$CTR_BIN -n myns images import X`)
#   DOCKER28_HOST  unix://$STATE/d28.sock (classic store)   DOCKER28_BIN  .../docker28/usr/bin/docker
#   DOCKER28C_HOST unix://$STATE/d28c.sock (containerd image store, same client)
#   DOCKER28_CONFIG  a DOCKER_CONFIG dir whose cli-plugins hold docker-buildx (BuildKit):
#                  DOCKER_CONFIG=$DOCKER28_CONFIG $DOCKER28_BIN -H $DOCKER28C_HOST buildx build ...
#   CONTAINERD21_ADDRESS  the containerd 2.1 that d28c manages   CTR21_BIN  .../containerd21/usr/bin/ctr
#   PODMAN_BIN  /usr/bin/podman
#   PODMAN_FLAGS  global flags: --storage-driver vfs --root .. --runroot .. --tmpdir ..
#                 --cgroup-manager cgroupfs --events-backend file   (use: $PODMAN_BIN $PODMAN_FLAGS load ..)
#   PODMAN_RUN_FLAGS  flags `podman run` needs here: --network none and nofile/nproc ulimits
#                 (podman's default rlimits exceed this machine's hard limits -> EPERM)
#   SKOPEO_BIN  /usr/bin/skopeo
# Usage:  /usr/bin/docker -H "$DOCKER20_HOST" ...   "$DOCKER26_BIN" -H "$DOCKER26_HOST" ...
# NOTE: /usr/local/bin/docker may be a different (client-only) Docker; always use *_BIN.
#
# Environment: COPYEDIT_ENGINE_STATE, COPYEDIT_ENGINES_DIR, COPYEDIT_ENGINE_TIMEOUT (s, default 60)
set -euo pipefail

STATE="${COPYEDIT_ENGINE_STATE:-/tmp/copyedit-engines}"
ENGINES_DIR="${COPYEDIT_ENGINES_DIR:-/var/cache/copyedit-engines}"
TIMEOUT="${COPYEDIT_ENGINE_TIMEOUT:-60}"
D26DIR="$ENGINES_DIR/docker26"
D28DIR="$ENGINES_DIR/docker28"
C21DIR="$ENGINES_DIR/containerd21"

DOCKER20_DAEMON=/usr/sbin/dockerd
DOCKER20_BIN=/usr/bin/docker
DOCKER26_DAEMON="$D26DIR/usr/sbin/dockerd"
DOCKER26_BIN="$D26DIR/usr/bin/docker"
DOCKER28_DAEMON="$D28DIR/usr/sbin/dockerd"
DOCKER28_BIN="$D28DIR/usr/bin/docker"
CTR21_BIN="$C21DIR/usr/bin/ctr"

log() { printf '[start] %s\n' "$*" >&2; }
die() { printf 'start.sh: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"
for b in "$DOCKER20_DAEMON" "$DOCKER20_BIN" "$DOCKER26_DAEMON" "$DOCKER26_BIN" /usr/bin/ctr \
  "$DOCKER28_DAEMON" "$DOCKER28_BIN" "$CTR21_BIN" "$C21DIR/usr/bin/containerd" "$D28DIR/config/cli-plugins/docker-buildx" \
  /usr/bin/podman /usr/bin/skopeo /usr/bin/containerd /usr/sbin/runc; do
  [ -x "$b" ] || die "missing $b - run scripts/engines/install.sh first"
done

mkdir -p "$STATE"
STATE="$(cd "$STATE" && pwd)"
[ -f "$STATE/daemon.json" ] || echo '{}' >"$STATE/daemon.json"
[ -f "$STATE/daemon-c8d.json" ] || echo '{"features":{"containerd-snapshotter":true}}' >"$STATE/daemon-c8d.json"

running() { # pid: alive and not a zombie (an orphaned daemon's zombie may never be reaped here)
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null &&
    [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]
}
alive() { # pidfile
  [ -s "$1" ] && running "$(cat "$1")"
}

# start_docker NAME DAEMON CLIENT PATHPREFIX [CONFIGFILE [STORAGEDRIVER]]
start_docker() {
  local name="$1" daemon="$2" client="$3" pathprefix="$4" config="${5:-$STATE/daemon.json}" driver="${6:-vfs}"
  local sock="$STATE/$name.sock" host="unix://$STATE/$name.sock" logf="$STATE/$name.log"
  local pidf="$STATE/$name/dockerd.pid"
  if alive "$pidf" && "$client" -H "$host" version >/dev/null 2>&1; then
    log "$name already running (pid $(cat "$pidf")), reusing"
    return 0
  fi
  if alive "$pidf"; then
    die "$name: dockerd pid $(cat "$pidf") is alive but does not answer on $host; run stop.sh (log: $logf)"
  fi
  rm -f "$pidf" "$sock"
  # a managed containerd left by a dockerd that died: dockerd would wait for it (its pid may even be
  # an unreaped zombie), so stop a live one and drop the stale pid file and sockets
  local cpidf="$STATE/$name/exec/containerd/containerd.pid"
  if [ -s "$cpidf" ]; then
    local cpid
    cpid="$(cat "$cpidf")"
    if running "$cpid" && grep -q "$STATE/$name/exec/containerd" "/proc/$cpid/cmdline" 2>/dev/null; then
      log "$name: stopping orphaned containerd (pid $cpid)"
      kill "$cpid" 2>/dev/null || true
      for _ in $(seq 1 40); do running "$cpid" || break; sleep 0.25; done
      running "$cpid" && kill -9 "$cpid" 2>/dev/null
    fi
    rm -f "$cpidf" "$STATE/$name/exec/containerd/"containerd*.sock*
  fi
  mkdir -p "$STATE/$name/data" "$STATE/$name/exec"
  local extra=()
  [ -x /usr/bin/docker-init ] && extra+=(--init-path /usr/bin/docker-init)
  log "starting $name: $daemon (log $logf)"
  # setsid: own session, so the daemon survives the caller's shell/job control
  PATH="$pathprefix:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    setsid "$daemon" \
    --config-file "$config" \
    --data-root "$STATE/$name/data" \
    --exec-root "$STATE/$name/exec" \
    --pidfile "$pidf" \
    --storage-driver "$driver" \
    --iptables=false --ip6tables=false --bridge=none \
    "${extra[@]}" \
    --host "$host" </dev/null >>"$logf" 2>&1 &
  local dpid=$! i=0
  while ! "$client" -H "$host" version >/dev/null 2>&1; do
    if ! running "$dpid"; then
      tail -n 15 "$logf" >&2 || true
      die "$name ($daemon) exited during startup; see log $logf"
    fi
    i=$((i + 1))
    if [ "$i" -ge $((TIMEOUT * 4)) ]; then
      tail -n 15 "$logf" >&2 || true
      die "$name ($daemon) did not answer on $host within ${TIMEOUT}s; see log $logf"
    fi
    sleep 0.25
  done
  log "$name up: server $("$client" -H "$host" version --format '{{.Server.Version}}') (pid $dpid)"
}

t0=$(date +%s.%N)
start_docker d20 "$DOCKER20_DAEMON" "$DOCKER20_BIN" "/usr/sbin:/usr/bin"
# Docker 26's package has no containerd: dockerd looks `containerd` up on PATH (system 1.6)
start_docker d26 "$DOCKER26_DAEMON" "$DOCKER26_BIN" "$D26DIR/usr/sbin:$D26DIR/usr/bin"
# Docker 28: containerd 2.1 (and its shim) first on PATH, then the system runc 1.1
start_docker d28 "$DOCKER28_DAEMON" "$DOCKER28_BIN" "$C21DIR/usr/bin:$D28DIR/usr/sbin:$D28DIR/usr/bin"
start_docker d28c "$DOCKER28_DAEMON" "$DOCKER28_BIN" "$C21DIR/usr/bin:$D28DIR/usr/sbin:$D28DIR/usr/bin" "$STATE/daemon-c8d.json" native
"$DOCKER28_BIN" -H "unix://$STATE/d28c.sock" info --format '{{json .DriverStatus}}' | grep -q io.containerd.snapshotter ||
  die "d28c does not use the containerd image store (docker info: no io.containerd.snapshotter driver-type); see $STATE/d28c.log"
! "$DOCKER28_BIN" -H "unix://$STATE/d28.sock" info --format '{{json .DriverStatus}}' | grep -q io.containerd.snapshotter ||
  die "d28 uses the containerd image store, expected the classic store; see $STATE/d28.log"

CONTAINERD_ADDRESS="$STATE/d20/exec/containerd/containerd.sock"
i=0
until /usr/bin/ctr --address "$CONTAINERD_ADDRESS" version >/dev/null 2>&1; do
  i=$((i + 1))
  [ "$i" -lt $((TIMEOUT * 4)) ] || die "containerd (managed by d20) does not answer on $CONTAINERD_ADDRESS; see log $STATE/d20.log"
  sleep 0.25
done
CONTAINERD21_ADDRESS="$STATE/d28c/exec/containerd/containerd.sock"
i=0
until "$CTR21_BIN" --address "$CONTAINERD21_ADDRESS" version >/dev/null 2>&1; do
  i=$((i + 1))
  [ "$i" -lt $((TIMEOUT * 4)) ] || die "containerd 2.1 (managed by d28c) does not answer on $CONTAINERD21_ADDRESS; see log $STATE/d28c.log"
  sleep 0.25
done

mkdir -p "$STATE/podman/root" "$STATE/podman/run" "$STATE/podman/tmp"
PODMAN_FLAGS="--storage-driver vfs --root $STATE/podman/root --runroot $STATE/podman/run --tmpdir $STATE/podman/tmp --cgroup-manager cgroupfs --events-backend file"
PODMAN_RUN_FLAGS="--network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"

cat >"$STATE/env.tmp" <<EOF
# written by scripts/engines/start.sh - source me
export COPYEDIT_ENGINE_STATE='$STATE'
export DOCKER20_HOST='unix://$STATE/d20.sock'
export DOCKER20_BIN='$DOCKER20_BIN'
export DOCKER26_HOST='unix://$STATE/d26.sock'
export DOCKER26_BIN='$DOCKER26_BIN'
export CONTAINERD_ADDRESS='$CONTAINERD_ADDRESS'
export CTR_BIN='/usr/bin/ctr'
export DOCKER28_HOST='unix://$STATE/d28.sock'
export DOCKER28C_HOST='unix://$STATE/d28c.sock'
export DOCKER28_BIN='$DOCKER28_BIN'
export DOCKER28_CONFIG='$D28DIR/config'
export CONTAINERD21_ADDRESS='$CONTAINERD21_ADDRESS'
export CTR21_BIN='$CTR21_BIN'
export PODMAN_BIN='/usr/bin/podman'
export PODMAN_FLAGS='$PODMAN_FLAGS'
export PODMAN_RUN_FLAGS='$PODMAN_RUN_FLAGS'
export SKOPEO_BIN='/usr/bin/skopeo'
EOF
# the registry tests' plain and TLS+auth registries (issue 22); their variables join the env file
"$(dirname "$0")/registry.sh" start
cat "$STATE/registry.env" >>"$STATE/env.tmp"
mv "$STATE/env.tmp" "$STATE/env"
log "engines ready in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s; env file: $STATE/env"
