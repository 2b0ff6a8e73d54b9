import type { Readable, Writable } from 'node:stream';
import { buildModel } from './archive/layout.js';
import type { ArchiveModel, LayoutName } from './archive/model.js';
import { scanArchive } from './archive/scan.js';
import { TarWriter } from './archive/write.js';
import type { Digest } from './digest.js';
import { type ConfigEdit, applyEdits } from './edit/index.js';
import { ArchiveError, CopyeditError, ioError } from './errors.js';
import { type Compression, openInput } from './io/source.js';
import { openOutput } from './io/sink.js';
import type { JsonObject } from './json/lossless.js';
import { planRewrite } from './rewrite/propagate.js';
import { selectImages } from './select.js';

export interface EditArchiveOptions {
  /** A path, `-` for standard input, or a readable stream of the (possibly compressed) archive. */
  readonly input: string | Readable;
  /** A path (written atomically), `-` for standard output, or a writable stream. */
  readonly output: string | Writable;
  /** Edits, applied in order to every selected image. */
  readonly edits: readonly ConfigEdit[];
  /** Which images to edit: tags, references or image IDs (prefixes). Default: all. */
  readonly images?: readonly string[];
}

export interface ImageReport {
  readonly tags: readonly string[];
  readonly oldId: Digest;
  readonly newId: Digest;
  readonly changed: boolean;
  readonly edits: readonly string[];
  readonly warnings: readonly string[];
}

export interface EditArchiveReport {
  readonly layout: LayoutName;
  readonly compression: Compression;
  readonly images: readonly ImageReport[];
  /** Archive-level observations (platforms absent from the archive, attestations dropped). */
  readonly warnings: readonly string[];
  readonly droppedEntries: readonly string[];
}

/**
 * Read an archive once, stream its layers straight into the output, edit the selected images'
 * configs, and write every metadata entry that must follow. On any failure the output is removed
 * (or, on a pipe, left without its closing metadata, so no loader accepts it).
 */
export async function editArchive(opts: EditArchiveOptions): Promise<EditArchiveReport> {
  const source = await openInput(opts.input);
  const sink = await openOutput(opts.output);
  const writer = new TarWriter(sink.stream);
  try {
    const entries = await scanArchive(source.stream, (entry, body) => writer.writeStream(entry.header, body), source.label);
    const model = buildModel(entries, source.label);
    const result = editModel(model, opts.edits, opts.images ?? []);
    const plan = planRewrite(model, result.newConfigs);
    for (const out of plan.entries) await writer.writeBuffer(out.header, out.data);
    await writer.finish();
    await sink.commit();
    const images = result.reports.map((r) => {
      const newId = plan.renamed.get(r.oldId.toString()) ?? r.oldId;
      return { ...r, newId, changed: !newId.equals(r.oldId) };
    });
    return {
      layout: model.layout,
      compression: source.compression,
      images,
      warnings: [...model.notes, ...plan.warnings],
      droppedEntries: plan.dropped,
    };
  } catch (e) {
    writer.abort();
    source.stream.destroy();
    await sink.abort();
    if (e instanceof CopyeditError) throw e;
    const code = (e as NodeJS.ErrnoException)?.code;
    if (code === 'EPIPE' || code === 'ENOSPC' || code === 'EACCES' || code === 'EIO') throw ioError('write', sink.label, e);
    throw e;
  }
}

/** Apply edits to the selected images of a model; pure apart from the returned map. */
export function editModel(
  model: ArchiveModel,
  edits: readonly ConfigEdit[],
  queries: readonly string[],
): { newConfigs: Map<string, JsonObject>; reports: Omit<ImageReport, 'newId' | 'changed'>[] } {
  const selected = selectImages(model.images, queries);
  const newConfigs = new Map<string, JsonObject>();
  const reports: Omit<ImageReport, 'newId' | 'changed'>[] = [];
  for (const img of selected) {
    const r = applyEdits(img.config, edits);
    if (r.changed) newConfigs.set(img.id.toString(), r.config);
    reports.push({ tags: img.tags, oldId: img.id, edits: edits.map((e) => e.description), warnings: r.warnings });
  }
  checkLayerCounts(model);
  return { newConfigs, reports };
}

/** docker load refuses an image whose manifest.json Layers and rootfs.diff_ids differ in length. */
function checkLayerCounts(model: ArchiveModel): void {
  model.manifestJson?.items.forEach((item, i) => {
    const img = model.manifestJson!.itemImages[i]!;
    const rootfs = img.config.rootfs as JsonObject | undefined;
    const ids = rootfs && Array.isArray(rootfs.diff_ids) ? rootfs.diff_ids.length : 0;
    if (ids !== item.layers.length) {
      throw new ArchiveError(
        `lists ${item.layers.length} layers for ${img.tags[0] ?? img.id.short} but its config has ${ids} diff_ids; docker load would refuse it`,
        'manifest.json',
      );
    }
  });
}
