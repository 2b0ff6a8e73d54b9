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
import { rebasePlan } from './rebase-pass.js';
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
  return (opts.addLayers?.length ?? 0) > 0 || opts.removePaths !== undefined || opts.flatten === true || opts.addCaCert !== undefined || opts.rebase !== undefined;
}

/** Plan the request with the layer steps; `input` is the re-readable input (a flatten reads the layers again from it). */
export async function layerSteps(opts: EditArchiveOptions, tags: string[] | undefined, first: FirstPass, input: string, format: TargetFormat, onAdded: (a: AddedLayers) => void): Promise<LayerSteps> {
  const { model } = first;
  if (opts.flatten && (opts.addLayers?.length || opts.removePaths || opts.addCaCert || opts.rebase))
    throw new UsageError('--flatten goes alone: add files or purge paths in a run of their own, before or after it');
  const purge = first.purge ? purgeEdits(opts, model, first.purge) : undefined;
  const flat = opts.flatten ? flattenAdditions(opts, tags, model, input) : undefined;
  const ca = opts.addCaCert ? caAdditions(opts, tags, model, input, opts.addCaCert) : [];
  const rebase = opts.rebase ? await rebasePlan(opts.rebase, model, selectedImages(opts, tags, model)) : undefined;
  const additions = [...(rebase?.additions ?? []), ...(opts.addLayers ?? []), ...(purge?.additions ?? []), ...ca, ...(flat?.additions ?? [])];
  const added = additions.length ? await buildAdded({ ...opts, addLayers: additions }, model, format, first.sniff).finally(() => rebase?.close()) : undefined;
  rebase?.close();
  if (added) onAdded(added);
  const flatEdits = flat && added ? [flattenLayers(new Map(flat.chains.map((c, i) => [c, added.diffIds[i]!.toString()])))] : [];
  const annotations = rebase ? { annotations: { set: { ...opts.annotations?.set, ...rebase.annotations }, remove: opts.annotations?.remove ?? [] } } : {};
  const edits0 = [...opts.edits, ...(rebase?.edits ?? []), ...(purge?.edits ?? []), ...(added?.edits ?? []), ...flatEdits];
  const { edits, editOpts } = editSettings({ ...opts, ...annotations, edits: edits0 }, tags);
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
  const sel = selectedImages(opts, tags, model);
  return { additions: sel.map((s) => ({ kind: 'merged', input, image: s.image, ...(s.platform ? { platform: s.platform } : {}), what: 'FLATTEN' })), chains: sel.map((s) => s.chain) };
}

/** `addCaCert`: one layer per selected image (platform): its own bundles, the certificate appended. */
function caAdditions(opts: EditArchiveOptions, tags: string[] | undefined, model: ArchiveModel, input: string, cert: string): LayerAddition[] {
  const what = `ADD CA CERT ${cert.split('/').pop()}`;
  return selectedImages(opts, tags, model).map((s) => ({ kind: 'ca-cert', cert, input, image: s.image, ...(s.platform ? { platform: s.platform } : {}), chain: s.chain, what }));
}

/** The images (platforms) the run edits, found with a probe edit through the real selection; each with how content finds it and its diff_ids as JSON. */
function selectedImages(opts: EditArchiveOptions, tags: string[] | undefined, model: ArchiveModel): { image: string; platform?: string; chain: string }[] {
  const probe: ConfigEdit = { name: 'probe', description: 'probe', apply: (c) => ({ config: { ...c, '\u0000copyedit-probe': true }, warnings: [] }) };
  const { editOpts } = editSettings({ ...opts, edits: [] }, tags);
  const selected = new Set(editModel(model, [probe], editOpts).request.configs.keys());
  const out: { image: string; platform?: string; chain: string }[] = [];
  const seen = new Set<string>();
  for (const img of model.images) {
    if (!selected.has(img.id.toString()) || seen.has(img.id.toString())) continue;
    seen.add(img.id.toString());
    const target = model.targets.find((t) => t.platforms.some((p) => p.image === img));
    const platform = target && target.platforms.length > 1 && img.platform ? platformString(img.platform) : undefined;
    out.push({ image: img.id.toString(), ...(platform ? { platform } : {}), chain: JSON.stringify(diffIds(img)) });
  }
  return out;
}

function diffIds(img: ImageModel): string[] {
  return img.layers.map((l) => l.diffId?.toString() ?? '');
}
