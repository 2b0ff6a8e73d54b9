/**
 * The config side of a layer added on top: its DiffID appended to `rootfs.diff_ids` and a history
 * entry (not `empty_layer`, so Docker's history/layer alignment holds) naming what was added. The
 * layer's bytes are made elsewhere (src/layers/); this is the pure `(config) -> config` part.
 */
import { EditError } from '../errors.js';
import { type Json, type JsonObject, field, fieldKey, isJsonObject, jsonObject } from '../json/lossless.js';
import type { ConfigEdit } from './types.js';

/** Append a layer with DiffID `diffId` (`sha256:<hex>`), recorded in history as `copyedit: <what>` (e.g. `ADD FILE a TO /b`). */
export function appendLayer(diffId: string, what: string, onlyChain?: string): ConfigEdit {
  if (!/^sha256:[a-f0-9]{64}$/.test(diffId)) throw new RangeError(`a layer DiffID is sha256:<64 hex digits>, not ${diffId}`);
  return {
    name: 'add-layer',
    arg: diffId,
    description: what,
    apply(image) {
      const out = jsonObject();
      for (const k of Object.keys(image)) out[k] = image[k]!;
      const rk = fieldKey(image, 'rootfs') ?? 'rootfs';
      const rootfs = isJsonObject(image[rk]) ? (image[rk] as JsonObject) : undefined;
      const ids = rootfs ? field(rootfs, 'diff_ids') : undefined;
      // a layer made for one image only (its trust bundles): the others are left as they are
      if (onlyChain !== undefined && JSON.stringify(ids ?? []) !== onlyChain) return { config: image, warnings: [] };
      if (rootfs && ids !== undefined && !Array.isArray(ids)) throw new EditError("the config's rootfs.diff_ids is not a list: copyedit cannot add a layer to it");
      const r = jsonObject();
      if (rootfs) for (const k of Object.keys(rootfs)) r[k] = rootfs[k]!;
      if (!rootfs) r.type = 'layers';
      r[(rootfs && fieldKey(rootfs, 'diff_ids')) ?? 'diff_ids'] = [...((ids as string[] | undefined) ?? []), diffId];
      out[rk] = r;
      const entry = jsonObject();
      const created = field(image, 'created');
      if (typeof created === 'string') entry.created = created;
      entry.created_by = `copyedit: ${what}`;
      entry.comment = 'image-copyedit';
      const hk = fieldKey(image, 'history') ?? 'history';
      const history = image[hk];
      out[hk] = [...(Array.isArray(history) ? history : []), entry];
      return { config: out, warnings: [] };
    },
  };
}

/** Replace DiffIDs (old -> new, `sha256:<hex>`) in `rootfs.diff_ids`: layers copyedit rewrote (`--rm-path`). */
export function replaceDiffIds(map: ReadonlyMap<string, string>, what: string): ConfigEdit {
  return {
    name: 'rm-path',
    description: what,
    apply(image) {
      const { rk, rootfs, dk, ids } = diffIdsOf(image);
      if (!Array.isArray(ids) || !ids.some((d) => typeof d === 'string' && map.has(d))) return { config: image, warnings: [] };
      const r = jsonObject();
      for (const k of Object.keys(rootfs!)) r[k] = rootfs![k]!;
      r[dk!] = ids.map((d) => (typeof d === 'string' ? (map.get(d) ?? d) : d));
      const out = jsonObject();
      for (const k of Object.keys(image)) out[k] = k === rk ? r : image[k]!;
      return { config: out, warnings: [] };
    },
  };
}

/** Replace every layer by one (`--flatten`): the image whose diff_ids list (as JSON) is a key gets that DiffID alone, and one history entry. */
export function flattenLayers(byChain: ReadonlyMap<string, string>): ConfigEdit {
  return {
    name: 'flatten',
    description: 'FLATTEN',
    apply(image) {
      const { rk, rootfs, dk, ids } = diffIdsOf(image);
      const flat = Array.isArray(ids) ? byChain.get(JSON.stringify(ids)) : undefined;
      if (!flat) return { config: image, warnings: [] };
      const r = jsonObject();
      for (const k of Object.keys(rootfs!)) r[k] = rootfs![k]!;
      r[dk!] = [flat];
      const entry = jsonObject();
      const created = field(image, 'created');
      if (typeof created === 'string') entry.created = created;
      entry.created_by = 'copyedit: FLATTEN';
      entry.comment = 'image-copyedit';
      const out = jsonObject();
      for (const k of Object.keys(image)) out[k] = k === rk ? r : image[k]!;
      out[fieldKey(image, 'history') ?? 'history'] = [entry];
      return { config: out, warnings: [] };
    },
  };
}

/** Rebase (`--rebase-from OLD --rebase-onto NEW`): the image whose diff_ids list (as JSON) is a key gets NEW's DiffIDs and history in place of OLD's. */
export function rebaseLayers(
  byChain: ReadonlyMap<string, { readonly oldLayers: number; readonly oldHistory: number; readonly diffIds: readonly string[]; readonly history: readonly Json[] }>,
  what: string,
): ConfigEdit {
  return {
    name: 'rebase',
    description: what,
    apply(image) {
      const { rk, rootfs, dk, ids } = diffIdsOf(image);
      const r = Array.isArray(ids) ? byChain.get(JSON.stringify(ids)) : undefined;
      if (!r || !Array.isArray(ids)) return { config: image, warnings: [] };
      const root = jsonObject();
      for (const k of Object.keys(rootfs!)) root[k] = rootfs![k]!;
      root[dk!] = [...r.diffIds, ...ids.slice(r.oldLayers)];
      const out = jsonObject();
      for (const k of Object.keys(image)) out[k] = k === rk ? root : image[k]!;
      const hk = fieldKey(image, 'history') ?? 'history';
      const history = Array.isArray(image[hk]) ? (image[hk] as Json[]) : [];
      out[hk] = [...r.history, ...history.slice(r.oldHistory)];
      return { config: out, warnings: [] };
    },
  };
}

/** The config's `rootfs` object and its `diff_ids` value, with the keys they are spelled by. */
function diffIdsOf(image: JsonObject): { rk: string | undefined; rootfs: JsonObject | undefined; dk: string | undefined; ids: Json | undefined } {
  const rk = fieldKey(image, 'rootfs');
  const rootfs = rk !== undefined && isJsonObject(image[rk]) ? (image[rk] as JsonObject) : undefined;
  const dk = rootfs && fieldKey(rootfs, 'diff_ids');
  return { rk, rootfs, dk, ids: dk !== undefined ? rootfs![dk] : undefined };
}
