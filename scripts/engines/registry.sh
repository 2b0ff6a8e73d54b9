#!/usr/bin/env bash
# scripts/engines/registry.sh start|stop - the two private registries of the registry tests
# (issue 22), Debian's docker-registry (distribution 2.8):
#   plain  HTTP on 127.0.0.1:$PLAIN_PORT (default 5070), no auth      state $STATE/reg-plain
#   tls    HTTPS on 127.0.0.1:$TLS_PORT (default 5071), a CA generated here, htpasswd Basic
#          auth (bcrypt, user `copyedit`, password in $STATE/reg-tls/password)   state $STATE/reg-tls
# Both log every request at info level ($STATE/reg-*/registry.log: method, URI, status, bytes),
# which is how the tests count the bytes an edit moved. Idempotent: a registry that answers is
# reused. Stopped by pid file only (also by scripts/engines/stop.sh). Writes $STATE/registry.env:
#   REG_PLAIN=127.0.0.1:5070  REG_TLS=127.0.0.1:5071  REG_TLS_CERTS=$STATE/reg-tls/certs (ca.crt)
#   REG_TLS_USER=copyedit  REG_TLS_PASSWORD_FILE=$STATE/reg-tls/password  REG_*_LOG=...
set -euo pipefail

STATE="${COPYEDIT_ENGINE_STATE:-/tmp/copyedit-engines}"
PLAIN_PORT="${COPYEDIT_REG_PLAIN_PORT:-5070}"
TLS_PORT="${COPYEDIT_REG_TLS_PORT:-5071}"
BIN=/usr/bin/docker-registry

log() { printf '[registry] %s\n' "$*" >&2; }
running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_one() {
  local dir="$1" pid i
  [ -s "$dir/registry.pid" ] || return 0
  pid="$(cat "$dir/registry.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $dir (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/registry.pid"
}

# start_one DIR PORT [tls]
start_one() {
  local dir="$1" port="$2" tls="${3:-}" i
  mkdir -p "$dir/data"
  if running "$dir/registry.pid"; then return 0; fi
  {
    echo "version: 0.1"
    echo "log: {level: info, accesslog: {disabled: false}}"
    echo "storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}"
    if [ -n "$tls" ]; then
      echo "http: {addr: 127.0.0.1:$port, tls: {certificate: $dir/certs/server.crt, key: $dir/certs/server.key}}"
      echo "auth: {htpasswd: {realm: copyedit, path: $dir/htpasswd}}"
    else
      echo "http: {addr: 127.0.0.1:$port}"
    fi
  } >"$dir/config.yml"
  setsid "$BIN" serve "$dir/config.yml" </dev/null >>"$dir/registry.log" 2>&1 &
  echo $! >"$dir/registry.pid"
  for i in $(seq 1 80); do
    local scheme=http
    [ -n "$tls" ] && scheme=https
    if curl -s -o /dev/null ${tls:+--cacert "$dir/certs/ca.crt"} "$scheme://127.0.0.1:$port/v2/"; then
      log "registry on 127.0.0.1:$port (${tls:-plain})"
      return 0
    fi
    sleep 0.25
  done
  cat "$dir/registry.log" >&2
  log "registry on $port does not answer"
  exit 1
}

make_tls() {
  local dir="$1"
  mkdir -p "$dir/certs"
  if [ ! -s "$dir/certs/server.crt" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=copyedit test CA" \
      -keyout "$dir/certs/ca.key" -out "$dir/certs/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$dir/certs/server.key" \
      -out "$dir/certs/server.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$dir/certs/ext.cnf"
    openssl x509 -req -in "$dir/certs/server.csr" -CA "$dir/certs/ca.crt" -CAkey "$dir/certs/ca.key" \
      -CAcreateserial -days 3650 -extfile "$dir/certs/ext.cnf" -out "$dir/certs/server.crt" 2>/dev/null
  fi
  if [ ! -s "$dir/password" ]; then
    head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$dir/password"
    htpasswd -Bbn copyedit "$(cat "$dir/password")" >"$dir/htpasswd"
  fi
}

case "${1:-start}" in
start)
  start_one "$STATE/reg-plain" "$PLAIN_PORT"
  make_tls "$STATE/reg-tls"
  start_one "$STATE/reg-tls" "$TLS_PORT" tls
  cat >"$STATE/registry.env" <<ENV
export REG_PLAIN='127.0.0.1:$PLAIN_PORT'
export REG_PLAIN_LOG='$STATE/reg-plain/registry.log'
export REG_PLAIN_PID_FILE='$STATE/reg-plain/registry.pid'
export REG_TLS='127.0.0.1:$TLS_PORT'
export REG_TLS_LOG='$STATE/reg-tls/registry.log'
export REG_TLS_CERTS='$STATE/reg-tls/certs'
export REG_TLS_USER='copyedit'
export REG_TLS_PASSWORD_FILE='$STATE/reg-tls/password'
ENV
  ;;
stop)
  stop_one "$STATE/reg-plain"
  stop_one "$STATE/reg-tls"
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
