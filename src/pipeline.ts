import type { Readable, Writable } from 'node:stream';
import { buildModel, exposedPortWarnings } from './archive/layout.js';
import type { ArchiveModel, LayoutName } from './archive/model.js';
import { scanArchive } from './archive/scan.js';
import { TarWriter } from './archive/write.js';
import { FdTarget, StreamTarget } from './io/target.js';
import type { Digest } from './digest.js';
import { type ConfigEdit, applyEdits } from './edit/index.js';
import { ArchiveError, CopyeditError, EditError, UsageError, ioError } from './errors.js';
import { type OutputCompression, compressInto, outputCompression } from './io/compress.js';
import { type Compression, type InputSource, openInput } from './io/source.js';
import { openOutput } from './io/sink.js';
import { type JsonObject, jsonObject } from './json/lossless.js';
import { type JsonChange, diffJson } from './json/diff.js';
import { checkTag } from './reference.js';
import { type ImageChange, planRewrite } from './rewrite/propagate.js';
import { selectImages } from './select.js';
import { EntryHasher, type VerifyReport, assertVerified, verifyWritten } from './verify/index.js';

export interface EditArchiveOptions {
  /** A path, `-` for standard input, or a readable stream of the (possibly compressed) archive. */
  readonly input: string | Readable;
  /** A path (written atomically), `-` for standard output, or a writable stream. */
  readonly output: string | Writable;
  /** Edits, applied in order to every selected image. */
  readonly edits: readonly ConfigEdit[];
  /** Which images to edit: tags, references or image IDs (prefixes). Default: all. */
  readonly images?: readonly string[];
  /** New tags for the edited image (needs exactly one selected image). */
  readonly tags?: readonly string[];
  /** Keep the unedited image in the archive as well (needs `tags`). */
  readonly keepOriginal?: boolean;
  /** Append an `empty_layer` history entry describing the edit (default true). */
  readonly history?: boolean;
  /** Manifest annotations to set (OCI layouts) and to remove. */
  readonly annotations?: { readonly set?: Readonly<Record<string, string>>; readonly remove?: readonly string[] };
  /** Read and plan everything, write nothing. */
  readonly dryRun?: boolean;
  /** Compress the output; default: from the output name (`.tar.gz`, `.tgz`, `.tar.zst`), else none. */
  readonly compress?: OutputCompression;
  /** fsync the output file before it replaces the target (default true); false is faster, not crash-safe. */
  readonly fsync?: boolean;
  /** Called with the input source once it is open (for progress display). */
  readonly onInput?: (source: InputSource) => void;
  /** Hash the output as it is written and check every digest before committing it (VerifyError otherwise). */
  readonly verify?: boolean;
}

export interface ImageReport {
  readonly tags: readonly string[];
  /** Tags after the edit (same as `tags` unless retagged). */
  readonly newTags: readonly string[];
  /** Field-level changes of the config, for --dry-run and --json. */
  readonly configChanges: readonly JsonChange[];
  readonly oldId: Digest;
  readonly newId: Digest;
  readonly changed: boolean;
  readonly edits: readonly string[];
  readonly warnings: readonly string[];
}

export interface EditArchiveReport {
  readonly layout: LayoutName;
  /** How the input was compressed. */
  readonly compression: Compression;
  /** How the output was compressed (none for --dry-run). */
  readonly outputCompression: OutputCompression;
  readonly images: readonly ImageReport[];
  /** Archive-level observations (platforms absent from the archive, attestations dropped). */
  readonly warnings: readonly string[];
  readonly droppedEntries: readonly string[];
  /** What `verify` checked in the output (only with `verify`, not for --dry-run). */
  readonly verification?: VerifyReport;
}

/**
 * Read an archive once, stream its layers straight into the output, edit the selected images'
 * configs, and write every metadata entry that must follow. On any failure the output is removed
 * (or, on a pipe, left without its closing metadata, so no loader accepts it).
 */
export async function editArchive(opts: EditArchiveOptions): Promise<EditArchiveReport> {
  const tags = checkTags(opts.tags);
  if (opts.keepOriginal && !tags) throw new UsageError('--keep-original needs --tag: the edited copy must be told apart from the original');
  const source = await openInput(opts.input);
  opts.onInput?.(source);
  const sink = opts.dryRun ? undefined : await openOutput(opts.output, { fsync: opts.fsync !== false }).catch((e: unknown) => {
    source.close(); // stop the input (and any decompressor child) before reporting
    throw e;
  });
  const compression = outputCompression(opts.compress, opts.output);
  const stage = sink && compression !== 'none' ? compressInto(compression, sink.stream) : undefined;
  // a plain file output takes write(2) calls directly; streams get copies of reused chunks
  const target = sink && (stage ? new StreamTarget(stage.stream, source.reader.reusesBuffers) : sink.fd !== undefined ? new FdTarget(sink.fd) : new StreamTarget(sink.stream, source.reader.reusesBuffers));
  const writer = target && new TarWriter(target);
  try {
    const hasher = writer && opts.verify ? new EntryHasher() : undefined;
    const entries = await scanArchive(source.reader, (entry, body) => (writer ? writer.writeStream(entry, hasher ? hasher.tap(entry, body) : body) : drain(body)), source.label);
    source.close();
    const model = buildModel(entries, source.label);
    checkLayerCounts(model, source.label);
    const result = editModel(model, opts.edits, { images: opts.images ?? [], history: opts.history !== false, annotations: opts.annotations, ...(tags ? { tags } : {}) });
    const plan = planRewrite(model, result.changes, { keepOriginal: opts.keepOriginal === true });
    // checked before the metadata is written, so a bad output is never committed
    const verification = hasher && sink && verifyWritten(entries.filter((e) => !e.data), plan.entries, hasher, sink.label);
    if (verification) assertVerified(verification);
    if (writer && sink) {
      for (const out of plan.entries) await writer.writeBuffer(out.header, out.data, out.raw);
      await writer.finish();
      await stage?.finish();
      await sink.commit();
    }
    const images = result.reports.map((r) => {
      const newId = plan.renamed.get(r.oldId.toString()) ?? r.oldId;
      return { ...r, newId, changed: !newId.equals(r.oldId) || r.newTags !== r.tags };
    });
    return {
      layout: model.layout,
      compression: source.compression,
      outputCompression: sink ? compression : 'none',
      images,
      warnings: [...outputNotes(model, result.changes), ...plan.warnings],
      droppedEntries: plan.dropped,
      ...(verification ? { verification } : {}),
    };
  } catch (e) {
    stage?.abort();
    source.close();
    await sink?.abort();
    if (e instanceof CopyeditError) throw e;
    const code = (e as NodeJS.ErrnoException)?.code;
    if (sink && (code === 'EPIPE' || code === 'ENOSPC' || code === 'EACCES' || code === 'EIO')) throw ioError('write', sink.label, e);
    throw e;
  }
}

/** The reader's notes, with the port checks redone on the configs as written (an edit may have fixed them). */
function outputNotes(model: ArchiveModel, changes: ReadonlyMap<string, ImageChange>): string[] {
  const notes = [...model.notes];
  for (const img of model.images) {
    const config = changes.get(img.id.toString())?.config;
    if (!config) continue;
    const name = img.tags[0] ?? img.id.short;
    const stale = `image ${name}: ExposedPorts `;
    const kept = notes.filter((n) => !n.startsWith(stale));
    notes.length = 0;
    notes.push(...kept, ...exposedPortWarnings(name, config));
  }
  return notes;
}

async function drain(body: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of body) void _;
}

function checkTags(tags: readonly string[] | undefined): string[] | undefined {
  if (!tags || tags.length === 0) return undefined;
  return tags.map((t) => {
    const r = checkTag(t);
    if ('error' in r) throw new UsageError(`--tag ${r.error}`);
    return r.tag;
  });
}

export interface EditModelOptions {
  readonly images?: readonly string[];
  readonly tags?: readonly string[];
  readonly history?: boolean;
  readonly annotations?: EditArchiveOptions['annotations'];
}

type DraftReport = Omit<ImageReport, 'newId' | 'changed'>;

/** Decide what changes for each selected image; pure apart from the returned values. */
export function editModel(model: ArchiveModel, edits: readonly ConfigEdit[], o: EditModelOptions = {}): { changes: Map<string, ImageChange>; reports: DraftReport[] } {
  const selected = selectImages(model.images, o.images ?? []);
  if (o.tags && selected.length > 1) {
    throw new EditError(`--tag names one image, but ${selected.length} are selected (${selected.map((i) => i.tags[0] ?? i.id.short).join(', ')}); pick one with --image`);
  }
  const changes = new Map<string, ImageChange>();
  const reports: DraftReport[] = [];
  const annotate = annotationEdit(o.annotations);
  for (const img of selected) {
    const r = applyEdits(img.config, edits);
    const config = r.changed && o.history !== false ? withHistory(r.config, edits) : r.config;
    const change: ImageChange = {
      ...(r.changed ? { config } : {}),
      ...(o.tags ? { tags: o.tags } : {}),
      ...(annotate ? { annotate } : {}),
    };
    if (change.config || change.tags || change.annotate) changes.set(img.id.toString(), change);
    reports.push({
      tags: img.tags,
      newTags: o.tags ?? img.tags,
      oldId: img.id,
      edits: [...edits.map((e) => e.description), ...(o.tags ? [`tag ${o.tags.join(', ')}`] : [])],
      warnings: r.warnings,
      configChanges: diffJson(img.config, config),
    });
  }
  return { changes, reports };
}

/** Docker's own edits leave a trace in `history`; so do ours (an empty layer, like LABEL or ENV). */
function withHistory(config: JsonObject, edits: readonly ConfigEdit[]): JsonObject {
  const entry = jsonObject();
  // deterministic: the image's own creation time, which --created may have set
  if (typeof config.created === 'string') entry.created = config.created;
  entry.created_by = `copyedit: ${edits.map((e) => e.description).join('; ')}`;
  entry.comment = 'image-copyedit';
  entry.empty_layer = true;
  const out = jsonObject();
  for (const k of Object.keys(config)) out[k] = config[k]!;
  out.history = [...(Array.isArray(config.history) ? config.history : []), entry];
  return out;
}

function annotationEdit(a: EditArchiveOptions['annotations']): ((x: JsonObject) => JsonObject) | undefined {
  if (!a || (!a.remove?.length && !Object.keys(a.set ?? {}).length)) return undefined;
  return (before) => {
    const out = jsonObject();
    for (const k of Object.keys(before)) if (!a.remove?.includes(k)) out[k] = before[k]!;
    for (const [k, v] of Object.entries(a.set ?? {})) out[k] = v;
    return out;
  };
}

/** docker load refuses an image whose manifest.json Layers and rootfs.diff_ids differ in length. */
function checkLayerCounts(model: ArchiveModel, label: string): void {
  model.manifestJson?.items.forEach((item, i) => {
    const img = model.manifestJson!.itemImages[i]!;
    const rootfs = img.config.rootfs as JsonObject | undefined;
    const ids = rootfs && Array.isArray(rootfs.diff_ids) ? rootfs.diff_ids.length : 0;
    if (ids !== item.layers.length) {
      throw new ArchiveError(
        `lists ${item.layers.length} layers for ${img.tags[0] ?? img.id.short} but its config has ${ids} diff_ids; docker load would refuse it`,
        `${label}: manifest.json`,
      );
    }
  });
}
