/**
 * The renderer for an edit that keeps the archive's layout: every metadata entry written back in
 * the input's order, a replaced blob right after the one it replaces, index.json, manifest.json and
 * repositories following the final names. Layers are never touched (their entries stream through
 * with their header bytes).
 */
import { rewriteLegacyBlob } from '../archive/legacy-json.js';
import type { Header } from '../archive/tar/header.js';
import { Digest } from '../digest.js';
import { derivedHeader, type EntryRecord, resolveRelative } from '../archive/entry.js';
import { platformMatches, type Descriptor } from '../archive/graph.js';
import { descriptorNames } from '../archive/layout.js';
import type { ArchiveModel, ImageModel, ImageTarget } from '../archive/model.js';
import { type Json, type JsonObject, cloneJson, field, fieldKey, isJsonObject, jsonObject, parseJson, printJson } from '../json/lossless.js';
import { normalizeReference } from '../reference.js';
import { Fold, SAME } from './fold.js';
import { type NameOwners, assignNames, keptOriginals, rewriteRepositories, tagPart } from './names.js';
import { CONTAINERD_NAME, OCI_REF_NAME } from './policy.js';
import { type OutputEntry, type RewriteRequest, blobName, stripDot } from './request.js';

export interface RewritePlan {
  /** Metadata entries to write, in the input's order, replacements in their predecessors' places. */
  readonly entries: readonly OutputEntry[];
  /** Old config digest -> new config digest, for every config that changed. */
  readonly renamed: ReadonlyMap<string, Digest>;
  /** What each edited image became: its new root digest (index or manifest; the config without index.json). */
  readonly targets: ReadonlyMap<ImageTarget, { readonly digest: Digest; readonly names: readonly string[] }>;
  /** Names of entries left out because nothing references them any more. */
  readonly dropped: readonly string[];
  /** Streamed entries (layers) the output no longer references: a second pass can leave them out. */
  readonly unreferencedStreamed: ReadonlySet<string>;
  /** Things the user should know (e.g. attestations dropped, manifests absent). */
  readonly warnings: readonly string[];
}

/**
 * Work out every metadata entry that must change so the archive stays consistent after `request`:
 * one bottom-up fold over the graph (config -> manifests -> indexes -> index.json), memoised by
 * digest, then manifest.json and repositories from the final names, then what is no longer
 * referenced. Layers are never touched.
 */
export function planRewrite(model: ArchiveModel, request: RewriteRequest): RewritePlan {
  const warnings = new Set<string>();
  const fold = new Fold(model, { request, kept: keptOriginals(model, request) }, warnings);
  const owners = assignNames(model, request);

  const indexDoc = model.ociIndex ? rewriteTopIndex(model, request, fold, owners) : undefined;
  const newIndexJson = indexDoc && printJson(indexDoc);
  const manifestDoc = model.manifestJson ? rewriteManifestJson(model, request, fold, owners) : undefined;
  const newManifestJson = manifestDoc && printJson(manifestDoc);
  const newRepositories = rewriteRepositories(model, owners);

  const targets = new Map<ImageTarget, { digest: Digest; names: string[] }>();
  for (const ch of request.targets) {
    const t = ch.target;
    const root = t.descriptors[0];
    const r = root ? fold.descriptor(root) : undefined;
    const cfg = t.platforms[0]?.image;
    const digest = r?.kind === 'new' && r.blob ? r.blob.digest : (t.node?.digest ?? (cfg ? (fold.config(cfg)?.digest ?? cfg.id) : undefined));
    if (digest) targets.set(t, { digest, names: owners.namesOf(t, 'new') });
  }
  const annotated = fold.annotatedAny;
  if (request.annotate && !annotated && request.annotate.configs.size > 0) warnings.add('this layout has no image manifest, so there is nothing to annotate');

  const reach = reachable(model, fold, indexDoc ?? model.ociIndex?.doc, manifestDoc ?? model.manifestJson?.doc);
  return {
    ...assemble(model, fold, reach, { newIndexJson, newManifestJson, newRepositories }, request.legacyJson),
    renamed: fold.renamedConfigs(),
    targets,
    warnings: [...warnings],
  };
}

/** index.json: each descriptor follows the owner of its name; retagged images get one descriptor per new name. */
function rewriteTopIndex(model: ArchiveModel, request: RewriteRequest, fold: Fold, owners: NameOwners): JsonObject | undefined {
  const index = model.ociIndex!.doc;
  const list = field(index, 'manifests') as Json[];
  const change = new Map(request.targets.map((c) => [c.target, c]));
  const targetOf = new Map<string, ImageTarget>();
  for (const t of model.targets) for (const d of t.descriptors) targetOf.set(d.digest.toString(), t);
  const out: Json[] = [];
  const retagged = new Set<ImageTarget>();
  let changed = false;
  const rootOf = new Map<Json, Descriptor>(model.graph.roots.map((d) => [d.raw, d]));
  for (const raw of list) {
    const desc = rootOf.get(raw);
    const t = desc && targetOf.get(desc.digest.toString());
    if (!desc || !t) {
      // an artifact or referrer named by index.json: follows its subject
      const r = desc ? fold.descriptor(desc) : SAME;
      if (r.kind === 'drop') changed = true;
      else if (r.kind === 'new') {
        out.push(fold.retarget(raw as JsonObject, r));
        changed = true;
      } else out.push(raw);
      continue;
    }
    const ch = change.get(t);
    const names = descriptorNames(desc);
    const r = ch ? fold.descriptor(desc) : SAME;
    const edited = fold.retarget(raw as JsonObject, r);
    if (names.length === 0) {
      // unnamed: the original stays when it is kept, the edited one when the image is edited as a whole
      if (!ch || request.keepOriginal || ch.moving !== 'all') out.push(raw);
      // (`edited` is the original itself when the edit changed nothing: it must not vanish then)
      if (ch && ch.moving === 'all' && !ch.newNames && r.kind !== 'drop') out.push(edited);
    } else {
      const owner = owners.ownerOf(names[0]!);
      if (owner?.target === t && owner.side === 'orig') out.push(raw);
      else if (owner?.target === t && owner.side === 'new' && !ch?.newNames) out.push(edited);
    }
    if (ch?.newNames && !retagged.has(t)) {
      retagged.add(t);
      for (const name of ch.newNames) {
        const d = cloneJson(edited);
        const k = fieldKey(d, 'annotations') ?? 'annotations';
        const a = isJsonObject(d[k]) ? (d[k] as JsonObject) : jsonObject();
        a[CONTAINERD_NAME] = normalizeReference(name);
        a[OCI_REF_NAME] = tagPart(name);
        d[k] = a;
        out.push(d);
      }
    }
  }
  if (!changed && out.length === list.length && out.every((x, i) => x === list[i])) return undefined;
  const doc = cloneJson(index);
  doc[fieldKey(doc, 'manifests') ?? 'manifests'] = out;
  return doc;
}

/** manifest.json: Config paths that named a changed config, RepoTags following the names' owners. */
function rewriteManifestJson(model: ArchiveModel, request: RewriteRequest, fold: Fold, owners: NameOwners): Json[] | undefined {
  const { doc, items, itemImages } = model.manifestJson!;
  const change = new Map(request.targets.map((c) => [c.target, c]));
  const targetOfItem = new Map<number, ImageTarget>();
  for (const t of model.targets) for (const i of t.manifestJsonItems) targetOfItem.set(i, t);
  const out: Json[] = [];
  const retagged = new Set<ImageTarget>();
  doc.forEach((raw, i) => {
    const t = targetOfItem.get(i);
    const item = items[i]!;
    const keptTags = item.repoTags.filter((n) => {
      const o = owners.ownerOf(n);
      return o !== undefined && o.target === t && o.side === 'orig';
    });
    const ch = t && change.get(t);
    if (!ch || !t) {
      out.push(keptTags.length === item.repoTags.length ? raw : withTags(raw as JsonObject, keptTags));
      return;
    }
    const img = itemImages[i]!;
    let newTags = item.repoTags.filter((n) => owners.ownerOf(n)?.target === t && owners.ownerOf(n)?.side === 'new');
    if (ch.newNames && !retagged.has(t)) {
      retagged.add(t);
      newTags = [...ch.newNames];
    } else if (ch.newNames) newTags = [];
    const edited = editedItem(request, fold, t, img, raw as JsonObject, item.config);
    const sameConfig = edited === undefined;
    if (keptTags.length > 0 || request.keepOriginal || (ch.moving !== 'all' && !sameConfig)) out.push(withTags(raw as JsonObject, sameConfig ? [...keptTags, ...newTags] : keptTags));
    if (!sameConfig && (newTags.length > 0 || (ch.moving === 'all' && item.repoTags.length === 0))) out.push(withTags(edited, newTags));
    else if (sameConfig && keptTags.length === 0 && !request.keepOriginal && newTags.length > 0) out.push(withTags(raw as JsonObject, newTags));
  });
  return out.length === doc.length && out.every((x, i) => x === doc[i]) ? undefined : out;
}

/** The manifest.json item of the edited image; undefined when it would name the same config as before. */
function editedItem(request: RewriteRequest, fold: Fold, t: ImageTarget, img: ImageModel, raw: JsonObject, configPath: string): JsonObject | undefined {
  const only = request.onlyPlatforms;
  let source = img;
  if (only && !only.some((w) => platformMatches(img.platform, w))) {
    // the item's platform leaves the archive: describe the first platform that stays
    const p = t.platforms.find((x) => only.some((w) => platformMatches(x.platform, w)));
    if (!p) return undefined;
    source = p.image;
    const nb = fold.config(source);
    const cfgDigest = nb?.digest ?? source.id;
    const copy = jsonObject();
    copy.Config = `blobs/${cfgDigest.algorithm}/${cfgDigest.hex}`;
    copy.RepoTags = [];
    copy.Layers = source.layers.map((l) => (l.digest ? `blobs/${l.digest.algorithm}/${l.digest.hex}` : (l.entry?.name ?? '')));
    return copy;
  }
  const nb = fold.config(source);
  if (!nb) return undefined;
  const copy = cloneJson(raw);
  const name = blobName(source.configEntry.name, source.id, nb.digest);
  copy[fieldKey(copy, 'Config') ?? 'Config'] = configPath.startsWith('./') ? `./${stripDot(name)}` : stripDot(name);
  return copy;
}

function withTags(item: JsonObject, tags: readonly string[]): JsonObject {
  const before = field(item, 'RepoTags');
  if (Array.isArray(before) && before.length === tags.length && before.every((t, i) => t === tags[i])) return item;
  const copy = cloneJson(item);
  copy[fieldKey(copy, 'RepoTags') ?? 'RepoTags'] = [...tags];
  return copy;
}

/** Everything the final index.json and manifest.json reach: blob digests and entry paths. */
function reachable(model: ArchiveModel, fold: Fold, indexDoc: JsonObject | undefined, manifestDoc: readonly Json[] | undefined): { digests: Set<string>; paths: Set<string> } {
  const digests = new Set<string>();
  const paths = new Set<string>();
  const newDocs = new Map<string, JsonObject>();
  for (const nb of fold.replaced.values()) newDocs.set(nb.digest.toString(), nb.doc);
  const docOf = (d: string): JsonObject | undefined => newDocs.get(d) ?? model.graph.nodes.get(d)?.doc;
  const visit = (desc: Json, depth: number): void => {
    if (!isJsonObject(desc) || depth > 8) return;
    const d = String(field(desc, 'digest'));
    if (digests.has(d)) return;
    digests.add(d);
    const doc = docOf(d);
    if (!doc) return;
    for (const k of ['manifests', 'layers', 'blobs']) {
      const list = field(doc, k);
      if (Array.isArray(list)) for (const c of list) visit(c, depth + 1);
    }
    const cfg = field(doc, 'config');
    if (isJsonObject(cfg)) digests.add(String(field(cfg, 'digest')));
  };
  const top = indexDoc ? field(indexDoc, 'manifests') : undefined;
  if (Array.isArray(top)) for (const d of top) visit(d, 0);
  // a manifest.json path may be a link (podman's <id>/layer.tar): the entry it leads to is used too
  const follow = (p: string): void => {
    let e = model.byPath.get(p);
    for (let n = 0; e && (e.header.type === 'symlink' || e.header.type === 'link') && n < 40; n++) {
      const t = e.header.type === 'symlink' ? resolveRelative(e.path, e.header.linkname ?? '') : resolveRelative('', e.header.linkname ?? '');
      if (t === undefined) return;
      paths.add(t);
      e = model.byPath.get(t);
    }
  };
  for (const item of manifestDoc ?? []) {
    if (!isJsonObject(item)) continue;
    const cfg = field(item, 'Config');
    if (typeof cfg === 'string') paths.add(stripSlash(stripDot(cfg)));
    const layers = field(item, 'Layers');
    if (Array.isArray(layers)) for (const l of layers) if (typeof l === 'string') paths.add(stripSlash(stripDot(l)));
    const sources = field(item, 'LayerSources');
    if (isJsonObject(sources)) for (const k of Object.keys(sources)) digests.add(k);
  }
  for (const p of [...paths]) follow(p);
  return { digests, paths };
}

/** Entries the input graph or manifest.json referenced: only those may be dropped when unreferenced. */
function referencedBefore(model: ArchiveModel): Set<EntryRecord> {
  const out = new Set<EntryRecord>();
  const blob = (d: Digest) => {
    const e = model.blobs.get(d.toString());
    if (e) out.add(e);
  };
  for (const n of model.graph.nodes.values()) {
    out.add(n.entry);
    if (n.kind === 'manifest') {
      if (n.config) blob(n.config.digest);
      for (const l of n.layers) blob(l.digest);
    }
  }
  for (const img of model.images) {
    out.add(img.configEntry);
    for (const l of img.layers) if (l.entry) out.add(l.entry);
  }
  return out;
}

/** Assemble the metadata entries in input order; a new blob follows the one it replaces. */
function assemble(
  model: ArchiveModel,
  fold: Fold,
  reach: { digests: Set<string>; paths: Set<string> },
  files: { newIndexJson: Buffer | undefined; newManifestJson: Buffer | undefined; newRepositories: Buffer | undefined },
  legacyJson?: (doc: JsonObject) => JsonObject | undefined,
): Pick<RewritePlan, 'entries' | 'dropped' | 'unreferencedStreamed'> {
  const before = referencedBefore(model);
  const digestOfEntry = new Map<EntryRecord, string>();
  for (const [d, e] of model.blobs) digestOfEntry.set(e, d);
  const used = (e: EntryRecord): boolean => {
    if (!before.has(e)) return true; // never part of an image: copied as it is
    const d = digestOfEntry.get(e);
    return (d !== undefined && reach.digests.has(d)) || reach.paths.has(e.path);
  };
  const entries: OutputEntry[] = [];
  const dropped: string[] = [];
  const unreferencedStreamed = new Set<string>();
  const names = new Set<string>();
  const emit = (header: Header, data: Buffer, raw?: Buffer) => {
    const key = stripDot(header.name);
    if (names.has(key)) return; // the same new blob reached twice (two images edited alike)
    names.add(key);
    entries.push({ header, data, ...(raw ? { raw } : {}) });
  };
  const imageOfEntry = new Map(model.images.map((i) => [i.configEntry, i]));
  const oldDigestOf = (e: EntryRecord): Digest | undefined => {
    const img = imageOfEntry.get(e);
    if (img) return img.id;
    const d = digestOfEntry.get(e);
    return d ? Digest.tryParse(d) : undefined;
  };
  for (const e of model.entries) {
    if (!e.data) {
      if (e.header.type !== 'directory' && !used(e)) unreferencedStreamed.add(e.name);
      continue;
    }
    // Docker 25+'s v1 json blobs (src/archive/legacy-json.ts): renamed to their new digest
    const legacyBlob = legacyJson && !before.has(e) ? rewriteLegacyBlob(e, legacyJson) : undefined;
    if (legacyBlob) {
      emit(derivedHeader(e.header, legacyBlob.name, legacyBlob.data.length), legacyBlob.data);
      continue;
    }
    const file =
      e === model.manifestJson?.entry
        ? files.newManifestJson
        : e === model.ociIndex?.entry
          ? files.newIndexJson
          : e.path === 'repositories'
            ? files.newRepositories
            : legacyJson && LEGACY_JSON.test(e.path)
              ? rewriteLegacyJson(e.data, legacyJson)
              : undefined;
    if (file) {
      emit(derivedHeader(e.header, e.name, file.length), file);
      continue;
    }
    if (used(e)) emit(e.header, e.data, e.raw);
    else dropped.push(e.name);
    const old = oldDigestOf(e);
    const nb = old && fold.replaced.get(old.toString());
    if (nb && (reach.digests.has(nb.digest.toString()) || reach.paths.has(stripDot(blobName(e.name, old, nb.digest))))) {
      emit(derivedHeader(e.header, blobName(e.name, old, nb.digest), nb.size), nb.bytes);
    }
  }
  return { entries, dropped, unreferencedStreamed };
}

const LEGACY_JSON = /^[a-f0-9]{64}\/json$/;

/** A legacy `<v1id>/json` file through `edit`; undefined when it is not JSON or does not change. */
function rewriteLegacyJson(data: Buffer, edit: (doc: JsonObject) => JsonObject | undefined): Buffer | undefined {
  let doc: Json;
  try {
    doc = parseJson(data);
  } catch {
    return undefined; // no loader reads it: a damaged one stays as it is
  }
  const next = isJsonObject(doc) ? edit(doc) : undefined;
  return next ? printJson(next) : undefined;
}

function stripSlash(p: string): string {
  return p.replace(/\/+$/, '');
}
