import type { ArchiveModel, ImageModel, ImageTarget } from '../archive/model.js';
import { Digest } from '../digest.js';

/**
 * The image ID each kind of engine shows (`docker images`, `podman images`, `nerdctl images`,
 * `ctr images ls`) for one image (docs/DIGESTS.md):
 * - `classic`: Docker's classic (graphdriver) image store and podman: the config digest, of the
 *   platform `docker load` takes (the manifest.json item; a single platform's config otherwise).
 * - `containerd`: Docker's containerd image store (the default of new installs since Docker 29),
 *   containerd and nerdctl: the digest of what the name points at, an index or a manifest. A
 *   layout without index.json (Docker <= 24, podman, crane) has none: containerd's importer writes
 *   a Docker manifest for each manifest.json item, whose digest is computed here the same way.
 * null where the archive cannot tell (a layer whose stored digest is unknown, a multi-platform
 * image without manifest.json for the classic store).
 */
export interface EngineIds<T = Digest> {
  readonly classic: T | null;
  readonly containerd: T | null;
}

/** Before and after an edit. */
export interface EngineIdChange<T = Digest> {
  readonly classic: { readonly old: T | null; readonly new: T | null };
  readonly containerd: { readonly old: T | null; readonly new: T | null };
}

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar';
const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

/** The platform's image `docker load` takes into the classic store: the one manifest.json names. */
export function classicImage(model: ArchiveModel, t: ImageTarget): ImageModel | undefined {
  const item = t.manifestJsonItems[0];
  const named = item === undefined ? undefined : model.manifestJson?.itemImages[item];
  if (named) return named;
  return t.platforms.length === 1 ? t.platforms[0]!.image : undefined;
}

/** The IDs of an image as it is in the archive. */
export function engineIds(model: ArchiveModel, t: ImageTarget): EngineIds {
  const classic = classicImage(model, t);
  const containerd = t.node ? t.node.digest : classic ? importedManifestDigest(classic, classic.id, classic.configBytes.length) : undefined;
  return { classic: classic?.id ?? null, containerd: containerd ?? null };
}

/**
 * The digest of the Docker manifest containerd's importer (core/images/archive/importer.go, which
 * Docker's containerd store uses for `docker load`) writes for a manifest.json item: Go's
 * json.Marshal of {schemaVersion, mediaType, config, layers}, with the config as a Docker config
 * descriptor and each layer as a Docker layer, gzip or plain as its bytes are. undefined when a
 * layer's stored digest is not known without hashing it (a compressed layer not named by digest).
 * Exact when the engine's store holds no compressed copy of the same layers: containerd then reuses
 * that copy (its digest) instead.
 */
export function importedManifestDigest(img: ImageModel, config: Digest, configSize: number): Digest | undefined {
  const layers: string[] = [];
  for (const l of img.layers) {
    const e = l.entry;
    if (!e) return undefined;
    const named = /(?:^|\/)(?:sha256:)?([a-f0-9]{64})\.tar\.gz$/.exec(e.path);
    let digest: string | undefined;
    let mediaType: string;
    if (l.digest) {
      digest = l.digest.toString();
      mediaType = /gzip|zstd/.test(l.mediaType ?? '') ? DOCKER_LAYER_GZIP : DOCKER_LAYER;
    } else if (named) {
      digest = `sha256:${named[1]}`;
      mediaType = DOCKER_LAYER_GZIP;
    } else if (/\.(gz|tgz|zst)$/.test(e.path) || !l.diffId) {
      return undefined;
    } else {
      // docker save's `<v1id>/layer.tar` and podman's `<diffid>.tar` are plain tars: digest = DiffID
      digest = l.diffId.toString();
      mediaType = DOCKER_LAYER;
    }
    layers.push(`{"mediaType":${JSON.stringify(mediaType)},"digest":${JSON.stringify(digest)},"size":${l.size ?? e.header.size}}`);
  }
  const cfg = `{"mediaType":"${DOCKER_CONFIG}","digest":${JSON.stringify(config.toString())},"size":${configSize}}`;
  const doc = `{"schemaVersion":2,"mediaType":"${DOCKER_MANIFEST}","config":${cfg},"layers":[${layers.join(',')}]}`;
  return Digest.of(Buffer.from(doc));
}

/**
 * The IDs before and after an edit. `renamed`: old config digest -> new; `newConfigSize`: the
 * size of a new config; `newRoot`: what the name points at afterwards; `outputHasIndex`: whether
 * the output layout has index.json (else containerd's importer makes the manifest, as above).
 */
export function engineIdChange(
  model: ArchiveModel,
  t: ImageTarget,
  o: { renamed: ReadonlyMap<string, Digest>; newConfigSize: (d: Digest) => number | undefined; newRoot: Digest | undefined; outputHasIndex: boolean },
): EngineIdChange {
  const old = engineIds(model, t);
  const classic = classicImage(model, t);
  const newClassic = old.classic ? (o.renamed.get(old.classic.toString()) ?? old.classic) : null;
  let newContainerd: Digest | null = null;
  if (o.outputHasIndex) newContainerd = o.newRoot ?? null;
  else if (classic && newClassic) {
    const size = newClassic.equals(classic.id) ? classic.configBytes.length : o.newConfigSize(newClassic);
    newContainerd = size === undefined ? null : (importedManifestDigest(classic, newClassic, size) ?? null);
  }
  return { classic: { old: old.classic, new: newClassic }, containerd: { old: old.containerd, new: newContainerd } };
}

/**
 * Each image report with its engine IDs (`ids`), computed from the model, the request's targets and
 * the plan's renamed configs and new entries. `output`: whether the output has index.json (`index`),
 * only manifest.json, or is not known yet (a dry run that recompresses layers).
 */
export function withEngineIds<R extends { readonly newDigest: Digest }>(
  reports: readonly R[],
  model: ArchiveModel,
  request: { readonly targets: readonly { readonly target: ImageTarget }[] },
  plan: { readonly renamed: ReadonlyMap<string, Digest>; readonly entries: readonly { readonly header: { readonly name: string }; readonly data: Buffer }[] },
  output: 'index' | 'manifest.json' | 'unknown',
): (R & { ids: EngineIdChange })[] {
  const newConfigSize = (d: Digest) => plan.entries.find((e) => e.header.name.includes(d.hex) && Digest.of(e.data, d.algorithm).equals(d))?.data.length;
  return reports.map((r, i) => {
    const target = request.targets[i]?.target;
    if (!target) return { ...r, ids: { classic: { old: null, new: null }, containerd: { old: null, new: null } } };
    const ids = engineIdChange(model, target, { renamed: plan.renamed, newConfigSize, newRoot: r.newDigest, outputHasIndex: output === 'index' });
    return { ...r, ids: output === 'unknown' ? { ...ids, containerd: { old: ids.containerd.old, new: null } } : ids };
  });
}
