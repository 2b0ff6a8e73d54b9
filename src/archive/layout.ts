import { Digest } from '../digest.js';
import { ArchiveError } from '../errors.js';
import { type Json, type JsonObject, JsonSyntaxError, isJsonObject, parseJson } from '../json/lossless.js';
import { uniqueReferences } from '../reference.js';
import { type EntryRecord, resolveRelative } from './entry.js';
import {
  type ArchiveModel,
  type ImageModel,
  type LayerInfo,
  type LayoutName,
  type ManifestJsonItem,
  type OciNode,
  isIndexMediaType,
  isManifestMediaType,
} from './model.js';

const BLOB_PATH = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/;

/** Parse an entry's JSON, turning syntax errors into an ArchiveError that names the entry. */
export function entryJson(e: EntryRecord, what: string): Json {
  if (!e.data) {
    throw new ArchiveError(`${what} is not JSON or is larger than copyedit reads into memory (16 MiB)`, e.name);
  }
  try {
    return parseJson(e.data);
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw new ArchiveError(`${what} is not valid JSON: ${err.message}`, e.name, { cause: err });
    throw err;
  }
}

/** Make sense of an archive's metadata once every entry has been seen. */
export function buildModel(entries: readonly EntryRecord[], label: string): ArchiveModel {
  const byPath = new Map<string, EntryRecord>();
  const blobs = new Map<string, EntryRecord>();
  for (const e of entries) {
    if (e.header.type === 'directory') continue;
    byPath.set(e.path, e);
    const m = BLOB_PATH.exec(e.path);
    if (m) blobs.set(`${m[1]}:${m[2]}`, e);
  }
  const notes: string[] = [];

  /** Follow one level of symlink (or a hardlink) to the entry holding the bytes. */
  const resolveEntry = (path: string): EntryRecord | undefined => {
    const e = byPath.get(path);
    if (!e) return undefined;
    if (e.header.type === 'symlink') {
      const target = resolveRelative(e.path, e.header.linkname ?? '');
      return target === undefined ? undefined : byPath.get(target);
    }
    if (e.header.type === 'link') return byPath.get(resolveRelative('', e.header.linkname ?? '') ?? '');
    return e;
  };

  // manifest.json
  let mj: { entry: EntryRecord; doc: Json[]; items: ManifestJsonItem[] } | undefined;
  const mjEntry = byPath.get('manifest.json');
  if (mjEntry) {
    const doc = entryJson(mjEntry, 'manifest.json');
    if (!Array.isArray(doc)) throw new ArchiveError('must hold a JSON array of images; the archive is damaged', 'manifest.json');
    const items = doc.map((raw, i) => parseManifestJsonItem(raw, i));
    mj = { entry: mjEntry, doc, items };
  }

  // index.json and the OCI graph below it
  let ociIndex: ArchiveModel['ociIndex'];
  const nodes = new Map<string, OciNode>();
  const configDescs: { digest: Digest; tags: string[]; manifest: OciNode }[] = [];
  const idxEntry = byPath.get('index.json');
  if (idxEntry && (byPath.has('oci-layout') || !mjEntry)) {
    const doc = entryJson(idxEntry, 'index.json');
    if (!isJsonObject(doc) || !Array.isArray(doc.manifests)) {
      throw new ArchiveError('is not an OCI image index (no "manifests" array); the archive is damaged', 'index.json');
    }
    ociIndex = { entry: idxEntry, doc };
    const visit = (desc: Json, tags: string[], where: string, depth: number): void => {
      if (depth > 8) throw new ArchiveError('manifest lists nest more than 8 deep; refusing a looping index', where);
      if (!isJsonObject(desc)) throw new ArchiveError('has a descriptor that is not an object', where);
      const d = Digest.tryParse(desc.digest);
      if (!d) throw new ArchiveError(`has a descriptor with an invalid digest ${JSON.stringify(desc.digest)}`, where);
      const blob = blobs.get(d.toString());
      if (!blob) {
        const plat = isJsonObject(desc.platform) ? ` (${[desc.platform.os, desc.platform.architecture, desc.platform.variant].filter(Boolean).join('/')})` : '';
        notes.push(`${where} names ${d}${plat}, which is not in the archive; left as is`);
        return;
      }
      let node = nodes.get(d.toString());
      if (!node) {
        const body = entryJson(blob, 'manifest or index blob');
        if (!isJsonObject(body)) throw new ArchiveError('is not a JSON object', blob.name);
        const mt = body.mediaType ?? desc.mediaType;
        const kind = isIndexMediaType(mt) || Array.isArray(body.manifests) ? 'index' : isManifestMediaType(mt) || isJsonObject(body.config) ? 'manifest' : undefined;
        if (!kind) {
          notes.push(`${blob.name} (named by ${where}) is neither a manifest nor an index; left as is`);
          return;
        }
        node = { digest: d, entry: blob, kind, doc: body };
        nodes.set(d.toString(), node);
      }
      if (node.kind === 'index') {
        for (const child of node.doc.manifests as Json[]) visit(child, tags, node.entry.name, depth + 1);
      } else if (isJsonObject(desc.annotations) && desc.annotations['vnd.docker.reference.type'] === 'attestation-manifest') {
        // buildx provenance/SBOM: describes an image, is not one; never edited
      } else {
        const cfg = node.doc.config;
        const cd = isJsonObject(cfg) ? Digest.tryParse(cfg.digest) : undefined;
        if (!cd) throw new ArchiveError('has no valid config descriptor', node.entry.name);
        configDescs.push({ digest: cd, tags, manifest: node });
      }
    };
    for (const desc of doc.manifests as Json[]) {
      const tags: string[] = [];
      if (isJsonObject(desc) && isJsonObject(desc.annotations)) {
        const a = desc.annotations;
        if (typeof a['io.containerd.image.name'] === 'string') tags.push(a['io.containerd.image.name']);
        else if (typeof a['org.opencontainers.image.ref.name'] === 'string' && /[:/]/.test(a['org.opencontainers.image.ref.name'])) {
          tags.push(a['org.opencontainers.image.ref.name']);
        }
      }
      visit(desc, tags, 'index.json', 0);
    }
  }

  if (!mj && !ociIndex) {
    throw new ArchiveError(
      byPath.has('repositories')
        ? 'has only a "repositories" file: this is the pre-2016 Docker v1 save format, which no current engine loads'
        : 'has neither manifest.json nor index.json: it is a tar archive, but not one made by docker save, podman save or ctr export',
      label,
    );
  }

  // images, keyed by config digest
  interface Draft {
    id: Digest;
    entry: EntryRecord;
    bytes: Buffer;
    config: JsonObject;
    tags: string[];
    layers?: LayerInfo[];
  }
  const drafts = new Map<string, Draft>();
  const draftFor = (entry: EntryRecord, what: string): Draft => {
    const bytes = entry.data;
    if (!bytes) throw new ArchiveError(`${what} is not JSON or is larger than copyedit reads into memory (16 MiB)`, entry.name);
    const id = Digest.of(bytes);
    let d = drafts.get(id.toString());
    if (!d) {
      const config = entryJson(entry, what);
      if (!isJsonObject(config)) throw new ArchiveError(`${what} is not a JSON object`, entry.name);
      d = { id, entry, bytes, config, tags: [] };
      drafts.set(id.toString(), d);
    }
    return d;
  };
  const diffIdsOf = (config: JsonObject): (Digest | undefined)[] => {
    const rootfs = config.rootfs;
    const ids = isJsonObject(rootfs) && Array.isArray(rootfs.diff_ids) ? rootfs.diff_ids : [];
    return ids.map((x) => Digest.tryParse(x));
  };

  const itemDrafts: Draft[] = [];
  for (const item of mj?.items ?? []) {
    const entry = resolveEntry(normalize(item.config));
    if (!entry) {
      throw new ArchiveError(`names config ${JSON.stringify(item.config)}, which is not in the archive; the archive is incomplete`, 'manifest.json');
    }
    const d = draftFor(entry, 'image config');
    itemDrafts.push(d);
    d.tags.push(...item.repoTags);
    if (!d.layers) {
      const diffIds = diffIdsOf(d.config);
      d.layers = item.layers.map((p, i) => {
        const e = resolveEntry(normalize(p));
        if (!e) throw new ArchiveError(`names layer ${JSON.stringify(p)}, which is not in the archive; the archive is incomplete`, 'manifest.json');
        const diffId = diffIds[i];
        return { entry: e, ...(diffId ? { diffId } : {}) };
      });
    }
  }
  for (const c of configDescs) {
    const blob = blobs.get(c.digest.toString());
    if (!blob) {
      notes.push(`${c.manifest.entry.name} names config ${c.digest}, which is not in the archive; that image is left as is`);
      continue;
    }
    const d = draftFor(blob, 'image config');
    d.tags.push(...c.tags);
    const ls = Array.isArray(c.manifest.doc.layers) ? c.manifest.doc.layers : [];
    const diffIds = diffIdsOf(d.config);
    const fromManifest: LayerInfo[] = ls.map((l, i) => {
      const obj = isJsonObject(l) ? l : {};
      const digest = Digest.tryParse(obj.digest);
      const entry = digest ? blobs.get(digest.toString()) : undefined;
      const diffId = diffIds[i];
      return {
        ...(digest ? { digest } : {}),
        ...(entry ? { entry } : {}),
        ...(diffId ? { diffId } : {}),
        ...(typeof obj.mediaType === 'string' ? { mediaType: obj.mediaType } : {}),
        ...(obj.size !== undefined ? { size: Number(obj.size) } : {}),
      };
    });
    // the OCI manifest knows blob digests and media types: prefer it
    d.layers = fromManifest;
  }

  const imageOf = new Map<Draft, ImageModel>();
  for (const d of drafts.values()) {
    imageOf.set(d, { id: d.id, configEntry: d.entry, configBytes: d.bytes, config: d.config, tags: uniqueReferences(d.tags), layers: d.layers ?? [] });
  }
  const images = [...imageOf.values()];
  const manifestJson = mj && { ...mj, itemImages: itemDrafts.map((d) => imageOf.get(d)!) };
  if (images.length === 0) {
    throw new ArchiveError('names no image whose config is in the archive; nothing to edit', label);
  }
  return {
    layout: detectLayout(byPath, mj?.items, ociIndex !== undefined),
    entries,
    byPath,
    ...(manifestJson ? { manifestJson } : {}),
    ...(ociIndex ? { ociIndex } : {}),
    nodes,
    blobs,
    images,
    notes,
  };
}

function normalize(p: string): string {
  return p.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

function parseManifestJsonItem(raw: Json, i: number): ManifestJsonItem {
  const where = `manifest.json[${i}]`;
  if (!isJsonObject(raw)) throw new ArchiveError('is not an object', where);
  if (typeof raw.Config !== 'string') throw new ArchiveError('has no "Config" string', where);
  const tags = raw.RepoTags ?? [];
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) throw new ArchiveError('"RepoTags" is not a list of strings', where);
  const layers = raw.Layers ?? [];
  if (!Array.isArray(layers) || !layers.every((t) => typeof t === 'string')) throw new ArchiveError('"Layers" is not a list of strings', where);
  return { config: raw.Config, repoTags: tags as string[], layers: layers as string[], raw };
}

function detectLayout(byPath: ReadonlyMap<string, EntryRecord>, items: readonly ManifestJsonItem[] | undefined, hasIndex: boolean): LayoutName {
  if (hasIndex) {
    if (!items) return 'oci';
    return items.some((it) => it.raw.LayerSources !== undefined) || byPath.has('repositories') ? 'docker-oci' : 'containerd';
  }
  const first = items?.[0];
  if (first && first.config.startsWith('sha256:')) return 'crane';
  if (first && first.layers.some((l) => /(^|\/)layer\.tar$/.test(l))) return 'docker-legacy';
  if (first && first.layers.some((l) => /\.tar\.gz$/.test(l))) return 'crane';
  return 'docker-archive';
}
