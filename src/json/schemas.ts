/**
 * What Go decodes each metadata document into, as far as key matching is concerned.
 *
 * Go's encoding/json matches an object key to a STRUCT field case-insensitively (`"volumes"` fills
 * `Volumes`), and a key seen twice is decoded twice: a scalar keeps the last value, an object is
 * merged into what the first one set. Copyedit reads one value per field, so an object that Go
 * decodes into a struct and that holds two keys folding to one name (`Volumes` and `volumes`, or
 * `Config` twice) means something to Docker that copyedit cannot edit faithfully: it is refused.
 * MAP keys (Labels, ExposedPorts, Volumes, annotations, LayerSources, repositories) are data: case
 * matters, and an exact repeat keeps its last value, as the lossless parser does.
 *
 * Sources: moby image.Image / V1Image / container.Config / HealthConfig / RootFS / History,
 * moby image/tarexport manifestItem, containerd/OCI image-spec v1 Manifest, Index, Descriptor,
 * Platform, ImageConfig and ImageLayout.
 */
import { ArchiveError } from '../errors.js';
import { type Json, foldKey, isJsonObject, repeatedKeys } from './lossless.js';

/** How Go decodes a value: into a struct (keys fold), a map (keys exact), a slice, or anything else. */
export type Schema =
  | { readonly kind: 'struct'; readonly fields: Readonly<Record<string, Schema>> }
  | { readonly kind: 'map'; readonly values: Schema }
  | { readonly kind: 'array'; readonly items: Schema }
  | { readonly kind: 'scalar' };

const scalar: Schema = { kind: 'scalar' };
const struct = (fields: Record<string, Schema> = {}): Schema => ({ kind: 'struct', fields });
const map = (values: Schema = scalar): Schema => ({ kind: 'map', values });
const array = (items: Schema): Schema => ({ kind: 'array', items });

const healthcheck = struct();
/** moby container.Config (and the OCI ImageConfig, a subset with the same names). */
const runtimeConfig = struct({
  // map[nat.Port]struct{} and map[string]struct{}: the values are empty structs, whose keys Go ignores
  ExposedPorts: map(),
  Volumes: map(),
  Labels: map(),
  Healthcheck: healthcheck,
});

/** An image config: moby image.Image (V1Image + RootFS, History) and OCI Image. */
export const IMAGE_CONFIG: Schema = struct({
  config: runtimeConfig,
  container_config: runtimeConfig,
  rootfs: struct(),
  history: array(struct()),
});

const platform = struct();
/** An OCI / Docker descriptor. */
export const DESCRIPTOR: Schema = struct({ annotations: map(), platform });

/**
 * An image manifest, an OCI index or a Docker manifest list. containerd reads a blob of unknown
 * type into one struct holding the fields of both, so one schema serves for every such blob (and
 * for index.json).
 */
export const MANIFEST_OR_INDEX: Schema = struct({
  config: DESCRIPTOR,
  layers: array(DESCRIPTOR),
  manifests: array(DESCRIPTOR),
  subject: DESCRIPTOR,
  annotations: map(),
});

/** `manifest.json` of docker save: a list of moby's manifestItem. */
export const MANIFEST_JSON: Schema = array(struct({ LayerSources: map(DESCRIPTOR) }));

/** `oci-layout`: {"imageLayoutVersion": ...}. */
export const OCI_LAYOUT: Schema = struct();

/** `repositories`: map[name]map[tag]id, nothing but maps. */
export const REPOSITORIES: Schema = map(map());

/**
 * Refuse a document that Go would read differently from copyedit: an object decoded into a struct
 * with two keys that fold to one field name, or with one key repeated. `entry` names the tar entry
 * (the error is an ArchiveError, exit 3), `what` the document ("image config", "manifest.json").
 */
export function checkGoAmbiguity(doc: Json, schema: Schema, entry: string, what: string): void {
  const problem = findGoAmbiguity(doc, schema);
  if (!problem) return;
  const at = problem.path === '' ? 'at its top level' : `in ${problem.path}`;
  const keys = problem.keys[0] === problem.keys[1] ? `the key ${JSON.stringify(problem.keys[0])} twice` : `both ${JSON.stringify(problem.keys[0])} and ${JSON.stringify(problem.keys[1])}`;
  throw new ArchiveError(
    `${what} has ${keys} ${at}: Docker and containerd (Go) match keys case-insensitively and read both into one field, so copyedit cannot tell what they will load; refusing an ambiguous or tampered archive (keep one of the keys)`,
    entry,
  );
}

/** The first ambiguity in `doc`, or undefined: `path` like `config.Healthcheck` or `[0]`, and the two keys. */
export function findGoAmbiguity(doc: Json, schema: Schema, path = ''): { path: string; keys: [string, string] } | undefined {
  if (schema.kind === 'array') {
    if (!Array.isArray(doc)) return undefined;
    for (let i = 0; i < doc.length; i++) {
      const p = findGoAmbiguity(doc[i]!, schema.items, `${path}[${i}]`);
      if (p) return p;
    }
    return undefined;
  }
  if (!isJsonObject(doc) || schema.kind === 'scalar') return undefined;
  const keys = Object.keys(doc);
  if (schema.kind === 'map') {
    if (schema.values.kind === 'scalar') return undefined;
    for (const k of keys) {
      const p = findGoAmbiguity(doc[k]!, schema.values, join(path, k));
      if (p) return p;
    }
    return undefined;
  }
  const twice = repeatedKeys(doc);
  if (twice) return { path, keys: [twice[0]!, twice[0]!] };
  const seen = new Map<string, string>();
  const fields = foldedFields(schema);
  for (const k of keys) {
    const f = foldKey(k);
    const other = seen.get(f);
    if (other !== undefined) return { path, keys: [other, k] };
    seen.set(f, k);
  }
  for (const k of keys) {
    const sub = fields.get(foldKey(k));
    if (!sub) continue;
    const p = findGoAmbiguity(doc[k]!, sub, join(path, k));
    if (p) return p;
  }
  return undefined;
}

const folded = new WeakMap<Schema, Map<string, Schema>>();
function foldedFields(s: Schema & { kind: 'struct' }): Map<string, Schema> {
  let m = folded.get(s);
  if (!m) {
    m = new Map(Object.entries(s.fields).map(([k, v]) => [foldKey(k), v]));
    folded.set(s, m);
  }
  return m;
}

function join(path: string, key: string): string {
  const k = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : JSON.stringify(key);
  return path === '' ? k : `${path}.${k}`;
}
