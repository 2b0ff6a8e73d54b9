import { writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { drained } from './streams.js';
import type { WriteBehind } from './write-behind.js';

/** Where the tar writer puts bytes. `write` may return a promise when the target needs a pause. */
export interface ByteTarget {
  write(b: Buffer): void | Promise<void>;
}

/**
 * A regular file: plain write(2) calls, so a chunk is on its way before the source reuses it.
 * `behind`: a durable output's background flush, told of every write (see WriteBehind).
 */
export class FdTarget implements ByteTarget {
  /** Bytes written so far: the file's size, since it was empty. */
  position = 0;
  constructor(
    readonly fd: number,
    private readonly behind?: WriteBehind,
  ) {}
  write(b: Buffer): void | Promise<void> {
    let off = 0;
    while (off < b.length) off += writeSync(this.fd, b, off, b.length - off);
    this.position += b.length;
    return this.behind?.wrote(b.length); // written already: a pause here never holds on to `b`
  }
}

/**
 * A stream (standard output, a compressor, `docker load`): writes wait for back-pressure, and
 * chunks are copied when the source will overwrite them (a stream may hold a chunk for later).
 */
export class StreamTarget implements ByteTarget {
  private failure: unknown;
  constructor(
    private readonly out: Writable,
    private readonly copy: boolean,
  ) {
    out.on('error', (e) => (this.failure ??= e));
  }
  write(b: Buffer): void | Promise<void> {
    if (this.failure) throw this.failure;
    if (this.out.destroyed || this.out.writableEnded) throw Object.assign(new Error('the output was closed'), { code: 'EPIPE' });
    if (!this.out.write(this.copy ? Buffer.from(b) : b)) return drained(this.out);
  }
}
