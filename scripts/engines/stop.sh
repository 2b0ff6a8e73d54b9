#!/usr/bin/env bash
# scripts/engines/stop.sh - stop everything scripts/engines/start.sh (and samples/make-samples.sh)
# started under $STATE (default /tmp/copyedit-engines, env COPYEDIT_ENGINE_STATE).
#
# Kills, by the pids recorded under $STATE only (never by name): the dockerds (d20, d26, d28, d28c) (SIGTERM, then
# SIGKILL after 20 s), their managed containerds and any leftover containerd-shim of theirs, and a
# docker-registry left by make-samples.sh. Never fails when nothing runs. Keeps the state dir
# (images stay); pass --purge to also delete $STATE (unmounting anything left under it).
set -uo pipefail

STATE="${COPYEDIT_ENGINE_STATE:-/tmp/copyedit-engines}"
PURGE=0
[ "${1:-}" = "--purge" ] && PURGE=1

log() { printf '[stop] %s\n' "$*" >&2; }

running() { # pid: alive and not a zombie
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null &&
    [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# stop_pid NAME PID
stop_pid() {
  local name="$1" pid="$2" i
  running "$pid" || return 0
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 80); do
    running "$pid" || return 0
    sleep 0.25
  done
  log "$name (pid $pid) did not exit, killing"
  kill -KILL "$pid" 2>/dev/null || true
}

pid_of() { [ -s "$1" ] && cat "$1" 2>/dev/null || true; }

if [ -d "$STATE" ]; then
  stop_pid docker-registry "$(pid_of "$STATE/registry/registry.pid")"
  # the registry tests' two registries (scripts/engines/registry.sh)
  stop_pid "docker-registry (plain)" "$(pid_of "$STATE/reg-plain/registry.pid")"
  stop_pid "docker-registry (tls)" "$(pid_of "$STATE/reg-tls/registry.pid")"
  for n in d28c d28 d26 d20; do
    stop_pid "$n dockerd" "$(pid_of "$STATE/$n/dockerd.pid")"
  done
  for n in d28c d28 d26 d20; do
    # dockerd stops its managed containerd itself; this catches a dockerd that died uncleanly
    stop_pid "$n containerd" "$(pid_of "$STATE/$n/exec/containerd/containerd.pid")"
    # shims of containers that were left running (their bundle dirs live under our exec-root)
    for f in "$STATE/$n/exec/containerd/daemon/io.containerd.runtime.v2.task"/*/*/shim.pid; do
      [ -f "$f" ] && stop_pid "$n shim" "$(pid_of "$f")"
    done
  done
  rm -f "$STATE/d20.sock" "$STATE/d26.sock" "$STATE/d28.sock" "$STATE/d28c.sock"
  if [ "$PURGE" = 1 ]; then
    # unmount anything still mounted below STATE (deepest first), then delete it
    awk -v s="$STATE/" 'index($2, s) == 1 { print $2 }' /proc/self/mounts | sort -r |
      while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$STATE"
    log "purged $STATE"
  fi
else
  log "nothing to stop ($STATE does not exist)"
fi
exit 0
