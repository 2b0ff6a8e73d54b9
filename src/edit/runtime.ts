import { type Json, type JsonObject, field, fieldKey, isJsonObject, jsonObject } from '../json/lossless.js';

/**
 * Docker keeps the runtime settings twice: `config` (what containers get) and `container_config`
 * (the build container that made the last layer; Docker 20.10 still writes it). docker-copyedit
 * edits both, and so do we, so `docker inspect` shows one consistent story.
 */
export const RUNTIME_KEYS = ['config', 'container_config'] as const;

/** Copy of `image` with `fn` applied to each runtime config present (and to `config` even if absent when `create`). */
export function mapRuntime(image: JsonObject, fn: (rc: JsonObject) => JsonObject, create = false): JsonObject {
  const out = shallow(image);
  for (const name of RUNTIME_KEYS) {
    // Go reads "Config" or "CONFIG" as config too: edit the key that is there, under its spelling
    const key = fieldKey(image, name) ?? name;
    const rc = image[key];
    if (isJsonObject(rc)) out[key] = fn(rc);
    else if (create && name === 'config' && (rc === undefined || rc === null)) out[key] = fn(jsonObject());
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

/**
 * Copy of the struct object `o` with its field `name` set: the key Go would read for it (any case)
 * keeps its spelling and place; a new field is appended as `name`.
 */
export function withField(o: JsonObject, name: string, value: Json): JsonObject {
  return withKey(o, fieldKey(o, name) ?? name, value);
}

/** Copy of the struct object `o` without its field `name` (whatever its case). */
export function withoutField(o: JsonObject, name: string): JsonObject {
  const key = fieldKey(o, name);
  return key === undefined ? o : withoutKey(o, key);
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
export function removeMapKeys(image: JsonObject, name: string, match: (key: string) => boolean): { config: JsonObject; hits: number } {
  let hits = 0;
  const config = mapRuntime(image, (rc) => {
    const map = field(rc, name);
    if (!isJsonObject(map)) return rc;
    const kept = jsonObject();
    for (const k of Object.keys(map)) {
      if (match(k)) hits++;
      else kept[k] = map[k]!;
    }
    return Object.keys(kept).length ? withField(rc, name, kept) : withoutField(rc, name);
  });
  return { config: hits ? config : image, hits };
}

/** Add `key` with value `value` to a map-valued runtime field (creating `config` if needed). */
export function setMapKey(image: JsonObject, name: string, key: string, value: Json): JsonObject {
  return mapRuntime(
    image,
    (rc) => {
      const old = field(rc, name);
      const map = isJsonObject(old) ? old : jsonObject();
      return withField(rc, name, withKey(map, key, value));
    },
    true,
  );
}
