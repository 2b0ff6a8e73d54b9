import { readSync } from 'node:fs';
import { Readable } from 'node:stream';

/**
 * A pull source of bytes for the tar reader. `read(max)` returns 1..max bytes, or an empty buffer
 * at the end. A returned buffer is only valid until the next call: file sources reuse one buffer,
 * which is what keeps memory flat and the copy as cheap as `cat`'s.
 */
export interface ByteSource {
  read(max: number): Promise<Buffer>;
  /** Move past `n` bytes without reading them, where the source can seek (a file read for its metadata only). */
  skip?(n: number): boolean;
  /** True when returned buffers are overwritten by later reads (consumers must copy to keep). */
  readonly reusesBuffers: boolean;
  close(): void;
}

/** The size of the one buffer a file or pipe source reads into. */
export const CHUNK = 1 << 20;
/** Give signal handlers and timers a turn this often when reading synchronously. */
const YIELD_EVERY = 64 << 20;

/**
 * A source that reads with read(2) into ONE reused buffer (a file, a pipe): `read` hands out views
 * of it, and `fill` refills it, giving the event loop a turn every 64 MiB (signals, timers).
 * Subclasses say how bytes come in (`readInto`).
 */
export abstract class ReusedBufferSource implements ByteSource {
  readonly reusesBuffers = true;
  protected readonly buf = Buffer.allocUnsafe(CHUNK);
  protected start = 0;
  protected end = 0;
  protected eof = false;
  private sinceYield = 0;
  bytesRead = 0;

  async read(max: number): Promise<Buffer> {
    if (this.start === this.end) {
      if (this.eof) return this.buf.subarray(0, 0);
      this.start = 0;
      this.end = await this.fill(0);
    }
    const n = Math.min(max, this.end - this.start);
    const out = this.buf.subarray(this.start, this.start + n);
    this.start += n;
    return out;
  }

  /** The first `n` bytes (fewer at the end of the input), left in place for read(). */
  async peek(n: number): Promise<Buffer> {
    while (this.end - this.start < n && !this.eof) {
      if (this.start > 0) {
        this.buf.copy(this.buf, 0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      }
      this.end += await this.fill(this.end);
    }
    return this.buf.subarray(this.start, Math.min(this.end, this.start + n));
  }

  /** Read into the buffer at `at`; 0 at the end of the input (then `eof`). */
  protected async fill(at: number): Promise<number> {
    if (this.sinceYield >= YIELD_EVERY) {
      this.sinceYield = 0;
      await new Promise((r) => setImmediate(r));
    }
    const n = await this.readInto(at);
    this.bytesRead += n;
    this.sinceYield += n;
    if (n === 0) this.eof = true;
    return n;
  }

  /** At most CHUNK - at bytes into the buffer at `at`, 0 at the end of the input. */
  protected abstract readInto(at: number): number | Promise<number>;

  abstract close(): void;
}

/** A regular file read with plain read(2) calls into one reused buffer, as `cat` does. */
export class FdSource extends ReusedBufferSource {
  constructor(
    private readonly fd: number,
    private readonly onClose: () => void,
  ) {
    super();
  }

  protected readInto(at: number): number {
    return readSync(this.fd, this.buf, at, CHUNK - at, null);
  }

  close(): void {
    this.onClose();
  }
}

/** Any readable stream (standard input, a decompressor): chunks are fresh, so nothing is reused. */
export class StreamSource implements ByteSource {
  readonly reusesBuffers = false;
  private chunk: Buffer | undefined;
  private done = false;
  private failure: unknown;
  private wake: (() => void) | undefined;

  constructor(private readonly stream: Readable) {
    const poke = () => {
      const w = this.wake;
      this.wake = undefined;
      w?.();
    };
    stream.on('readable', poke);
    stream.on('end', () => {
      this.done = true;
      poke();
    });
    stream.on('error', (e) => {
      this.failure ??= e;
      poke();
    });
    // the input may have failed or been closed before we got here: never wait for bytes that cannot come
    stream.on('close', () => {
      if (!stream.readableEnded) this.failure ??= stream.errored ?? new InputClosedError();
      poke();
    });
    if (stream.destroyed && !stream.readableEnded) this.failure = stream.errored ?? new InputClosedError();
  }

  async read(max: number): Promise<Buffer> {
    for (;;) {
      if (this.chunk && this.chunk.length > 0) {
        const out = this.chunk.subarray(0, max);
        this.chunk = this.chunk.length > max ? this.chunk.subarray(max) : undefined;
        return out;
      }
      const c = this.stream.read() as Buffer | null;
      if (c !== null) {
        this.chunk = typeof c === 'string' ? Buffer.from(c) : c;
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.done || this.stream.readableEnded) return Buffer.alloc(0);
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  close(): void {
    this.stream.destroy();
  }
}

/**
 * A reused-buffer source as a stream, for a decompressor (which takes a stream, and keeps the
 * chunks it is given: each is a copy). The bytes already peeked come first; the source's own
 * descriptor goes on being read, never a second one (a FIFO's writer then never loses its reader,
 * and a FIFO's end is seen as the source sees it). Destroying the stream closes the source.
 */
export function streamOf(source: ReusedBufferSource): Readable {
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      source.read(CHUNK).then(
        (c) => this.push(c.length > 0 ? Buffer.from(c) : null),
        (e: unknown) => this.destroy(e as Error),
      );
    },
    destroy(e, done) {
      source.close();
      done(e);
    },
  });
}

/** The input stream closed before its end: what the tar reader reports as a truncated archive. */
export class InputClosedError extends Error {
  constructor() {
    super('Unexpected end of data: the input was closed');
  }
}

/** Read exactly `n` bytes into a buffer of its own (fewer only at the end of the input). */
export async function readExact(src: ByteSource, n: number): Promise<Buffer> {
  const first = await src.read(n);
  if (first.length === n || first.length === 0) return src.reusesBuffers ? Buffer.from(first) : first;
  const out = Buffer.allocUnsafe(n);
  first.copy(out);
  let at = first.length;
  while (at < n) {
    const piece = await src.read(n - at);
    if (piece.length === 0) return out.subarray(0, at);
    piece.copy(out, at);
    at += piece.length;
  }
  return out;
}

/** Pass over `n` bytes (seeking where the source can); false when the input ends first. */
export async function skipBytes(src: ByteSource, n: number): Promise<boolean> {
  if (n > 0 && src.skip?.(n)) return true;
  while (n > 0) {
    const piece = await src.read(Math.min(CHUNK, n));
    if (piece.length === 0) return false;
    n -= piece.length;
  }
  return true;
}
