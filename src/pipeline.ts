import type { Readable, Writable } from 'node:stream';
import { buildModel, portNotes } from './archive/layout.js';
import { type ArchiveModel, type ImageModel, type ImageTarget, type LayoutName, type PlatformImage, targetDigest } from './archive/model.js';
import { type Platform, platformMatches, platformString } from './archive/graph.js';
import { scanArchive } from './archive/scan.js';
import { TarWriter } from './archive/write.js';
import { type ByteTarget, FdTarget, StreamTarget } from './io/target.js';
import { PipeTarget } from './io/pipe.js';
import type { Digest } from './digest.js';
import { type EntryRecord, derivedHeader, normalizeEntryPath } from './archive/entry.js';
import { type ConversionPlan, type ConvertedLayer, type RecodeResult, type StreamAction, planConversion } from './convert/plan.js';
import { LAYER_COMPRESSIONS, type LayerCompression, TARGET_FORMATS, type TargetFormat, defaultFormat, isDockerMediaType } from './convert/media.js';
import { readSpool, recodeLayer, removeSpool, spoolDir, spoolPath } from './convert/recode.js';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline as pump } from 'node:stream/promises';
import { Digest as DigestClass } from './digest.js';
import { type ConfigEdit, applyEdits } from './edit/index.js';
import { clampTimes } from './edit/history.js';
import type { Header } from './archive/tar/header.js';
import { ArchiveError, CopyeditError, EditError, UsageError, ioError } from './errors.js';
import { type CompressStage, type OutputCompression, compressInto, outputCompression } from './io/compress.js';
import { type Compression, type InputSource, openInput, rawInput, rereadable, sniffCompression } from './io/source.js';
import { type OutputSink, openOutput } from './io/sink.js';
import { type ArchiveWriter, type DirOutput, type DirSink, dirOutputPath, openDirOutput } from './io/dir-target.js';
import { type JsonObject, field, fieldKey, isJsonObject, jsonObject } from './json/lossless.js';
import { type JsonChange, diffJson } from './json/diff.js';
import { checkTag, normalizeReference } from './reference.js';
import { type OutputEntry, type RewritePlan, type RewriteRequest, type TargetChange, planRewrite } from './rewrite/propagate.js';
import { selectTargets } from './select.js';
import { EntryHasher, type VerifyReport, assertVerified, verifyWritten } from './verify/index.js';
import { Readback } from './verify/readback.js';
import { type EngineIdChange, withEngineIds } from './inspect/engine-ids.js';

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
  /**
   * Write the output in this layout (default: the input's own): `docker-legacy` (Docker <= 24),
   * `docker` (Docker 25+: OCI layout plus manifest.json), `oci` (OCI image layout, OCI media types).
   */
  readonly format?: TargetFormat;
  /** Recompress image layers (DiffIDs unchanged, digests and media types updated up the graph). */
  readonly layerCompression?: LayerCompression;
}

/** What a layout conversion or recompression did (only when one was asked for). */
export interface ConversionReport {
  /** The input's layout and the layout written. */
  readonly from: LayoutName;
  readonly to: TargetFormat;
  readonly layerCompression: LayerCompression | null;
  /** Image layers recompressed (planned, for --dry-run). */
  readonly layersRecompressed: number;
  /** Every image layer of the output (with digests after the write; null where not known on a dry run). */
  readonly layers: readonly ConvertedLayer[];
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
  /** The ID each kind of engine shows, before and after (src/inspect/engine-ids.ts): from oldId/newId/oldDigest/newDigest and the model. */
  readonly ids?: EngineIdChange;
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
  /** With `format` or `layerCompression`: the layout written and the layers recompressed. */
  readonly conversion?: ConversionReport;
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
  if (dirOut !== undefined && opts.format === 'docker-legacy') {
    throw new UsageError('an OCI image layout directory cannot hold the docker-legacy layout: write an archive file, or use --format oci (or docker)');
  }
  if (opts.format !== undefined || opts.layerCompression !== undefined) return convertingEdit(opts, tags);
  const source = await openInput(opts.input);
  opts.onInput?.(source);
  const out = opts.dryRun ? undefined : await openWriter(opts, source, source.reader.reusesBuffers);
  const sink = out?.sink;
  const writer = out?.writer;
  const stage = out?.stage;
  const compression = out?.compression ?? 'none';
  const { edits, editOpts } = editSettings(opts, tags);
  const readback = out && opts.verify ? readBack(out.target) : undefined;
  try {
    // --only-platform drops layers that stream past before the index says whose they are: a file
    // is read twice (the first pass reads metadata and skips layer bytes' meaning, not their I/O)
    const skip = sink && opts.onlyPlatforms?.length ? await layersToLeaveOut(opts.input, edits, editOpts) : undefined;
    const hasher = writer && opts.verify ? new EntryHasher({ decompress: true, ...(readback ? { readback } : {}) }) : undefined;
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
      (await verifyWritten(
        entries.filter((e) => !e.data && !skip?.has(e.name)),
        plan.entries,
        hasher,
        sink.label,
      ));
    readback?.close();
    if (verification) assertVerified(verification);
    if (writer && sink) {
      for (const out of plan.entries) await writer.writeBuffer(clampMtime(out.header, out.raw, opts.sourceDateEpoch), out.data, out.raw);
      await writer.finish();
      await stage?.finish();
      await sink.commit();
    }
    const images = withEngineIds(imageReports(reports, request, plan), model, request, plan, model.ociIndex !== undefined ? 'index' : 'manifest.json');
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
    readback?.close();
    stage?.abort();
    source.close();
    await sink?.abort();
    if (e instanceof CopyeditError) throw e;
    const code = (e as NodeJS.ErrnoException)?.code;
    if (sink && (code === 'EPIPE' || code === 'ENOSPC' || code === 'EACCES' || code === 'EIO' || code === 'EDQUOT' || code === 'EFBIG')) throw ioError('write', sink.label, e);
    throw e;
  }
}

/**
 * The output and the writer into it: an OCI layout directory, or a tar archive (a file written
 * atomically, a pipe or a stream, compressed as asked). `reused`: the chunks written may be
 * overwritten once written (a reused read buffer), so a stream must get copies.
 */
async function openWriter(
  opts: EditArchiveOptions,
  source: InputSource,
  reused: boolean,
): Promise<{ sink: OutputSink | DirSink; writer: ArchiveWriter; stage?: CompressStage; compression: OutputCompression; target?: ByteTarget }> {
  const fsync = { fsync: opts.fsync !== false };
  const dirOut = await dirOutputPath(opts.output);
  const sink = await (dirOut !== undefined ? openDirOutput(dirOut, { ...fsync, inputLabel: source.label }) : openOutput(opts.output as string | Writable, fsync)).catch((e: unknown) => {
    source.close(); // stop the input (and any decompressor child) before reporting
    throw e;
  });
  if ('writer' in sink) return { sink, writer: sink.writer, compression: 'none' };
  const compression = outputCompression(opts.compress, opts.output);
  const stage = compression !== 'none' ? compressInto(compression, sink.stream) : undefined;
  // a plain file output takes write(2) calls directly, and so does a pipe on standard output fed
  // from one reused buffer (a file, a pipe); streams get copies of reused chunks. Chunks from a
  // decompressor stay on the stream: their writes then overlap the inflating (on the thread pool),
  // which write(2) calls waited for would not (1.4 GiB of gzip: 4.5 s that way, 6-7 s the other)
  const target = stage
    ? new StreamTarget(stage.stream, reused)
    : sink.fd !== undefined
      ? new FdTarget(sink.fd, sink.writeBehind)
      : sink.pipeFd !== undefined && reused
        ? new PipeTarget(sink.pipeFd, sink.stream)
        : new StreamTarget(sink.stream, reused);
  return { sink, writer: new TarWriter(target), compression, target, ...(stage ? { stage } : {}) };
}

/** `--verify` into a plain file: large entries are hashed by reading them back (see Readback). */
function readBack(target: ByteTarget | undefined): Readback | undefined {
  if (!(target instanceof FdTarget)) return undefined;
  return Readback.open(target.fd, () => target.position);
}

/** What an OCI layout directory output left out of the archive (manifest.json and the like), in one line. */
function dirNotes(sink: OutputSink | DirSink | undefined): string[] {
  if (!sink || !('leftOut' in sink)) return [];
  const left = sink.leftOut;
  if (left.length === 0) return [...sink.notes];
  const shown = left.slice(0, 5).join(', ') + (left.length > 5 ? `, and ${left.length - 5} more` : '');
  return [...sink.notes, `${left.length} entr${left.length === 1 ? 'y' : 'ies'} an OCI layout directory does not have (read by docker load only) left out of ${sink.label}: ${shown}`];
}

function editSettings(opts: EditArchiveOptions, tags: string[] | undefined): { edits: readonly ConfigEdit[]; editOpts: EditModelOptions } {
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
  return { edits, editOpts };
}

/** Each selected image's report, with the digests the rewrite gave it (`root`: its new root digest after a conversion). */
function imageReports(reports: readonly DraftReport[], request: RewriteRequest, plan: RewritePlan, root?: (t: ImageTarget, r: DraftReport) => Digest | undefined): ImageReport[] {
  return reports.map((r, i): ImageReport => {
    const target = request.targets[i]!.target;
    const t = plan.targets.get(target);
    const newDigest = root?.(target, r) ?? t?.digest ?? r.oldDigest;
    const platforms = r.platforms.map((p) => ({ ...p, newId: plan.renamed.get(p.oldId.toString()) ?? p.oldId }));
    const newId = r.oldId.equals(r.oldDigest) && !root ? newDigest : (plan.renamed.get(r.oldId.toString()) ?? r.oldId);
    const retagged = r.newTags.length !== r.tags.length || r.newTags.some((x, j) => x !== r.tags[j]);
    return { ...r, newId, newDigest, platforms, changed: !newDigest.equals(r.oldDigest) || !newId.equals(r.oldId) || retagged };
  });
}

/**
 * Edit and write the archive in another layout, or with its layers recompressed. Layers stream
 * past before the metadata says what they are, and a tar header needs the final name and size
 * before the bytes: so the metadata is read first (a first pass over the file; a pipe is spooled
 * to a temporary file in $TMPDIR first), the edits and the conversion are planned, and the second
 * pass gives each streamed entry its planned action: copy under its new name, recompress (spooled
 * next to the output while hashed, one layer at a time), or leave out.
 */
async function convertingEdit(opts: EditArchiveOptions, tags: string[] | undefined): Promise<EditArchiveReport> {
  if (opts.format !== undefined && !TARGET_FORMATS.includes(opts.format)) throw new RangeError(`format must be one of ${TARGET_FORMATS.join(', ')}`);
  if (opts.layerCompression !== undefined && !LAYER_COMPRESSIONS.includes(opts.layerCompression)) {
    throw new RangeError(`layerCompression must be one of ${LAYER_COMPRESSIONS.join(', ')}`);
  }
  if (opts.layerCompression === 'zstd' && opts.format === 'docker-legacy') {
    throw new UsageError('--layer-compression zstd: the docker-legacy layout (layer.tar files, no media types) cannot say a layer is zstd; add --format oci');
  }
  const { edits, editOpts } = editSettings(opts, tags);
  let inputPath: string;
  let spooled: string | undefined;
  if (typeof opts.input === 'string' && (await rereadable(opts.input))) inputPath = opts.input;
  else {
    // read once only (a pipe, a FIFO, <(...)): the two passes read a copy
    const raw = await rawInput(opts.input); // an input that cannot be opened is named as such
    spooled = spoolPath(spoolDir(undefined), 'input');
    inputPath = spooled;
    try {
      await pump(raw, createWriteStream(spooled, { flags: 'wx', mode: 0o600 }));
    } catch (e) {
      await removeSpool(spooled);
      throw ioError('spool the input to', spooled, e);
    }
  }
  try {
    // pass 1: metadata, and how each streamed entry is compressed (its first bytes)
    const sniffs = new Map<number, Compression>();
    const first = await openInput(inputPath);
    const label = !spooled ? first.label : typeof opts.input === 'string' && opts.input !== '-' ? opts.input : 'standard input';
    const entries = await scanArchive(
      first.reader,
      async (e, body) => {
        let head: Buffer | undefined;
        for await (const c of body) {
          if (!head) head = Buffer.from(c.subarray(0, 8));
        }
        sniffs.set(e.index, head ? sniffCompression(head) : 'none');
      },
      label,
    ).finally(() => first.close());
    const model = buildModel(entries, label);
    checkLayerCounts(model, label);
    const format = opts.format ?? defaultFormat(model.layout);
    if (!opts.layerCompression && isLayoutOf(model, format)) {
      // nothing to convert: the ordinary one-pass edit, from the (spooled) file
      const { format: _f, layerCompression: _l, ...rest } = opts;
      const r = await editArchive({ ...rest, input: inputPath });
      return { ...r, compression: spooled ? first.compression : r.compression, conversion: { from: model.layout, to: format, layerCompression: null, layersRecompressed: 0, layers: [] } };
    }
    const { request, reports } = editModel(model, edits, editOpts);
    const plan = planRewrite(model, { ...request, ...legacyJsonEdit(edits) });
    const after = modelAfter(model, plan, label);
    const sniff = (e: EntryRecord): Compression => (e.data ? sniffCompression(e.data) : (sniffs.get(e.index) ?? 'none'));
    const conv = planConversion(after, model.layout, { format, layerCompression: opts.layerCompression }, sniff);
    const warnings = [...model.notes, ...portNotes(model.images, request.configs), ...plan.warnings, ...conv.warnings];
    if (opts.dryRun) {
      const planned = conv.finish(new Map());
      return {
        layout: model.layout,
        compression: first.compression,
        outputCompression: 'none',
        // recompressed layers' digests are not known without compressing them: no new root digest then
        images: withEngineIds(
          imageReports(reports, request, plan, conv.recompressed > 0 ? undefined : rootFinder(after, planned.roots, plan)),
          model,
          request,
          plan,
          conv.recompressed > 0 ? 'unknown' : format !== 'docker-legacy' ? 'index' : 'manifest.json',
        ),
        warnings,
        droppedEntries: [...plan.dropped, ...plan.unreferencedStreamed],
        conversion: conversionReport(conv, planned.layers, true),
      };
    }
    const written = await writeConverted(opts, inputPath, label, entries, conv);
    return {
      layout: model.layout,
      compression: first.compression,
      outputCompression: written.compression,
      images: withEngineIds(
        imageReports(reports, request, plan, rootFinder(after, written.roots, plan)),
        model,
        request,
        plan,
        format !== 'docker-legacy' ? 'index' : conv.recompressed > 0 ? 'unknown' : 'manifest.json',
      ),
      warnings: [...warnings, ...written.notes],
      droppedEntries: [...plan.dropped, ...plan.unreferencedStreamed, ...written.leftOut],
      conversion: conversionReport(conv, written.layers, false),
      ...(written.verification ? { verification: written.verification } : {}),
    };
  } finally {
    if (spooled) await removeSpool(spooled);
  }
}

/** The second pass: every streamed entry through its action, then the generated metadata. */
async function writeConverted(
  opts: EditArchiveOptions,
  inputPath: string,
  label: string,
  before: readonly EntryRecord[],
  conv: ConversionPlan,
): Promise<{
  entries: OutputEntry[];
  layers: ConvertedLayer[];
  roots: ReadonlyMap<ImageTarget, Digest>;
  compression: OutputCompression;
  verification?: VerifyReport;
  notes: string[];
  leftOut: readonly string[];
}> {
  const source = await openInput(inputPath);
  opts.onInput?.(source);
  const { sink, writer, stage, compression, target } = await openWriter(opts, source, true);
  const readback = opts.verify ? readBack(target) : undefined;
  const hasher = opts.verify ? new EntryHasher({ decompress: true, ...(readback ? { readback } : {}) }) : undefined;
  const streamed: EntryRecord[] = [];
  const results = new Map<number, RecodeResult>();
  const dir = spoolDir(opts.output);
  const epoch = opts.sourceDateEpoch;
  const put = async (e: EntryRecord, header: Header, raw: Buffer | undefined, body: AsyncIterable<Buffer>) => {
    const rec: EntryRecord = { index: streamed.length, name: header.name, path: normalizeEntryPath(header.name), header, ...(raw ? { raw } : {}) };
    streamed.push(rec); // the hasher keys its results by this record
    await writer.writeStream(rec, hasher ? hasher.tap(rec, body) : body);
    void e;
  };
  const act = async (e: EntryRecord, body: AsyncIterable<Buffer>): Promise<void> => {
    const a: StreamAction | undefined = conv.actions.get(e.index);
    if (!a) return drain(body);
    if (a.kind === 'copy') {
      const same = a.name === e.name && e.raw;
      const header = same ? e.header : clampMtime(derivedHeader(e.header, a.name), undefined, epoch);
      const hash = a.check ? createHash(a.check.algorithm) : undefined;
      await put(e, header, same ? e.raw : undefined, hash ? hashing(body, hash) : body);
      if (a.check && hash) {
        const actual = DigestClass.fromHex(a.check.algorithm, hash.digest('hex'));
        if (!actual.equals(a.check)) {
          throw new ArchiveError(
            `its content hashes to ${actual} but ${a.checkSource ?? "the config's rootfs.diff_ids"} says ${a.check}: the layer or the metadata is damaged (save or download the archive again)`,
            `${label}: ${e.name}`,
          );
        }
      }
      return;
    }
    const sp = await recodeLayer(body, { from: a.from, to: a.to, what: `${label}: ${e.name}`, algorithm: a.algorithm, ...(a.diffId ? { diffId: a.diffId } : {}) }, spoolPath(dir));
    try {
      results.set(e.index, { digest: sp.digest, size: sp.size });
      const header = clampMtime(derivedHeader(e.header, a.name(sp.digest), sp.size), undefined, epoch);
      await put(e, header, undefined, readSpool(sp.path));
    } finally {
      await removeSpool(sp.path);
    }
  };
  try {
    const again = await scanArchive(source.reader, act, source.label);
    source.close();
    if (again.length !== before.length || again.some((e, i) => e.name !== before[i]!.name)) {
      throw new ArchiveError('changed between the two reads copyedit makes of it (the metadata pass and the writing pass); do not modify the file while copyedit runs', label);
    }
    // layers small and JSON-looking enough to have been kept in memory: through the same actions
    for (const e of again) if (e.data && conv.actions.has(e.index)) await act(e, once(e.data));
    const out = conv.finish(results);
    const entries = out.entries.map((o) => ({ ...o, header: clampMtime(o.header, o.raw, epoch) }));
    const verification = hasher ? await verifyWritten(streamed, entries, hasher, sink.label) : undefined;
    readback?.close();
    if (verification) assertVerified(verification);
    for (const o of entries) await writer.writeBuffer(o.header, o.data, o.raw);
    await writer.finish();
    await stage?.finish();
    await sink.commit();
    return { entries, layers: out.layers, roots: out.roots, compression, notes: dirNotes(sink), leftOut: 'leftOut' in sink ? sink.leftOut : [], ...(verification ? { verification } : {}) };
  } catch (e) {
    readback?.close();
    stage?.abort();
    source.close();
    await sink.abort();
    if (e instanceof CopyeditError) throw e;
    const code = (e as NodeJS.ErrnoException)?.code;
    if (code === 'EPIPE' || code === 'ENOSPC' || code === 'EACCES' || code === 'EIO' || code === 'EDQUOT' || code === 'EFBIG') throw ioError('write', sink.label, e);
    throw e;
  }
}

async function* once(b: Buffer): AsyncIterable<Buffer> {
  yield b;
}

async function* hashing(body: AsyncIterable<Buffer>, h: ReturnType<typeof createHash>): AsyncIterable<Buffer> {
  for await (const c of body) {
    h.update(c);
    yield c;
  }
}

/** The archive as the edit plan leaves it: the streamed entries still referenced, then the metadata entries planned. */
function modelAfter(model: ArchiveModel, plan: RewritePlan, label: string): ArchiveModel {
  const kept: EntryRecord[] = model.entries.filter((e) => !e.data && !plan.unreferencedStreamed.has(e.name));
  let i = model.entries.length;
  for (const o of plan.entries) {
    kept.push({ index: i++, name: o.header.name, path: normalizeEntryPath(o.header.name), header: { ...o.header, size: o.data.length }, data: o.data, ...(o.raw ? { raw: o.raw } : {}) });
  }
  return buildModel(kept, label);
}

/** Is the archive already in `format` (so there is nothing to convert)? */
function isLayoutOf(model: ArchiveModel, format: TargetFormat): boolean {
  if (format === 'docker-legacy') return model.layout === 'docker-legacy';
  if (format === 'docker') return model.layout === 'docker-oci';
  if (model.layout !== 'oci') return false;
  for (const n of model.graph.nodes.values()) {
    if (isDockerMediaType(n.mediaType)) return false;
    if (n.kind === 'manifest' && (isDockerMediaType(n.config?.mediaType) || n.layers.some((l) => isDockerMediaType(l.mediaType)))) return false;
    if (n.kind === 'index' && n.children.some((c) => isDockerMediaType(c.mediaType))) return false;
  }
  return true;
}

/** A selected image's new root digest: the output root of the target that carries its (new) names, or its config. */
function rootFinder(after: ArchiveModel, roots: ReadonlyMap<ImageTarget, Digest>, plan: RewritePlan): (t: ImageTarget, r: DraftReport) => Digest | undefined {
  return (t, r) => {
    const ids = new Set(t.platforms.map((p) => (plan.renamed.get(p.image.id.toString()) ?? p.image.id).toString()));
    const wanted = new Set(r.newTags.map(normalizeReference));
    const holds = (x: ImageTarget) => x.platforms.some((p) => ids.has(p.image.id.toString()));
    const post = after.targets.find((x) => holds(x) && x.names.some((n) => wanted.has(normalizeReference(n)))) ?? after.targets.find((x) => holds(x) && (wanted.size === 0 || x.names.length === 0));
    return post ? roots.get(post) : undefined;
  };
}

function conversionReport(conv: ConversionPlan, layers: readonly ConvertedLayer[], _dry: boolean): ConversionReport {
  return { from: conv.from, to: conv.to, layerCompression: conv.layerCompression ?? null, layersRecompressed: conv.recompressed, layers };
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
