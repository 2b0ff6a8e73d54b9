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
#  3. Docker 28.5, containerd 2.1 and docker-buildx from Debian sid, the same way (private apt
#     config `$DIR/apt-sid`, `dpkg -x` only, nothing installed system-wide):
#       $DIR/docker28      docker.io + docker-cli 28.5 (usr/sbin/dockerd, usr/bin/docker)
#       $DIR/containerd21  containerd 2.1 (usr/bin/containerd, ctr, containerd-shim-runc-v2);
#                          start.sh puts it first on Docker 28's PATH (its managed containerd)
#       $DIR/buildx        docker-buildx; $DIR/docker28/config/cli-plugins/docker-buildx links to it:
#                          use it with DOCKER_CONFIG=$DIR/docker28/config
#     Each folder has a VERSION file. runc stays bookworm's system runc 1.1 (sid's runc 1.3 needs a
#     newer glibc than bookworm's 2.36; loading needs no runc, `docker run` does and works with 1.1).
#  4. crane 0.20 and oras 1.3 from sid, the same way, into $DIR/clients/usr/bin (registry clients).
#
# Environment:
#   COPYEDIT_ENGINES_DIR   cache folder (default /var/cache/copyedit-engines)
#   COPYEDIT_FORCE_DOCKER26=1  re-download and re-extract Docker 26 even if present
#   COPYEDIT_FORCE_SID=1       re-download and re-extract the sid packages even if present
set -euo pipefail

ENGINES_DIR="${COPYEDIT_ENGINES_DIR:-/var/cache/copyedit-engines}"
D26="$ENGINES_DIR/docker26"
D28="$ENGINES_DIR/docker28"
C21="$ENGINES_DIR/containerd21"
BX="$ENGINES_DIR/buildx"
CL="$ENGINES_DIR/clients"
# no debconf questions, no needrestart prompt or service restarts, no apt progress on a terminal
export DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a NEEDRESTART_SUSPEND=1

log() { printf '[install] %s\n' "$*" >&2; }
trap 'rc=$?; log "finished in ${SECONDS} s (exit $rc)"' EXIT

if [ "$(id -u)" != 0 ]; then
  echo "install.sh: must run as root" >&2
  exit 1
fi

# ---------------------------------------------------------------- 1. system packages
PKGS=(docker.io podman skopeo containerd runc busybox-static docker-registry jq gzip zstd xz-utils bzip2 tar time umoci golang-go xfsprogs pigz openssl apache2-utils)
missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing: ${missing[*]}"
  aptlog="$(mktemp)"
  apt-get update -qq >"$aptlog" 2>&1 || { cat "$aptlog" >&2; rm -f "$aptlog"; exit 1; }
  # policy-rc.d 101 keeps maintainer scripts from starting services (docker, docker-registry)
  policy_created=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    policy_created=1
  fi
  # apt's and debconf's chatter ("delaying package configuration, since apt-utils is not
  # installed", needrestart) goes to a file, shown only when the install fails
  apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}" >"$aptlog" 2>&1 || {
    cat "$aptlog" >&2
    rm -f "$aptlog"
    [ "$policy_created" = 1 ] && rm -f /usr/sbin/policy-rc.d
    exit 1
  }
  rm -f "$aptlog"
  [ "$policy_created" = 1 ] && rm -f /usr/sbin/policy-rc.d
else
  log "system packages present"
fi

# ---------------------------------------------------------------- private apt, dpkg -x
# apt_private SUITE APTDIR: write a sources file for SUITE (the main debian entry of the system's
# deb822 sources, Suites rewritten) and run `apt-get update` with private lists. Sets APTOPTS.
apt_private() {
  local suite="$1" aptdir="$2"
  mkdir -p "$aptdir/sources" "$aptdir/lists/partial" "$aptdir/archives/partial" "$aptdir/debs"
  local SRC=/etc/apt/sources.list.d/debian.sources
  if [ -f "$SRC" ]; then
    # keep only the stanza whose URIs line ends in /debian (drops debian-security), Suites -> SUITE
    awk 'BEGIN { RS = ""; ORS = "\n\n" }
         { if ($0 ~ /(^|\n)URIs:[ \t]*[^\n]*\/debian\/?([ \t]*\n|[ \t]*$)/) { print; exit } }' "$SRC" |
      sed -E "s/^Suites:.*/Suites: $suite/" >"$aptdir/sources/$suite.sources"
  fi
  if ! grep -q "^Suites: $suite\$" "$aptdir/sources/$suite.sources" 2>/dev/null; then
    # fallback (no deb822 file on this system)
    printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' "Suites: $suite" 'Components: main' \
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' >"$aptdir/sources/$suite.sources"
  fi
  APTOPTS=(
    -o "Dir::Etc::SourceList=/dev/null"
    -o "Dir::Etc::SourceParts=$aptdir/sources"
    -o "Dir::State::Lists=$aptdir/lists"
    -o "Dir::Cache::Archives=$aptdir/archives"
    -o "Dir::Cache::pkgcache="
    -o "Dir::Cache::srcpkgcache="
    -o "APT::Sandbox::User=root"
  )
  apt-get "${APTOPTS[@]}" update -qq
}

# unpack DEST DEB...: dpkg -x every deb into DEST (replaced as a whole); DEST/VERSION lists them
unpack() {
  local dest="$1" deb tmp
  shift
  tmp="$dest.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  : >"$tmp/VERSION"
  for deb in "$@"; do
    dpkg -x "$deb" "$tmp"
    printf '%s %s\n' "$(dpkg-deb -f "$deb" Package)" "$(dpkg-deb -f "$deb" Version)" >>"$tmp/VERSION"
  done
  rm -rf "$dest"
  mv "$tmp" "$dest"
}

# ---------------------------------------------------------------- 2. Docker 26 from trixie
d26_ok() {
  [ -x "$D26/usr/sbin/dockerd" ] && [ -x "$D26/usr/bin/docker" ] && [ -s "$D26/VERSION" ] &&
    "$D26/usr/sbin/dockerd" --version 2>/dev/null | grep -q '^Docker version 26\.' &&
    "$D26/usr/bin/docker" --version 2>/dev/null | grep -q '^Docker version 26\.'
}

if [ "${COPYEDIT_FORCE_DOCKER26:-0}" != 1 ] && d26_ok; then
  log "docker 26 present: $(head -1 "$D26/VERSION")"
else
  log "fetching Docker 26 from Debian trixie into $D26"
  APTDIR="$ENGINES_DIR/apt"
  apt_private trixie "$APTDIR"
  rm -f "$APTDIR/debs/"*.deb
  (cd "$APTDIR/debs" && apt-get "${APTOPTS[@]}" download -qq docker.io docker-cli)
  unpack "$D26" "$APTDIR/debs/"*.deb
  # docker.io's docker-init is a symlink to tini-static (not extracted); use the system one
  if [ ! -e "$D26/usr/bin/docker-init" ]; then rm -f "$D26/usr/bin/docker-init"; fi
  "$D26/usr/sbin/dockerd" --version >>"$D26/VERSION"
  "$D26/usr/bin/docker" --version >>"$D26/VERSION"
  d26_ok || { echo "install.sh: extracted Docker 26 does not run on this system" >&2; exit 1; }
  log "docker 26 ready:"
  sed 's/^/    /' "$D26/VERSION" >&2
fi

# ---------------------------------------------------------------- 3. Docker 28, containerd 2.1, buildx from sid
d28_ok() {
  [ -s "$D28/VERSION" ] &&
    "$D28/usr/sbin/dockerd" --version 2>/dev/null | grep -q '^Docker version 28\.' &&
    "$D28/usr/bin/docker" --version 2>/dev/null | grep -q '^Docker version 28\.'
}
c21_ok() {
  [ -s "$C21/VERSION" ] && [ -x "$C21/usr/bin/containerd-shim-runc-v2" ] &&
    "$C21/usr/bin/containerd" --version 2>/dev/null | grep -Eq ' v?2\.' &&
    "$C21/usr/bin/ctr" --version 2>/dev/null | grep -Eq ' v?2\.'
}
bx_ok() {
  [ -s "$BX/VERSION" ] && [ -x "$D28/config/cli-plugins/docker-buildx" ] &&
    "$D28/config/cli-plugins/docker-buildx" version >/dev/null 2>&1
}

install_sid_engines() {
log "fetching Docker 28, containerd 2.1 and docker-buildx from Debian sid into $ENGINES_DIR"
APTDIR="$ENGINES_DIR/apt-sid"
apt_private sid "$APTDIR"
rm -f "$APTDIR/debs/"*.deb
(cd "$APTDIR/debs" && apt-get "${APTOPTS[@]}" download -qq docker.io docker-cli containerd docker-buildx)
unpack "$D28" "$APTDIR/debs/"docker.io_*.deb "$APTDIR/debs/"docker-cli_*.deb
if [ ! -e "$D28/usr/bin/docker-init" ]; then rm -f "$D28/usr/bin/docker-init"; fi
"$D28/usr/sbin/dockerd" --version >>"$D28/VERSION"
"$D28/usr/bin/docker" --version >>"$D28/VERSION"
unpack "$C21" "$APTDIR/debs/"containerd_*.deb
"$C21/usr/bin/containerd" --version >>"$C21/VERSION"
unpack "$BX" "$APTDIR/debs/"docker-buildx_*.deb
bxbin="$(find "$BX" -type f -perm -u+x -name docker-buildx | head -1)"
[ -n "$bxbin" ] || { echo "install.sh: the docker-buildx package has no docker-buildx binary" >&2; exit 1; }
"$bxbin" version >>"$BX/VERSION"
# the private DOCKER_CONFIG whose cli-plugins dir holds buildx (never ~/.docker)
mkdir -p "$D28/config/cli-plugins"
ln -sfn "$bxbin" "$D28/config/cli-plugins/docker-buildx"
d28_ok || { echo "install.sh: extracted Docker 28 does not run on this system" >&2; exit 1; }
c21_ok || { echo "install.sh: extracted containerd 2.1 does not run on this system" >&2; exit 1; }
bx_ok || { echo "install.sh: extracted docker-buildx does not run on this system" >&2; exit 1; }
log "docker 28, containerd 2.1, buildx ready:"
cat "$D28/VERSION" "$C21/VERSION" "$BX/VERSION" | sed 's/^/    /' >&2
}

if [ "${COPYEDIT_FORCE_SID:-0}" != 1 ] && d28_ok && c21_ok && bx_ok; then
  log "docker 28 present: $(head -1 "$D28/VERSION"); $(head -1 "$C21/VERSION"); $(head -1 "$BX/VERSION")"
else
  install_sid_engines
fi

# ---------------------------------------------------------------- 4. crane and oras from sid
# Independent registry clients for the differential tests: crane (go-containerregistry) and oras,
# unpacked the same way into $DIR/clients (usr/bin/crane, usr/bin/oras).
clients_ok() {
  [ -s "$CL/VERSION" ] && "$CL/usr/bin/crane" version >/dev/null 2>&1 && "$CL/usr/bin/oras" version >/dev/null 2>&1
}
if [ "${COPYEDIT_FORCE_SID:-0}" != 1 ] && clients_ok; then
  log "crane and oras present: $(tr '\n' ' ' <"$CL/VERSION")"
  exit 0
fi
log "fetching crane and oras from Debian sid into $CL"
APTDIR="$ENGINES_DIR/apt-sid"
apt_private sid "$APTDIR"
rm -f "$APTDIR/debs/"crane_*.deb "$APTDIR/debs/"oras_*.deb
(cd "$APTDIR/debs" && apt-get "${APTOPTS[@]}" download -qq crane oras)
unpack "$CL" "$APTDIR/debs/"crane_*.deb "$APTDIR/debs/"oras_*.deb
{ echo "crane $("$CL/usr/bin/crane" version)"; "$CL/usr/bin/oras" version | head -1; } >>"$CL/VERSION"
clients_ok || { echo "install.sh: extracted crane/oras do not run on this system" >&2; exit 1; }
log "crane and oras ready: $(tr '\n' ' ' <"$CL/VERSION")"
