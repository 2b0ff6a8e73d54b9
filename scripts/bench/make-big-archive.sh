#!/usr/bin/env bash
# Build a docker-save (Docker <= 24 layout) archive of about SIZE_MIB MiB for timing and memory
# measurements: N_LAYERS layers of incompressible data, each a real tar, with correct DiffIDs.
# With SMALL_FILES=N (environment) one more layer holds N small files (a typical app layer).
#   scripts/bench/make-big-archive.sh OUT.tar [SIZE_MIB=1100] [N_LAYERS=4]
set -euo pipefail
out=${1:?usage: make-big-archive.sh OUT.tar [SIZE_MIB] [N_LAYERS]}
size=${2:-1100}
n=${3:-4}
small=${SMALL_FILES:-0}
work=$(mktemp -d "${TMPDIR:-/tmp}/copyedit-big.XXXXXX")
trap 'rm -rf "$work"' EXIT
per=$(( size / n ))
diffids=() layers=()
for i in $(seq 1 "$n"); do
  d="$work/src$i"; mkdir -p "$d"
  head -c "$(( per * 1024 * 1024 ))" /dev/urandom > "$d/blob$i.bin"
  v1=$(printf 'layer%s' "$i" | sha256sum | cut -c1-64)
  mkdir -p "$work/arch/$v1"
  tar -C "$d" -cf "$work/arch/$v1/layer.tar" "blob$i.bin"
  rm -rf "$d"
  echo '1.0' > "$work/arch/$v1/VERSION"
  echo "{\"id\":\"$v1\"}" > "$work/arch/$v1/json"
  diffids+=("\"sha256:$(sha256sum "$work/arch/$v1/layer.tar" | cut -c1-64)\"")
  layers+=("\"$v1/layer.tar\"")
done
if [ "$small" -gt 0 ]; then
  d="$work/small"; mkdir -p "$d"
  # N files of ~100 bytes in 100 directories, written by one awk process (fast)
  awk -v n="$small" -v d="$d" 'BEGIN { for (i = 0; i < 100; i++) system("mkdir -p " d "/dir" i);
    for (i = 0; i < n; i++) { f = d "/dir" (i % 100) "/file" i ".txt"; printf "small file %d of the bench archive, padding padding padding padding\n", i > f; close(f) } }'
  v1=$(printf 'small%s' "$small" | sha256sum | cut -c1-64)
  mkdir -p "$work/arch/$v1"
  tar -C "$d" --sort=name -cf "$work/arch/$v1/layer.tar" .
  rm -rf "$d"
  echo '1.0' > "$work/arch/$v1/VERSION"
  echo "{\"id\":\"$v1\"}" > "$work/arch/$v1/json"
  diffids+=("\"sha256:$(sha256sum "$work/arch/$v1/layer.tar" | cut -c1-64)\"")
  layers+=("\"$v1/layer.tar\"")
fi
join() { local IFS=,; echo "$*"; }
cfg="{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Entrypoint\":[\"/app\"],\"Volumes\":{\"/data\":{}},\"ExposedPorts\":{\"80/tcp\":{}}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[$(join "${diffids[@]}")]}}"
id=$(printf '%s' "$cfg" | sha256sum | cut -c1-64)
printf '%s' "$cfg" > "$work/arch/$id.json"
echo "[{\"Config\":\"$id.json\",\"RepoTags\":[\"bench/big:1\"],\"Layers\":[$(join "${layers[@]}")]}]" > "$work/arch/manifest.json"
tar -C "$work/arch" --sort=name -cf "$out" .
ls -l "$out"
