/**
 * Where a layer's bytes come from. A `LayerSource` opens the blob as stored (gzip, zstd, xz,
 * bzip2 or a plain tar: sniffed, never trusted from a media type) as many times as asked; the
 * merge reads each layer at most twice (headers, then the content it needs).
 */
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { SNIFF_BYTES, decompressStream, detectCompression } from '../codec/index.js';
import type { ByteSource } from '../io/bytes.js';
import { peek } from '../io/streams.js';
import { type LayerEntry, tarEntries } from './tar-entries.js';

/** One layer's blob, re-openable. `label` names it in messages (a digest or an entry name). */
export interface LayerSource {
  readonly label: string;
  /** The blob as stored; each call a fresh stream from its start. */
  open(): Readable | Promise<Readable>;
  /**
   * Where the blob lies in a file, when it does: an uncompressed one is then read with positioned
   * reads into one reused buffer, and the content the reader does not want is skipped, not read.
   */
  readonly file?: { readonly path: string; readonly offset: number; readonly length: number };
}

/** A layer held in a file: `length` bytes from `offset` (a blob file, or an entry of an uncompressed tar archive). */
export function fileLayer(path: string, label: string, offset = 0, length?: number): LayerSource {
  const len = length ?? statSync(path).size - offset;
  return {
    label,
    file: { path, offset, length: len },
    open: () => createReadStream(path, { start: offset, end: offset + len - 1, highWaterMark: 1 << 20 }),
  };
}

const YIELD_EVERY = 64 << 20;

/**
 * `length` bytes of a file from `offset`, read with pread(2) into one reused 1 MiB buffer (a
 * layer of small files costs one call per MiB, not per header); skipping moves the position, so
 * content nobody asked for is not read.
 */
export class FileRangeSource implements ByteSource {
  readonly reusesBuffers = true;
  private readonly buf = Buffer.allocUnsafe(1 << 20);
  private fd: number | undefined;
  /** Position (from `offset`) of the next byte handed out. */
  private at = 0;
  /** The buffer holds [bufAt, bufAt + bufLen). */
  private bufAt = 0;
  private bufLen = 0;
  private sinceYield = 0;

  constructor(
    private readonly path: string,
    private readonly offset: number,
    private readonly length: number,
  ) {}

  async read(max: number): Promise<Buffer> {
    if (this.at >= this.length) return this.buf.subarray(0, 0);
    if (this.at < this.bufAt || this.at >= this.bufAt + this.bufLen) {
      // the reads are synchronous: give signal handlers (Ctrl-C) and timers a turn now and then
      this.sinceYield += this.buf.length;
      if (this.sinceYield >= YIELD_EVERY) {
        this.sinceYield = 0;
        await new Promise((r) => setImmediate(r));
      }
      this.fd ??= openSync(this.path, 'r');
      this.bufAt = this.at;
      this.bufLen = readSync(this.fd, this.buf, 0, Math.min(this.buf.length, this.length - this.at), this.offset + this.at);
      if (this.bufLen === 0) return this.buf.subarray(0, 0);
    }
    const from = this.at - this.bufAt;
    const n = Math.min(max, this.bufLen - from);
    this.at += n;
    return this.buf.subarray(from, from + n);
  }

  skip(n: number): boolean {
    if (this.at + n > this.length) return false; // let the reader find the truncation
    this.at += n;
    return true;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** A layer held in memory (tests, small generated layers). */
export function bufferLayer(bytes: Buffer, label: string): LayerSource {
  return { label, open: () => Readable.from([bytes]) };
}

/** The layer's uncompressed tar stream, its compression sniffed from its first bytes. */
export async function openLayerTar(layer: LayerSource): Promise<Readable> {
  const raw = await layer.open();
  const head = await peek(raw, SNIFF_BYTES);
  const kind = detectCompression(head);
  return kind === 'none' ? raw : decompressStream(raw, kind, layer.label);
}

/**
 * The layer's entries (see tarEntries), decompressing as they are read. A body's chunks may be
 * views of one reused buffer (a plain layer in a file): valid until the next chunk is asked for.
 */
export async function* layerEntries(layer: LayerSource): AsyncGenerator<LayerEntry> {
  const f = layer.file;
  if (f && f.length >= SNIFF_BYTES) {
    const head = Buffer.alloc(SNIFF_BYTES);
    const fd = openSync(f.path, 'r');
    try {
      readSync(fd, head, 0, SNIFF_BYTES, f.offset);
    } finally {
      closeSync(fd);
    }
    if (detectCompression(head) === 'none') {
      yield* tarEntries(new FileRangeSource(f.path, f.offset, f.length));
      return;
    }
  }
  yield* tarEntries(await openLayerTar(layer));
}
