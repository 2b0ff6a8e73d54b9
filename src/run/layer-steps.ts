/**
 * The layer-list steps of one conversion run, planned after the first pass: layers added on top
 * (`addLayers`), layers purged (`removePaths`: rewritten, or a whiteout layer), every layer merged
 * into one (`flatten`). What they give the rewrite: config edits (DiffIDs, history), the layers
 * copyedit made (by DiffID), the layers to rewrite (by entry index), and the spools to remove.
 */
import type { ArchiveModel, ImageModel } from '../archive/model.js';
import { platformString } from '../archive/graph.js';
import type { TargetFormat } from '../convert/media.js';
import type { ConfigEdit } from '../edit/index.js';
import { flattenLayers } from '../edit/layer.js';
import { UsageError } from '../errors.js';
import type { LayerAddition } from '../layers/build.js';
import type { ConvertOptions } from '../rewrite/layers.js';
import { type AddedLayers, buildAdded } from './add-pass.js';
import type { FirstPass } from './convert-pass.js';
import type { EditArchiveOptions } from './options.js';
import { purgeEdits, purgeRewrites } from './purge-pass.js';
import { type DraftReport, editModel, editSettings } from './request.js';
import type { RewriteRequest } from '../rewrite/request.js';

export interface LayerSteps {
  readonly request: RewriteRequest;
  readonly reports: DraftReport[];
  /** The layer plan's share of the conversion options. */
  readonly convert: Pick<ConvertOptions, 'added' | 'addedCompression' | 'rewrite' | 'sameLayout'>;
  readonly warnings: readonly string[];
  readonly added: AddedLayers | undefined;
}

/** Do the run's options change any image's layer list? */
export function changesLayers(opts: EditArchiveOptions): boolean {
  return (opts.addLayers?.length ?? 0) > 0 || opts.removePaths !== undefined || opts.flatten === true;
}

/** Plan the request with the layer steps; `input` is the re-readable input (a flatten reads the layers again from it). */
export async function layerSteps(opts: EditArchiveOptions, tags: string[] | undefined, first: FirstPass, input: string, format: TargetFormat, onAdded: (a: AddedLayers) => void): Promise<LayerSteps> {
  const { model } = first;
  if (opts.flatten && (opts.addLayers?.length || opts.removePaths)) throw new UsageError('--flatten goes alone: add files or purge paths in a run of their own, before or after it');
  const purge = first.purge ? purgeEdits(opts, model, first.purge) : undefined;
  const flat = opts.flatten ? flattenAdditions(opts, tags, model, input) : undefined;
  const additions = [...(opts.addLayers ?? []), ...(purge?.additions ?? []), ...(flat?.additions ?? [])];
  const added = additions.length ? await buildAdded({ ...opts, addLayers: additions }, model, format, first.sniff) : undefined;
  if (added) onAdded(added);
  const flatEdits = flat && added ? [flattenLayers(new Map(flat.chains.map((c, i) => [c, added.diffIds[i]!.toString()])))] : [];
  const { edits, editOpts } = editSettings({ ...opts, edits: [...opts.edits, ...(purge?.edits ?? []), ...(added?.edits ?? []), ...flatEdits] }, tags);
  const { request, reports } = editModel(model, edits, editOpts);
  const rewrite = first.purge ? purgeRewrites(model, request, first.purge, opts.removePaths?.whiteout === true) : undefined;
  const convert = {
    ...(added ? { added: added.byDiffId, addedCompression: added.compression } : {}),
    ...(rewrite?.size ? { rewrite } : {}),
    sameLayout: opts.format === undefined,
  };
  return { request, reports, convert, warnings: purge?.warnings ?? [], added };
}

/** `flatten`: one merged layer per selected image (platform), and the key its config is found by (its diff_ids). */
function flattenAdditions(opts: EditArchiveOptions, tags: string[] | undefined, model: ArchiveModel, input: string): { additions: LayerAddition[]; chains: string[] } {
  // which configs the run edits: the selection of the real request, found with a probe edit
  const probe: ConfigEdit = { name: 'probe', description: 'probe', apply: (c) => ({ config: { ...c, '\u0000copyedit-probe': true }, warnings: [] }) };
  const { editOpts } = editSettings({ ...opts, edits: [] }, tags);
  const selected = new Set(editModel(model, [probe], editOpts).request.configs.keys());
  const additions: LayerAddition[] = [];
  const chains: string[] = [];
  const seen = new Set<string>();
  for (const img of model.images) {
    if (!selected.has(img.id.toString()) || seen.has(img.id.toString())) continue;
    seen.add(img.id.toString());
    const target = model.targets.find((t) => t.platforms.some((p) => p.image === img));
    const platform = target && target.platforms.length > 1 && img.platform ? platformString(img.platform) : undefined;
    additions.push({ kind: 'merged', input, image: img.id.toString(), ...(platform ? { platform } : {}), what: 'FLATTEN' });
    chains.push(JSON.stringify(diffIds(img)));
  }
  return { additions, chains };
}

function diffIds(img: ImageModel): string[] {
  return img.layers.map((l) => l.diffId?.toString() ?? '');
}
