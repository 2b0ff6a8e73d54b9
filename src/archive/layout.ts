import { Digest } from '../digest.js';
import { ArchiveError } from '../errors.js';
import { type Json, type JsonObject, JsonSyntaxError, isJsonObject, parseJson } from '../json/lossless.js';
import { uniqueReferences } from '../reference.js';
import { type EntryRecord, resolveRelative } from './entry.js';
import { METADATA_MAX_ENTRY } from './scan.js';
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
  if (!e.data) throw notJson(e, what);
  try {
    return parseJson(e.data);
  } catch (err) {
    if (err instanceof JsonSyntaxError) {
      throw new ArchiveError(`${whatPrefix(e, what)}is not valid JSON (${err.message}); the archive is damaged: save or download it again`, e.name, { cause: err });
    }
    throw err;
  }
}

function whatPrefix(e: EntryRecord, what: string): string {
  return what === e.path ? '' : `${what} `;
}

/** For an entry that was streamed through (not kept): say whether it is too big or not JSON at all. */
function notJson(e: EntryRecord, what: string): ArchiveError {
  if (e.header.type !== 'file' && e.header.type !== 'contiguous-file') {
    return new ArchiveError(`${whatPrefix(e, what)}is a ${e.header.type ?? 'special'} entry, not a file; the archive is damaged`, e.name);
  }
  if ((e.header.size ?? 0) > METADATA_MAX_ENTRY) {
    return new ArchiveError(`${whatPrefix(e, what)}is ${e.header.size} bytes, more than the ${METADATA_MAX_ENTRY >> 20} MiB copyedit reads into memory; it is not a real image config`, e.name);
  }
  return new ArchiveError(`${whatPrefix(e, what)}is not JSON (it does not start with { or [); the archive is damaged: save or download it again`, e.name);
}

/** Make sense of an archive's metadata once every entry has been seen. */
export function buildModel(entries: readonly EntryRecord[], label: string): ArchiveModel {
  try {
    return readModel(entries, label);
  } catch (e) {
    // name the archive too: "in.tar: manifest.json: ..." (the entry alone is ambiguous in a batch)
    if (e instanceof ArchiveError && !e.message.startsWith(`${label}: `)) e.message = `${label}: ${e.message}`;
    throw e;
  }
}

function readModel(all: readonly EntryRecord[], label: string): ArchiveModel {
  const notes: string[] = entryWarnings(all);
  const entries = withoutShadowedMetadata(all);
  const byPath = new Map<string, EntryRecord>();
  const blobs = new Map<string, EntryRecord>();
  for (const e of entries) {
    if (e.header.type === 'directory') continue;
    byPath.set(e.path, e);
    const m = BLOB_PATH.exec(e.path);
    if (m) blobs.set(`${m[1]}:${m[2]}`, e);
  }

  /**
   * Follow symlinks (and hardlinks) to the entry holding the bytes. docker load extracts to disk, so
   * chains resolve as the OS would; a link out of the archive or in a loop is refused.
   */
  const resolveEntry = (path: string, user: string): EntryRecord | undefined => {
    let e = byPath.get(path);
    const seen = new Set<string>();
    while (e && (e.header.type === 'symlink' || e.header.type === 'link')) {
      if (seen.has(e.path) || seen.size >= 40) {
        throw new ArchiveError(`${user} leads into a loop of symbolic links (${[...seen, e.path].join(' -> ')}); the archive is damaged or malicious`, e.name);
      }
      seen.add(e.path);
      const link = e.header.linkname ?? '';
      const target = e.header.type === 'symlink' ? resolveRelative(e.path, link) : resolveRelative('', link);
      if (target === undefined) {
        throw new ArchiveError(`${user} is a link to ${JSON.stringify(link)}, outside the archive; refusing a damaged or malicious archive`, e.name);
      }
      e = byPath.get(target);
    }
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
        checkBlobDigest(blob, d);
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
    if (!bytes) throw notJson(entry, what);
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
    const entry = resolveEntry(normalize(item.config), 'the config named by manifest.json');
    if (!entry) {
      throw new ArchiveError(`names config ${JSON.stringify(item.config)}, which is not in the archive; the archive is incomplete`, 'manifest.json');
    }
    const d = draftFor(entry, 'image config');
    itemDrafts.push(d);
    d.tags.push(...item.repoTags);
    if (!d.layers) {
      const diffIds = diffIdsOf(d.config);
      d.layers = item.layers.map((p, i) => {
        const e = resolveEntry(normalize(p), 'a layer named by manifest.json');
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
    checkBlobDigest(blob, c.digest);
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
  notes.push(...imageWarnings({ images, manifestJson }));
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

/** podman and skopeo refuse bigger manifest.json and config entries (containers/image limits). */
export const PODMAN_MAX_MANIFEST_JSON = 1 << 20;
export const PODMAN_MAX_CONFIG = 4 << 20;

/** What loaders disagree on or refuse in the entries themselves: duplicates, links. */
function entryWarnings(entries: readonly EntryRecord[]): string[] {
  const out: string[] = [];
  const copies = new Map<string, EntryRecord[]>();
  for (const e of entries) {
    if (e.header.type === 'directory') continue;
    const list = copies.get(e.path);
    if (list) list.push(e);
    else copies.set(e.path, [e]);
    if (e.header.type === 'link') {
      out.push(`${e.name} is a hard link to ${e.header.linkname}: containerd ignores hard links and podman/skopeo refuse them; docker load accepts it`);
    } else if (e.header.type === 'symlink' && resolveRelative(e.path, e.header.linkname ?? '') === undefined) {
      out.push(`${e.name} is a symbolic link to ${JSON.stringify(e.header.linkname)}, outside the archive; copyedit copies it unchanged and never follows it`);
    }
  }
  for (const [path, list] of copies) {
    if (list.length < 2) continue;
    const first = list[0]!;
    const last = list[list.length - 1]!;
    const differ =
      first.header.type !== last.header.type || first.header.size !== last.header.size || first.header.linkname !== last.header.linkname
        ? 'the copies differ'
        : first.data && last.data
          ? first.data.equals(last.data)
            ? undefined
            : 'the copies differ'
          : 'the copies were not compared';
    if (differ) {
      const ours = list.every((e) => e.data) ? 'copyedit keeps only the last copy' : 'copyedit passes every copy through';
      out.push(`${path} appears ${list.length} times in the archive and ${differ}: docker load uses the LAST copy, podman and skopeo the FIRST (${ours}); save the image again to get one copy`);
    }
  }
  return out;
}

/**
 * A repeated name: the last copy is the one docker load sees (it extracts to disk), so it is the one
 * read and rewritten. Earlier copies of metadata are left out of the output, or a stale manifest
 * could shadow the edited one for podman (first copy wins). Streamed copies have already been written.
 */
function withoutShadowedMetadata(entries: readonly EntryRecord[]): readonly EntryRecord[] {
  const last = new Map<string, number>();
  for (const e of entries) if (e.header.type !== 'directory') last.set(e.path, e.index);
  const kept = entries.filter((e) => !e.data || e.header.type === 'directory' || last.get(e.path) === e.index);
  return kept.length === entries.length ? entries : kept;
}

/** What docker load or podman would refuse in a readable image: untagged RepoTags, port ranges, sizes. */
function imageWarnings(model: Pick<ArchiveModel, 'images' | 'manifestJson'>): string[] {
  const out: string[] = [];
  const mj = model.manifestJson;
  if (mj && mj.entry.data && mj.entry.data.length > PODMAN_MAX_MANIFEST_JSON) {
    out.push(`manifest.json is ${mj.entry.data.length} bytes: podman and skopeo refuse one over 1 MiB (docker load accepts it)`);
  }
  mj?.items.forEach((item, i) => {
    for (const t of item.repoTags) {
      const slash = t.lastIndexOf('/');
      if (t.includes('@') || t.lastIndexOf(':') <= slash) {
        out.push(`manifest.json[${i}] RepoTag ${JSON.stringify(t)} has no :tag, and docker load refuses the archive for it; give a tag with --tag ${t.split('@')[0]}:latest`);
      }
    }
  });
  for (const img of model.images) {
    const name = img.tags[0] ?? img.id.short;
    if (img.configBytes.length > PODMAN_MAX_CONFIG) {
      out.push(`image ${name}: its config ${img.configEntry.name} is ${img.configBytes.length} bytes: podman and skopeo refuse one over 4 MiB (docker load accepts it)`);
    }
    out.push(...exposedPortWarnings(name, img.config));
  }
  return out;
}

/** ExposedPorts keys Docker 29 refuses (`8000-8010/tcp`, `abc/tcp`); one line each, prefixed `image NAME: ExposedPorts`. */
export function exposedPortWarnings(name: string, config: JsonObject): string[] {
  const rc = config.config;
  const ports = isJsonObject(rc) && isJsonObject(rc.ExposedPorts) ? Object.keys(rc.ExposedPorts) : [];
  return ports
    .filter((p) => !/^[0-9]{1,5}(\/(tcp|udp|sctp))?$/i.test(p))
    .map((p) => {
      const why = /^[0-9]+-[0-9]+/.test(p) ? 'is a port range' : 'is not a port number';
      return `image ${name}: ExposedPorts key ${JSON.stringify(p)} ${why}, which Docker 29 refuses to load; remove it with --rm-port '${p.replace(/\/.*$/, '')}*'`;
    });
}

/**
 * A manifest, index or config blob is read and rewritten under a new digest, which would hide any
 * damage from the loader that checks digests (containerd): so check it first. It is in memory and
 * small, so this is cheap (layers are not hashed: `copyedit verify` does that).
 */
function checkBlobDigest(blob: EntryRecord, expected: Digest): void {
  if (!blob.data || !expected.toString().startsWith('sha256:')) return;
  const actual = Digest.of(blob.data);
  if (!actual.equals(expected)) {
    throw new ArchiveError(`content does not match its digest (its sha256 is ${actual.toString().slice(7)}): the blob is damaged; save or download the archive again`, blob.name);
  }
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
