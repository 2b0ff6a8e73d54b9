#!/usr/bin/env bash
# scripts/engines/install.sh - install the real container engines used to make and check samples.
#
# Idempotent and fast when everything is already there (no network then). Run as root.
#
#  1. Debian (bookworm) packages, installed system-wide only when one is missing:
#       docker.io (Docker 20.10: /usr/sbin/dockerd, /usr/bin/docker), containerd (1.6, + ctr),
#       runc, podman (4.3), skopeo (1.9), busybox-static, docker-registry (2.8, the binary only;
#       we never run it as a system service), and the CLIs jq gzip zstd xz-utils bzip2, plus GNU
#       time and umoci for `npm run bench`.
#  2. Docker 26 from Debian trixie WITHOUT touching the system: a private apt configuration
#     (sources = the main debian entry of /etc/apt/sources.list.d/debian.sources with
#     `Suites: trixie`, private lists/archives dirs), `apt-get download docker.io docker-cli`,
#     then `dpkg -x` into  $COPYEDIT_ENGINES_DIR/docker26  (default /var/cache/copyedit-engines).
#     Docker 26's dockerd runs fine with bookworm's glibc and bookworm's containerd 1.6 + runc 1.1,
#     so only docker.io and docker-cli come from trixie.
#     Result: $DIR/docker26/usr/sbin/dockerd, $DIR/docker26/usr/bin/docker, and
#     $DIR/docker26/VERSION (the exact Debian package versions).
#
# Environment:
#   COPYEDIT_ENGINES_DIR   cache folder (default /var/cache/copyedit-engines)
#   COPYEDIT_FORCE_DOCKER26=1  re-download and re-extract Docker 26 even if present
set -euo pipefail

ENGINES_DIR="${COPYEDIT_ENGINES_DIR:-/var/cache/copyedit-engines}"
D26="$ENGINES_DIR/docker26"
export DEBIAN_FRONTEND=noninteractive

log() { printf '[install] %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  echo "install.sh: must run as root" >&2
  exit 1
fi

# ---------------------------------------------------------------- 1. system packages
PKGS=(docker.io podman skopeo containerd runc busybox-static docker-registry jq gzip zstd xz-utils bzip2 tar time umoci golang-go)
missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing: ${missing[*]}"
  apt-get update -qq
  # policy-rc.d 101 keeps maintainer scripts from starting services (docker, docker-registry)
  policy_created=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    policy_created=1
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
    [ "$policy_created" = 1 ] && rm -f /usr/sbin/policy-rc.d
    exit 1
  }
  [ "$policy_created" = 1 ] && rm -f /usr/sbin/policy-rc.d
else
  log "system packages present"
fi

# ---------------------------------------------------------------- 2. Docker 26 from trixie
d26_ok() {
  [ -x "$D26/usr/sbin/dockerd" ] && [ -x "$D26/usr/bin/docker" ] && [ -s "$D26/VERSION" ] &&
    "$D26/usr/sbin/dockerd" --version 2>/dev/null | grep -q '^Docker version 26\.' &&
    "$D26/usr/bin/docker" --version 2>/dev/null | grep -q '^Docker version 26\.'
}

if [ "${COPYEDIT_FORCE_DOCKER26:-0}" != 1 ] && d26_ok; then
  log "docker 26 present: $(head -1 "$D26/VERSION")"
  exit 0
fi

log "fetching Docker 26 from Debian trixie into $D26"
APTDIR="$ENGINES_DIR/apt"
mkdir -p "$APTDIR/sources" "$APTDIR/lists/partial" "$APTDIR/archives/partial" "$APTDIR/debs"
SRC=/etc/apt/sources.list.d/debian.sources
if [ -f "$SRC" ]; then
  # keep only the stanza whose URIs line ends in /debian (drops debian-security), Suites -> trixie
  awk 'BEGIN { RS = ""; ORS = "\n\n" }
       { if ($0 ~ /(^|\n)URIs:[ \t]*[^\n]*\/debian\/?([ \t]*\n|[ \t]*$)/) { print; exit } }' "$SRC" |
    sed -E 's/^Suites:.*/Suites: trixie/' >"$APTDIR/sources/trixie.sources"
fi
if ! grep -q '^Suites: trixie' "$APTDIR/sources/trixie.sources" 2>/dev/null; then
  # fallback (no deb822 file on this system)
  cat >"$APTDIR/sources/trixie.sources" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
fi
APTOPTS=(
  -o "Dir::Etc::SourceList=/dev/null"
  -o "Dir::Etc::SourceParts=$APTDIR/sources"
  -o "Dir::State::Lists=$APTDIR/lists"
  -o "Dir::Cache::Archives=$APTDIR/archives"
  -o "Dir::Cache::pkgcache="
  -o "Dir::Cache::srcpkgcache="
  -o "APT::Sandbox::User=root"
)
apt-get "${APTOPTS[@]}" update -qq
rm -f "$APTDIR/debs/"*.deb
(cd "$APTDIR/debs" && apt-get "${APTOPTS[@]}" download -qq docker.io docker-cli)

tmp="$D26.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
: >"$tmp/VERSION"
for deb in "$APTDIR/debs/"*.deb; do
  dpkg -x "$deb" "$tmp"
  printf '%s %s\n' "$(dpkg-deb -f "$deb" Package)" "$(dpkg-deb -f "$deb" Version)" >>"$tmp/VERSION"
done
# docker.io's docker-init is a symlink to tini-static (not extracted); use the system one
if [ ! -e "$tmp/usr/bin/docker-init" ]; then rm -f "$tmp/usr/bin/docker-init"; fi
"$tmp/usr/sbin/dockerd" --version >>"$tmp/VERSION"
"$tmp/usr/bin/docker" --version >>"$tmp/VERSION"
rm -rf "$D26"
mv "$tmp" "$D26"
d26_ok || { echo "install.sh: extracted Docker 26 does not run on this system" >&2; exit 1; }
log "docker 26 ready:"
sed 's/^/    /' "$D26/VERSION" >&2
