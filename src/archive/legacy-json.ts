import { Digest } from '../digest.js';
import { type Json, type JsonObject, isJsonObject, parseJson, printJson } from '../json/lossless.js';
import type { EntryRecord } from './entry.js';

/**
 * Docker 25+ keeps each layer's legacy v1 json (`{"id": <v1 id>, "parent": ..., "container_config":
 * ...}`, what Docker <= 24 wrote as `<v1id>/json`) as a blob, `blobs/sha256/<digest>`, which no
 * descriptor names: `docker load` does not read it, `repositories` names the v1 id, not the blob.
 * An edit that must reach every copy of a value (`--history-rm-arg`) rewrites it too; its digest
 * changes, and since nothing refers to it by digest, it is renamed to its new digest (a blob's name
 * is its digest) and the old name goes.
 */
const BLOB = /^blobs\/sha256\/[a-f0-9]{64}$/;
const V1_ID = /^[a-f0-9]{64}$/;

/**
 * The rewritten v1 json blob `e` (an entry no image references), its new name and bytes; undefined
 * when it is not one, or `edit` leaves it as it is.
 */
export function rewriteLegacyBlob(e: EntryRecord, edit: (doc: JsonObject) => JsonObject | undefined): { name: string; data: Buffer } | undefined {
  if (!e.data || !BLOB.test(e.path)) return undefined;
  let doc: Json;
  try {
    doc = parseJson(e.data);
  } catch {
    return undefined; // not JSON: not a v1 json, copied as it is
  }
  if (!isJsonObject(doc) || typeof doc.id !== 'string' || !V1_ID.test(doc.id)) return undefined;
  const next = edit(doc);
  if (!next) return undefined;
  const data = printJson(next);
  const dir = e.name.slice(0, e.name.lastIndexOf('/') + 1);
  return { name: `${dir}${Digest.of(data).hex}`, data };
}
