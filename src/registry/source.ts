/**
 * A registry image as the archive model reads it: the manifest a reference names, every manifest
 * and index below it, each image config, and the referrers of each (OCI 1.1 referrers API, else
 * the `sha256-<hex>` tag-schema fallback) become the entries of an OCI image layout (index.json
 * naming the image and its referrers). Layers are entries without bytes: they stay in the registry
 * and are never downloaded for an edit. `buildModel` then makes the ArchiveModel every other part
 * of copyedit works on, so the one fold of src/rewrite edits it.
 */
import { buildModel } from '../archive/layout.js';
import type { ArchiveModel } from '../archive/model.js';
import type { EntryRecord } from '../archive/tar/entry.js';
import { Digest } from '../digest.js';
import { RegistryError } from '../errors.js';
import { type JsonObject, field, isJsonObject, parseJson, printJson } from '../json/lossless.js';
import { isIndexMediaType, MediaType } from '../media-types.js';
import { fileHeader } from '../rewrite/request.js';
import type { RegistryClient } from './client.js';
import { type RegistryRef, manifestRef, refString } from './ref.js';

/** Largest config copyedit reads from a registry (as from an archive). */
const MAX_CONFIG = 16 << 20;
/** Most manifests one image may have (platforms, attestations, referrers). */
const MAX_MANIFESTS = 10_000;

/** A blob of the source known by digest: its size and media type, its bytes when metadata. */
export interface SourceBlob {
  readonly digest: Digest;
  readonly size: number;
  readonly mediaType: string | undefined;
  readonly data?: Buffer;
}

export interface RegistryImage {
  readonly ref: RegistryRef;
  /** The root's digest (manifest or index) and media type. */
  readonly root: SourceBlob;
  readonly model: ArchiveModel;
  /** Every blob the source names, metadata with bytes. */
  readonly blobs: ReadonlyMap<string, SourceBlob>;
  /** Referrer manifests found, by subject digest (for the tag fallback to be rewritten). */
  readonly referrers: ReadonlyMap<string, readonly SourceBlob[]>;
  /** True when the registry answered the referrers API (no fallback tags to write). */
  readonly referrersApi: boolean;
}

export interface ReadOptions {
  /** Look for referrers (default true). */
  readonly referrers?: boolean;
}

/** Read the image `ref` names: its manifests, configs and referrers, never its layers. */
export async function readRegistryImage(client: RegistryClient, ref: RegistryRef, o: ReadOptions = {}): Promise<RegistryImage> {
  const name = ref.repository;
  const label = refString(ref);
  const rootM = await client.getManifest(name, manifestRef(ref));
  const blobs = new Map<string, SourceBlob>();
  const rootDoc = manifestDoc(rootM.bytes, label);
  const rootMt = mediaTypeOf(rootDoc) ?? rootM.mediaType;
  const root: SourceBlob = { digest: rootM.digest, size: rootM.bytes.length, mediaType: rootMt, data: rootM.bytes };
  if (!isIndexMediaType(rootMt) && !isJsonObject(field(rootDoc, 'config'))) {
    throw new RegistryError(`is not an image: its manifest (${rootMt ?? 'no media type'}) has neither a config nor a list of manifests`, label);
  }
  await walk(client, name, root, rootDoc, blobs, label);
  const referrers = new Map<string, SourceBlob[]>();
  let referrersApi = true;
  if (o.referrers !== false) {
    const subjects = [...blobs.values()].filter((b) => b.data && isManifestBlob(b));
    for (const s of subjects) {
      const found = await findReferrers(client, name, s.digest);
      referrersApi &&= found.api;
      for (const r of found.manifests) {
        blobs.set(r.digest.toString(), r);
        const list = referrers.get(s.digest.toString()) ?? [];
        manifestDoc(r.data!, label);
        list.push(r);
        referrers.set(s.digest.toString(), list);
      }
    }
  }
  const refRoots = [...referrers.values()].flat().length;
  if (blobs.size + refRoots > MAX_MANIFESTS * 4) throw new RegistryError(`names more than ${MAX_MANIFESTS} manifests; refusing it`, label);
  const model = buildModel(entriesOf(root, ref, blobs, referrers), label);
  return { ref, root, model, blobs, referrers, referrersApi };
}

function isManifestBlob(b: SourceBlob): boolean {
  return b.mediaType !== undefined && (b.mediaType.includes('manifest') || isIndexMediaType(b.mediaType));
}

function manifestDoc(bytes: Buffer, label: string): JsonObject {
  try {
    const doc = parseJson(bytes);
    if (isJsonObject(doc)) return doc;
  } catch {}
  throw new RegistryError('the registry sent a manifest that is not a JSON object; it is not an image', label);
}

function mediaTypeOf(doc: JsonObject): string | undefined {
  const mt = field(doc, 'mediaType');
  return typeof mt === 'string' ? mt : undefined;
}

/** Fetch every manifest below `node`, and each image manifest's config; layers only by descriptor. */
async function walk(client: RegistryClient, name: string, node: SourceBlob, doc: JsonObject, blobs: Map<string, SourceBlob>, label: string): Promise<void> {
  blobs.set(node.digest.toString(), node);
  const list = field(doc, 'manifests');
  if (Array.isArray(list)) {
    if (list.length > MAX_CHILDREN_OK) throw new RegistryError(`an index lists ${list.length} manifests; refusing it`, label);
    for (const d of list) {
      const desc = descriptor(d);
      if (!desc || blobs.has(desc.digest.toString())) continue;
      const m = await client.getManifest(name, desc.digest.toString()).catch((e: unknown) => {
        if (e instanceof RegistryError && /HTTP 404/.test(e.message)) return undefined; // an absent platform: the model notes it
        throw e;
      });
      if (!m) continue;
      const child = manifestDoc(m.bytes, label);
      await walk(client, name, { digest: m.digest, size: m.bytes.length, mediaType: mediaTypeOf(child) ?? desc.mediaType, data: m.bytes }, child, blobs, label);
    }
    return;
  }
  const cfg = descriptor(field(doc, 'config'));
  if (cfg && !blobs.has(cfg.digest.toString())) {
    const imageConfig = cfg.mediaType === MediaType.ociConfig || cfg.mediaType === MediaType.dockerConfig;
    const data = imageConfig || (cfg.size ?? 0) <= 1 << 16 ? await client.getSmallBlob(name, cfg.digest, MAX_CONFIG) : undefined;
    blobs.set(cfg.digest.toString(), { digest: cfg.digest, size: cfg.size ?? data?.length ?? 0, mediaType: cfg.mediaType, ...(data ? { data } : {}) });
  }
  const layers = field(doc, 'layers') ?? field(doc, 'blobs');
  for (const l of Array.isArray(layers) ? layers : []) {
    const d = descriptor(l);
    if (d && !blobs.has(d.digest.toString())) blobs.set(d.digest.toString(), { digest: d.digest, size: d.size ?? 0, mediaType: d.mediaType });
  }
}

const MAX_CHILDREN_OK = MAX_MANIFESTS;

/** A descriptor's digest, size and media type (undefined when it has no valid digest). */
export function descriptor(v: unknown): { digest: Digest; size: number | undefined; mediaType: string | undefined } | undefined {
  if (!isJsonObject(v as never)) return undefined;
  const o = v as JsonObject;
  const digest = Digest.tryParse(field(o, 'digest'));
  if (!digest) return undefined;
  const size = field(o, 'size');
  const mt = field(o, 'mediaType');
  return { digest, size: size === undefined || size === null ? undefined : Number(size), mediaType: typeof mt === 'string' ? mt : undefined };
}

/** The referrers of `digest`: the OCI 1.1 API, else the `sha256-<hex>` fallback tag's index. */
async function findReferrers(client: RegistryClient, name: string, digest: Digest): Promise<{ api: boolean; manifests: SourceBlob[] }> {
  let index = await client.referrers(name, digest);
  const api = index !== undefined;
  if (!index) {
    const tag = fallbackTag(digest);
    if (!(await client.headManifest(name, tag))) return { api, manifests: [] };
    index = (await client.getManifest(name, tag)).bytes;
  }
  const list = field(manifestDoc(index, `${client.registry}/${name}`), 'manifests');
  const out: SourceBlob[] = [];
  for (const d of Array.isArray(list) ? list : []) {
    const desc = descriptor(d);
    if (!desc) continue;
    const m = await client.getManifest(name, desc.digest.toString());
    out.push({ digest: m.digest, size: m.bytes.length, mediaType: desc.mediaType ?? m.mediaType, data: m.bytes });
  }
  return { api, manifests: out };
}

/** The tag-schema fallback's tag for a subject: `sha256-<hex>`. */
export function fallbackTag(d: Digest): string {
  return `${d.algorithm}-${d.hex}`;
}

/** The OCI layout entries of the image: oci-layout, index.json (the image, then its referrers), blobs. */
function entriesOf(root: SourceBlob, ref: RegistryRef, blobs: ReadonlyMap<string, SourceBlob>, referrers: ReadonlyMap<string, readonly SourceBlob[]>): EntryRecord[] {
  const entries: EntryRecord[] = [];
  const add = (name: string, size: number, data?: Buffer): void => {
    entries.push({ index: entries.length, name, path: name, header: fileHeader(name, size), ...(data ? { data } : {}) });
  };
  add('oci-layout', 30, Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  for (const b of blobs.values()) add(`blobs/${b.digest.algorithm}/${b.digest.hex}`, b.size, b.data);
  const rootDesc: JsonObject = {
    mediaType: root.mediaType ?? MediaType.ociManifest,
    digest: root.digest.toString(),
    size: root.size,
    annotations: { 'io.containerd.image.name': `${ref.registry}/${ref.repository}:${ref.tag ?? 'latest'}` },
  } as unknown as JsonObject;
  const manifests: JsonObject[] = [rootDesc];
  const seen = new Set<string>();
  for (const r of [...referrers.values()].flat()) {
    if (seen.has(r.digest.toString())) continue;
    seen.add(r.digest.toString());
    manifests.push({ mediaType: r.mediaType ?? MediaType.ociManifest, digest: r.digest.toString(), size: r.size } as unknown as JsonObject);
  }
  const index = printJson({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests } as unknown as JsonObject);
  add('index.json', index.length, index);
  return entries;
}
