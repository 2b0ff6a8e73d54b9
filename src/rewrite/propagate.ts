import type { Header } from '../archive/tar/header.js';
import { Digest } from '../digest.js';
import { derivedHeader, type EntryRecord } from '../archive/entry.js';
import type { ArchiveModel, ImageModel, OciNode } from '../archive/model.js';
import { type Json, type JsonObject, cloneJson, isJsonObject, jsonEqual, jsonObject, stringifyJson } from '../json/lossless.js';
import { normalizeReference } from '../reference.js';

/** What to change about one image (keyed by its current image ID). */
export interface ImageChange {
  /** The new config, when it differs from the current one. */
  readonly config?: JsonObject;
  /** New tags replacing the image's tags (RepoTags, index.json names, repositories). */
  readonly tags?: readonly string[];
  /** Edit the annotations of the image's OCI/Docker manifest (layouts that have one). */
  readonly annotate?: (annotations: JsonObject) => JsonObject;
}

export interface RewriteOptions {
  /** Keep the unedited image (old config, manifests and tags) next to the edited one. */
  readonly keepOriginal?: boolean;
}

/** A document written anew: its bytes, digest and size. */
interface NewBlob {
  readonly doc: JsonObject;
  readonly digest: Digest;
  readonly size: number;
  readonly bytes: Buffer;
}

/** One metadata entry to write after the streamed entries. */
export interface OutputEntry {
  readonly header: Header;
  readonly data: Buffer;
  /** The input's header bytes, for an entry written back unchanged. */
  readonly raw?: Buffer;
}

export interface RewritePlan {
  /** Metadata entries to write, in the input's order, replacements in their predecessors' places. */
  readonly entries: readonly OutputEntry[];
  /** Old image ID -> new image ID, for every image whose config changed. */
  readonly renamed: ReadonlyMap<string, Digest>;
  /** Names of entries left out because nothing references them any more. */
  readonly dropped: readonly string[];
  /** Things the user should know (e.g. attestations dropped, manifests absent). */
  readonly warnings: readonly string[];
}

const ATTESTATION_TYPE = 'vnd.docker.reference.type';
const ATTESTATION_DIGEST = 'vnd.docker.reference.digest';
const CONTAINERD_NAME = 'io.containerd.image.name';
const OCI_REF_NAME = 'org.opencontainers.image.ref.name';

/**
 * Work out every metadata entry that must change so the archive stays consistent after `changes`:
 * config -> manifests that name it (digest and size) -> indexes and manifest lists above them ->
 * index.json -> manifest.json -> repositories. Layers are never touched.
 */
export function planRewrite(model: ArchiveModel, changes: ReadonlyMap<string, ImageChange>, options: RewriteOptions = {}): RewritePlan {
  const warnings: string[] = [];
  const keep = options.keepOriginal === true;
  /** Old digest -> new blob, for configs, manifests and indexes that changed. */
  const replaced = new Map<string, NewBlob>();
  const renamed = new Map<string, Digest>();
  for (const img of model.images) {
    const cfg = changes.get(img.id.toString())?.config;
    if (!cfg) continue;
    const blob = makeBlob(cfg);
    if (blob.digest.equals(img.id)) continue;
    replaced.set(img.id.toString(), blob);
    renamed.set(img.id.toString(), blob.digest);
  }
  const annotated = new Set<string>();

  // The OCI graph, bottom-up and memoised: a node is rewritten when something below it changed.
  const visited = new Set<string>();
  const rewriteNode = (node: OciNode): NewBlob | undefined => {
    const key = node.digest.toString();
    if (!visited.has(key)) {
      visited.add(key);
      const doc = node.kind === 'manifest' ? rewriteManifest(node.doc) : rewriteIndex(node.doc, node.entry.name).doc;
      if (doc) replaced.set(key, makeBlob(doc));
    }
    return replaced.get(key);
  };
  const rewriteManifest = (manifest: JsonObject): JsonObject | undefined => {
    const cfg = manifest.config as JsonObject;
    const nb = replaced.get(String(cfg.digest));
    const annotate = changes.get(String(cfg.digest))?.annotate;
    if (!nb && !annotate) return undefined;
    const doc = cloneJson(manifest);
    if (nb) doc.config = retarget(cfg, nb);
    if (annotate) {
      annotated.add(String(cfg.digest));
      const before = isJsonObject(doc.annotations) ? doc.annotations : jsonObject();
      const after = annotate(before);
      if (Object.keys(after).length) doc.annotations = after;
      else delete doc.annotations;
    }
    return jsonEqual(doc, manifest) ? undefined : doc;
  };
  const rewriteIndex = (index: JsonObject, where: string): { doc?: JsonObject; changedChildren: Set<string> } => {
    const changedChildren = new Set<string>();
    const next = (index.manifests as Json[]).map((desc) => {
      const node = isJsonObject(desc) ? model.nodes.get(String(desc.digest)) : undefined;
      const nb = node && rewriteNode(node);
      if (!nb) return desc;
      changedChildren.add(String((desc as JsonObject).digest));
      return retarget(desc as JsonObject, nb);
    });
    // an attestation describes the image it was made for: after an edit it would lie, so drop it
    const kept = next.filter((desc) => {
      const a = isJsonObject(desc) && isJsonObject(desc.annotations) ? desc.annotations : undefined;
      if (!a || a[ATTESTATION_TYPE] !== 'attestation-manifest' || !changedChildren.has(String(a[ATTESTATION_DIGEST]))) return true;
      warnings.push(`${where}: dropped attestation manifest ${String((desc as JsonObject).digest)}: it describes ${String(a[ATTESTATION_DIGEST])} as it was before the edit`);
      return false;
    });
    if (changedChildren.size === 0) return { changedChildren };
    const out = cloneJson(index);
    out.manifests = kept;
    return { doc: out, changedChildren };
  };

  // index.json is a file, not a blob: its name stays, its content follows the manifests and tags
  let newIndexJson: Buffer | undefined;
  let indexDoc: JsonObject | undefined = model.ociIndex?.doc;
  if (model.ociIndex) {
    const doc = rewriteTopIndex(model, model.ociIndex.doc, changes, keep, rewriteNode);
    if (!jsonEqual(doc, model.ociIndex.doc)) {
      indexDoc = doc;
      newIndexJson = Buffer.from(stringifyJson(doc));
    }
  }
  for (const [id, ch] of changes) {
    if (ch.annotate && !annotated.has(id)) warnings.push(`${imageLabel(model, id)}: this layout has no image manifest, so there is nothing to annotate`);
  }

  // manifest.json: Config paths that named a changed config, RepoTags for retagged images
  const newNameOf = new Map<EntryRecord, string>();
  let manifestDoc: Json[] | undefined;
  if (model.manifestJson) {
    const { doc, items, itemImages } = model.manifestJson;
    const out: Json[] = [];
    doc.forEach((raw, i) => {
      const img = itemImages[i]!;
      const ch = changes.get(img.id.toString());
      const nb = replaced.get(img.id.toString());
      if (!ch || (!nb && !ch.tags)) return void out.push(raw);
      const copy = cloneJson(raw as JsonObject);
      if (nb) {
        const name = blobName(img.configEntry.name, img.id, nb.digest);
        newNameOf.set(img.configEntry, name);
        copy.Config = items[i]!.config.startsWith('./') ? `./${stripDot(name)}` : stripDot(name);
      }
      if (ch.tags) copy.RepoTags = [...ch.tags];
      if (keep) out.push(raw);
      out.push(copy);
    });
    if (out.length !== doc.length || out.some((x, i) => x !== doc[i])) manifestDoc = out;
  }
  const newManifestJson = manifestDoc && Buffer.from(stringifyJson(manifestDoc));
  const newRepositories = rewriteRepositories(model, changes, keep);

  // What do the final documents still reference? Replaced blobs nobody names any more are dropped.
  const referenced = new Set<string>();
  const docOf = (d: string): { kind: 'manifest' | 'index'; doc: JsonObject } | undefined => {
    const node = model.nodes.get(d);
    if (node) return { kind: node.kind, doc: node.doc };
    for (const [old, nb] of replaced) if (nb.digest.toString() === d && model.nodes.has(old)) return { kind: model.nodes.get(old)!.kind, doc: nb.doc };
    return undefined;
  };
  const walk = (index: JsonObject) => {
    for (const desc of index.manifests as Json[]) {
      if (!isJsonObject(desc)) continue;
      const d = String(desc.digest);
      if (referenced.has(d)) continue;
      referenced.add(d);
      const found = docOf(d);
      if (found?.kind === 'index') walk(found.doc);
      else if (found) referenced.add(String((found.doc.config as JsonObject).digest));
    }
  };
  if (indexDoc) walk(indexDoc);
  const referencedConfigs = new Set<EntryRecord>();
  model.manifestJson?.itemImages.forEach((img) => {
    if (keep || !replaced.has(img.id.toString())) referencedConfigs.add(img.configEntry);
  });
  const stillUsed = (e: EntryRecord): boolean => referencedConfigs.has(e) || [...model.blobs].some(([d, b]) => b === e && referenced.has(d));

  // Assemble the metadata entries in input order; a new blob follows the one it replaces.
  const entries: OutputEntry[] = [];
  const dropped: string[] = [];
  const names = new Set<string>();
  const emit = (header: Header, data: Buffer, raw?: Buffer) => {
    const key = stripDot(header.name);
    if (names.has(key)) return; // the same new blob reached twice (two images edited alike)
    names.add(key);
    entries.push({ header, data, ...(raw ? { raw } : {}) });
  };
  const replacementOf = (e: EntryRecord): { name: string; blob: NewBlob } | undefined => {
    const img = model.images.find((i) => i.configEntry === e);
    const node = [...model.nodes.values()].find((n) => n.entry === e);
    const old = img?.id ?? node?.digest;
    const blob = old && replaced.get(old.toString());
    if (!old || !blob) return undefined;
    return { name: newNameOf.get(e) ?? blobName(e.name, old, blob.digest), blob };
  };
  const rewrittenFile = (e: EntryRecord): Buffer | undefined => {
    if (e === model.manifestJson?.entry) return newManifestJson;
    if (e === model.ociIndex?.entry) return newIndexJson;
    if (e.path === 'repositories') return newRepositories;
    return undefined;
  };
  for (const e of model.entries) {
    if (!e.data) continue;
    const file = rewrittenFile(e);
    if (file) {
      emit(derivedHeader(e.header, e.name, file.length), file);
      continue;
    }
    const rep = replacementOf(e);
    if (rep && !stillUsed(e)) dropped.push(e.name);
    else emit(e.header, e.data, e.raw);
    if (rep) emit(derivedHeader(e.header, rep.name, rep.blob.size), rep.blob.bytes);
  }
  return { entries, renamed, dropped, warnings };
}

/**
 * The top-level index.json: descriptors are retargeted; for a retagged image its descriptors are
 * replaced by one per new tag (as Docker 25+ and containerd write them), after the originals when
 * they are kept.
 */
function rewriteTopIndex(
  model: ArchiveModel,
  index: JsonObject,
  changes: ReadonlyMap<string, ImageChange>,
  keep: boolean,
  rewriteNode: (n: OciNode) => NewBlob | undefined,
): JsonObject {
  const out: Json[] = [];
  const tagged = new Set<string>();
  for (const desc of index.manifests as Json[]) {
    if (!isJsonObject(desc)) {
      out.push(desc);
      continue;
    }
    const node = model.nodes.get(String(desc.digest));
    const nb = node && rewriteNode(node);
    const ids = node ? configsUnder(model, node) : [];
    const retag = ids.map((id) => [id, changes.get(id)?.tags] as const).find(([, t]) => t !== undefined);
    if (!retag) {
      if (keep && nb) out.push(desc);
      out.push(nb ? retarget(desc, nb) : desc);
      continue;
    }
    const [id, tags] = retag;
    if (keep) out.push(desc);
    if (tagged.has(id)) continue; // one descriptor per tag is written once per image
    tagged.add(id);
    const target = nb ? retarget(desc, nb) : cloneJson(desc);
    for (const tag of tags!) {
      const d = cloneJson(target);
      const a = isJsonObject(d.annotations) ? d.annotations : jsonObject();
      a[CONTAINERD_NAME] = normalizeReference(tag);
      a[OCI_REF_NAME] = tagPart(tag);
      d.annotations = a;
      out.push(d);
    }
  }
  const doc = cloneJson(index);
  doc.manifests = out;
  return doc;
}

/** Config digests of the images below a node (attestations excluded). */
function configsUnder(model: ArchiveModel, node: OciNode, depth = 0): string[] {
  if (depth > 8) return [];
  if (node.kind === 'manifest') {
    const d = String((node.doc.config as JsonObject).digest);
    return model.images.some((i) => i.id.toString() === d) ? [d] : [];
  }
  return (node.doc.manifests as Json[]).flatMap((desc) => {
    const child = isJsonObject(desc) ? model.nodes.get(String(desc.digest)) : undefined;
    return child ? configsUnder(model, child, depth + 1) : [];
  });
}

/** `repositories` maps repo -> tag -> top layer ID; retagging moves those entries. */
function rewriteRepositories(model: ArchiveModel, changes: ReadonlyMap<string, ImageChange>, keep: boolean): Buffer | undefined {
  const entry = model.byPath.get('repositories');
  if (!entry?.data || ![...changes.values()].some((c) => c.tags)) return undefined;
  let repos: Record<string, Record<string, string>>;
  try {
    repos = JSON.parse(entry.data.toString('utf8')) as Record<string, Record<string, string>>;
  } catch {
    return undefined; // leave a damaged file as it is; no loader reads it when manifest.json exists
  }
  for (const img of model.images) {
    const tags = changes.get(img.id.toString())?.tags;
    if (!tags) continue;
    const top = topLayerId(model, img, repos);
    if (!keep) {
      for (const t of img.tags) {
        const [repo, tag] = splitTag(t);
        if (repos[repo]?.[tag] !== undefined) delete repos[repo]![tag];
        if (repos[repo] && Object.keys(repos[repo]!).length === 0) delete repos[repo];
      }
    }
    if (!top) continue;
    for (const t of tags) {
      const [repo, tag] = splitTag(t);
      (repos[repo] ??= {})[tag] = top;
    }
  }
  return Buffer.from(JSON.stringify(repos));
}

function topLayerId(model: ArchiveModel, img: ImageModel, repos: Record<string, Record<string, string>>): string | undefined {
  for (const t of img.tags) {
    const [repo, tag] = splitTag(t);
    if (repos[repo]?.[tag]) return repos[repo]![tag];
  }
  const i = model.manifestJson?.itemImages.indexOf(img) ?? -1;
  const last = i >= 0 ? model.manifestJson!.items[i]!.layers.at(-1) : undefined;
  const m = last && /([a-f0-9]{64})(\/layer\.tar)?$/.exec(last);
  return m?.[1];
}

/** `example/app:1.0` -> [`example/app`, `1.0`], as the repositories file spells them. */
function splitTag(ref: string): [string, string] {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
}

function tagPart(ref: string): string {
  return splitTag(ref.split('@')[0]!)[1];
}

function imageLabel(model: ArchiveModel, id: string): string {
  const img = model.images.find((i) => i.id.toString() === id);
  return img?.tags[0] ?? id.slice(7, 19);
}

/** Serialize a document the way we write every rewritten blob: compact JSON, key order kept. */
function makeBlob(doc: JsonObject): NewBlob {
  const bytes = Buffer.from(stringifyJson(doc));
  return { doc, digest: Digest.of(bytes), size: bytes.length, bytes };
}

/** A copy of a descriptor pointing at `nb`: digest and size change, everything else stays. */
function retarget(desc: JsonObject, nb: NewBlob): JsonObject {
  const out = cloneJson(desc);
  out.digest = nb.digest.toString();
  out.size = nb.size;
  return out;
}

/** The new entry name for a rewritten blob: the old name with the old hex replaced. */
export function blobName(oldName: string, oldDigest: Digest, newDigest: Digest): string {
  if (oldName.includes(oldDigest.hex)) return oldName.split(oldDigest.hex).join(newDigest.hex);
  const dir = oldName.includes('/') ? oldName.slice(0, oldName.lastIndexOf('/') + 1) : '';
  return `${dir}${newDigest.hex}.json`;
}

function stripDot(p: string): string {
  return p.replace(/^(\.\/)+/, '');
}
