import type { Readable, Writable } from 'node:stream';
import { buildModel, portNotes } from './archive/layout.js';
import { type ArchiveModel, type ImageModel, type ImageTarget, type LayoutName, type PlatformImage, targetDigest } from './archive/model.js';
import { type Platform, platformMatches, platformString } from './archive/graph.js';
import { scanArchive } from './archive/scan.js';
import { TarWriter } from './archive/write.js';
import { FdTarget, StreamTarget } from './io/target.js';
import type { Digest } from './digest.js';
import { type ConfigEdit, applyEdits } from './edit/index.js';
import { clampTimes } from './edit/history.js';
import type { Header } from './archive/tar/header.js';
import { ArchiveError, CopyeditError, EditError, ioError } from './errors.js';
import { type OutputCompression, compressInto, outputCompression } from './io/compress.js';
import { type Compression, type InputSource, openInput } from './io/source.js';
import { type OutputSink, openOutput } from './io/sink.js';
import { type DirOutput, type DirSink, dirOutputPath, openDirOutput } from './io/dir-target.js';
import { type JsonObject, field, fieldKey, isJsonObject, jsonObject } from './json/lossless.js';
import { type JsonChange, diffJson } from './json/diff.js';
import { checkTag } from './reference.js';
import { type RewriteRequest, type TargetChange, planRewrite } from './rewrite/propagate.js';
import { selectTargets } from './select.js';
import { EntryHasher, type VerifyReport, assertVerified, verifyWritten } from './verify/index.js';

export interface EditArchiveOptions {
  /** A path, `-` for standard input, or a readable stream of the (possibly compressed) archive. */
  readonly input: string | Readable;
  /**
   * A path (written atomically), `-` for standard output, or a writable stream; `{ dir }`, a path
   * ending in `/` or an existing empty directory: an OCI image layout directory (atomic too).
   */
  readonly output: string | Writable | DirOutput;
  /** Edits, applied in order to every selected image. */
  readonly edits: readonly ConfigEdit[];
  /** Which images to edit: tags, references or image IDs (prefixes). Default: all. */
  readonly images?: readonly string[];
  /** Edit only these platforms of a multi-platform image (default: all it holds). */
  readonly platforms?: readonly Platform[];
  /** Keep only these platforms in the output (and edit them); the others leave with their blobs. */
  readonly onlyPlatforms?: readonly Platform[];
  /** Remove index entries whose manifests the archive does not hold. */
  readonly dropAbsent?: boolean;
  /**
   * SOURCE_DATE_EPOCH (seconds): clamp the image's `created`, every history entry's `created` and
   * the mtime of every tar entry copyedit writes to this time, so reruns give identical archives.
   */
  readonly sourceDateEpoch?: number;
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

/** One platform of an edited image. */
export interface PlatformReport {
  /** `os/architecture[/variant]`, or null when neither the index nor the config says. */
  readonly platform: string | null;
  /** Config digest (the image ID Docker's classic store shows) before and after. */
  readonly oldId: Digest;
  readonly newId: Digest;
  readonly configChanges: readonly JsonChange[];
}

export interface ImageReport {
  /** The names the edit applies to (all the image's names unless it was selected by one). */
  readonly tags: readonly string[];
  /** Tags after the edit (same as `tags` unless retagged). */
  readonly newTags: readonly string[];
  /** Field-level changes of the config, for --dry-run and --json. */
  readonly configChanges: readonly JsonChange[];
  /** Image ID: the config digest of a single-platform image; the index digest of a multi-platform one. */
  readonly oldId: Digest;
  readonly newId: Digest;
  /** What the name points at: the index or manifest digest (the config digest in layouts without index.json). */
  readonly oldDigest: Digest;
  readonly newDigest: Digest;
  readonly changed: boolean;
  readonly edits: readonly string[];
  readonly warnings: readonly string[];
  /** Every platform edited (one for a single-platform image). */
  readonly platforms: readonly PlatformReport[];
  /** Other names of the same image, left on the unedited image because it was selected by name. */
  readonly otherNames: readonly string[];
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
  if (opts.keepOriginal && !tags) throw new RangeError('keepOriginal needs tags: the edited copy must be told apart from the original');
  const dirOut = opts.dryRun ? undefined : await dirOutputPath(opts.output);
  if (dirOut !== undefined && opts.compress && opts.compress !== 'none') throw new RangeError('an OCI layout directory is not compressed as a whole: drop compress, or write an archive file');
  const source = await openInput(opts.input);
  opts.onInput?.(source);
  const fsync = { fsync: opts.fsync !== false };
  const sink: OutputSink | DirSink | undefined = opts.dryRun
    ? undefined
    : await (dirOut !== undefined ? openDirOutput(dirOut, { ...fsync, inputLabel: source.label }) : openOutput(opts.output as string | Writable, fsync)).catch((e: unknown) => {
        source.close(); // stop the input (and any decompressor child) before reporting
        throw e;
      });
  const tarSink = sink && 'stream' in sink ? sink : undefined;
  const compression = tarSink ? outputCompression(opts.compress, opts.output) : 'none';
  const stage = tarSink && compression !== 'none' ? compressInto(compression, tarSink.stream) : undefined;
  // a plain file output takes write(2) calls directly; streams get copies of reused chunks
  const target =
    tarSink &&
    (stage ? new StreamTarget(stage.stream, source.reader.reusesBuffers) : tarSink.fd !== undefined ? new FdTarget(tarSink.fd) : new StreamTarget(tarSink.stream, source.reader.reusesBuffers));
  const writer = sink && 'writer' in sink ? sink.writer : target && new TarWriter(target);
  const edits = opts.sourceDateEpoch === undefined ? opts.edits : [...opts.edits, clampTimes(opts.sourceDateEpoch)];
  const editOpts: EditModelOptions = {
    images: opts.images ?? [],
    history: opts.history !== false,
    annotations: opts.annotations,
    ...(tags ? { tags } : {}),
    ...(opts.keepOriginal ? { keepOriginal: true } : {}),
    ...(opts.platforms?.length ? { platforms: opts.platforms } : {}),
    ...(opts.onlyPlatforms?.length ? { onlyPlatforms: opts.onlyPlatforms } : {}),
    ...(opts.dropAbsent ? { dropAbsent: true } : {}),
  };
  try {
    // --only-platform drops layers that stream past before the index says whose they are: a file
    // is read twice (the first pass reads metadata and skips layer bytes' meaning, not their I/O)
    const skip = sink && opts.onlyPlatforms?.length ? await layersToLeaveOut(opts.input, edits, editOpts) : undefined;
    const hasher = writer && opts.verify ? new EntryHasher() : undefined;
    const entries = await scanArchive(
      source.reader,
      (entry, body) => (writer && !skip?.has(entry.name) ? writer.writeStream(entry, hasher ? hasher.tap(entry, body) : body) : drain(body)),
      source.label,
    );
    source.close();
    const model = buildModel(entries, source.label);
    checkLayerCounts(model, source.label);
    const { request, reports } = editModel(model, edits, editOpts);
    const plan = planRewrite(model, { ...request, ...legacyJsonEdit(edits) });
    const notes: string[] = [];
    if (sink && opts.onlyPlatforms?.length && !skip && plan.unreferencedStreamed.size > 0) {
      notes.push(
        `${plan.unreferencedStreamed.size} layer blobs of the dropped platforms stay in the output, unreferenced (harmless to loaders): they passed before the index on a pipe; give the archive as a file to leave them out`,
      );
    }
    // checked before the metadata is written, so a bad output is never committed
    const verification =
      hasher &&
      sink &&
      verifyWritten(
        entries.filter((e) => !e.data && !skip?.has(e.name)),
        plan.entries,
        hasher,
        sink.label,
      );
    if (verification) assertVerified(verification);
    if (writer && sink) {
      for (const out of plan.entries) await writer.writeBuffer(clampMtime(out.header, out.raw, opts.sourceDateEpoch), out.data, out.raw);
      await writer.finish();
      await stage?.finish();
      await sink.commit();
    }
    const images = reports.map((r, i): ImageReport => {
      const t = plan.targets.get(request.targets[i]!.target);
      const newDigest = t?.digest ?? r.oldDigest;
      const platforms = r.platforms.map((p) => ({ ...p, newId: plan.renamed.get(p.oldId.toString()) ?? p.oldId }));
      const newId = r.oldId.equals(r.oldDigest) ? newDigest : (plan.renamed.get(r.oldId.toString()) ?? r.oldId);
      const retagged = r.newTags.length !== r.tags.length || r.newTags.some((x, j) => x !== r.tags[j]);
      return { ...r, newId, newDigest, platforms, changed: !newDigest.equals(r.oldDigest) || !newId.equals(r.oldId) || retagged };
    });
    return {
      layout: model.layout,
      compression: source.compression,
      outputCompression: sink ? compression : 'none',
      images,
      warnings: [...(source.warnings ?? []), ...model.notes, ...portNotes(model.images, request.configs), ...plan.warnings, ...notes, ...dirNotes(sink)],
      droppedEntries: [...plan.dropped, ...(skip ?? []), ...(sink && 'leftOut' in sink ? sink.leftOut : [])],
      ...(verification ? { verification } : {}),
    };
  } catch (e) {
    stage?.abort();
    source.close();
    await sink?.abort();
    if (e instanceof CopyeditError) throw e;
    const code = (e as NodeJS.ErrnoException)?.code;
    if (sink && (code === 'EPIPE' || code === 'ENOSPC' || code === 'EACCES' || code === 'EIO' || code === 'EDQUOT' || code === 'EFBIG')) throw ioError('write', sink.label, e);
    throw e;
  }
}

/** What an OCI layout directory output left out of the archive (manifest.json and the like), in one line. */
function dirNotes(sink: OutputSink | DirSink | undefined): string[] {
  if (!sink || !('leftOut' in sink)) return [];
  const left = sink.leftOut;
  if (left.length === 0) return [...sink.notes];
  const shown = left.slice(0, 5).join(', ') + (left.length > 5 ? `, and ${left.length - 5} more` : '');
  return [...sink.notes, `${left.length} entr${left.length === 1 ? 'y' : 'ies'} an OCI layout directory does not have (read by docker load only) left out of ${sink.label}: ${shown}`];
}

/** Edits that must reach the legacy `<v1id>/json` files too: build arguments they repeat. */
function legacyJsonEdit(edits: readonly ConfigEdit[]): { legacyJson?: (doc: JsonObject) => JsonObject | undefined } {
  const leaky = edits.filter((e) => e.name === 'history-rm-arg');
  if (leaky.length === 0) return {};
  return {
    legacyJson: (doc) => {
      const r = applyEdits(doc, leaky);
      return r.changed ? r.config : undefined;
    },
  };
}

/** A header copyedit writes anew is no later than SOURCE_DATE_EPOCH; copied headers keep their bytes. */
function clampMtime(h: Header, raw: Buffer | undefined, epoch: number | undefined): Header {
  if (epoch === undefined || raw || h.mtime.getTime() <= epoch * 1000) return h;
  return { ...h, mtime: new Date(epoch * 1000) };
}

/** The layer entries the output will not reference, from a first pass over a file (undefined for a pipe). */
async function layersToLeaveOut(input: string | Readable, edits: readonly ConfigEdit[], o: EditModelOptions): Promise<ReadonlySet<string> | undefined> {
  if (typeof input !== 'string' || input === '-') return undefined;
  const source = await openInput(input);
  try {
    const entries = await scanArchive(source.reader, (_e, body) => drain(body), source.label);
    const model = buildModel(entries, source.label);
    return planRewrite(model, editModel(model, edits, o).request).unreferencedStreamed;
  } finally {
    source.close();
  }
}

async function drain(body: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of body) void _;
}

function checkTags(tags: readonly string[] | undefined): string[] | undefined {
  if (!tags || tags.length === 0) return undefined;
  return tags.map((t) => {
    const r = checkTag(t);
    if ('error' in r) throw new RangeError(`tag ${r.error}`);
    return r.tag;
  });
}

export interface EditModelOptions {
  readonly images?: readonly string[];
  readonly tags?: readonly string[];
  readonly keepOriginal?: boolean;
  readonly history?: boolean;
  readonly annotations?: EditArchiveOptions['annotations'];
  /** Edit only these platforms of a multi-platform image (default: every platform the archive holds). */
  readonly platforms?: readonly Platform[];
  /** Keep only these platforms (and edit them); the others leave the index with their blobs. */
  readonly onlyPlatforms?: readonly Platform[];
  /** Remove index entries whose manifests the archive does not hold. */
  readonly dropAbsent?: boolean;
}

/** What editModel reports per image before the rewrite gives it its new digests. */
export type DraftReport = Omit<ImageReport, 'newId' | 'changed' | 'newDigest' | 'platforms'> & { readonly platforms: readonly Omit<PlatformReport, 'newId'>[] };

/** Decide what changes for each selected image; pure apart from the returned values. */
export function editModel(model: ArchiveModel, edits: readonly ConfigEdit[], o: EditModelOptions = {}): { request: RewriteRequest; reports: DraftReport[] } {
  const selected = selectTargets(model.targets, o.images ?? []);
  if (o.tags && selected.length > 1) {
    throw new EditError(`--tag names one image, but ${selected.length} are selected (${selected.map((s) => targetLabel(s.target)).join(', ')}); pick one with --image`);
  }
  const filter = [...(o.platforms ?? []), ...(o.onlyPlatforms ?? [])];
  const wanted = (p: PlatformImage) => filter.length === 0 || filter.some((w) => platformMatches(p.platform, w));
  if (filter.length > 0 && !selected.some((s) => s.target.platforms.some(wanted))) {
    const have = selected.flatMap((s) => s.target.platforms.map((p) => (p.platform ? platformString(p.platform) : 'unknown')));
    throw new EditError(`--platform ${filter.map(platformString).join(', ')} matches no platform of the selected images; they have: ${[...new Set(have)].join(', ') || 'none'}`);
  }
  const configs = new Map<string, JsonObject>();
  const results = new Map<string, { config: JsonObject; changed: boolean; warnings: string[] }>();
  const edit = (img: ImageModel) => {
    let r = results.get(img.id.toString());
    if (!r) {
      const a = applyEdits(img.config, edits);
      r = { ...a, config: a.changed && o.history !== false ? withHistory(a.config, edits) : a.config };
      results.set(img.id.toString(), r);
      if (a.changed) configs.set(img.id.toString(), r.config);
    }
    return r;
  };
  const annotate = annotationEdit(o.annotations);
  const annotated = new Set<string>();
  const reports: DraftReport[] = [];
  const targets: TargetChange[] = [];
  for (const { target, moving } of selected) {
    const platforms = target.platforms.filter(wanted).map((p) => {
      const r = edit(p.image);
      if (annotate) annotated.add(p.image.id.toString());
      return { platform: p.platform ? platformString(p.platform) : null, oldId: p.image.id, configChanges: diffJson(p.image.config, r.config), warnings: r.warnings };
    });
    targets.push({ target, moving, ...(o.tags ? { newNames: o.tags } : {}) });
    const names = moving === 'all' ? target.names : moving;
    reports.push({
      tags: names,
      newTags: o.tags ?? names,
      oldId: platforms.length === 1 || target.platforms.length === 1 ? (platforms[0]?.oldId ?? target.platforms[0]!.image.id) : targetDigest(target),
      oldDigest: targetDigest(target),
      edits: [...edits.map((e) => e.description), ...(o.tags ? [`tag ${o.tags.join(', ')}`] : [])],
      warnings: [...new Set(platforms.flatMap((p) => p.warnings))],
      configChanges: platforms[0]?.configChanges ?? [],
      platforms: platforms.map(({ warnings: _w, ...p }) => p),
      otherNames: moving === 'all' ? [] : target.names.filter((n) => !moving.includes(n)),
    });
  }
  const request: RewriteRequest = {
    configs,
    targets,
    ...(annotate ? { annotate: { configs: annotated, edit: annotate } } : {}),
    ...(o.keepOriginal ? { keepOriginal: true } : {}),
    ...(o.onlyPlatforms?.length ? { onlyPlatforms: o.onlyPlatforms } : {}),
    ...(o.dropAbsent ? { dropAbsent: true } : {}),
  };
  return { request, reports };
}

function targetLabel(t: ImageTarget): string {
  return t.names[0] ?? targetDigest(t).short;
}

/** Docker's own edits leave a trace in `history`; so do ours (an empty layer, like LABEL or ENV). */
function withHistory(config: JsonObject, edits: readonly ConfigEdit[]): JsonObject {
  const entry = jsonObject();
  // deterministic: the image's own creation time, which --created may have set
  const created = field(config, 'created');
  if (typeof created === 'string') entry.created = created;
  entry.created_by = `copyedit: ${edits.map((e) => e.description).join('; ')}`;
  entry.comment = 'image-copyedit';
  entry.empty_layer = true;
  const out = jsonObject();
  for (const k of Object.keys(config)) out[k] = config[k]!;
  const key = fieldKey(config, 'history') ?? 'history';
  const history = config[key];
  out[key] = [...(Array.isArray(history) ? history : []), entry];
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
    const rootfs = field(img.config, 'rootfs');
    const diffIds = isJsonObject(rootfs) ? field(rootfs, 'diff_ids') : undefined;
    const ids = Array.isArray(diffIds) ? diffIds.length : 0;
    if (ids !== item.layers.length) {
      throw new ArchiveError(`lists ${item.layers.length} layers for ${img.tags[0] ?? img.id.short} but its config has ${ids} diff_ids; docker load would refuse it`, `${label}: manifest.json`);
    }
  });
}
