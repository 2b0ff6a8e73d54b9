/**
 * The patched output: the in-place rewrite (src/rewrite/inplace.ts) rendered onto a kernel copy of
 * the input instead of a stream of every byte (src/io/patch.ts). Only the metadata is read (the
 * layers are seeked over), every replaced or dropped metadata entry is overwritten where it lies by
 * a PAX global header of its exact length, and the new metadata entries are appended. Chosen when
 * it is safe: a plain uncompressed tar file in, a plain file out, no layer bytes change.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { buildModel, portNotes } from '../archive/layout.js';
import { scanArchive } from '../archive/scan.js';
import { BLOCK, type Header, applyExtensions, decodeHeader, encodeHeader, isZeroBlock, padding, parsePax } from '../archive/tar/header.js';
import type { EntryRecord } from '../archive/tar/entry.js';
import { ioError, IoError, UsageError } from '../errors.js';
import { outputCompression } from '../io/compress.js';
import { dirOutputPath } from '../io/dir-target.js';
import type { ByteSource } from '../io/bytes.js';
import { type PatchPlan, type Region, patchable, writePatched } from '../io/patch.js';
import { openOutput } from '../io/sink.js';
import { sniffCompression } from '../io/source.js';
import { planRewrite } from '../rewrite/inplace.js';
import type { OutputEntry } from '../rewrite/request.js';
import { verifyArchive } from '../verify/index.js';
import type { EditArchiveOptions, EditArchiveReport } from './options.js';
import { leftBehind } from './edit-pass.js';
import { clampMtime } from './output.js';
import { checkLayerCounts, editModel, editSettings, inPlaceReports, legacyJsonEdit } from './request.js';

/** How the output is made: `stream` writes every byte; `reflink`/`copy` patch a kernel copy. */
export type CopyMode = 'auto' | 'stream' | 'reflink';
export const COPY_MODES: readonly CopyMode[] = ['auto', 'stream', 'reflink'];

/** Why the patched output cannot be used for these options (undefined: it can). */
export async function unpatchable(opts: EditArchiveOptions): Promise<string | undefined> {
  if (typeof opts.input !== 'string' || opts.input === '-') return 'the input is not a file';
  if (typeof opts.output !== 'string' || opts.output === '-') return 'the output is not a file';
  // a FIFO or a device is never opened here: opening one to look at it would block or break its pipe
  const kind = (p: string) =>
    stat(p).then(
      (s) => (s.isFile() ? 'file' : s.isDirectory() ? 'directory' : 'special'),
      () => 'missing',
    );
  if ((await kind(opts.input)) !== 'file') return 'the input is not a regular file';
  if ((await kind(opts.output)) === 'special') return 'the output is not a regular file';
  if (opts.dryRun) return 'a dry run writes nothing';
  if (opts.format !== undefined || opts.layerCompression !== undefined) return 'a conversion rewrites the layers';
  if (opts.onlyPlatforms?.length) return '--only-platform leaves layers out';
  if ((await dirOutputPath(opts.output)) !== undefined) return 'the output is a directory';
  if (outputCompression(opts.compress, opts.output) !== 'none') return 'the output is compressed';
  return undefined;
}

/**
 * Edit by patching a copy of the input; undefined when the archive itself rules it out (compressed,
 * not a regular file, an entry too large to overwrite by one header, a name twice) and `mode` is
 * `auto`, so the caller streams instead.
 */
export async function patchPass(opts: EditArchiveOptions, tags: string[] | undefined, mode: 'auto' | 'reflink'): Promise<EditArchiveReport | undefined> {
  const input = opts.input as string;
  const refuse = (why: string): undefined => {
    if (mode === 'reflink') throw new UsageError(`--copy reflink: ${why}; use --copy auto (or stream)`);
    return undefined;
  };
  let fd: number;
  try {
    fd = openSync(input, 'r');
  } catch (e) {
    if (mode === 'auto') return undefined; // the stream says what is wrong, as it always has
    throw ioError('read', input, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return refuse(`${input} is not a regular file`);
    const head = Buffer.alloc(8);
    readSync(fd, head, 0, 8, 0);
    if (sniffCompression(head) !== 'none') return refuse(`${input} is compressed`);
    // an empty file: the stream says so in its own words (the scan would call it no tar archive)
    if (st.size === 0) return refuse(`${input} is empty`);
    // the headers first (seeking over the data): an archive of thousands of small entries streams
    // (a header the walk cannot read: the scan says what is wrong in its documented words)
    const located = tryLocate(fd, st.size);
    if (mode === 'auto' && (located === undefined || mostlyMetadata(located, st.size))) return undefined;
    const entries = await scanArchive(new SeekSource(fd, st.size), async () => {}, input);
    const layout = located ?? locate(fd, st.size);
    checkLocated(fd, layout, entries);
    const planned = planPatch(layout, entries, input, opts, tags);
    if (typeof planned === 'string') return refuse(planned);
    const { model, request, reports, plan, patch } = planned;
    const verification = await writeOutput(opts, input, patch, mode);
    return {
      layout: model.layout,
      compression: 'none',
      outputCompression: 'none',
      images: inPlaceReports(model, request, reports, plan),
      warnings: [...model.notes, ...portNotes(model.images, request.configs), ...plan.warnings, ...leftBehind(plan.unreferencedStreamed, false)],
      droppedEntries: [...plan.dropped],
      ...(verification ? { verification } : {}),
    };
  } finally {
    closeSync(fd);
  }
}

/** Plan the edit of the scanned metadata, and where it goes in the copy; a string says why it cannot be patched. */
function planPatch(layout: Layout, entries: EntryRecord[], input: string, opts: EditArchiveOptions, tags: string[] | undefined) {
  const model = buildModel(entries, input);
  checkLayerCounts(model, input);
  const { edits, editOpts } = editSettings(opts, tags);
  const { request, reports } = editModel(model, edits, editOpts);
  const plan = planRewrite(model, { ...request, ...legacyJsonEdit(edits) });
  const patch = patchPlan(entries, layout, plan.entries, opts.sourceDateEpoch);
  return typeof patch === 'string' ? patch : { model, request, reports, plan, patch };
}

/** The kernel copy and the patch, onto the output's temporary file; verified (when asked) before it takes the output's name. */
async function writeOutput(opts: EditArchiveOptions, input: string, patch: PatchPlan, mode: 'auto' | 'reflink') {
  const sink = await openOutput(opts.output as string, { fsync: opts.fsync !== false });
  try {
    if (sink.tempPath === undefined) throw new UsageError(`--copy: ${sink.label} is not a regular file`);
    try {
      writePatched(input, sink.tempPath, patch, mode === 'reflink' ? 'reflink' : 'auto', opts.fsync !== false);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (mode === 'reflink' && (code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EXDEV' || code === 'EINVAL' || code === 'ENOSYS')) {
        throw new IoError(`cannot share ${input}'s extents with ${sink.label} (${code}): its file system has no reflinks, or they are on two file systems; use --copy auto`);
      }
      throw ioError('write', sink.label, e);
    }
    // the report names the output, as a streamed output's does, not its temporary file
    const verification = opts.verify ? { ...(await verifyArchive(sink.tempPath)), label: sink.label } : undefined;
    if (verification && !verification.ok) {
      const { assertVerified } = await import('../verify/index.js');
      assertVerified(verification);
    }
    await sink.commit();
    return verification;
  } catch (e) {
    await sink.abort();
    throw e;
  }
}

/** Where each entry of the input lies: from its first header block (extensions included) to the end of its padded data. */
interface Layout {
  readonly regions: readonly Region[];
  readonly end: number;
}

/**
 * Walk the input's headers (seeking over the data), as the scan read them: one region per entry
 * (a global PAX header is its own item and belongs to none), and where the end blocks begin. Each
 * metadata entry's header bytes are checked against what the scan kept.
 */
function locate(fd: number, size: number): Layout {
  const regions: Region[] = [];
  const blk = Buffer.alloc(BLOCK);
  let pos = 0;
  let start: number | undefined;
  let pax: Record<string, string> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    if (pos + BLOCK > size || readSync(fd, blk, 0, BLOCK, pos) < BLOCK || isZeroBlock(blk)) break;
    const h = decodeHeader(blk);
    const extSize = h.header.size;
    if (h.kind === 'pax-global') {
      pos += BLOCK + extSize + padding(extSize);
      continue;
    }
    start ??= pos;
    if (h.kind === 'pax' || h.kind === 'gnu-long-name' || h.kind === 'gnu-long-link') {
      const data = Buffer.alloc(extSize);
      readSync(fd, data, 0, extSize, pos + BLOCK);
      if (h.kind === 'pax') pax = parsePax(data);
      else if (h.kind === 'gnu-long-name') longName = data.toString('latin1').replace(/\0.*$/s, '');
      else longLink = data.toString('latin1').replace(/\0.*$/s, '');
      pos += BLOCK + extSize + padding(extSize);
      continue;
    }
    const header: Header = applyExtensions(h, pax, longName, longLink);
    const dataSize = header.type === 'file' || header.type === 'contiguous-file' ? header.size : 0;
    pos += BLOCK + dataSize + padding(dataSize);
    regions.push({ offset: start, length: pos - start });
    start = undefined;
    pax = undefined;
    longName = undefined;
    longLink = undefined;
  }
  return { regions, end: pos };
}

function tryLocate(fd: number, size: number): Layout | undefined {
  try {
    return locate(fd, size);
  } catch {
    return undefined;
  }
}

/** Each metadata entry's header bytes, as the scan kept them, are where the walk located its entry. */
function checkLocated(fd: number, layout: Layout, entries: readonly EntryRecord[]): void {
  const { regions } = layout;
  if (regions.length !== entries.length) throw new Error(`internal error: ${regions.length} entries located, the scan read ${entries.length}`);
  for (const e of entries) {
    if (!e.raw || !e.data) continue;
    const back = Buffer.alloc(e.raw.length);
    readSync(fd, back, 0, back.length, regions[e.index]!.offset);
    if (!back.equals(e.raw)) throw new Error(`internal error: the header of ${e.name} is not where it was located`);
  }
}

/**
 * An archive of many small entries (an index of thousands of images: metadata, not layers) is
 * streamed faster than patched: each replaced entry costs the patch a few system calls, each byte
 * the stream a copy. Patched when it has at most MANY_ENTRIES entries or 64 KiB a entry on average.
 */
const MANY_ENTRIES = 1024;
function mostlyMetadata(layout: Layout, size: number): boolean {
  return layout.regions.length > MANY_ENTRIES && layout.regions.length * 64 * 1024 > size;
}

/** Which entries to overwrite and what to append; a string says why the archive cannot be patched. */
function patchPlan(entries: readonly EntryRecord[], layout: Layout, out: readonly OutputEntry[], epoch: number | undefined): PatchPlan | string {
  const kept = new Set<Buffer>();
  for (const o of out) if (o.raw) kept.add(o.raw);
  const names = new Set<string>();
  const regions: Region[] = [];
  const inPlace = new Set<Buffer>();
  for (const e of entries) {
    if (names.has(e.path)) return `the archive holds ${e.name} twice`;
    names.add(e.path);
    if (!e.data) continue; // streamed (a layer): stays where it is
    if (e.raw && kept.has(e.raw)) {
      inPlace.add(e.raw);
      continue;
    }
    const r = layout.regions[e.index]!;
    if (!patchable(r.length)) return `${e.name} is ${r.length} bytes long, more than one PAX header Go reads can cover`;
    regions.push(r);
  }
  const tail: Buffer[] = [];
  for (const o of out) {
    if (o.raw && inPlace.has(o.raw)) continue;
    const header = clampMtime(o.header, undefined, epoch);
    tail.push(encodeHeader({ ...header, size: o.data.length }), o.data, Buffer.alloc(padding(o.data.length)));
  }
  tail.push(Buffer.alloc(2 * BLOCK));
  return { regions, end: layout.end, tail };
}

/** The input file read for its metadata only: data it is not asked for is seeked over. */
class SeekSource implements ByteSource {
  readonly reusesBuffers = true;
  private readonly buf = Buffer.allocUnsafe(1 << 20);
  private pos = 0;

  constructor(
    private readonly fd: number,
    private readonly size: number,
  ) {}

  async read(max: number): Promise<Buffer> {
    const n = readSync(this.fd, this.buf, 0, Math.min(max, this.buf.length), this.pos);
    this.pos += n;
    return this.buf.subarray(0, n);
  }

  skip(n: number): boolean {
    if (this.pos + n > this.size) return false; // read on, and fail as a truncated archive does
    this.pos += n;
    return true;
  }

  close(): void {}
}
