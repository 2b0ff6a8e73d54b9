/**
 * An image's layer list in the output. The new config's `rootfs.diff_ids` says it: the input's
 * layers first, then the layers copyedit made (`--add-file`, `--add-layer`), found by DiffID among
 * the added layers the request carries. The fold asks here for the manifest's layer descriptors,
 * the renderers for manifest.json's `Layers` and the docker-legacy `<v1id>/` folders.
 */
import type { ImageModel, LayerInfo } from '../archive/model.js';
import { EditError } from '../errors.js';
import { type JsonObject, field, isJsonObject, jsonObject } from '../json/lossless.js';
import type { Digest } from '../digest.js';
import type { NewBlob } from './request.js';

/** The DiffIDs a config lists (strings), or undefined when it has no list. */
function diffIdsOf(doc: JsonObject): readonly unknown[] | undefined {
  const rootfs = field(doc, 'rootfs');
  const ids = isJsonObject(rootfs) ? field(rootfs, 'diff_ids') : undefined;
  return Array.isArray(ids) ? ids : undefined;
}

/**
 * `img`'s layers under its new config `nb`: its own (with the new DiffID where `rewritten` maps the
 * old one, `--rm-path`), then the added ones its DiffIDs name.
 */
export function outputLayers(img: ImageModel, nb: NewBlob | undefined, added: ReadonlyMap<string, LayerInfo> | undefined, rewritten: ReadonlyMap<string, Digest> | undefined): readonly LayerInfo[] {
  if (!nb || (!added?.size && !rewritten?.size)) return img.layers;
  const ids = diffIdsOf(nb.doc);
  if (!ids) return img.layers;
  const what = img.tags[0] ?? img.id.short;
  // each DiffID: the input's layer at its place, that layer rewritten, or a layer copyedit made
  return ids.map((id, i) => {
    const l = img.layers[i];
    if (l && (!l.diffId || id === l.diffId.toString())) return l;
    const n = l?.diffId && rewritten?.get(l.diffId.toString());
    if (l && n && id === n.toString()) return { ...l, diffId: n };
    const a = typeof id === 'string' ? added?.get(id) : undefined;
    if (a) return a;
    // the input's layer at another place (a rebase moves the image's own layers)
    const moved = img.layers.find((x) => x.diffId?.toString() === id);
    if (moved) return moved;
    throw new EditError(`the edit lists DiffID ${String(id)} as layer ${i + 1} of ${what}'s rootfs.diff_ids, but no layer with it is in the archive or was made`);
  });
}

/** The manifest descriptors of the added layers (`pending` while a compressed one is not yet written). */
export function addedDescriptors(
  extra: readonly LayerInfo[],
  out: (l: LayerInfo, i: number) => { readonly digest: Digest | undefined; readonly size: number | undefined; readonly mediaType: string } | undefined,
): { list: JsonObject[]; pending: boolean } {
  let pending = false;
  const list = extra.map((l, i) => {
    const o = out(l, i);
    if (!o) throw new EditError('a layer copyedit adds has no place in this layout');
    if (!o.digest) pending = true;
    return layerDescriptor(o);
  });
  return { list, pending };
}

/** A layer's descriptor in a manifest; digest and size empty while it is pending (not yet written). */
export function layerDescriptor(o: { readonly mediaType: string; readonly digest: Digest | undefined; readonly size: number | undefined }): JsonObject {
  const d = jsonObject();
  d.mediaType = o.mediaType;
  d.digest = o.digest?.toString() ?? '';
  d.size = o.size ?? 0;
  return d;
}
