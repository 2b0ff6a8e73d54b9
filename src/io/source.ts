import { constants as FS, closeSync, createReadStream, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { type Compression, SNIFF_BYTES, decompressStream as decompress, detectCompression } from '../codec/index.js';
import { ArchiveError, ioError } from '../errors.js';
import { type ByteSource, FdSource, StreamSource, streamOf } from './bytes.js';
import { openDirectory } from './dir-source.js';
import { PipeSource, openStdinPipe } from './pipe.js';
import { peek } from './streams.js';

export type { Compression };

export interface InputSource {
  /** The uncompressed tar bytes, to be pulled by the tar reader. */
  readonly reader: ByteSource;
  /** How the input was wrapped (`docker save | gzip` and friends). */
  readonly compression: Compression;
  /** For messages: the file name or "standard input". */
  readonly label: string;
  /** Size of the input file in bytes when known (not for pipes; standard input's file: from its offset on). */
  readonly size?: number;
  /** Bytes read from the input so far (before decompression), for progress display. */
  readonly bytesRead: () => number;
  /** What the reader left out and the user should know (names outside an OCI layout directory). */
  readonly warnings?: readonly string[];
  /** Stop reading: close the file, end any decompressor. Safe to call twice. */
  close(): void;
}

const READ_CHUNK = 1 << 20;

/** Open a file, `-` (standard input) or an existing stream, and undo any outer compression. */
export async function openInput(input: string | Readable): Promise<InputSource> {
  if (typeof input === 'string' && input !== '-') return openFile(input);
  // standard input belongs to copyedit on the command line: nobody has read process.stdin before
  if (input === '-') {
    const fd = openStdinPipe();
    if (fd !== undefined) return fromPipe(fd, 'standard input');
    const file = stdinFile();
    if (file) return fromStdinFile(file.size);
  }
  const raw = typeof input === 'string' ? process.stdin : input;
  const label = typeof input === 'string' ? 'standard input' : 'input stream';
  return fromStream(raw, label, undefined);
}

/**
 * True when `input` can be read twice from its start: a regular file or a directory. A FIFO,
 * `<(docker save x)`, a device, standard input or a stream give their bytes once, so what reads
 * an input twice (a conversion, `--only-platform`) must spool it, or do without the first pass.
 */
export async function rereadable(input: string | Readable): Promise<boolean> {
  if (typeof input !== 'string' || input === '-') return false;
  try {
    const st = await stat(input);
    return st.isFile() || st.isDirectory();
  } catch {
    return true; // missing or unreadable: the open reports it
  }
}

/**
 * The bytes of an input that can be read once only, as they come (still compressed), to spool
 * them: standard input, a stream, a FIFO (opened non-blocking and read as openInput reads it, so
 * waiting for its writer holds no thread), a device.
 */
export async function rawInput(input: string | Readable): Promise<Readable> {
  if (typeof input !== 'string') return input;
  if (input === '-') return process.stdin;
  try {
    if ((await stat(input)).isFIFO()) return streamOf(new PipeSource(openSync(input, FS.O_RDONLY | FS.O_NONBLOCK), { awaitWriter: true }));
  } catch (e) {
    throw ioError('read', input, e);
  }
  return createReadStream(input, { highWaterMark: READ_CHUNK });
}

/**
 * A plain tar file is read with read(2) into one reused buffer (the fast path: as cheap as `cat`);
 * a compressed one through a stream and its decompressor.
 */
async function openFile(path: string): Promise<InputSource> {
  // stat first: open(2) of a FIFO with no writer yet blocks, and a positioned read of a pipe fails (ESPIPE)
  let kind: import('node:fs').Stats;
  try {
    kind = await stat(path);
  } catch (e) {
    throw ioError('read', path, e);
  }
  if (kind.isDirectory()) return fromDirectory(path);
  if (!kind.isFile()) return openSpecial(path, kind);
  let fd: number;
  let size: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw ioError('read', path, e);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (!st.isFile()) {
      closeSync(fd);
      return openSpecial(path, st);
    }
    size = st.size;
    const head = Buffer.alloc(SNIFF_BYTES);
    const n = readSync(fd, head, 0, SNIFF_BYTES, 0);
    if (n === 0) throw new ArchiveError('is empty: expected a tar archive from docker save', path);
    const compression = detectCompression(head.subarray(0, n));
    if (compression === 'none') {
      let closed = false;
      const close = () => {
        if (!closed) closeSync(fd);
        closed = true;
      };
      const reader = new FdSource(fd, close);
      return { reader, compression, label: path, size, bytesRead: () => reader.bytesRead, close };
    }
  } catch (e) {
    closeSync(fd);
    if (e instanceof ArchiveError) throw e;
    throw ioError('read', path, e);
  }
  closeSync(fd);
  const raw = createReadStream(path, { highWaterMark: READ_CHUNK });
  // an open error surfaces on first read; attach now so it is not unhandled
  raw.on('error', () => {});
  return fromStream(raw, path, size);
}

/**
 * A pipe (`docker save x | copyedit edit - ...`, a FIFO, `<(docker save x)`): read(2) into one
 * reused buffer, as a file is. `awaitWriter`: a FIFO opened here, maybe before its writer.
 */
export function fromPipe(fd: number, label: string, options: { awaitWriter?: boolean } = {}): Promise<InputSource> {
  return fromReused(new PipeSource(fd, options), label, undefined);
}

/**
 * Standard input when it is a regular file (`copyedit edit - < in.tar`): read(2) on fd 0 itself,
 * from its current offset (`tail -c +N`, or a script's `read`, may have taken some of it: never
 * seek), as a file is. Nothing closes fd 0.
 */
function fromStdinFile(size: number | undefined): Promise<InputSource> {
  return fromReused(new FdSource(0, () => {}), 'standard input', size);
}

/**
 * Standard input when it is a regular file, and the bytes left from its current offset to its end
 * when /proc tells the offset (Node has no lseek); undefined when it is not a file.
 */
function stdinFile(): { size: number | undefined } | undefined {
  let st: import('node:fs').Stats;
  try {
    st = fstatSync(0);
  } catch {
    return undefined;
  }
  if (!st.isFile()) return undefined;
  try {
    const pos = /^pos:\s*(\d+)$/m.exec(readFileSync('/proc/self/fdinfo/0', 'latin1'));
    return { size: pos ? Math.max(0, st.size - Number(pos[1])) : undefined };
  } catch {
    return { size: undefined };
  }
}

/**
 * A source read into one reused buffer (a pipe, standard input's file). Compressed input is sniffed
 * from that buffer; the decompressor then reads the same source as a stream (`streamOf`), the
 * sniffed bytes first: it takes a stream anyway, and keeps the chunks it is given.
 */
async function fromReused(source: PipeSource | FdSource, label: string, size: number | undefined): Promise<InputSource> {
  const close = () => source.close();
  const sized = size !== undefined ? { size } : {};
  let compression: Compression;
  try {
    const head = await source.peek(SNIFF_BYTES);
    if (head.length === 0) throw new ArchiveError('is empty: expected a tar archive from docker save', label);
    compression = detectCompression(head);
  } catch (e) {
    close();
    if (e instanceof ArchiveError) throw e;
    throw ioError('read', label, e);
  }
  if (compression === 'none') return { reader: source, compression, label, ...sized, bytesRead: () => source.bytesRead, close };
  const raw = streamOf(source);
  raw.on('error', () => {});
  const stream = decompress(raw, compression, label);
  stream.on('error', () => {});
  return { reader: new StreamSource(stream), compression, label, ...sized, bytesRead: () => source.bytesRead, close: () => stream.destroy() };
}

/** An OCI image layout directory, read as the tar archive of it (src/io/dir-source.ts). */
function fromDirectory(path: string): InputSource {
  const { source, size, warnings } = openDirectory(path);
  return { reader: source, compression: 'none', label: path, size, warnings, bytesRead: () => source.bytesRead, close: () => source.close() };
}

/**
 * A FIFO, `<(docker save x)` (/dev/fd/N), a character device: read from its start, never seeking.
 * A FIFO is opened non-blocking, so waiting for its writer blocks neither the event loop nor a
 * thread (Ctrl-C and SIGTERM still work), and read as standard input's pipe is (PipeSource: read(2)
 * into one reused buffer, waits on the event loop). A device is read as a stream.
 */
function openSpecial(path: string, st: import('node:fs').Stats): Promise<InputSource> {
  if (st.isSocket()) throw ioError('read', path, Object.assign(new Error('is a socket'), { code: 'ENXIO' }));
  if (st.isFIFO()) {
    let fd: number;
    try {
      fd = openSync(path, FS.O_RDONLY | FS.O_NONBLOCK);
    } catch (e) {
      throw ioError('read', path, e);
    }
    return fromPipe(fd, path, { awaitWriter: true });
  }
  const raw = createReadStream(path, { highWaterMark: READ_CHUNK });
  raw.on('error', () => {});
  return fromStream(raw, path, undefined);
}

async function fromStream(raw: Readable, label: string, size: number | undefined): Promise<InputSource> {
  let head: Buffer;
  try {
    head = await peek(raw, SNIFF_BYTES);
  } catch (e) {
    throw ioError('read', label, e);
  }
  if (head.length === 0) throw new ArchiveError('is empty: expected a tar archive from docker save', label);
  const compression = detectCompression(head);
  const stream = compression === 'none' ? raw : decompress(raw, compression, label);
  // a decompressor may fail before anyone reads (e.g. the tool is missing): keep the error on the
  // stream (`errored`, seen by the reader) instead of crashing on an unhandled 'error' event
  stream.on('error', () => {});
  const counter = raw as { bytesRead?: number };
  const reader = new StreamSource(stream);
  return { reader, compression, label, ...(size !== undefined ? { size } : {}), bytesRead: () => counter.bytesRead ?? 0, close: () => stream.destroy() };
}

/** @deprecated for src/codec's `detectCompression`; kept while src/pipeline.ts imports it from here. */
export const sniffCompression = detectCompression;
