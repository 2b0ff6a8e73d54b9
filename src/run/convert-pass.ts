/**
 * The passes of a rewrite into another layout or with layers re-encoded. Layers stream past
 * before the metadata says what they are, and a tar header needs the final name and size before
 * the bytes: so a first pass reads the metadata and each streamed entry's first bytes (a pipe is
 * spooled to a temporary file in $TMPDIR first), the rewrite is planned, and the second pass gives
 * each streamed entry its planned action: copy under its new name, re-encode (spooled next to the
 * output while hashed, one layer at a time), or leave out.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline as pump } from 'node:stream/promises';
import { type EntryRecord, derivedHeader, normalizeEntryPath } from '../archive/entry.js';
import { buildModel } from '../archive/layout.js';
import type { ArchiveModel, ImageTarget } from '../archive/model.js';
import { scanArchive } from '../archive/scan.js';
import type { Header } from '../archive/tar/header.js';
import { readSpool, recodeLayer, removeSpool, spoolDir, spoolPath } from '../convert/recode.js';
import { Digest } from '../digest.js';
import { ArchiveError, ioError } from '../errors.js';
import { type Compression, openInput, rawInput, rereadable, sniffCompression } from '../io/source.js';
import type { ConversionPlan, ConvertedLayer, RecodeResult, StreamAction } from '../rewrite/convert.js';
import type { VerifyReport } from '../verify/index.js';
import type { OutputEntry } from '../rewrite/request.js';
import type { AddedLayers } from './add-pass.js';
import { type PurgeScan, purgeScan, scanEntry } from './purge-pass.js';
import type { ConversionReport, EditArchiveOptions } from './options.js';
import { OutputRun, clampMtime, drain, once } from './output.js';
import { checkLayerCounts } from './request.js';

/** The input as a file the passes can each read: the file itself, or a spooled copy of a pipe. */
export interface Rereadable {
  readonly path: string;
  readonly spooled: boolean;
  /** Removes a spooled copy. */
  done(): Promise<void>;
}

export async function rereadableInput(input: EditArchiveOptions['input']): Promise<Rereadable> {
  if (typeof input === 'string' && (await rereadable(input))) return { path: input, spooled: false, done: async () => {} };
  // read once only (a pipe, a FIFO, <(...)): the passes read a copy
  const raw = await rawInput(input); // an input that cannot be opened is named as such
  const path = spoolPath(spoolDir(undefined), 'input');
  try {
    await pump(raw, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
  } catch (e) {
    await removeSpool(path);
    throw ioError('spool the input to', path, e);
  }
  return { path, spooled: true, done: () => removeSpool(path) };
}

/** What the first pass learns: the model, the entries, how each streamed entry is compressed. */
export interface FirstPass {
  readonly model: ArchiveModel;
  readonly entries: readonly EntryRecord[];
  readonly label: string;
  readonly compression: Compression;
  readonly sniff: (e: EntryRecord) => Compression;
  /** `removePaths`: what the tar filter found in each streamed entry. */
  readonly purge?: PurgeScan;
}

/** Pass 1: the metadata, and each streamed entry's compression (from its first bytes). */
export async function firstPass(opts: EditArchiveOptions, input: Rereadable): Promise<FirstPass> {
  const sniffs = new Map<number, Compression>();
  const first = await openInput(input.path);
  const label = !input.spooled ? first.label : typeof opts.input === 'string' && opts.input !== '-' ? opts.input : 'standard input';
  const purge = purgeScan(opts);
  const entries = await scanArchive(
    first.reader,
    async (e, body) => {
      const it = body[Symbol.asyncIterator]();
      const head = await it.next();
      const c = head.done ? 'none' : sniffCompression(Buffer.from(head.value.subarray(0, 8)));
      sniffs.set(e.index, c);
      const rest = (async function* () {
        if (!head.done) yield head.value;
        for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
      })();
      if (purge && !head.done) await scanEntry(purge, e, rest, c, label);
      else for await (const _ of rest);
    },
    label,
  ).finally(() => first.close());
  const model = buildModel(entries, label);
  checkLayerCounts(model, label);
  const sniff = (e: EntryRecord): Compression => (e.data ? sniffCompression(e.data) : (sniffs.get(e.index) ?? 'none'));
  return { model, entries, label, compression: first.compression, sniff, ...(purge ? { purge } : {}) };
}

export interface Written {
  /** The metadata entries written. */
  readonly entries: readonly OutputEntry[];
  readonly layers: ConvertedLayer[];
  readonly roots: ReadonlyMap<ImageTarget, Digest | undefined>;
  readonly warnings: readonly string[];
  readonly run: OutputRun;
  readonly verification?: VerifyReport;
}

/** Pass 2: every streamed entry through its action, then the metadata rendered with the layers' digests. */
export async function writePass(opts: EditArchiveOptions, input: Rereadable, first: FirstPass, conv: ConversionPlan, added: AddedLayers['spools'] = []): Promise<Written> {
  const source = await openInput(input.path);
  opts.onInput?.(source);
  const run = await OutputRun.open(opts, source, true);
  const streamed: EntryRecord[] = [];
  const results = new Map<number, RecodeResult>();
  const act = actor(opts, first.label, conv, run, streamed, results);
  try {
    const again = await scanArchive(source.reader, act, source.label);
    source.close();
    if (again.length !== first.entries.length || again.some((e, i) => e.name !== first.entries[i]!.name)) {
      throw new ArchiveError('changed between the two reads copyedit makes of it (the metadata pass and the writing pass); do not modify the file while copyedit runs', first.label);
    }
    // layers small and JSON-looking enough to have been kept in memory: through the same actions
    for (const e of again) if (e.data && conv.actions.has(e.index)) await act(e, once(e.data));
    // layers copyedit made (--add-file, --add-layer): from their spools, after the input's
    for (const a of added) if (conv.actions.has(a.entry.index)) await act(a.entry, readSpool(a.path));
    const out = conv.finish(results);
    const entries = out.entries.map((o) => ({ ...o, header: clampMtime(o.header, o.raw, opts.sourceDateEpoch) }));
    const verification = await run.verify(streamed, entries);
    await run.commit(entries);
    return { entries, layers: out.layers, roots: out.roots, warnings: out.warnings, run, ...(verification ? { verification } : {}) };
  } catch (e) {
    return run.fail(e, source);
  }
}

/** The handler of the writing pass: applies each streamed entry's action. */
function actor(opts: EditArchiveOptions, label: string, conv: ConversionPlan, run: OutputRun, streamed: EntryRecord[], results: Map<number, RecodeResult>) {
  const dir = spoolDir(opts.output);
  const epoch = opts.sourceDateEpoch;
  const put = async (header: Header, raw: Buffer | undefined, body: AsyncIterable<Buffer>) => {
    const rec: EntryRecord = { index: streamed.length, name: header.name, path: normalizeEntryPath(header.name), header, ...(raw ? { raw } : {}) };
    streamed.push(rec); // the hasher keys its results by this record
    await run.writeStream(rec, body);
  };
  const copy = async (e: EntryRecord, a: Extract<StreamAction, { kind: 'copy' }>, body: AsyncIterable<Buffer>) => {
    const same = a.name === e.name && e.raw;
    const header = same ? e.header : clampMtime(derivedHeader(e.header, a.name), undefined, epoch);
    const hash = a.check ? createHash(a.check.algorithm) : undefined;
    await put(header, same ? e.raw : undefined, hash ? hashing(body, hash) : body);
    if (!a.check || !hash) return;
    const actual = Digest.fromHex(a.check.algorithm, hash.digest('hex'));
    if (!actual.equals(a.check)) {
      throw new ArchiveError(
        `its content hashes to ${actual} but ${a.checkSource ?? "the config's rootfs.diff_ids"} says ${a.check}: the layer or the metadata is damaged (save or download the archive again)`,
        `${label}: ${e.name}`,
      );
    }
  };
  return async (e: EntryRecord, body: AsyncIterable<Buffer>): Promise<void> => {
    const a = conv.actions.get(e.index);
    if (!a) return drain(body);
    if (a.kind === 'copy') return copy(e, a, body);
    const rw = a.filter && a.newDiffId ? { filter: a.filter, newDiffId: a.newDiffId } : {};
    const sp = await recodeLayer(
      body,
      {
        from: a.from,
        to: a.to,
        what: `${label}: ${e.name}`,
        algorithm: a.algorithm,
        ...(a.diffId ? { diffId: a.diffId } : {}),
        ...(opts.compressionLevel !== undefined ? { level: opts.compressionLevel } : {}),
        ...rw,
      },
      spoolPath(dir),
    );
    try {
      results.set(e.index, { digest: sp.digest, size: sp.size });
      const name = typeof a.name === 'string' ? a.name : a.name(sp.digest);
      await put(clampMtime(derivedHeader(e.header, name, sp.size), undefined, epoch), undefined, readSpool(sp.path));
    } finally {
      await removeSpool(sp.path);
    }
  };
}

async function* hashing(body: AsyncIterable<Buffer>, h: ReturnType<typeof createHash>): AsyncIterable<Buffer> {
  for await (const c of body) {
    h.update(c);
    yield c;
  }
}

export function conversionReport(conv: ConversionPlan, layers: readonly ConvertedLayer[]): ConversionReport {
  return { from: conv.from, to: conv.to, layerCompression: conv.layerCompression ?? null, layersRecompressed: conv.recompressed, layers };
}
