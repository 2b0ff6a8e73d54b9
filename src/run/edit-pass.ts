/**
 * The edit that keeps the archive's layout: one pass over the input, layers written the moment
 * they stream past (header bytes unchanged), metadata rewritten at the end. `--only-platform` on
 * a file adds a first pass that finds the layers the output will not reference.
 */
import type { Readable } from 'node:stream';
import { buildModel, portNotes } from '../archive/layout.js';
import { scanArchive } from '../archive/scan.js';
import type { ConfigEdit } from '../edit/index.js';
import { type InputSource, openInput, rereadable } from '../io/source.js';
import { planRewrite } from '../rewrite/inplace.js';
import type { EditArchiveOptions, EditArchiveReport } from './options.js';
import { OutputRun, clampMtime, drain } from './output.js';
import { type EditModelOptions, checkLayerCounts, editModel, editSettings, inPlaceReports, legacyJsonEdit } from './request.js';

/** Edit `source` into the output of `opts` (none on a dry run), in one pass. */
export async function editPass(opts: EditArchiveOptions, tags: string[] | undefined, source: InputSource): Promise<EditArchiveReport> {
  opts.onInput?.(source);
  const run = opts.dryRun ? undefined : await OutputRun.open(opts, source, source.reader.reusesBuffers);
  const { edits, editOpts } = editSettings(opts, tags);
  try {
    // --only-platform drops layers that stream past before the index says whose they are: a file
    // is read twice (the first pass reads metadata and skips layer bytes' meaning, not their I/O)
    const skip = run && opts.onlyPlatforms?.length ? await layersToLeaveOut(opts.input, edits, editOpts) : undefined;
    const entries = await scanArchive(source.reader, (entry, body) => (run && !skip?.has(entry.name) ? run.writeStream(entry, body) : drain(body)), source.label);
    source.close();
    const model = buildModel(entries, source.label);
    checkLayerCounts(model, source.label);
    const { request, reports } = editModel(model, edits, editOpts);
    const plan = planRewrite(model, { ...request, ...legacyJsonEdit(edits) });
    const notes = run && !skip ? leftBehind(plan.unreferencedStreamed, opts.onlyPlatforms !== undefined && opts.onlyPlatforms.length > 0) : [];
    const metadata = plan.entries.map((o) => ({ ...o, header: clampMtime(o.header, o.raw, opts.sourceDateEpoch) }));
    // checked before the metadata is written, so a bad output is never committed
    const verification = await run?.verify(
      entries.filter((e) => !e.data && !skip?.has(e.name)),
      metadata,
    );
    await run?.commit(metadata);
    return {
      layout: model.layout,
      compression: source.compression,
      outputCompression: run ? run.compression : 'none',
      images: inPlaceReports(model, request, reports, plan),
      warnings: [...(source.warnings ?? []), ...model.notes, ...portNotes(model.images, request.configs), ...plan.warnings, ...notes, ...(run?.notes() ?? [])],
      droppedEntries: [...plan.dropped, ...(skip ?? []), ...(run?.leftOut() ?? [])],
      ...(verification ? { verification } : {}),
    };
  } catch (e) {
    if (!run) {
      source.close();
      throw e;
    }
    return run.fail(e, source);
  }
}

/** Blobs the output no longer references but that were written before the metadata said so. */
export function leftBehind(unreferenced: ReadonlySet<string>, onlyPlatforms: boolean): string[] {
  if (unreferenced.size === 0) return [];
  if (onlyPlatforms) {
    return [
      `${unreferenced.size} layer blobs of the dropped platforms stay in the output, unreferenced (harmless to loaders): they passed before the index on a pipe; give the archive as a file to leave them out`,
    ];
  }
  const some = [...unreferenced].slice(0, 3).join(', ');
  return [
    `${unreferenced.size} blob(s) no longer referenced stay in the output, unreferenced (harmless to loaders, nothing names them): ${some}${unreferenced.size > 3 ? ', ...' : ''}; they streamed past before the metadata that drops them`,
  ];
}

/**
 * The layer entries the output will not reference, from a first pass over a file (undefined for
 * what can be read once only: a pipe, a FIFO, `<(...)`; a second reader there would take bytes
 * from the edit's own).
 */
async function layersToLeaveOut(input: string | Readable, edits: readonly ConfigEdit[], o: EditModelOptions): Promise<ReadonlySet<string> | undefined> {
  if (typeof input !== 'string' || !(await rereadable(input))) return undefined;
  const source = await openInput(input);
  try {
    const entries = await scanArchive(source.reader, (_e, body) => drain(body), source.label);
    const model = buildModel(entries, source.label);
    return planRewrite(model, editModel(model, edits, o).request).unreferencedStreamed;
  } finally {
    source.close();
  }
}
