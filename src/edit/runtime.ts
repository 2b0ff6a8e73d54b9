import { type Json, type JsonObject, isJsonObject, jsonObject } from '../json/lossless.js';

/**
 * Docker keeps the runtime settings twice: `config` (what containers get) and `container_config`
 * (the build container that made the last layer; Docker 20.10 still writes it). docker-copyedit
 * edits both, and so do we, so `docker inspect` shows one consistent story.
 */
export const RUNTIME_KEYS = ['config', 'container_config'] as const;

/** Copy of `image` with `fn` applied to each runtime config present (and to `config` even if absent when `create`). */
export function mapRuntime(image: JsonObject, fn: (rc: JsonObject) => JsonObject, create = false): JsonObject {
  const out = shallow(image);
  for (const key of RUNTIME_KEYS) {
    const rc = image[key];
    if (isJsonObject(rc)) out[key] = fn(rc);
    else if (create && key === 'config' && (rc === undefined || rc === null)) out[key] = fn(jsonObject());
  }
  return out;
}

/** A shallow copy that keeps key order and has no prototype. */
export function shallow(o: JsonObject): JsonObject {
  const out = jsonObject();
  for (const k of Object.keys(o)) out[k] = o[k] as Json;
  return out;
}

/** Copy of `o` with `key` set (appended at the end when new, in place when present). */
export function withKey(o: JsonObject, key: string, value: Json): JsonObject {
  const out = shallow(o);
  out[key] = value;
  return out;
}

/** Copy of `o` without `key`. */
export function withoutKey(o: JsonObject, key: string): JsonObject {
  const out = shallow(o);
  delete out[key];
  return out;
}

/**
 * Remove the keys of a map-valued runtime field (Volumes, ExposedPorts, Labels) that `match`, in
 * `config` and `container_config`; an emptied map is left out. `hits` counts removed keys.
 */
export function removeMapKeys(image: JsonObject, field: string, match: (key: string) => boolean): { config: JsonObject; hits: number } {
  let hits = 0;
  const config = mapRuntime(image, (rc) => {
    const map = rc[field];
    if (!isJsonObject(map)) return rc;
    const kept = jsonObject();
    for (const k of Object.keys(map)) {
      if (match(k)) hits++;
      else kept[k] = map[k]!;
    }
    return Object.keys(kept).length ? withKey(rc, field, kept) : withoutKey(rc, field);
  });
  return { config: hits ? config : image, hits };
}

/** Add `key` with value `value` to a map-valued runtime field (creating `config` if needed). */
export function setMapKey(image: JsonObject, field: string, key: string, value: Json): JsonObject {
  return mapRuntime(
    image,
    (rc) => {
      const map = isJsonObject(rc[field]) ? (rc[field] as JsonObject) : jsonObject();
      return withKey(rc, field, withKey(map, key, value));
    },
    true,
  );
}
