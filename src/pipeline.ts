/**
 * `editArchive`, the library's entry point: checks the options and runs the passes of the mode
 * they ask for. An edit that keeps the layout is one pass (edit-pass.ts); a conversion or a
 * recompression is a metadata pass, then the writing pass (convert-pass.ts); both rewrite through
 * the one fold of src/rewrite.
 */
import { isLayoutOf, planConversion } from './rewrite/convert.js';
import { LAYER_COMPRESSIONS, TARGET_FORMATS, defaultFormat } from './convert/media.js';
import { portNotes } from './archive/layout.js';
import { UsageError } from './errors.js';
import { LAYER_LEVELS } from './codec/index.js';
import { dirOutputPath } from './io/dir-target.js';
import { openInput } from './io/source.js';
import { conversionReport, firstPass, rereadableInput, writePass } from './run/convert-pass.js';
import { editPass } from './run/edit-pass.js';
import { registryEdit, touchesRegistry } from './run/registry-pass.js';
import type { AddedLayers } from './run/add-pass.js';
import { changesLayers, layerSteps } from './run/layer-steps.js';
import { withEngineIds } from './inspect/engine-ids.js';
import { COPY_MODES, patchPass, unpatchable } from './run/patch-pass.js';
import { EDIT_ARCHIVE_OPTIONS, type EditArchiveOptions, type EditArchiveReport } from './run/options.js';
import { checkOptions as checkKeys } from './options-check.js';
import { checkTags, imageReports } from './run/request.js';

export type { ConversionReport, EditArchiveOptions, EditArchiveReport, ImageReport, PlatformReport } from './run/options.js';
export { type DraftReport, type EditModelOptions, editModel } from './run/request.js';

/**
 * Read an archive once, stream its layers straight into the output, edit the selected images'
 * configs, and write every metadata entry that must follow. On any failure the output is removed
 * (or, on a pipe, left without its closing metadata, so no loader accepts it).
 */
export async function editArchive(opts: EditArchiveOptions): Promise<EditArchiveReport> {
  checkKeys(opts, EDIT_ARCHIVE_OPTIONS, 'editArchive');
  if (touchesRegistry(opts)) return registryEdit(opts, editArchive);
  const tags = checkTags(opts.tags);
  await checkOptions(opts, tags);
  const layered = changesLayers(opts);
  if (opts.format === undefined && opts.layerCompression === undefined && !layered) {
    // the default (auto): a patched copy where that is safe (patch-pass.ts), the stream otherwise
    const copy = opts.copy ?? 'auto';
    const patched = copy !== 'stream' ? await patchedEdit(opts, tags, copy) : undefined;
    return patched ?? editPass(opts, tags, await openInput(opts.input));
  }
  const input = await rereadableInput(opts.input);
  let added: AddedLayers | undefined;
  try {
    const first = await firstPass(opts, input);
    const { model } = first;
    const format = opts.format ?? defaultFormat(model.layout);
    const nothing = { from: model.layout, to: format, layerCompression: null, layersRecompressed: 0, layers: [] };
    if (!opts.layerCompression && !layered && isLayoutOf(model, format)) {
      // nothing to convert: the ordinary one-pass edit, from the (spooled) file
      const r = await editPass(opts, tags, await openInput(input.path));
      return { ...r, compression: first.compression, conversion: nothing };
    }
    const steps = await layerSteps(opts, tags, first, input.path, format, (a) => {
      added = a;
    });
    const { request, reports } = steps;
    const conv = planConversion(model, request, model.layout, { format, layerCompression: opts.layerCompression, ...(layered ? steps.convert : {}) }, first.sniff);
    const warnings = [...model.notes, ...portNotes(model.images, request.configs), ...steps.warnings];
    if (opts.dryRun) {
      // re-encoded layers' digests are not known without compressing them: their roots stay unknown
      const planned = conv.finish(new Map());
      return {
        layout: model.layout,
        compression: first.compression,
        outputCompression: 'none',
        images: withEngineIds(
          imageReports(reports, request, conv.renamed, (t) => conv.roots.get(t)),
          model,
          request,
          { renamed: conv.renamed, entries: planned.entries },
          conv.recompressed > 0 ? 'unknown' : format !== 'docker-legacy' ? 'index' : 'manifest.json',
        ),
        warnings: [...warnings, ...planned.warnings],
        droppedEntries: conv.dropped,
        conversion: conversionReport(conv, planned.layers),
      };
    }
    const w = await writePass(opts, input, first, conv, added?.spools);
    return {
      layout: model.layout,
      compression: first.compression,
      outputCompression: w.run.compression,
      images: withEngineIds(
        imageReports(reports, request, conv.renamed, (t) => w.roots.get(t)),
        model,
        request,
        { renamed: conv.renamed, entries: w.entries },
        format !== 'docker-legacy' ? 'index' : conv.recompressed > 0 ? 'unknown' : 'manifest.json',
      ),
      warnings: [...warnings, ...w.warnings, ...w.run.notes()],
      droppedEntries: [...conv.dropped, ...w.run.leftOut()],
      conversion: conversionReport(conv, w.layers),
      ...(w.verification ? { verification: w.verification } : {}),
    };
  } finally {
    await added?.done();
    await input.done();
  }
}

/** The patched output (`copy`), or undefined to stream (`auto` on an archive that cannot be patched). */
async function patchedEdit(opts: EditArchiveOptions, tags: string[] | undefined, mode: 'auto' | 'reflink'): Promise<EditArchiveReport | undefined> {
  const why = await unpatchable(opts);
  if (why === undefined) return patchPass(opts, tags, mode);
  if (mode === 'reflink') throw new UsageError(`--copy reflink: ${why}; use --copy auto (or stream)`);
  return undefined;
}

/** What the options cannot ask for together, refused before anything is read. */
async function checkOptions(opts: EditArchiveOptions, tags: string[] | undefined): Promise<void> {
  if (opts.keepOriginal && !tags) throw new RangeError('keepOriginal needs tags: the edited copy must be told apart from the original');
  const dirOut = opts.dryRun ? undefined : await dirOutputPath(opts.output);
  if (dirOut !== undefined && opts.compress && opts.compress !== 'none') throw new RangeError('an OCI layout directory is not compressed as a whole: drop compress, or write an archive file');
  if (dirOut !== undefined && opts.format === 'docker-legacy') {
    throw new UsageError('an OCI image layout directory cannot hold the docker-legacy layout: write an archive file, or use --format oci (or docker)');
  }
  if (opts.copy !== undefined && !COPY_MODES.includes(opts.copy)) throw new RangeError(`copy must be one of ${COPY_MODES.join(', ')}`);
  if (opts.format !== undefined && !TARGET_FORMATS.includes(opts.format)) throw new RangeError(`format must be one of ${TARGET_FORMATS.join(', ')}`);
  if (opts.layerCompression !== undefined && !LAYER_COMPRESSIONS.includes(opts.layerCompression)) {
    throw new RangeError(`layerCompression must be one of ${LAYER_COMPRESSIONS.join(', ')}`);
  }
  if (opts.layerCompression === 'zstd' && opts.format === 'docker-legacy') {
    throw new UsageError('--layer-compression zstd: the docker-legacy layout (layer.tar files, no media types) cannot say a layer is zstd; add --format oci');
  }
  checkLevel(opts);
}

/** `compressionLevel` needs a layer compression, and a level it has. */
function checkLevel(opts: EditArchiveOptions): void {
  const level = opts.compressionLevel;
  if (level === undefined) return;
  const kind = opts.layerCompression;
  if (kind !== 'gzip' && kind !== 'zstd') throw new UsageError(`--compression-level ${level}: give --layer-compression gzip or zstd too (the level is the layers')`);
  const r = LAYER_LEVELS[kind];
  if (!Number.isInteger(level) || level < r.min || level > r.max) {
    throw new UsageError(`--compression-level ${level}: ${kind} levels are ${r.min} to ${r.max} (default ${r.default})`);
  }
}
