import { type Json, JsonNumber, isJsonObject, jsonEqual, stringifyJson } from './lossless.js';

/** One difference between two JSON documents: a path like `config.Volumes./data`. */
export interface JsonChange {
  readonly path: string;
  /** Compact JSON of the old value; undefined when the key was added. */
  readonly before?: string;
  /** Compact JSON of the new value; undefined when the key was removed. */
  readonly after?: string;
}

/** Field-level differences: objects key by key, arrays element by element, scalars as wholes. */
export function diffJson(a: Json | undefined, b: Json | undefined, path = ''): JsonChange[] {
  if (jsonEqual(a, b)) return [];
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: JsonChange[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) out.push(...diffJson(a[i], b[i], `${path}[${i}]`));
    return out;
  }
  if (isJsonObject(a) && isJsonObject(b) && !(a instanceof JsonNumber)) {
    const out: JsonChange[] = [];
    const keys = [...Object.keys(a), ...Object.keys(b).filter((k) => !(k in a))];
    for (const k of keys) out.push(...diffJson(a[k], b[k], path ? `${path}.${k}` : k));
    return out;
  }
  return [{ path, ...(a !== undefined ? { before: stringifyJson(a) } : {}), ...(b !== undefined ? { after: stringifyJson(b) } : {}) }];
}
