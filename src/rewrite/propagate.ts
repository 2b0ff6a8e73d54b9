import type { Header } from 'tar-stream';
import { Digest } from '../digest.js';
import { derivedHeader, type EntryRecord } from '../archive/entry.js';
import type { ArchiveModel, OciNode } from '../archive/model.js';
import { type Json, type JsonObject, cloneJson, isJsonObject, stringifyJson } from '../json/lossless.js';

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
}

export interface RewritePlan {
  /** Metadata entries to write, in the input's order, replacements in their predecessors' places. */
  readonly entries: readonly OutputEntry[];
  /** Old image ID -> new image ID, for every image whose config changed. */
  readonly renamed: ReadonlyMap<string, Digest>;
  /** Names of entries left out because nothing references them any more. */
  readonly dropped: readonly string[];
  /** Things the user should know (e.g. attestations dropped). */
  readonly warnings: readonly string[];
}

const ATTESTATION_TYPE = 'vnd.docker.reference.type';
const ATTESTATION_DIGEST = 'vnd.docker.reference.digest';

/**
 * Given new configs for some images, work out every other metadata entry that must change so the
 * archive stays consistent: config -> manifests that name it (digest and size) -> indexes and
 * manifest lists above them -> index.json -> manifest.json. Layers are never touched.
 */
export function planRewrite(model: ArchiveModel, newConfigs: ReadonlyMap<string, JsonObject>): RewritePlan {
  const warnings: string[] = [];
  /** Old digest -> new blob, for configs, manifests and indexes that changed. */
  const replaced = new Map<string, NewBlob>();
  const renamed = new Map<string, Digest>();
  for (const img of model.images) {
    const cfg = newConfigs.get(img.id.toString());
    if (!cfg) continue;
    const blob = makeBlob(cfg);
    if (blob.digest.equals(img.id)) continue;
    replaced.set(img.id.toString(), blob);
    renamed.set(img.id.toString(), blob.digest);
  }

  // The OCI graph, bottom-up and memoised: a node is rewritten when something below it changed.
  const visited = new Set<string>();
  const rewriteNode = (node: OciNode): NewBlob | undefined => {
    const key = node.digest.toString();
    if (!visited.has(key)) {
      visited.add(key);
      const doc = node.kind === 'manifest' ? rewriteManifest(node.doc) : rewriteIndex(node.doc, node.entry.name);
      if (doc) replaced.set(key, makeBlob(doc));
    }
    return replaced.get(key);
  };
  const rewriteManifest = (manifest: JsonObject): JsonObject | undefined => {
    const cfg = manifest.config as JsonObject;
    const nb = replaced.get(String(cfg.digest));
    if (!nb) return undefined;
    const doc = cloneJson(manifest);
    doc.config = retarget(cfg, nb);
    return doc;
  };
  const rewriteIndex = (index: JsonObject, where: string): JsonObject | undefined => {
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
    if (changedChildren.size === 0) return undefined;
    const out = cloneJson(index);
    out.manifests = kept;
    return out;
  };

  // index.json is a file, not a blob: its name stays, its content follows the manifests
  const indexDoc = model.ociIndex && (rewriteIndex(model.ociIndex.doc, 'index.json') ?? model.ociIndex.doc);
  const newIndexJson = model.ociIndex && indexDoc !== model.ociIndex.doc ? Buffer.from(stringifyJson(indexDoc!)) : undefined;

  // manifest.json: every Config path that named a changed config
  const newNameOf = new Map<EntryRecord, string>();
  let manifestDoc: Json[] | undefined;
  if (model.manifestJson) {
    const { doc, items, itemImages } = model.manifestJson;
    manifestDoc = doc.map((raw, i) => {
      const img = itemImages[i]!;
      const nb = replaced.get(img.id.toString());
      if (!nb) return raw;
      const name = blobName(img.configEntry.name, img.id, nb.digest);
      newNameOf.set(img.configEntry, name);
      const copy = cloneJson(raw as JsonObject);
      copy.Config = items[i]!.config.startsWith('./') ? `./${stripDot(name)}` : stripDot(name);
      return copy;
    });
    if (!manifestDoc.some((x, i) => x !== doc[i])) manifestDoc = undefined;
  }
  const newManifestJson = manifestDoc && Buffer.from(stringifyJson(manifestDoc));

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
    if (!replaced.has(img.id.toString())) referencedConfigs.add(img.configEntry);
  });
  const stillUsed = (e: EntryRecord): boolean =>
    referencedConfigs.has(e) || [...model.blobs].some(([d, b]) => b === e && referenced.has(d));

  // Assemble the metadata entries in input order; a new blob takes the place of the one it replaces.
  const entries: OutputEntry[] = [];
  const dropped: string[] = [];
  const names = new Set<string>();
  const emit = (header: Header, data: Buffer) => {
    const key = stripDot(header.name);
    if (names.has(key)) return; // the same new blob reached twice (two images edited alike)
    names.add(key);
    entries.push({ header, data });
  };
  const replacementOf = (e: EntryRecord): { name: string; blob: NewBlob } | undefined => {
    const img = model.images.find((i) => i.configEntry === e);
    const node = [...model.nodes.values()].find((n) => n.entry === e);
    const old = img?.id ?? node?.digest;
    const blob = old && replaced.get(old.toString());
    if (!old || !blob) return undefined;
    return { name: newNameOf.get(e) ?? blobName(e.name, old, blob.digest), blob };
  };
  for (const e of model.entries) {
    if (!e.data) continue;
    if (e === model.manifestJson?.entry && newManifestJson) {
      emit(derivedHeader(e.header, e.name, newManifestJson.length), newManifestJson);
      continue;
    }
    if (e === model.ociIndex?.entry && newIndexJson) {
      emit(derivedHeader(e.header, e.name, newIndexJson.length), newIndexJson);
      continue;
    }
    const rep = replacementOf(e);
    if (rep && !stillUsed(e)) dropped.push(e.name);
    else emit(e.header, e.data);
    if (rep) emit(derivedHeader(e.header, rep.name, rep.blob.size), rep.blob.bytes);
  }
  return { entries, renamed, dropped, warnings };
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
