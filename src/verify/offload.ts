import { createHash } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { workerThreads } from '../lazy.js';

/** An incremental sha256: `update` may ask the caller to wait (back-pressure). */
export interface Sha256 {
  update(chunk: Buffer): void | Promise<void>;
  digest(): Promise<string>;
}

/** Chunks are copied into one of SLOTS shared slots; a full ring makes the caller wait. */
const SLOT = 1 << 20;
const SLOTS = 8;

/**
 * sha256 on a worker thread for large entries, in-process for small ones. The worker is started
 * on first use and keeps the process alive only while it has work.
 */
export class ShaOffload {
  private worker: Worker | undefined;
  private failure: Error | undefined;
  private readonly shared = new SharedArrayBuffer(SLOT * SLOTS);
  private readonly free: number[] = Array.from({ length: SLOTS }, (_, i) => i);
  private waiters: (() => void)[] = [];
  private readonly digests = new Map<number, { resolve: (hex: string) => void; reject: (e: Error) => void }>();
  private nextId = 1;

  /** A hash for an entry of `size` bytes. */
  begin(size: number): Sha256 {
    if (size < 8 << 20) return local();
    const w = this.start();
    if (!w) return local();
    const id = this.nextId++;
    return {
      update: async (chunk) => {
        for (let off = 0; off < chunk.length; off += SLOT) {
          if (this.failure) throw this.failure;
          while (this.free.length === 0) {
            await new Promise<void>((r) => this.waiters.push(r));
            if (this.failure) throw this.failure;
          }
          const slot = this.free.pop()!;
          const part = chunk.subarray(off, off + SLOT);
          new Uint8Array(this.shared, slot * SLOT, part.length).set(part); // the source reuses its buffer
          this.busy(1);
          w.postMessage({ id, slot, len: part.length });
        }
      },
      digest: () =>
        new Promise<string>((resolve, reject) => {
          if (this.failure) return reject(this.failure);
          this.digests.set(id, { resolve, reject });
          this.busy(1);
          w.postMessage({ id, end: true });
        }),
    };
  }

  private pendingMessages = 0;
  /** Keep the event loop alive exactly while answers are outstanding. */
  private busy(delta: number): void {
    this.pendingMessages += delta;
    if (this.pendingMessages > 0) this.worker?.ref();
    else this.worker?.unref();
  }

  private start(): Worker | undefined {
    if (this.worker || this.failure) return this.worker;
    try {
      // `../verify/`: this module also runs from the CLI bundle in dist/src/cli (scripts/bundle.mjs)
      const w = new (workerThreads().Worker)(new URL('../verify/sha-worker.js', import.meta.url), { workerData: { shared: this.shared, slotSize: SLOT } });
      w.unref();
      w.on('message', (m: { id: number; ack?: number; hex?: string }) => {
        this.busy(-1);
        if (m.ack !== undefined) {
          this.free.push(m.ack);
          this.waiters.shift()?.();
        }
        if (m.hex !== undefined) {
          this.digests.get(m.id)?.resolve(m.hex);
          this.digests.delete(m.id);
        }
      });
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`the hashing thread stopped (exit ${code})`));
      });
      this.worker = w;
      return w;
    } catch {
      return undefined; // no worker threads here: hash in-process
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiters.splice(0)) w();
    for (const d of this.digests.values()) d.reject(this.failure);
    this.digests.clear();
    this.worker?.unref();
  }
}

function local(): Sha256 {
  const h = createHash('sha256');
  return {
    update: (chunk) => void h.update(chunk),
    digest: async () => h.digest('hex'),
  };
}
