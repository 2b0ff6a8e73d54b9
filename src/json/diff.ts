import { type Json, JsonNumber, isJsonObject, jsonEqual, stringifyJson } from './lossless.js';

/** One difference between two JSON documents: a path like `config.Volumes./data`. */
export interface JsonChange {
  readonly path: string;
  /** Compact JSON of the old value; undefined when the key was added. */
  readonly before?: string;
  /** Compact JSON of the new value; undefined when the key was removed. */
  readonly after?: string;
}

/**
 * Field-level differences: objects key by key, arrays element by element, scalars as wholes.
 * Changes are appended to one list (no spreading of partial lists, which overflows the call stack
 * past ~100,000 changes, e.g. removing most of 400,000 labels).
 */
export function diffJson(a: Json | undefined, b: Json | undefined, path = '', out: JsonChange[] = []): JsonChange[] {
  if (jsonEqual(a, b)) return out;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) diffJson(a[i], b[i], `${path}[${i}]`, out);
    return out;
  }
  if (isJsonObject(a) && isJsonObject(b) && !(a instanceof JsonNumber)) {
    for (const k of Object.keys(a)) diffJson(a[k], b[k], path ? `${path}.${k}` : k, out);
    for (const k of Object.keys(b)) if (!Object.hasOwn(a, k)) diffJson(undefined, b[k], path ? `${path}.${k}` : k, out);
    return out;
  }
  out.push({ path, ...(a !== undefined ? { before: stringifyJson(a) } : {}), ...(b !== undefined ? { after: stringifyJson(b) } : {}) });
  return out;
}
