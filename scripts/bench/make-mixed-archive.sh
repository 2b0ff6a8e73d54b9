#!/usr/bin/env bash
# Build the issue-25 recompression archive, a docker-save (Docker <= 24 layout) archive of about
# 216 MB: one layer holding an 18-million-line text file (`seq`, 149 MB: compressible), one of 60 MB
# of random bytes (incompressible), one of 3,000 small files; correct DiffIDs.
#   scripts/bench/make-mixed-archive.sh OUT.tar
set -euo pipefail
out=${1:?usage: make-mixed-archive.sh OUT.tar}
work=$(mktemp -d "${TMPDIR:-/tmp}/copyedit-mixed.XXXXXX")
trap 'rm -rf "$work"' EXIT
diffids=() layers=()
add_layer() { # $1: a name, $2: the directory to tar
  local v1
  v1=$(printf '%s' "$1" | sha256sum | cut -c1-64)
  mkdir -p "$work/arch/$v1"
  tar -C "$2" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$work/arch/$v1/layer.tar" .
  rm -rf "$2"
  echo '1.0' > "$work/arch/$v1/VERSION"
  echo "{\"id\":\"$v1\"}" > "$work/arch/$v1/json"
  diffids+=("\"sha256:$(sha256sum "$work/arch/$v1/layer.tar" | cut -c1-64)\"")
  layers+=("\"$v1/layer.tar\"")
}
mkdir -p "$work/text" && seq 1 18000000 > "$work/text/lines.txt" && add_layer text "$work/text"
mkdir -p "$work/rand" && head -c 60000000 /dev/urandom > "$work/rand/random.bin" && add_layer random "$work/rand"
mkdir -p "$work/small"
awk -v d="$work/small" 'BEGIN { for (i = 0; i < 30; i++) system("mkdir -p " d "/dir" i);
  for (i = 0; i < 3000; i++) { f = d "/dir" (i % 30) "/file" i ".txt"; printf "small file %d of the bench archive, padding padding padding padding\n", i > f; close(f) } }'
add_layer small "$work/small"
join() { local IFS=,; echo "$*"; }
cfg="{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Entrypoint\":[\"/app\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[$(join "${diffids[@]}")]}}"
id=$(printf '%s' "$cfg" | sha256sum | cut -c1-64)
printf '%s' "$cfg" > "$work/arch/$id.json"
echo "[{\"Config\":\"$id.json\",\"RepoTags\":[\"bench/mixed:1\"],\"Layers\":[$(join "${layers[@]}")]}]" > "$work/arch/manifest.json"
tar -C "$work/arch" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$out" .
ls -l "$out"
