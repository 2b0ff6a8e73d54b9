#!/usr/bin/env bash
# samples/make-samples-28.sh - the Docker 28 / containerd 2.1 samples and the hand-made OCI 1.1 ones.
#
# Called at the end of samples/make-samples.sh; can run alone (it never touches the older samples,
# whose image IDs would change on a fresh engine state). Merges its entries into expected.json
# (replacing entries of the same file) and rewrites its section of README.md.
#
# Image example/multi:1.0, built with BuildKit (sid's docker-buildx, `docker` driver) on Docker 28
# with the containerd image store, for linux/amd64 and linux/arm64, --provenance=mode=max:
#   FROM scratch; COPY files/ /; COPY bin-$TARGETARCH/ /bin/ (amd64: /bin/echo, an 8 KiB static
#   echo built here with gcc -nostdlib, so `docker run` works; arm64: a text file);
#   VOLUME /data, EXPOSE 8080 9090/udp, ENV APP_MODE=prod, LABEL x2, ENTRYPOINT ["/bin/echo","app"],
#   CMD ["--serve"]. (busybox-static would add 1 MB to every archive; the samples stay small.)
# Outputs:
#   docker28c-multi.tar     docker save example/multi:1.0 (d28c): index -> index of 2 platforms +
#                           2 attestation manifests (vnd.docker.reference.type=attestation-manifest)
#   docker28c-amd64.tar     docker save --platform linux/amd64 example/multi:1.0 (d28c)
#   docker28-classic.tar    BuildKit build of the same Dockerfile (linux/amd64) on Docker 28's classic
#                           store, docker save example/single:1.0
#   containerd21-export.tar ctr 2.1 `images export` (defaults: this machine's platform only) of
#                           example/multi:1.0 from d28c's containerd (namespace moby): the arm64
#                           manifest and its attestation are ABSENT
#   oci11/oci11-*.tar, oci11/windows-foreign.tar  written by samples/make-oci11.mjs (deterministic)
set -euo pipefail
umask 022
export LC_ALL=C.UTF-8

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
OUT="${SAMPLES_OUT:-$HERE}"
log() { printf '[samples-28] %s\n' "$*" >&2; }

STATE="${COPYEDIT_SAMPLES_STATE:-/tmp/copyedit-samples}"  # its own daemons: loading the samples moves example/app tags
export COPYEDIT_ENGINE_STATE="$STATE"
bash "$ROOT/scripts/engines/start.sh"
STATE="$(cd "$STATE" && pwd)"
# shellcheck disable=SC1091
. "$STATE/env"
export DOCKER_CONFIG="$DOCKER28_CONFIG"
D28() { "$DOCKER28_BIN" -H "$DOCKER28_HOST" "$@"; }
D28C() { "$DOCKER28_BIN" -H "$DOCKER28C_HOST" "$@"; }
C21() { "$CTR21_BIN" --address "$CONTAINERD21_ADDRESS" "$@"; }

WORK="$(mktemp -d /tmp/copyedit-samples28.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
CTX="$WORK/ctx"
mkdir -p "$CTX/files/etc" "$CTX/bin-amd64" "$CTX/bin-arm64" "$OUT"
printf 'multi-platform sample\n' >"$CTX/files/hello.txt"
printf 'mode = prod\n' >"$CTX/files/etc/app.conf"
printf 'placeholder: this sample has no arm64 binary\n' >"$CTX/bin-arm64/README"
cat >"$WORK/echo.c" <<'EOF'
/* a tiny static echo for the sample image (no libc): prints its arguments, exit 0 */
static long sys3(long n, long a, long b, long c) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}
void start_c(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  for (long i = 1; i < argc; i++) {
    long n = 0;
    for (volatile char *p = argv[i]; *p; p++) n++;
    sys3(1, 1, (long)argv[i], n);
    if (i + 1 < argc) sys3(1, 1, (long)" ", 1);
  }
  sys3(1, 1, (long)"\n", 1);
  sys3(60, 0, 0, 0);
}
__asm__(".globl _start\n_start:\n mov %rsp, %rdi\n and $-16, %rsp\n call start_c\n hlt\n");
EOF
gcc -static -nostdlib -Os -s -fno-builtin -fno-stack-protector -fno-asynchronous-unwind-tables \
  -Wl,--build-id=none -o "$CTX/bin-amd64/echo" "$WORK/echo.c"
[ "$("$CTX/bin-amd64/echo" a b)" = "a b" ] || { echo "the static echo does not work" >&2; exit 1; }
cat >"$CTX/Dockerfile" <<'EOF'
FROM scratch
ARG TARGETARCH
COPY files/ /
COPY bin-${TARGETARCH}/ /bin/
VOLUME ["/data"]
EXPOSE 8080 9090/udp
ENV APP_MODE=prod
LABEL org.example.vendor="Example Ünïcode" org.example.role="multi"
WORKDIR /
ENTRYPOINT ["/bin/echo","app"]
CMD ["--serve"]
EOF
find "$CTX" -exec touch -h -d @1700000000 {} +

log "BuildKit on docker 28 (containerd store): example/multi:1.0 linux/amd64,linux/arm64, provenance mode=max"
D28C rmi -f example/multi:1.0 >/dev/null 2>&1 || true
D28C buildx build -q --platform linux/amd64,linux/arm64 --provenance=mode=max -t example/multi:1.0 "$CTX" >/dev/null
[ "$(D28C run --rm --network none example/multi:1.0)" = "app --serve" ] || { echo "example/multi:1.0 does not run" >&2; exit 1; }
rm -f "$OUT/docker28c-multi.tar" "$OUT/docker28c-amd64.tar" "$OUT/docker28-classic.tar" "$OUT/containerd21-export.tar"
D28C save -o "$OUT/docker28c-multi.tar" example/multi:1.0
D28C save --platform linux/amd64 -o "$OUT/docker28c-amd64.tar" example/multi:1.0

log "BuildKit on docker 28 (classic store): example/single:1.0 linux/amd64"
D28 rmi -f example/single:1.0 >/dev/null 2>&1 || true
D28 buildx build -q --platform linux/amd64 -t example/single:1.0 "$CTX" >/dev/null
D28 save -o "$OUT/docker28-classic.tar" example/single:1.0

log "ctr 2.1 export (default platform) of example/multi:1.0"
C21 -n moby images export "$OUT/containerd21-export.tar" docker.io/example/multi:1.0 >/dev/null

log "hand-made OCI 1.1 samples"
# in a subfolder: the unit suite's sample loops (readdir of samples/) cannot pass them before issue 12
mkdir -p "$OUT/oci11"
node "$HERE/make-oci11.mjs" "$OUT/oci11" | jq -c '.file = "oci11/" + .file' >"$WORK/oci11.jsonl"

# ------------------------------------------------------------------ expected.json entries
J_CONFIG='{
  repoTags: $tags, imageId: $id, diffIds: .rootfs.diff_ids,
  architecture: .architecture, os: .os,
  entrypoint: .config.Entrypoint, cmd: .config.Cmd,
  volumes: ((.config.Volumes // {}) | keys), exposedPorts: ((.config.ExposedPorts // {}) | keys),
  env: .config.Env, labels: .config.Labels, user: (.config.User // ""), workingDir: (.config.WorkingDir // "")
}'
# c21_entries NS REF [present-only]: one entry per platform manifest of REF, read from containerd
c21_entries() {
  local ns="$1" ref="$2" top mt
  top="$(C21 -n "$ns" images ls "name==$ref" | awk 'NR==2 { print $3 }')"
  mt="$(C21 -n "$ns" content get "$top" | jq -r '.mediaType // ""')"
  local idx=null mans atts="[]"
  if [ "$mt" = application/vnd.oci.image.index.v1+json ]; then
    idx="\"$top\""
    mans="$(C21 -n "$ns" content get "$top" | jq -c '[.manifests[] | select(.platform.os != "unknown") | {digest, platform}]')"
    atts="$(C21 -n "$ns" content get "$top" |
      jq -c '[.manifests[] | select(.annotations["vnd.docker.reference.type"] == "attestation-manifest") | {digest, describes: .annotations["vnd.docker.reference.digest"]}]')"
  else
    mans="[{\"digest\":\"$top\"}]"
  fi
  local tags
  tags="$(jq -n --arg r "${ref#docker.io/}" '[$r]')"
  jq -r '.[].digest' <<<"$mans" | while read -r md; do
    local man cfgd plat
    man="$(C21 -n "$ns" content get "$md")"
    cfgd="$(jq -r .config.digest <<<"$man")"
    plat="$(jq -c --arg d "$md" '.[] | select(.digest == $d) | .platform // null' <<<"$mans")"
    C21 -n "$ns" content get "$cfgd" |
      jq --argjson tags "$tags" --arg id "$cfgd" --arg md "$md" --argjson idx "$idx" --argjson man "$man" \
        --argjson plat "$plat" --argjson atts "$atts" \
        "$J_CONFIG + {manifestDigest: \$md, indexDigest: \$idx, platform: \$plat,
          attestations: [\$atts[] | select(.describes == \$md) | .digest],
          layerMediaTypes: [\$man.layers[].mediaType], layerDigests: [\$man.layers[].digest]}"
  done | jq -s .
}
E_MULTI="$(c21_entries moby docker.io/example/multi:1.0)"
# save --platform: index.json names the amd64 manifest itself (no index, no attestation)
E_AMD64="$(jq '[.[] | select(.platform.architecture == "amd64") | .indexDigest = null | .attestations = []]' <<<"$E_MULTI")"
# ctr export: the index with only this machine's platform present; the rest listed as absent
C21_BLOBS="$(tar -tf "$OUT/containerd21-export.tar" | sed -n 's|^blobs/sha256/\(.\)|sha256:\1|p' | jq -R . | jq -s .)"
C21_ABSENT="$(C21 -n moby content get "$(jq -r '.[0].indexDigest' <<<"$E_MULTI")" |
  jq -c --argjson have "$C21_BLOBS" '[.manifests[] | select(.digest as $d | $have | index($d) | not) | {digest, platform}]')"
E_C21="$(jq --argjson absent "$C21_ABSENT" '[.[] | select(.platform.architecture == "amd64") | .absentManifests = $absent]' <<<"$E_MULTI")"
E_CLASSIC="$(D28 image inspect example/single:1.0 | jq '[.[] | {
  repoTags: .RepoTags, imageId: .Id, diffIds: .RootFS.Layers, architecture: .Architecture, os: .Os,
  entrypoint: .Config.Entrypoint, cmd: .Config.Cmd,
  volumes: ((.Config.Volumes // {}) | keys), exposedPorts: ((.Config.ExposedPorts // {}) | keys),
  env: .Config.Env, labels: .Config.Labels, user: .Config.User, workingDir: .Config.WorkingDir}]')"
V_D28="$(D28 version -f '{{.Server.Version}}')"
V_C21="$(C21 version | awk '/Version:/ { print $2; exit }')"
V_BX="$("$DOCKER28_BIN" buildx version | awk '{ print $2 }')"

sample() { # file layout producer command entries-json [notes-json]
  jq -n --arg file "$1" --arg layout "$2" --arg producer "$3" --arg command "$4" \
    --argjson images "$5" --argjson notes "${6:-null}" --arg sha "$(sha256sum "$OUT/$1" | cut -d' ' -f1)" \
    --argjson size "$(stat -c %s "$OUT/$1")" \
    '{file: $file, layout: $layout, producer: $producer, command: $command, sha256: $sha, size: $size,
      images: $images} + (if $notes then {notes: $notes} else {} end)'
}
NEWJSON="$WORK/new.jsonl"
{
  sample docker28c-multi.tar oci-docker28-index "docker $V_D28 (containerd image store) + buildx $V_BX" \
    "docker buildx build --platform linux/amd64,linux/arm64 --provenance=mode=max -t example/multi:1.0; docker save example/multi:1.0" \
    "$E_MULTI" '{"platforms": 2, "attestations": 2}'
  sample docker28c-amd64.tar oci-docker28-index "docker $V_D28 (containerd image store) + buildx $V_BX" \
    "docker save --platform linux/amd64 example/multi:1.0" "$E_AMD64"
  sample docker28-classic.tar docker-oci "docker $V_D28 (classic image store) + buildx $V_BX" \
    "docker buildx build --platform linux/amd64 -t example/single:1.0; docker save example/single:1.0" "$E_CLASSIC"
  sample containerd21-export.tar oci-containerd-index "ctr/containerd $V_C21" \
    "ctr -n moby images export OUT docker.io/example/multi:1.0 (default: linux/amd64 only; arm64 and the attestations ABSENT)" "$E_C21"
  cat "$WORK/oci11.jsonl"
} | jq -c '.' >"$NEWJSON"

jq --slurpfile new "$NEWJSON" '
  ($new | map(.file)) as $files
  | .samples = ([.samples[] | select(.file as $f | $files | index($f) | not)] + $new)' \
  "$OUT/expected.json" >"$WORK/expected.json"
mv "$WORK/expected.json" "$OUT/expected.json"

# ------------------------------------------------------------------ README.md section
MARK='<!-- make-samples-28.sh -->'
{
  [ -f "$OUT/README.md" ] && sed "/^$MARK\$/,\$d" "$OUT/README.md"
  echo "$MARK"
  echo "## Docker 28, containerd 2.1, hand-made OCI 1.1 (samples/make-samples-28.sh, make-oci11.mjs)"
  echo
  echo "Engines: docker $V_D28 (classic and containerd image stores), buildx $V_BX, containerd/ctr $V_C21."
  echo "\`oci-docker28-index\` = OCI layout whose index.json names an INDEX (platforms + attestation"
  echo "manifests with \`vnd.docker.reference.type: attestation-manifest\`) + manifest.json for amd64;"
  echo "\`oci-1.1-handmade\` = OCI layout + manifest.json for the image only, written byte by byte."
  echo
  jq -r '.samples[] | select((.layout | test("docker28|oci-1.1")) or (.file | test("docker28|containerd21|oci11/"))) |
    "- `\(.file)` (\(.size) bytes): \(.producer); `\(.command)`; layout \(.layout)" +
    (if .notes then "; notes \(.notes | tojson)" else "" end) + ". " +
    ([.images[] | "image \(.imageId) (\(.os)/\(.architecture)) tags \(.repoTags | join(","))" +
      (if .manifestDigest then " manifest \(.manifestDigest)" else "" end) +
      (if .indexDigest then " index \(.indexDigest)" else "" end)] | join("; "))' "$OUT/expected.json"
} >"$WORK/README.md"
mv "$WORK/README.md" "$OUT/README.md"
chmod 0644 "$OUT"/docker28*.tar "$OUT"/containerd21-export.tar "$OUT"/oci11/*.tar \
  "$OUT/expected.json" "$OUT/README.md"
log "done:"
ls -l "$OUT"/docker28*.tar "$OUT"/containerd21-export.tar "$OUT"/oci11/*.tar >&2
