import { Digest } from '../digest.js';
import { ArchiveError } from '../errors.js';
import { type Json, JsonBudgetError, type JsonObject, JsonSyntaxError, field, isJsonObject, parseJson, withJsonBudget } from '../json/lossless.js';
import { normalizeReference, uniqueReferences } from '../reference.js';
import { IMAGE_CONFIG, MANIFEST_JSON, MANIFEST_OR_INDEX, checkGoAmbiguity } from '../json/schemas.js';
import { type EntryRecord, resolveRelative } from './tar/entry.js';
import { METADATA_MAX_ENTRY } from './scan.js';
import { type ArchiveGraph, type Descriptor, type GraphNode, type ManifestNode, type Platform, buildGraph, imageManifestsUnder, isAttestation, platformString } from './graph.js';
import type { ArchiveModel, ImageModel, ImageTarget, LayerInfo, LayoutName, ManifestJsonItem } from './model.js';
import { entryWarnings, imageWarnings } from './warnings.js';

// src/pipeline.ts imports it from here (its old home)
export { portNotes } from './warnings.js';

const BLOB_PATH = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/;

/** Parse an entry's JSON, turning syntax errors into an ArchiveError that names the entry. */
export function entryJson(e: EntryRecord, what: string): Json {
  if (!e.data) throw notJson(e, what);
  try {
    return parseJson(e.data);
  } catch (err) {
    if (err instanceof JsonBudgetError) throw new ArchiveError(`${whatPrefix(e, what)}${err.message}`, e.name, { cause: err });
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
  // one budget of parsed JSON values for all the metadata: many large documents cannot add up
  return withJsonBudget(() => buildModelWithin(entries, label));
}

function buildModelWithin(entries: readonly EntryRecord[], label: string): ArchiveModel {
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
  const { byPath, blobs } = indexEntries(entries);

  const mjEntry = byPath.get('manifest.json');
  const mj = mjEntry ? readManifestJson(mjEntry) : undefined;
  // containerd reads index.json when oci-layout exists; docker load reads only manifest.json
  const idxEntry = byPath.get('index.json');
  const ociIndex = idxEntry && (byPath.has('oci-layout') || !mjEntry) ? readOciIndex(idxEntry) : undefined;
  if (!mj && !ociIndex) {
    throw new ArchiveError(
      byPath.has('repositories')
        ? 'has only a "repositories" file: this is the pre-2016 Docker v1 save format, which no current engine loads'
        : 'has neither manifest.json nor index.json: it is a tar archive, but not one made by docker save, podman save or ctr export',
      label,
    );
  }
  const graph = ociIndex ? buildGraph(ociIndex, blobs) : EMPTY_GRAPH;
  notes.push(...absentNotes(graph));

  const configs = new ConfigReader(blobs);
  const { targets, artifacts } = ociIndex ? targetsFromIndex(graph, configs, notes) : { targets: [] as TargetDraft[], artifacts: [] as Descriptor[] };
  const itemImages = mj ? readManifestJsonImages(mj.items, byPath, configs, targets) : [];
  const imageOf = imageModels(configs, targets);
  const images = [...imageOf.values()];
  if (images.length === 0) throw new ArchiveError('names no image whose config is in the archive; nothing to edit', label);
  const manifestJson = mj && { ...mj, itemImages: itemImages.map((d) => imageOf.get(d)!) };
  notes.push(...imageWarnings({ images, ...(manifestJson ? { manifestJson } : {}) }));
  return {
    layout: detectLayout(byPath, mj?.items, ociIndex !== undefined),
    entries,
    byPath,
    ...(manifestJson ? { manifestJson } : {}),
    ...(ociIndex ? { ociIndex } : {}),
    graph,
    blobs,
    images,
    targets: finalTargets(targets, imageOf),
    artifacts,
    notes,
  };
}

/** index.json, checked to be an image index. */
function readOciIndex(idxEntry: EntryRecord): NonNullable<ArchiveModel['ociIndex']> {
  const doc = entryJson(idxEntry, 'index.json');
  checkGoAmbiguity(doc, MANIFEST_OR_INDEX, 'index.json', 'index.json');
  if (!isJsonObject(doc) || !Array.isArray(field(doc, 'manifests'))) {
    throw new ArchiveError('is not an OCI image index (no "manifests" array); the archive is damaged', 'index.json');
  }
  return { entry: idxEntry, doc };
}

/** A note for each manifest the graph names but the archive does not hold (attestations aside: BuildKit leaves those out). */
function absentNotes(graph: ArchiveGraph): string[] {
  const notes: string[] = [];
  for (const a of graph.absent) {
    if (isAttestation(a.desc)) continue;
    const plat = a.desc.platform ? ` (${platformString(a.desc.platform)})` : '';
    const where = a.parent ? (graph.nodes.get(a.parent.toString())?.entry.name ?? a.parent.toString()) : 'index.json';
    notes.push(`${where} names ${a.desc.digest}${plat}, which is not in the archive; left as is`);
  }
  return notes;
}

/** The config of each manifest.json item, its layers as that item lists them, attached to the index.json targets it belongs to. */
function readManifestJsonImages(items: readonly ManifestJsonItem[], byPath: ReadonlyMap<string, EntryRecord>, configs: ConfigReader, targets: TargetDraft[]): ConfigDraft[] {
  const resolve = (path: string, user: string) => resolveEntry(byPath, path, user);
  const holders = new Map<ConfigDraft, TargetDraft[]>();
  for (const t of targets) for (const p of t.platforms) (holders.get(p.draft) ?? holders.set(p.draft, []).get(p.draft)!).push(t);
  return items.map((item, i) => {
    const entry = resolve(normalize(item.config), 'the config named by manifest.json');
    if (!entry) throw new ArchiveError(`names config ${JSON.stringify(item.config)}, which is not in the archive; the archive is incomplete`, 'manifest.json');
    const draft = configs.read(entry);
    if (!draft.layers) {
      const diffIds = diffIdsOf(draft.config);
      draft.layers = item.layers.map((p, j) => {
        const e = resolve(normalize(p), 'a layer named by manifest.json');
        if (!e) throw new ArchiveError(`names layer ${JSON.stringify(p)}, which is not in the archive; the archive is incomplete`, 'manifest.json');
        const diffId = diffIds[j];
        return { entry: e, ...(diffId ? { diffId } : {}) };
      });
    }
    attachItem(targets, holders, draft, item, i);
    return draft;
  });
}

/** One ImageModel per config read, named by the targets that reach it. */
function imageModels(configs: ConfigReader, targets: readonly TargetDraft[]): Map<ConfigDraft, ImageModel> {
  const imageOf = new Map<ConfigDraft, ImageModel>();
  const namesOf = new Map<ConfigDraft, string[]>();
  for (const t of targets) for (const p of t.platforms) (namesOf.get(p.draft) ?? namesOf.set(p.draft, []).get(p.draft)!).push(...t.names);
  for (const d of configs.all()) {
    const names = namesOf.get(d) ?? [];
    imageOf.set(d, {
      id: d.id,
      configEntry: d.entry,
      configBytes: d.bytes,
      config: d.config,
      tags: uniqueReferences(names),
      layers: d.layers ?? [],
      platform: d.platform ?? configPlatform(d.config),
    });
  }
  return imageOf;
}

/** The targets that reach an image (or name one absent), with their images. */
function finalTargets(targets: readonly TargetDraft[], imageOf: ReadonlyMap<ConfigDraft, ImageModel>): ImageTarget[] {
  return targets
    .filter((t) => t.platforms.length > 0 || t.absent.length > 0)
    .map((t) => ({
      names: uniqueReferences(t.names),
      descriptors: t.descriptors,
      node: t.node,
      platforms: t.platforms.map((p) => ({ image: imageOf.get(p.draft)!, manifest: p.manifest, platform: p.platform ?? imageOf.get(p.draft)!.platform, indexes: p.indexes })),
      absent: t.absent,
      attestations: t.attestations,
      manifestJsonItems: t.items,
    }));
}

const EMPTY_GRAPH: ArchiveGraph = { roots: [], nodes: new Map(), parents: new Map(), absent: [] };

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function indexEntries(entries: readonly EntryRecord[]): { byPath: Map<string, EntryRecord>; blobs: Map<string, EntryRecord> } {
  const byPath = new Map<string, EntryRecord>();
  const blobs = new Map<string, EntryRecord>();
  for (const e of entries) {
    if (e.header.type === 'directory') continue;
    // a name that is not UTF-8 (its bytes escaped as lone surrogates, src/archive/tar/header.ts):
    // no JSON of the archive can name it, so it names nothing here either (Docker ignores it too)
    if (LONE_SURROGATE.test(e.path)) continue;
    byPath.set(e.path, e);
    const m = BLOB_PATH.exec(e.path);
    if (m) blobs.set(`${m[1]}:${m[2]}`, e);
  }
  return { byPath, blobs };
}

/**
 * Follow symlinks (and hardlinks) to the entry holding the bytes. docker load extracts to disk, so
 * chains resolve as the OS would; a link out of the archive or in a loop is refused.
 */
function resolveEntry(byPath: ReadonlyMap<string, EntryRecord>, path: string, user: string): EntryRecord | undefined {
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
}

function readManifestJson(entry: EntryRecord): { entry: EntryRecord; doc: Json[]; items: ManifestJsonItem[] } {
  const doc = entryJson(entry, 'manifest.json');
  checkGoAmbiguity(doc, MANIFEST_JSON, 'manifest.json', 'manifest.json');
  if (!Array.isArray(doc)) throw new ArchiveError('must hold a JSON array of images; the archive is damaged', 'manifest.json');
  return { entry, doc, items: doc.map((raw, i) => parseManifestJsonItem(raw, i)) };
}

/** An image config while the model is being built. */
interface ConfigDraft {
  id: Digest;
  entry: EntryRecord;
  bytes: Buffer;
  config: JsonObject;
  layers?: LayerInfo[];
  platform?: Platform;
}

/** Reads each config once, keyed by its digest. */
class ConfigReader {
  private readonly drafts = new Map<string, ConfigDraft>();
  constructor(private readonly blobs: ReadonlyMap<string, EntryRecord>) {}

  read(entry: EntryRecord, algorithm: 'sha256' | 'sha512' = 'sha256'): ConfigDraft {
    const bytes = entry.data;
    if (!bytes) throw notJson(entry, 'image config');
    const id = Digest.of(bytes, algorithm);
    let d = this.drafts.get(id.toString());
    if (!d) {
      const config = entryJson(entry, 'image config');
      checkGoAmbiguity(config, IMAGE_CONFIG, entry.name, 'the image config');
      if (!isJsonObject(config)) throw new ArchiveError('image config is not a JSON object', entry.name);
      d = { id, entry, bytes, config };
      this.drafts.set(id.toString(), d);
    }
    return d;
  }

  /** The config a manifest names, checked against its digest; undefined when absent. */
  forManifest(m: ManifestNode, notes: string[]): ConfigDraft | undefined {
    const cd = m.config!;
    const blob = this.blobs.get(cd.digest.toString());
    if (!blob) {
      notes.push(`${m.entry.name} names config ${cd.digest}, which is not in the archive; that image is left as is`);
      return undefined;
    }
    checkBlobDigest(blob, cd.digest);
    const d = this.read(blob, cd.digest.algorithm);
    if (!d.layers) {
      const diffIds = diffIdsOf(d.config);
      d.layers = m.layers.map((l, i) => {
        const entry = this.blobs.get(l.digest.toString());
        const diffId = diffIds[i];
        return {
          digest: l.digest,
          ...(entry ? { entry } : {}),
          ...(diffId ? { diffId } : {}),
          ...(l.mediaType !== undefined ? { mediaType: l.mediaType } : {}),
          ...(l.size !== undefined ? { size: l.size } : {}),
        };
      });
    }
    return d;
  }

  all(): ConfigDraft[] {
    return [...this.drafts.values()];
  }
}

interface TargetDraft {
  names: string[];
  descriptors: Descriptor[];
  node: GraphNode | undefined;
  platforms: { draft: ConfigDraft; manifest: ManifestNode | undefined; platform: Platform | undefined; indexes: readonly Digest[] }[];
  absent: Descriptor[];
  attestations: ManifestNode[];
  items: number[];
}

/** One target per distinct digest that index.json names (its descriptors' names together). */
function targetsFromIndex(graph: ArchiveGraph, configs: ConfigReader, notes: string[]): { targets: TargetDraft[]; artifacts: Descriptor[] } {
  const byDigest = new Map<string, TargetDraft>();
  const artifacts: Descriptor[] = [];
  for (const desc of graph.roots) {
    const key = desc.digest.toString();
    const seen = byDigest.get(key);
    if (seen) {
      seen.descriptors.push(desc);
      seen.names.push(...descriptorNames(desc));
      continue;
    }
    const node = graph.nodes.get(key);
    if (node?.kind === 'manifest' && node.role !== 'image') {
      artifacts.push(desc);
      continue;
    }
    const under = imageManifestsUnder(graph, desc);
    if (node && under.manifests.length === 0 && under.absent.length === 0) {
      artifacts.push(desc); // an index of artifacts (referrers), not an image
      continue;
    }
    const platforms = under.manifests.flatMap((pm) => {
      const draft = configs.forManifest(pm.manifest, notes);
      if (!draft) return [];
      if (!draft.platform && pm.platform) draft.platform = pm.platform;
      return [{ draft, manifest: pm.manifest, platform: pm.platform, indexes: pm.indexes }];
    });
    byDigest.set(key, { names: descriptorNames(desc), descriptors: [desc], node, platforms, absent: node ? under.absent : [], attestations: under.attestations, items: [] });
  }
  return { targets: [...byDigest.values()], artifacts };
}

const CONTAINERD_NAME = 'io.containerd.image.name';
const OCI_REF_NAME = 'org.opencontainers.image.ref.name';

/** The image name an index.json descriptor gives (containerd's full name, or a full OCI ref.name). */
export function descriptorNames(desc: Descriptor): string[] {
  const a = desc.annotations;
  if (a[CONTAINERD_NAME]) return [a[CONTAINERD_NAME]];
  const ref = a[OCI_REF_NAME];
  return ref && /[:/]/.test(ref) ? [ref] : [];
}

/** A manifest.json item belongs to the index.json target holding its config (one sharing a name first). */
function attachItem(targets: TargetDraft[], holders: Map<ConfigDraft, TargetDraft[]>, draft: ConfigDraft, item: ManifestJsonItem, i: number): void {
  const holding = holders.get(draft) ?? [];
  const wanted = new Set(item.repoTags.map(normalizeReference));
  const t =
    holding.find((h) => h.names.some((n) => wanted.has(normalizeReference(n)))) ??
    holding.find((h) => h.descriptors.length === 0) ??
    (holding.length > 0 && item.repoTags.length === 0 ? holding[0] : undefined);
  if (t) {
    t.items.push(i);
    t.names.unshift(...item.repoTags); // manifest.json spells names as Docker shows them
    return;
  }
  const t2: TargetDraft = {
    names: [...item.repoTags],
    descriptors: [],
    node: undefined,
    platforms: [{ draft, manifest: undefined, platform: undefined, indexes: [] }],
    absent: [],
    attestations: [],
    items: [i],
  };
  targets.push(t2);
  holders.set(draft, [...holding, t2]);
}

function diffIdsOf(config: JsonObject): (Digest | undefined)[] {
  const rootfs = field(config, 'rootfs');
  const ids = isJsonObject(rootfs) ? field(rootfs, 'diff_ids') : undefined;
  return (Array.isArray(ids) ? ids : []).map((x) => Digest.tryParse(x));
}

function configPlatform(config: JsonObject): Platform | undefined {
  const os = field(config, 'os');
  const arch = field(config, 'architecture');
  const variant = field(config, 'variant');
  if (typeof os !== 'string' || typeof arch !== 'string') return undefined;
  return { os, architecture: arch, ...(typeof variant === 'string' && variant ? { variant } : {}) };
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

/**
 * A manifest, index or config blob is read and rewritten under a new digest, which would hide any
 * damage from the loader that checks digests (containerd): so check it first. It is in memory and
 * small, so this is cheap (layers are not hashed: `copyedit verify` does that).
 */
function checkBlobDigest(blob: EntryRecord, expected: Digest): void {
  if (!blob.data) return;
  const actual = Digest.of(blob.data, expected.algorithm);
  if (!actual.equals(expected)) {
    throw new ArchiveError(`content does not match its digest (its ${actual.algorithm} is ${actual.hex}): the blob is damaged; save or download the archive again`, blob.name);
  }
}

function normalize(p: string): string {
  return p.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

function parseManifestJsonItem(raw: Json, i: number): ManifestJsonItem {
  const where = `manifest.json[${i}]`;
  if (!isJsonObject(raw)) throw new ArchiveError('is not an object', where);
  const config = field(raw, 'Config');
  if (typeof config !== 'string') throw new ArchiveError('has no "Config" string', where);
  const tags = field(raw, 'RepoTags') ?? [];
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) throw new ArchiveError('"RepoTags" is not a list of strings', where);
  const layers = field(raw, 'Layers') ?? [];
  if (!Array.isArray(layers) || !layers.every((t) => typeof t === 'string')) throw new ArchiveError('"Layers" is not a list of strings', where);
  return { config, repoTags: tags as string[], layers: layers as string[], raw };
}

function detectLayout(byPath: ReadonlyMap<string, EntryRecord>, items: readonly ManifestJsonItem[] | undefined, hasIndex: boolean): LayoutName {
  if (hasIndex) {
    if (!items) return 'oci';
    return items.some((it) => field(it.raw, 'LayerSources') !== undefined) || byPath.has('repositories') ? 'docker-oci' : 'containerd';
  }
  const first = items?.[0];
  if (first?.config.startsWith('sha256:')) return 'crane';
  if (first?.layers.some((l) => /(^|\/)layer\.tar$/.test(l))) return 'docker-legacy';
  if (first?.layers.some((l) => /\.tar\.gz$/.test(l))) return 'crane';
  return 'docker-archive';
}
