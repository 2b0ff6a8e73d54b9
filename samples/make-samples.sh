#!/usr/bin/env bash
# samples/make-samples.sh - regenerate every sample archive in samples/ with the REAL engines.
#
# Prerequisite: scripts/engines/install.sh (run once per machine). This script calls
# scripts/engines/start.sh itself and leaves the daemons running (scripts/engines/stop.sh stops them).
# A temporary docker-registry (Debian package) is started on 127.0.0.1:$REGISTRY_PORT (default 5055)
# for the gzip/manifest-list sample and stopped again at the end.
#
# The images are built FROM scratch out of small text files made here (no third-party binaries),
# with the legacy builder (DOCKER_BUILDKIT=0) of Docker 20.10:
#   example/app:1.0 (= example/app:latest)  layers: rootfs/ (hello.txt, etc/app/app.conf, app/run,
#       srv/), dup.txt v1, dup.txt v2, dup.txt v1 again  => layers 2 and 4 have the SAME DiffID
#       (docker 20.10 save then writes a symlink ../<v1id>/layer.tar).
#       VOLUME ["/data","/var/log/app"] EXPOSE 8080 9090/udp ENV APP_MODE=prod
#       LABEL org.example.vendor="Example Ünïcode" WORKDIR /srv USER 1000
#       ENTRYPOINT ["/app/run"] CMD ["--serve"]
#   example/other:2   shares the rootfs/ layer with example/app, plus other.txt.
#   an arm64 variant of example/app (extra /arch.txt layer) only pushed to the temp registry.
# Context files have a fixed mtime, so the DiffIDs are reproducible; image IDs are not across
# machines (the config "created" times come from the clock), but rebuilding on the same engine
# state reuses the build cache and gives the same IDs again.
#
# Outputs (see samples/README.md and samples/expected.json, both generated here):
#   docker20-legacy.tar (+ .tar.gz .tar.zst .tar.xz .tar.bz2), docker20-multi.tar,
#   docker26-oci.tar, docker26-multi.tar, containerd-export.tar, containerd-gzip-index.tar,
#   podman.tar, skopeo-docker-archive.tar, and (samples/make-samples-28.sh, run at the end)
#   docker28c-multi.tar, docker28c-amd64.tar, docker28-classic.tar, containerd21-export.tar,
#   oci11/{oci11-artifact,oci11-referrers,oci11-artifact-manifest,windows-foreign}.tar
#
# Environment: COPYEDIT_SAMPLES_STATE (default /tmp/copyedit-samples), COPYEDIT_ENGINES_DIR (as start.sh), REGISTRY_PORT,
#   SAMPLES_OUT (default: this folder)
set -euo pipefail
umask 022
export LC_ALL=C.UTF-8

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
OUT="${SAMPLES_OUT:-$HERE}"
REGISTRY_PORT="${REGISTRY_PORT:-5055}"
REG="127.0.0.1:$REGISTRY_PORT"
NS_IMPORT=copyedit-samples-import
NS_PULL=copyedit-samples-pull

log() { printf '[samples] %s\n' "$*" >&2; }

STATE="${COPYEDIT_SAMPLES_STATE:-/tmp/copyedit-samples}"  # its own daemons: loading the samples moves example/app tags
export COPYEDIT_ENGINE_STATE="$STATE"
bash "$ROOT/scripts/engines/start.sh"
STATE="$(cd "$STATE" && pwd)"
# shellcheck disable=SC1091
. "$STATE/env"

D20() { "$DOCKER20_BIN" -H "$DOCKER20_HOST" "$@"; }
D26() { "$DOCKER26_BIN" -H "$DOCKER26_HOST" "$@"; }
CTR() { "$CTR_BIN" --address "$CONTAINERD_ADDRESS" "$@"; }
# shellcheck disable=SC2086
PODMAN() { "$PODMAN_BIN" $PODMAN_FLAGS "$@"; }

WORK="$(mktemp -d /tmp/copyedit-samples.XXXXXX)"
REGPID=""
cleanup() {
  if [ -n "$REGPID" ] && kill -0 "$REGPID" 2>/dev/null; then
    kill "$REGPID" 2>/dev/null || true
    wait "$REGPID" 2>/dev/null || true
  fi
  rm -f "$STATE/registry/registry.pid"
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$OUT"

# ------------------------------------------------------------------ build context
CTX="$WORK/ctx"
mkdir -p "$CTX/rootfs/etc/app" "$CTX/rootfs/app" "$CTX/rootfs/srv" "$CTX/dup-a" "$CTX/dup-b" \
  "$CTX/other" "$CTX/arch"
printf 'hello from image-copyedit\n' >"$CTX/rootfs/hello.txt"
printf '# example app configuration\nmode = prod\nport = 8080\n' >"$CTX/rootfs/etc/app/app.conf"
printf '#!/bin/sh\n# placeholder entrypoint (text only)\necho "app running: $*"\n' >"$CTX/rootfs/app/run"
chmod 0755 "$CTX/rootfs/app/run"
printf 'the same layer twice\n' >"$CTX/dup-a/dup.txt"
printf 'an intermediate layer\n' >"$CTX/dup-b/dup.txt"
printf 'another image\n' >"$CTX/other/other.txt"
printf 'arm64 variant\n' >"$CTX/arch/arch.txt"

cat >"$CTX/Dockerfile.app" <<'EOF'
FROM scratch
COPY rootfs/ /
COPY dup-a/dup.txt /dup.txt
COPY dup-b/dup.txt /dup.txt
COPY dup-a/dup.txt /dup.txt
VOLUME ["/data","/var/log/app"]
EXPOSE 8080 9090/udp
ENV APP_MODE=prod
LABEL org.example.vendor="Example Ünïcode"
WORKDIR /srv
USER 1000
ENTRYPOINT ["/app/run"]
CMD ["--serve"]
EOF
# arm64 variant: same, plus one layer, so its blobs differ from the amd64 ones
sed '/^VOLUME/i COPY arch/arch.txt /arch.txt' \
  "$CTX/Dockerfile.app" >"$CTX/Dockerfile.app-arm64"
# the `sed /i` above inserts before VOLUME; check it did
grep -q '^COPY arch/arch.txt /arch.txt$' "$CTX/Dockerfile.app-arm64"

cat >"$CTX/Dockerfile.other" <<'EOF'
FROM scratch
COPY rootfs/ /
COPY other/ /
ENV OTHER_MODE=test
LABEL org.example.role="other"
CMD ["/other.txt"]
EOF
find "$CTX" -exec touch -h -d @1700000000 {} +

# ------------------------------------------------------------------ build on docker 20.10
log "building images on docker 20.10"
DOCKER_BUILDKIT=0 D20 build -q -f "$CTX/Dockerfile.app" -t example/app:1.0 "$CTX" >/dev/null
D20 tag example/app:1.0 example/app:latest
DOCKER_BUILDKIT=0 D20 build -q -f "$CTX/Dockerfile.other" -t example/other:2 "$CTX" >/dev/null
for t in example/app:1.0 example/other:2; do
  [ "$(D20 image inspect -f '{{.Os}}/{{.Architecture}}' "$t")" = linux/amd64 ] ||
    { echo "$t is not linux/amd64 (build cache polluted by a --platform build? run stop.sh --purge)" >&2; exit 1; }
done
# The arm64 variant is built on docker 26 (which builds nothing else), never on 20.10: the legacy
# builder's cache ignores --platform, so an arm64 build there would later be reused for the amd64
# builds of the same steps (seen: example/app:1.0 came out linux/arm64).
log "building the arm64 variant on docker 26"
DOCKER_BUILDKIT=0 D26 build -q --platform linux/arm64 -f "$CTX/Dockerfile.app-arm64" \
  -t example/app:1.0-arm64 "$CTX" >/dev/null 2>"$WORK/arm64-build.log" ||
  { cat "$WORK/arm64-build.log" >&2; exit 1; }
[ "$(D26 image inspect -f '{{.Architecture}}' example/app:1.0-arm64)" = arm64 ] ||
  { echo "arm64 build did not produce an arm64 config" >&2; exit 1; }

APP_TAGS=(example/app:1.0 example/app:latest)
ALL_TAGS=(example/app:1.0 example/app:latest example/other:2)

# ------------------------------------------------------------------ docker 20.10 save
log "docker20-legacy.tar, docker20-multi.tar"
rm -f "$OUT"/*.tar "$OUT"/*.tar.gz "$OUT"/*.tar.zst "$OUT"/*.tar.xz "$OUT"/*.tar.bz2
D20 save -o "$OUT/docker20-legacy.tar" "${APP_TAGS[@]}"
D20 save -o "$OUT/docker20-multi.tar" "${ALL_TAGS[@]}"

# ------------------------------------------------------------------ docker 26 save
log "docker26-oci.tar, docker26-multi.tar"
D26 rmi -f "${ALL_TAGS[@]}" >/dev/null 2>&1 || true
D26 load -q -i "$OUT/docker20-multi.tar" >/dev/null
D26 save -o "$OUT/docker26-oci.tar" "${APP_TAGS[@]}"
D26 save -o "$OUT/docker26-multi.tar" "${ALL_TAGS[@]}"

# ------------------------------------------------------------------ containerd import/export
log "containerd-export.tar"
ctr_clear_ns() {
  local ns="$1" refs
  refs="$(CTR -n "$ns" images ls -q 2>/dev/null || true)"
  # shellcheck disable=SC2086
  [ -z "$refs" ] || CTR -n "$ns" images rm $refs >/dev/null
}
ctr_clear_ns "$NS_IMPORT"
CTR -n "$NS_IMPORT" images import "$OUT/docker20-legacy.tar" >/dev/null
CTR -n "$NS_IMPORT" images export "$OUT/containerd-export.tar" \
  docker.io/example/app:1.0 docker.io/example/app:latest

# ------------------------------------------------------------------ registry: gzip + manifest list
log "containerd-gzip-index.tar (temp registry on $REG)"
mkdir -p "$STATE/registry"
rm -rf "$STATE/registry/data"
cat >"$STATE/registry/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STATE/registry/data
  delete:
    enabled: true
http:
  addr: $REG
EOF
if curl -fsS "http://$REG/v2/" >/dev/null 2>&1; then
  echo "something already listens on $REG; set REGISTRY_PORT" >&2
  exit 1
fi
setsid /usr/bin/docker-registry serve "$STATE/registry/config.yml" </dev/null \
  >>"$STATE/registry/registry.log" 2>&1 &
REGPID=$!
echo "$REGPID" >"$STATE/registry/registry.pid"
for i in $(seq 1 120); do
  curl -fsS "http://$REG/v2/" >/dev/null 2>&1 && break
  kill -0 "$REGPID" 2>/dev/null || { cat "$STATE/registry/registry.log" >&2; exit 1; }
  [ "$i" -lt 120 ] || { echo "registry did not answer; log $STATE/registry/registry.log" >&2; exit 1; }
  sleep 0.25
done
D20 tag example/app:1.0 "$REG/example/app:1.0-amd64"
D26 tag example/app:1.0-arm64 "$REG/example/app:1.0-arm64"
D20 push -q "$REG/example/app:1.0-amd64" >/dev/null
D26 push -q "$REG/example/app:1.0-arm64" >/dev/null
export DOCKER_CONFIG="$WORK/docker-config"
mkdir -p "$DOCKER_CONFIG"
"$DOCKER26_BIN" manifest create --insecure "$REG/example/app:1.0" \
  "$REG/example/app:1.0-amd64" "$REG/example/app:1.0-arm64" >/dev/null
"$DOCKER26_BIN" manifest push --insecure --purge "$REG/example/app:1.0" >/dev/null
unset DOCKER_CONFIG
ctr_clear_ns "$NS_PULL"
CTR -n "$NS_PULL" images pull --plain-http --platform linux/amd64 "$REG/example/app:1.0" >/dev/null
CTR -n "$NS_PULL" images tag "$REG/example/app:1.0" docker.io/example/app:1.0 >/dev/null
CTR -n "$NS_PULL" images export --platform linux/amd64 "$OUT/containerd-gzip-index.tar" \
  docker.io/example/app:1.0
kill "$REGPID" 2>/dev/null || true
wait "$REGPID" 2>/dev/null || true
REGPID=""
rm -f "$STATE/registry/registry.pid"
D20 rmi "$REG/example/app:1.0-amd64" >/dev/null
D26 rmi "$REG/example/app:1.0-arm64" >/dev/null

# ------------------------------------------------------------------ podman
log "podman.tar"
PODMAN rmi -f localhost/example/app:1.0 localhost/example/app:latest >/dev/null 2>&1 || true
PODMAN load -q -i "$OUT/docker20-legacy.tar" >/dev/null
PODMAN save -q --format docker-archive -o "$OUT/podman.tar" localhost/example/app:1.0

# ------------------------------------------------------------------ skopeo (from the docker 20.10 daemon)
log "skopeo-docker-archive.tar"
"$SKOPEO_BIN" copy -q --src-daemon-host "$DOCKER20_HOST" docker-daemon:example/app:1.0 \
  "docker-archive:$OUT/skopeo-docker-archive.tar:example/app:1.0"

# ------------------------------------------------------------------ outer compression
log "compressed variants"
gzip -n -9 -c "$OUT/docker20-legacy.tar" >"$OUT/docker20-legacy.tar.gz"
zstd -q -19 -c "$OUT/docker20-legacy.tar" >"$OUT/docker20-legacy.tar.zst"
xz -9 -c "$OUT/docker20-legacy.tar" >"$OUT/docker20-legacy.tar.xz"
bzip2 -9 -c "$OUT/docker20-legacy.tar" >"$OUT/docker20-legacy.tar.bz2"

# ------------------------------------------------------------------ expected.json
log "expected.json, README.md"
# jq: docker/podman inspect element -> entry
J_INSPECT='{
  repoTags: [(.RepoTags // [])[] | select(. as $t | $want | index($t))],
  imageId: (if (.Id | startswith("sha256:")) then .Id else "sha256:" + .Id end),
  diffIds: .RootFS.Layers,
  architecture: .Architecture, os: .Os,
  entrypoint: .Config.Entrypoint, cmd: .Config.Cmd,
  volumes: ((.Config.Volumes // {}) | keys), exposedPorts: ((.Config.ExposedPorts // {}) | keys),
  env: .Config.Env, labels: .Config.Labels, user: .Config.User, workingDir: .Config.WorkingDir
}'
# jq: OCI/docker config JSON -> entry (needs $tags, $id)
J_CONFIG='{
  repoTags: $tags, imageId: $id, diffIds: .rootfs.diff_ids,
  architecture: .architecture, os: .os,
  entrypoint: .config.Entrypoint, cmd: .config.Cmd,
  volumes: ((.config.Volumes // {}) | keys), exposedPorts: ((.config.ExposedPorts // {}) | keys),
  env: .config.Env, labels: .config.Labels, user: .config.User, workingDir: .config.WorkingDir
}'

docker_entries() { # CLIENTFN tags... -> JSON array, one entry per distinct image
  local fn="$1"; shift
  local want ids
  want="$(printf '%s\n' "$@" | jq -R . | jq -s .)"
  ids="$("$fn" image inspect -f '{{.Id}}' "$@" | awk '!seen[$0]++')"
  # shellcheck disable=SC2086
  "$fn" image inspect $ids | jq --argjson want "$want" "[.[] | $J_INSPECT]"
}

ctr_entries() { # NS ref... -> JSON array (platform linux/amd64)
  local ns="$1"; shift
  local ref target mt man cfgd tags
  for ref in "$@"; do
    target="$(CTR -n "$ns" images ls "name==$ref" | awk 'NR==2 { print $3 }')"
    mt="$(CTR -n "$ns" content get "$target" | jq -r '.mediaType // ""')"
    local top="$target" index=null absent="[]"
    if [ "$mt" = application/vnd.docker.distribution.manifest.list.v2+json ] ||
      [ "$mt" = application/vnd.oci.image.index.v1+json ]; then
      index="\"$target\""
      target="$(CTR -n "$ns" content get "$top" |
        jq -r '.manifests[] | select(.platform.architecture=="amd64" and .platform.os=="linux") | .digest')"
      # the other platforms' manifests (their blobs are not in the export)
      absent="$(CTR -n "$ns" content get "$top" |
        jq -c '[.manifests[] | select(.platform.architecture!="amd64") | {digest, platform}]')"
    fi
    man="$(CTR -n "$ns" content get "$target")"
    cfgd="$(jq -r .config.digest <<<"$man")"
    tags="$(jq -n --arg r "$ref" '[$r]')"
    CTR -n "$ns" content get "$cfgd" |
      jq --argjson tags "$tags" --arg id "$cfgd" --arg md "$target" --argjson idx "$index" --argjson absent "$absent" \
        --argjson man "$man" "$J_CONFIG + {manifestDigest: \$md, indexDigest: \$idx, absentManifests: \$absent,
          layerMediaTypes: [\$man.layers[].mediaType], layerDigests: [\$man.layers[].digest]}"
  done | jq -s '
    # merge entries of the same image (several tags)
    group_by(.imageId) | map(.[0] + {repoTags: (map(.repoTags[]))})'
}

skopeo_entries() { # archive ref
  local src="$1" tag="$2" cfgd
  cfgd="$("$SKOPEO_BIN" inspect --raw "docker-archive:$src" | jq -r .config.digest)"
  "$SKOPEO_BIN" inspect --config "docker-archive:$src" |
    jq --argjson tags "[\"$tag\"]" --arg id "$cfgd" "[$J_CONFIG]"
}

E_D20_LEGACY="$(docker_entries D20 "${APP_TAGS[@]}")"
E_D20_MULTI="$(docker_entries D20 "${ALL_TAGS[@]}")"
E_D26_OCI="$(docker_entries D26 "${APP_TAGS[@]}")"
E_D26_MULTI="$(docker_entries D26 "${ALL_TAGS[@]}")"
E_CTR="$(ctr_entries "$NS_IMPORT" docker.io/example/app:1.0 docker.io/example/app:latest)"
E_CTR_GZ="$(ctr_entries "$NS_PULL" docker.io/example/app:1.0)"
E_PODMAN="$(docker_entries PODMAN localhost/example/app:1.0)"
E_SKOPEO="$(skopeo_entries "$OUT/skopeo-docker-archive.tar" docker.io/example/app:1.0)"

V_D20="$(D20 version -f '{{.Server.Version}}')"
V_D26="$(D26 version -f '{{.Server.Version}}')"
V_CTR="$(CTR version | awk '/Version:/ { print $2; exit }')"
V_PODMAN="$("$PODMAN_BIN" --version | awk '{ print $3 }')"
V_SKOPEO="$("$SKOPEO_BIN" --version | awk '{ print $3 }')"

archive_manifest_json() { # file -> the archive's own manifest.json
  local f="$OUT/$1" cat=cat
  case "$f" in
    *.gz) cat="gzip -dc" ;; *.zst) cat="zstd -dc" ;; *.xz) cat="xz -dc" ;; *.bz2) cat="bzip2 -dc" ;;
  esac
  $cat "$f" | tar -xOf - manifest.json
}
sample() { # file layout producer command entries-json
  # manifestJsonRepoTags: RepoTags of the archive's manifest.json entry for that config
  jq -n --arg file "$1" --arg layout "$2" --arg producer "$3" --arg command "$4" \
    --argjson images "$5" --arg sha "$(sha256sum "$OUT/$1" | cut -d' ' -f1)" \
    --argjson size "$(stat -c %s "$OUT/$1")" --argjson mj "$(archive_manifest_json "$1")" \
    '{file: $file, layout: $layout, producer: $producer, command: $command,
      sha256: $sha, size: $size,
      images: [$images[] | . as $i | . + {manifestJsonRepoTags:
        ([$mj[] | select(.Config | contains($i.imageId[7:])) | .RepoTags // []] | add)}]}'
}
{
  sample docker20-legacy.tar docker-legacy "docker $V_D20" \
    "docker save example/app:1.0 example/app:latest" "$E_D20_LEGACY"
  for z in gz zst xz bz2; do
    case $z in gz) c="gzip -n -9" ;; zst) c="zstd -19" ;; xz) c="xz -9" ;; bz2) c="bzip2 -9" ;; esac
    sample "docker20-legacy.tar.$z" "docker-legacy+$z" "docker $V_D20 + $c" \
      "docker save example/app:1.0 example/app:latest | $c" "$E_D20_LEGACY"
  done
  sample docker20-multi.tar docker-legacy "docker $V_D20" \
    "docker save example/app:1.0 example/app:latest example/other:2" "$E_D20_MULTI"
  sample docker26-oci.tar docker-oci "docker $V_D26 (classic image store)" \
    "docker load -i docker20-multi.tar; docker save example/app:1.0 example/app:latest" "$E_D26_OCI"
  sample docker26-multi.tar docker-oci "docker $V_D26 (classic image store)" \
    "docker load -i docker20-multi.tar; docker save example/app:1.0 example/app:latest example/other:2" "$E_D26_MULTI"
  sample containerd-export.tar oci-containerd "ctr/containerd $V_CTR" \
    "ctr images import docker20-legacy.tar; ctr images export OUT docker.io/example/app:1.0 docker.io/example/app:latest" "$E_CTR"
  sample containerd-gzip-index.tar oci-containerd-index "ctr/containerd $V_CTR + docker-registry + docker $V_D26 manifest" \
    "docker push; docker manifest create/push --insecure (amd64+arm64); ctr images pull --plain-http --platform linux/amd64; ctr images export --platform linux/amd64" "$E_CTR_GZ"
  sample podman.tar containers-docker-archive "podman $V_PODMAN" \
    "podman load -i docker20-legacy.tar; podman save --format docker-archive localhost/example/app:1.0 (podman names loaded short names localhost/...)" "$E_PODMAN"
  sample skopeo-docker-archive.tar containers-docker-archive "skopeo $V_SKOPEO" \
    "skopeo copy --src-daemon-host \$DOCKER20_HOST docker-daemon:example/app:1.0 docker-archive:OUT:example/app:1.0" "$E_SKOPEO"
} | jq -s '{
  comment: "Generated by samples/make-samples.sh; values are what the producing engine reports (docker/podman image inspect, ctr content, skopeo inspect). Compare repoTags as sets.",
  samples: .}' >"$OUT/expected.json"

# ------------------------------------------------------------------ README.md
{
  echo "# Sample archives"
  echo
  echo "Generated by \`samples/make-samples.sh\` (needs \`scripts/engines/install.sh\`; it runs"
  echo "\`scripts/engines/start.sh\`). Do not edit by hand: rerun the script. Machine-readable details,"
  echo "including the full config fields per image, are in \`expected.json\`. Engines: docker $V_D20,"
  echo "docker $V_D26, containerd/ctr $V_CTR, podman $V_PODMAN, skopeo $V_SKOPEO."
  echo
  echo "Layouts: \`docker-legacy\` = \`<imageid>.json\` + \`<v1id>/{VERSION,json,layer.tar}\` + manifest.json +"
  echo "repositories (a repeated layer is a symlink \`../<v1id>/layer.tar\`); \`docker-oci\` = OCI layout"
  echo "(\`blobs/sha256/*\`, index.json, oci-layout) + manifest.json with LayerSources + repositories;"
  echo "\`oci-containerd\` = OCI layout + manifest.json (no repositories); \`-index\` = index.json points at a"
  echo "manifest list whose arm64 manifest/config/layer blobs are ABSENT, layers gzip;"
  echo "\`containers-docker-archive\` = \`<diffid>.tar\` layers at the root + \`<configdigest>.json\` + manifest.json."
  echo
  jq -r '.samples[] |
    "- `\(.file)` (\(.size) bytes): \(.producer); `\(.command)`; layout \(.layout). " +
    ([.images[] | "image \(.imageId) tags \(.repoTags | join(",")) diffIds [\(.diffIds | join(", "))]" +
      (if .manifestDigest then " manifest \(.manifestDigest)" else "" end) +
      (if .indexDigest then " index \(.indexDigest)" else "" end)] | join("; "))' "$OUT/expected.json"
} >"$OUT/README.md"

chmod 0644 "$OUT"/*.tar "$OUT"/*.tar.* "$OUT/expected.json" "$OUT/README.md"
# Docker 28 / containerd 2.1 samples and the hand-made OCI 1.1 ones (merged into expected.json)
bash "$HERE/make-samples-28.sh"
log "done:"
ls -l "$OUT" >&2
