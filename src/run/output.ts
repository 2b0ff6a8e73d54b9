/**
 * One output being written, and everything that serves it: the sink (a file written atomically,
 * a pipe, a stream, or an OCI layout directory), the tar writer, the compression stage, the
 * hasher of `--verify` and the read-back of a file output. Every pass writes through it; it has
 * one commit path and one abort path, and maps a write's errno to an IoError in one place.
 */
import type { Writable } from 'node:stream';
import type { EntryRecord } from '../archive/entry.js';
import type { Header } from '../archive/tar/header.js';
import { TarWriter } from '../archive/write.js';
import { CopyeditError, ioError } from '../errors.js';
import { type CompressStage, type OutputCompression, compressInto, outputCompression } from '../io/compress.js';
import { type ArchiveWriter, type DirSink, dirOutputPath, openDirOutput } from '../io/dir-target.js';
import { PipeTarget } from '../io/pipe.js';
import { type OutputSink, openOutput } from '../io/sink.js';
import type { InputSource } from '../io/source.js';
import { type ByteTarget, FdTarget, StreamTarget } from '../io/target.js';
import type { OutputEntry } from '../rewrite/request.js';
import { EntryHasher, type VerifyReport, assertVerified, verifyWritten } from '../verify/index.js';
import { Readback } from '../verify/readback.js';
import type { EditArchiveOptions } from './options.js';

/** The errno values of a failed write that mean the output, not copyedit, is at fault. */
const WRITE_ERRNOS = new Set(['EPIPE', 'ENOSPC', 'EACCES', 'EIO', 'EDQUOT', 'EFBIG']);

export class OutputRun {
  private constructor(
    readonly sink: OutputSink | DirSink,
    readonly writer: ArchiveWriter,
    readonly compression: OutputCompression,
    private readonly stage: CompressStage | undefined,
    private readonly readback: Readback | undefined,
    private readonly hasher: EntryHasher | undefined,
  ) {}

  /**
   * Open the output of `opts`: an OCI layout directory, or a tar archive (a file written
   * atomically, a pipe or a stream, compressed as asked). `reused`: the chunks written may be
   * overwritten once written (a reused read buffer), so a stream must get copies.
   */
  static async open(opts: EditArchiveOptions, source: InputSource, reused: boolean): Promise<OutputRun> {
    const fsync = { fsync: opts.fsync !== false };
    const dirOut = await dirOutputPath(opts.output);
    const sink = await (dirOut !== undefined ? openDirOutput(dirOut, { ...fsync, inputLabel: source.label }) : openOutput(opts.output as string | Writable, fsync)).catch((e: unknown) => {
      source.close(); // stop the input (and any decompressor child) before reporting
      throw e;
    });
    if ('writer' in sink) return new OutputRun(sink, sink.writer, 'none', undefined, undefined, hasherFor(opts, undefined));
    const compression = outputCompression(opts.compress, opts.output);
    const stage = compression !== 'none' ? compressInto(compression, sink.stream) : undefined;
    // a plain file output takes write(2) calls directly, and so does a pipe on standard output fed
    // from one reused buffer (a file, a pipe); streams get copies of reused chunks. Chunks from a
    // decompressor stay on the stream: their writes then overlap the inflating (on the thread pool),
    // which write(2) calls waited for would not (1.4 GiB of gzip: 4.5 s that way, 6-7 s the other)
    const target: ByteTarget = stage
      ? new StreamTarget(stage.stream, reused)
      : sink.fd !== undefined
        ? new FdTarget(sink.fd, sink.writeBehind)
        : sink.pipeFd !== undefined && reused
          ? new PipeTarget(sink.pipeFd, sink.stream)
          : new StreamTarget(sink.stream, reused);
    // --verify into a plain file: large entries are hashed by reading them back (see Readback)
    const readback = opts.verify && target instanceof FdTarget ? Readback.open(target.fd, () => target.position) : undefined;
    return new OutputRun(sink, new TarWriter(target), compression, stage, readback, hasherFor(opts, readback));
  }

  get label(): string {
    return this.sink.label;
  }

  /** A streamed entry, hashed on the way under `--verify`. */
  writeStream(entry: EntryRecord, body: AsyncIterable<Buffer>): Promise<void> {
    return this.writer.writeStream(entry, this.hasher ? this.hasher.tap(entry, body) : body);
  }

  /**
   * Under `--verify`: check every digest of what was streamed and of the metadata about to be
   * written, before anything is committed (a VerifyError otherwise).
   */
  async verify(streamed: readonly EntryRecord[], metadata: readonly OutputEntry[]): Promise<VerifyReport | undefined> {
    const report = this.hasher ? await verifyWritten(streamed, metadata, this.hasher, this.sink.label) : undefined;
    this.readback?.close();
    if (report) assertVerified(report);
    return report;
  }

  /** Write the metadata entries, close the archive and give the output its name. */
  async commit(entries: readonly OutputEntry[]): Promise<void> {
    for (const o of entries) await this.writer.writeBuffer(o.header, o.data, o.raw);
    await this.writer.finish();
    await this.stage?.finish();
    await this.sink.commit();
  }

  /** What an OCI layout directory output left out (manifest.json and the like) and its notes. */
  notes(): string[] {
    const sink = this.sink;
    if (!('leftOut' in sink)) return [];
    const left = sink.leftOut;
    if (left.length === 0) return [...sink.notes];
    const shown = left.slice(0, 5).join(', ') + (left.length > 5 ? `, and ${left.length - 5} more` : '');
    return [...sink.notes, `${left.length} entr${left.length === 1 ? 'y' : 'ies'} an OCI layout directory does not have (read by docker load only) left out of ${sink.label}: ${shown}`];
  }

  leftOut(): readonly string[] {
    return 'leftOut' in this.sink ? this.sink.leftOut : [];
  }

  /** Undo everything (the output is removed, or left without its closing metadata on a pipe) and rethrow `e` as the error to report. */
  async fail(e: unknown, source?: InputSource): Promise<never> {
    this.readback?.close();
    this.stage?.abort();
    source?.close();
    await this.sink.abort();
    if (e instanceof CopyeditError) throw e;
    const code = (e as NodeJS.ErrnoException)?.code;
    if (code !== undefined && WRITE_ERRNOS.has(code)) throw ioError('write', this.sink.label, e);
    throw e;
  }
}

function hasherFor(opts: EditArchiveOptions, readback: Readback | undefined): EntryHasher | undefined {
  return opts.verify ? new EntryHasher({ decompress: true, ...(readback ? { readback } : {}) }) : undefined;
}

/** A header copyedit writes anew is no later than SOURCE_DATE_EPOCH; copied headers keep their bytes. */
export function clampMtime(h: Header, raw: Buffer | undefined, epoch: number | undefined): Header {
  if (epoch === undefined || raw || h.mtime.getTime() <= epoch * 1000) return h;
  return { ...h, mtime: new Date(epoch * 1000) };
}

export async function drain(body: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of body) void _;
}

export async function* once(b: Buffer): AsyncIterable<Buffer> {
  yield b;
}

export type { OutputCompression };
