import type { Writable } from 'node:stream';
import * as tar from 'tar-stream';
import { copyChunks, drained } from '../io/streams.js';

/** A tar writer over tar-stream's pack, with promises and back-pressure, piped into `out`. */
export class TarWriter {
  private readonly pack = tar.pack();
  private failure: unknown;
  private readonly pump: Promise<void>;

  /** `out` is written to but never ended: the sink decides when the output is complete. */
  constructor(out: Writable) {
    this.pack.on('error', (e: unknown) => (this.failure ??= e));
    this.pump = (async () => {
      for await (const chunk of this.pack as AsyncIterable<Buffer>) {
        if (!out.write(chunk)) await drained(out);
      }
    })().catch((e: unknown) => {
      this.failure ??= e;
      this.pack.destroy(e as Error);
    });
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  /** Write an entry whose bytes arrive as a stream (a layer). */
  async writeStream(header: tar.Header, body: AsyncIterable<Buffer>, onChunk?: (c: Buffer) => void): Promise<void> {
    this.check();
    let settle!: (err?: Error | null) => void;
    const done = new Promise<void>((res, rej) => (settle = (err) => (err ? rej(err) : res())));
    done.catch(() => {}); // observed below; avoid an unhandled rejection if copying fails first
    const sink = this.pack.entry(header, settle);
    const noBody = header.type !== 'file' && header.type !== 'contiguous-file';
    if (noBody) {
      for await (const _ of body) void _; // drain; directories and links carry no data
    } else {
      await copyChunks(body, sink as never, onChunk);
    }
    (sink as unknown as { end(): void }).end();
    await done;
  }

  /** Write an entry held in memory (metadata). */
  async writeBuffer(header: tar.Header, data: Buffer): Promise<void> {
    this.check();
    await new Promise<void>((res, rej) => this.pack.entry({ ...header, size: data.length }, data, (err) => (err ? rej(err) : res())));
  }

  /** Write the end-of-archive marker. The caller then commits the sink. */
  async finish(): Promise<void> {
    this.check();
    this.pack.finalize();
    await this.pump;
    this.check();
  }

  abort(err?: Error): void {
    this.pack.destroy(err);
  }
}
