import { type ArchiveModel, type ImageModel, type LayoutName, targetDigest } from '../archive/model.js';
import { platformString } from '../archive/graph.js';
import { portNotes } from '../archive/warnings.js';
import { chainIds, type Digest } from '../digest.js';
import type { Compression } from '../io/source.js';
import { type Json, JsonNumber, type JsonObject, isJsonObject } from '../json/lossless.js';
import type { EntryHasher } from '../verify/hash.js';
import { walkOciGraph } from './graph.js';
import { classicImage, engineIds } from './engine-ids.js';

/**
 * The `copyedit inspect --json` shape (docs/INSPECT.md). Digests are `sha256:<hex>` strings; a value
 * the archive does not hold is `null`, never absent, so scripts can rely on every key.
 */
export interface InspectReport {
  /** Bumped when a key changes meaning or disappears; new keys may appear without a bump. */
  readonly schemaVersion: 1;
  readonly archive: string;
  /** Outer compression of the archive file (`docker save | gzip`). */
  readonly compression: Compression;
  readonly layout: LayoutName;
  readonly images: readonly InspectImage[];
  /**
   * What the names point at: one entry per image as an engine sees it (an index with its platforms,
   * or a single manifest / config). `images` above lists each platform's config.
   */
  readonly targets: readonly InspectTarget[];
  /** index.json entries that are not images: OCI artifacts and referrers. */
  readonly artifacts: readonly InspectArtifact[];
  /** Manifests that an index names but the archive does not hold (platforms left out of an export). */
  readonly absentManifests: readonly { readonly digest: string; readonly platform: { os?: string; architecture?: string; variant?: string } | null; readonly index: string | null }[];
  /** Observations made while reading (see ArchiveModel.notes). */
  readonly notes: readonly string[];
}

export interface InspectTarget {
  readonly names: readonly string[];
  /** The digest the names point at: the index or manifest (the config in layouts without index.json). */
  readonly digest: string;
  readonly kind: 'index' | 'manifest' | 'config';
  readonly mediaType: string | null;
  /** Each platform the archive holds: its manifest and the image ID (config digest) of `images`. */
  readonly platforms: readonly { readonly platform: string | null; readonly manifest: string | null; readonly id: string }[];
  /** Platforms the index names whose blobs the archive lacks. */
  readonly absentPlatforms: readonly { readonly platform: string | null; readonly manifest: string }[];
  /** BuildKit attestation manifests under the index. */
  readonly attestations: readonly string[];
  /**
   * The image ID each engine shows for it (src/inspect/engine-ids.ts): `classic` on Docker's classic
   * store and podman (a config digest), `containerd` on Docker's containerd store, containerd and
   * nerdctl (the index or manifest digest; for a layout without index.json, the manifest
   * containerd's importer writes). null where the archive cannot tell.
   */
  readonly ids: { readonly classic: string | null; readonly containerd: string | null };
}

export interface InspectArtifact {
  readonly digest: string;
  readonly mediaType: string | null;
  readonly artifactType: string | null;
  /** The manifest it refers to (OCI 1.1 `subject`), if any. */
  readonly subject: string | null;
  readonly present: boolean;
}

export interface InspectImage {
  /** Image ID = config digest = sha256 of the config bytes; `docker images` shows `shortId` on Docker's classic store and podman. */
  readonly id: string;
  readonly shortId: string;
  /** The ID Docker's containerd store (containerd, nerdctl) shows for the image whose `docker load` gives this config; null when none or unknown. */
  readonly containerdId: string | null;
  readonly tags: readonly string[];
  /** The tar entry holding the config, and its size. */
  readonly configEntry: string;
  readonly configSize: number;
  readonly created: string | null;
  readonly architecture: string | null;
  readonly os: string | null;
  readonly variant: string | null;
  readonly config: RuntimeSummary;
  /** Digest of the (first) manifest naming this config; null in layouts without manifests (Docker <= 24, podman). */
  readonly manifestDigest: string | null;
  /** Outermost index (manifest list) above that manifest, when there is one. */
  readonly indexDigest: string | null;
  readonly manifests: readonly { readonly digest: string; readonly mediaType: string | null; readonly size: number | null; readonly platform: string | null; readonly indexes: readonly string[] }[];
  readonly layers: readonly InspectLayer[];
  readonly attestations: readonly { readonly digest: string; readonly present: boolean; readonly refersTo: string | null; readonly predicateTypes: readonly string[]; readonly index: string | null }[];
}

export interface InspectLayer {
  /** Tar entry with the bytes, or null when absent. */
  readonly entry: string | null;
  /** Bytes as stored (compressed size for compressed layers). */
  readonly size: number | null;
  /** From the manifest; null when the layout has no manifest. */
  readonly mediaType: string | null;
  /** Sniffed from the stored bytes; null when the blob is absent. */
  readonly compression: Compression | null;
  /** sha256 of the bytes as stored: what a registry calls the layer digest. */
  readonly blobDigest: string | null;
  /** sha256 of the uncompressed tar, from the config's rootfs.diff_ids. */
  readonly diffId: string | null;
  /** ChainID of the stack up to and including this layer (image-spec). */
  readonly chainId: string | null;
}

/** The runtime config (`config` in the image config) in brief; absent fields are null or empty. */
export interface RuntimeSummary {
  readonly entrypoint: readonly string[] | null;
  readonly cmd: readonly string[] | null;
  readonly env: readonly string[];
  readonly volumes: readonly string[];
  readonly exposedPorts: readonly string[];
  readonly user: string;
  readonly workingDir: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly stopSignal: string | null;
  readonly healthcheck: {
    readonly test: readonly string[];
    readonly interval: number | null;
    readonly timeout: number | null;
    readonly startPeriod: number | null;
    readonly retries: number | null;
  } | null;
}

/** Describe every image of a read archive. `hashes` supplies blob digests where no manifest does. */
export function describeArchive(model: ArchiveModel, hashes: EntryHasher | undefined, archive: string, compression: Compression): InspectReport {
  const graph = walkOciGraph(model);
  const ids = model.targets.map((t) => ({ t, ids: engineIds(model, t), classic: classicImage(model, t) }));
  const images = model.images.map((img): InspectImage => {
    const manifests = graph.manifestsByConfig.get(img.id.toString()) ?? [];
    const first = manifests[0];
    const mDigests = new Set(manifests.map((m) => m.digest.toString()));
    return {
      id: img.id.toString(),
      shortId: img.id.short,
      containerdId: ids.find((x) => x.classic === img)?.ids.containerd?.toString() ?? null,
      tags: [...img.tags],
      configEntry: img.configEntry.name,
      configSize: img.configBytes.length,
      created: str(img.config.created),
      architecture: str(img.config.architecture),
      os: str(img.config.os),
      variant: str(img.config.variant),
      config: runtimeSummary(img.config.config),
      manifestDigest: first ? first.digest.toString() : null,
      indexDigest: first?.indexes[0]?.toString() ?? null,
      manifests: manifests.map((m) => ({ digest: m.digest.toString(), mediaType: m.mediaType, size: m.size, platform: m.platform, indexes: m.indexes.map(String) })),
      layers: layersOf(img, hashes),
      attestations: graph.attestations
        .filter((a) => a.refersTo !== null && mDigests.has(a.refersTo))
        .map((a) => ({ digest: a.digest.toString(), present: a.present, refersTo: a.refersTo, predicateTypes: [...a.predicateTypes], index: a.index?.toString() ?? null })),
    };
  });
  const targets = model.targets.map(
    (t): InspectTarget => ({
      names: [...t.names],
      digest: targetDigest(t).toString(),
      kind: t.node ? (t.node.kind === 'index' ? 'index' : 'manifest') : 'config',
      mediaType: t.node?.mediaType ?? null,
      platforms: t.platforms.map((p) => ({ platform: p.platform ? platformString(p.platform) : null, manifest: p.manifest?.digest.toString() ?? null, id: p.image.id.toString() })),
      absentPlatforms: t.absent.map((d) => ({ platform: d.platform ? platformString(d.platform) : null, manifest: d.digest.toString() })),
      attestations: t.attestations.map((a) => a.digest.toString()),
      ids: ((x) => ({ classic: x.classic?.toString() ?? null, containerd: x.containerd?.toString() ?? null }))(engineIds(model, t)),
    }),
  );
  const artifacts = model.artifacts.map((d): InspectArtifact => {
    const node = model.graph.nodes.get(d.digest.toString());
    return {
      digest: d.digest.toString(),
      mediaType: node?.mediaType ?? d.mediaType ?? null,
      artifactType: node?.artifactType ?? d.artifactType ?? null,
      subject: node?.subject?.digest.toString() ?? null,
      present: node !== undefined,
    };
  });
  return {
    schemaVersion: 1,
    archive,
    compression,
    layout: model.layout,
    images,
    targets,
    artifacts,
    absentManifests: graph.absent.map((a) => ({ digest: a.digest.toString(), platform: a.platform, index: a.index?.toString() ?? null })),
    notes: [...model.notes, ...portNotes(model.images)],
  };
}

function layersOf(img: ImageModel, hashes: EntryHasher | undefined): InspectLayer[] {
  const diffIds = img.layers.map((l) => l.diffId);
  const chains = diffIds.every((d): d is Digest => !!d) ? chainIds(diffIds) : [];
  return img.layers.map((l, i) => {
    const h = l.entry && hashes?.get(l.entry);
    return {
      entry: l.entry?.name ?? null,
      size: l.size ?? h?.size ?? l.entry?.header.size ?? null,
      mediaType: l.mediaType ?? null,
      compression: h ? h.compression : null,
      blobDigest: (l.digest ?? h?.stored)?.toString() ?? null,
      diffId: l.diffId?.toString() ?? null,
      chainId: chains[i]?.toString() ?? null,
    };
  });
}

function runtimeSummary(rc: Json | undefined): RuntimeSummary {
  const c: JsonObject = isJsonObject(rc) ? rc : {};
  const hc = isJsonObject(c.Healthcheck) ? c.Healthcheck : undefined;
  return {
    entrypoint: strings(c.Entrypoint),
    cmd: strings(c.Cmd),
    env: strings(c.Env) ?? [],
    volumes: isJsonObject(c.Volumes) ? Object.keys(c.Volumes) : [],
    exposedPorts: isJsonObject(c.ExposedPorts) ? Object.keys(c.ExposedPorts) : [],
    user: str(c.User) ?? '',
    workingDir: str(c.WorkingDir) ?? '',
    labels: isJsonObject(c.Labels) ? Object.fromEntries(Object.entries(c.Labels).map(([k, v]) => [k, typeof v === 'string' ? v : String(v)])) : {},
    stopSignal: str(c.StopSignal),
    healthcheck: hc ? { test: strings(hc.Test) ?? [], interval: num(hc.Interval), timeout: num(hc.Timeout), startPeriod: num(hc.StartPeriod), retries: num(hc.Retries) } : null,
  };
}

function str(v: Json | undefined): string | null {
  return typeof v === 'string' ? v : null;
}
function strings(v: Json | undefined): string[] | null {
  return Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : String(x))) : null;
}
/** Durations are nanoseconds; shown as JS numbers (exact up to 104 days). */
function num(v: Json | undefined): number | null {
  return v instanceof JsonNumber || typeof v === 'number' ? Number(v) : null;
}
