/**
 * The config side of a layer added on top: its DiffID appended to `rootfs.diff_ids` and a history
 * entry (not `empty_layer`, so Docker's history/layer alignment holds) naming what was added. The
 * layer's bytes are made elsewhere (src/layers/); this is the pure `(config) -> config` part.
 */
import { EditError } from '../errors.js';
import { type JsonObject, field, fieldKey, isJsonObject, jsonObject } from '../json/lossless.js';
import type { ConfigEdit } from './types.js';

/** Append a layer with DiffID `diffId` (`sha256:<hex>`), recorded in history as `copyedit: <what>` (e.g. `ADD FILE a TO /b`). */
export function appendLayer(diffId: string, what: string): ConfigEdit {
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
