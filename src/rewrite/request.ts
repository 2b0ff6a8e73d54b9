/**
 * What a rewrite is asked to do, and the small values every part of it passes around. Types and
 * pure helpers only: the fold (fold.ts), the policies (policy.ts), the names (names.ts) and the
 * renderers (inplace.ts, oci.ts, legacy.ts) all read these, and none of them imports another's
 * internals through here.
 */
import type { Platform } from '../archive/graph.js';
import type { ImageTarget } from '../archive/model.js';
import type { Header } from '../archive/tar/header.js';
import { Digest } from '../digest.js';
import { type Json, type JsonObject, cloneJson, fieldKey, isJsonObject, jsonObject, printJson } from '../json/lossless.js';

/** What happens to one image (what a name points at). */
export interface TargetChange {
  readonly target: ImageTarget;
  /** The names that follow the edit: all of them, or those the user selected it by. */
  readonly moving: 'all' | readonly string[];
  /** Names for the edited image instead of the moving ones (`--tag`). */
  readonly newNames?: readonly string[];
}

export interface RewriteRequest {
  /** New configs, by the digest of the config they replace. */
  readonly configs: ReadonlyMap<string, JsonObject>;
  /** Edit the annotations of the manifests naming these configs. */
  readonly annotate?: { readonly configs: ReadonlySet<string>; readonly edit: (annotations: JsonObject) => JsonObject };
  readonly targets: readonly TargetChange[];
  /** Keep the unedited image under the moving names' places (they move; see names.ts). */
  readonly keepOriginal?: boolean;
  /** Keep only these platforms of the edited images; the others leave the index with their blobs. */
  readonly onlyPlatforms?: readonly Platform[];
  /** Remove index entries whose manifests the archive does not hold. */
  readonly dropAbsent?: boolean;
  /**
   * Rewrite the Docker <= 24 legacy `<v1id>/json` files with this function (they repeat the build
   * container's config; no loader reads them when manifest.json exists, but they leak what it held).
   */
  readonly legacyJson?: (doc: JsonObject) => JsonObject | undefined;
}

/** A document written anew: its bytes, digest and size. */
export interface NewBlob {
  readonly doc: JsonObject;
  readonly digest: Digest;
  readonly size: number;
  readonly bytes: Buffer;
}

/** One metadata entry to write after (or among) the streamed entries. */
export interface OutputEntry {
  readonly header: Header;
  readonly data: Buffer;
  /** The input's header bytes, for an entry written back unchanged. */
  readonly raw?: Buffer;
}

/** Serialize a document the way we write every rewritten blob: compact JSON, key order kept. */
export function makeBlob(doc: JsonObject, algorithm: 'sha256' | 'sha512' = 'sha256'): NewBlob {
  const bytes = printJson(doc);
  return { doc, digest: Digest.of(bytes, algorithm), size: bytes.length, bytes };
}

/** A copy of `obj` with `name` set (the existing key's spelling kept, else added at the end). */
export function withField(obj: Json | undefined, name: string, value: Json): JsonObject {
  const d = obj !== undefined && isJsonObject(obj) ? cloneJson(obj) : jsonObject();
  d[fieldKey(d, name) ?? name] = value;
  return d;
}

/** The new entry name for a rewritten blob: the old name with the old hex replaced. */
export function blobName(oldName: string, oldDigest: Digest, newDigest: Digest): string {
  if (oldName.includes(oldDigest.hex)) return oldName.split(oldDigest.hex).join(newDigest.hex);
  const dir = oldName.includes('/') ? oldName.slice(0, oldName.lastIndexOf('/') + 1) : '';
  return `${dir}${newDigest.hex}.json`;
}

export function stripDot(p: string): string {
  return p.replace(/^(\.\/)+/, '');
}

/** A plain file header for an entry copyedit makes from nothing. */
export function fileHeader(name: string, size: number): Header {
  return { name, size, mode: 0o644, mtime: new Date(0), type: 'file', linkname: '', uid: 0, gid: 0, uname: '', gname: '', devmajor: 0, devminor: 0 };
}

export function dirHeader(name: string): Header {
  return { ...fileHeader(name, 0), type: 'directory', mode: 0o755 };
}

/** A copy of a descriptor naming other bytes: digest and size change, everything else stays. */
export function withDigest(desc: JsonObject, digest: Digest, size: number): JsonObject {
  const out = cloneJson(desc);
  out[fieldKey(out, 'digest') ?? 'digest'] = digest.toString();
  out[fieldKey(out, 'size') ?? 'size'] = size;
  return out;
}

/** `d` without the annotation `key` (the same object when it has none). */
export function withoutAnnotation(d: JsonObject, key: string): JsonObject {
  const k = fieldKey(d, 'annotations');
  const a = k !== undefined ? d[k] : undefined;
  if (k === undefined || !isJsonObject(a) || !(key in a)) return d;
  const out = cloneJson(d);
  const kept = jsonObject();
  for (const x of Object.keys(a)) if (x !== key) kept[x] = a[x]!;
  if (Object.keys(kept).length) out[k] = kept;
  else delete out[k];
  return out;
}
