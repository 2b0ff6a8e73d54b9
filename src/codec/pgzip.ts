/**
 * Parallel gzip (issue 25): one gzip member whose deflate stream is made of independent blocks,
 * pigz's method. Each BLOCK of input is deflated on a worker thread as raw deflate primed with the
 * previous 32 KiB of input as its dictionary and ended by a sync flush (the last one by the final
 * block), so the pieces concatenate into one valid deflate stream; the CRC-32 of the input is
 * computed here (`zlib.crc32`, Node 20.15+; a table before). The output depends only on the input
 * and the level, never on how many threads ran (COPYEDIT_GZIP_THREADS, default the cores, at most
 * 8), so a recompressed layer's digest is reproducible (with one Node: its zlib deflates).
 */
import { cpus } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import { zlib as lazyZlib, workerThreads } from '../lazy.js';
import { deflateBlock } from './deflate-block.js';

/** Input bytes per deflated block (pigz: 128 KiB): at 1 MiB, level 6 costs 30% less CPU than at 256 KiB (fewer dictionary primings and deflate set-ups), for the same size. */
export const BLOCK = 1 << 20;
const WINDOW = 32 << 10;

/** The gzip header copyedit writes: no name, mtime 0, XFL as zlib sets it for the level, OS 3 (Unix) as zlib on Linux. */
function header(level: number): Buffer {
  const xfl = level === 9 ? 2 : level < 2 ? 4 : 0;
  return Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3]);
}

type Crc32 = (data: Uint8Array, value: number) => number;

/** zlib.crc32 (Node 20.15+), else a table-driven one (the same values, some 10x slower). */
function crc32(): Crc32 {
  const native = (lazyZlib() as { crc32?: Crc32 }).crc32;
  if (native) return native;
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return (data, value) => {
    let c = ~value;
    for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
    return ~c >>> 0;
  };
}

let threads: number | undefined;

/** Deflate threads: COPYEDIT_GZIP_THREADS, else the cores (at most 8); asked once (os.cpus() reads /proc). */
function poolSize(): number {
  if (threads !== undefined) return threads;
  const env = Number(process.env.COPYEDIT_GZIP_THREADS);
  threads = Number.isInteger(env) && env > 0 ? env : Math.max(1, Math.min(8, cpus().length));
  return threads;
}

interface Pending {
  resolve(b: Buffer): void;
  reject(e: Error): void;
}

/** The process's deflate threads, started on first use, unreferenced while idle. */
class Pool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private next = 0;
  private turn = 0;
  private failure: Error | undefined;
  /** Blocks given back by the threads, to be filled again (no new 1 MiB buffer per block). */
  readonly spare: Buffer[] = [];

  run(data: Uint8Array, dict: Uint8Array | undefined, level: number, last: boolean): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    const w = this.worker();
    const id = this.next++;
    const p = new Promise<Buffer>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    if (this.pending.size === 1) for (const x of this.workers) x.ref();
    w.postMessage({ id, data, dict, level, last }, [data.buffer as ArrayBuffer]);
    return p;
  }

  private worker(): Worker {
    const n = poolSize();
    if (this.workers.length < n) {
      // `../codec/`: this module also runs from the CLI bundle in dist/src/cli (scripts/bundle.mjs)
      const w = new (workerThreads().Worker)(new URL('../codec/gzip-worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 4 } });
      w.on('message', (m: { id: number; out: Uint8Array; data: Uint8Array }) => {
        if (m.data.buffer.byteLength === BLOCK && this.spare.length < 4) this.spare.push(Buffer.from(m.data.buffer as ArrayBuffer));
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (this.pending.size === 0) for (const x of this.workers) x.unref();
        p?.resolve(Buffer.from(m.out.buffer, m.out.byteOffset, m.out.byteLength));
      });
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`a gzip thread stopped (exit ${code})`));
      });
      w.unref();
      this.workers.push(w);
      return w;
    }
    return this.workers[this.turn++ % n]!;
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }
}

let pool: Pool | undefined;

/**
 * A Transform that gzips its input on the deflate threads, at most `2 x threads` blocks in
 * flight (flat memory: about 3 blocks' worth each), output in input order.
 */
export function parallelGzip(level: number): Transform {
  pool ??= new Pool();
  const p = pool;
  const crc = crc32();
  const inFlight: Promise<Buffer>[] = [];
  const maxInFlight = 2 * poolSize();
  let block = p.spare.pop() ?? Buffer.allocUnsafeSlow(BLOCK);
  let fill = 0;
  let dict: Uint8Array | undefined;
  let sum = 0;
  let total = 0;
  let started = false;

  const submit = (t: Transform, last: boolean): void => {
    const data = fill === BLOCK ? block : block.subarray(0, fill);
    sum = crc(data, sum);
    total += fill;
    const nextDict = fill >= WINDOW ? Uint8Array.prototype.slice.call(data, fill - WINDOW) : undefined;
    // a layer of one block (most small layers) is deflated here: no thread is started for it
    const job = last && !started ? Promise.resolve(deflateBlock(data, dict, level, true)) : p.run(data, dict, level, last);
    job.catch(() => {});
    inFlight.push(job);
    // a short block (only the last) leaves less than a window: the next block has none to follow
    dict = nextDict;
    block = p.spare.pop() ?? Buffer.allocUnsafeSlow(BLOCK);
    fill = 0;
    if (!started) {
      started = true;
      t.push(header(level));
    }
  };

  const drain = async (t: Transform, keep: number): Promise<void> => {
    while (inFlight.length > keep) t.push(await inFlight.shift()!);
  };

  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      (async () => {
        let at = 0;
        while (at < chunk.length) {
          const n = Math.min(BLOCK - fill, chunk.length - at);
          chunk.copy(block, fill, at, at + n);
          fill += n;
          at += n;
          if (fill === BLOCK) {
            submit(this, false);
            await drain(this, maxInFlight - 1);
          }
        }
      })().then(() => cb(), cb);
    },
    flush(cb: TransformCallback) {
      (async () => {
        submit(this, true);
        await drain(this, 0);
        const trailer = Buffer.alloc(8);
        trailer.writeUInt32LE(sum >>> 0, 0);
        trailer.writeUInt32LE(total % 2 ** 32, 4);
        this.push(trailer);
      })().then(() => cb(), cb);
    },
  });
}
