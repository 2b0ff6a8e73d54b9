import { closeSync, openSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { workerThreads } from '../lazy.js';
import { hashRange } from './range-hash.js';

/**
 * sha256 of ranges of a file being written, computed by reading them back on worker threads
 * (src/verify/readback-worker.ts) while the copy goes on: `edit --verify` into a file.
 *
 * Why not hash the bytes as they pass (ShaOffload)? Then one layer is hashed by one thread at the
 * speed of one sha256 (1.6 GB/s here), and the copy waits for it: a 1.4 GiB edit took 1.3 s, sha256
 * alone 0.9 s of it. Read back from the file (the page cache), the layers are hashed by several
 * threads at once, each following the writer at its own pace, and the copy never waits; what is
 * checked is what the file holds. Costs one more read of each large entry, from memory.
 *
 * A thread that cannot start or dies hands its jobs to this thread, which reads them back itself
 * once their bytes are written: slower, never a failed run.
 */
export class Readback {
  private readonly state = new SharedArrayBuffer(16);
  /** [0]: bytes written to the file so far; [1]: 1 once closed (workers give up their jobs). */
  private readonly shared = new BigInt64Array(this.state);
  private readonly workers: Thread[] = [];
  private readonly jobs = new Map<number, Job>();
  /** Jobs of threads that failed, read back here once their bytes are written (`advance`). */
  private readonly local: Job[] = [];
  private nextId = 1;
  private closed = false;

  /**
   * `fd`: a descriptor the file can be read through; `position`: how many bytes have been written
   * to it so far (the writer's count).
   */
  private constructor(
    private readonly fd: number,
    private readonly position: () => number,
  ) {}

  /**
   * Read back the file open for writing on `writeFd`, through a descriptor of our own
   * (/proc/self/fd, Linux). Undefined where that or worker threads are not available: the caller
   * then hashes as the bytes pass. The default script's path starts with `../verify/`: this module
   * also runs from the CLI bundle in dist/src/cli (scripts/bundle.mjs). `threads`: two by default, so that two layers are hashed at
   * once (measured on 2 cores: 1 thread 1.42-1.51 s, 2 threads 1.17-1.28 s, 3 threads 1.26-1.42 s
   * for a 1.4 GiB edit; hashing as the bytes pass 1.27-1.42 s). `script`: the threads' code (the
   * tests give one that fails).
   */
  static open(writeFd: number, position: () => number, threads = 2, script = new URL('../verify/readback-worker.js', import.meta.url)): Readback | undefined {
    let fd: number;
    try {
      fd = openSync(`/proc/self/fd/${writeFd}`, 'r');
    } catch {
      return undefined;
    }
    const r = new Readback(fd, position);
    // started now, so their start-up (~50 ms each) overlaps reading the archive's first entries
    for (let i = 0; i < threads; i++) r.spawn(script);
    if (r.workers.length === 0) {
      closeSync(fd);
      return undefined;
    }
    return r;
  }

  /**
   * The sha256 of the next `size` bytes written to the file, from the current position on. The
   * promise settles once the writer has written them and a thread has read them back.
   */
  begin(size: number): Promise<string> {
    if (this.closed) return Promise.reject(new Error('verification stopped'));
    const start = this.position();
    return new Promise<string>((resolve, reject) => {
      const job: Job = { id: this.nextId++, start, size, resolve, reject };
      this.jobs.set(job.id, job);
      // the live thread with the fewest jobs takes it; none left: this thread reads it back
      const live = this.workers.filter((w) => !w.exited);
      if (live.length === 0) return this.local.push(job);
      const w = live.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
      w.jobs.add(job.id);
      w.worker.ref();
      w.worker.postMessage({ id: job.id, fd: this.fd, start, size });
    });
  }

  /** The writer has written up to `position()`: wake the threads waiting for those bytes. */
  advance(): void {
    Atomics.store(this.shared, 0, BigInt(this.position()));
    Atomics.notify(this.shared, 0);
    if (this.local.length > 0) this.readBackHere();
  }

  /** Stop: outstanding jobs are abandoned (their promises reject), the threads end, the descriptor closes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.shared, 1, 1n);
    Atomics.notify(this.shared, 0);
    const stopped = new Error('verification stopped');
    for (const job of this.jobs.values()) job.reject(stopped);
    this.jobs.clear();
    this.local.length = 0;
    // a thread may still be in a read(2) of the descriptor: close it once every thread has exited
    const live = this.workers.filter((w) => !w.exited);
    for (const w of live) void w.worker.terminate();
    void Promise.all(live.map((w) => w.gone)).then(() => closeSync(this.fd));
  }

  /** The failed threads' jobs whose bytes are all written, read back and hashed in this thread. */
  private readBackHere(): void {
    const written = this.position();
    for (let i = 0; i < this.local.length; ) {
      const job = this.local[i]!;
      if (job.start + job.size > written) {
        i++;
        continue;
      }
      this.local.splice(i, 1);
      this.jobs.delete(job.id);
      try {
        job.resolve(hashRange(this.fd, job.start, job.size, Buffer.allocUnsafe(Math.min(job.size, 1 << 20)))!);
      } catch (e) {
        job.reject(e as Error);
      }
    }
  }

  private spawn(script: URL): void {
    let worker: Worker;
    try {
      worker = new (workerThreads().Worker)(script, { workerData: { state: this.state } });
    } catch {
      return;
    }
    let exited!: () => void;
    const t: Thread = { worker, jobs: new Set(), exited: false, gone: new Promise<void>((r) => (exited = r)) };
    worker.unref();
    worker.on('message', (m: { id: number; hex?: string; error?: { message: string; code?: string }; cancelled?: boolean }) => {
      const job = this.jobs.get(m.id);
      t.jobs.delete(m.id);
      if (t.jobs.size === 0) worker.unref();
      if (!job) return;
      this.jobs.delete(m.id);
      if (m.hex !== undefined) job.resolve(m.hex);
      else if (m.error) job.reject(Object.assign(new Error(m.error.message), m.error.code ? { code: m.error.code } : {}));
      else job.reject(new Error('verification stopped'));
    });
    // a thread that cannot start (its file missing, no memory) or dies: its jobs are read back here
    const lost = () => {
      if (t.exited) return;
      t.exited = true;
      exited();
      if (this.closed) return;
      for (const id of t.jobs) {
        const job = this.jobs.get(id);
        if (job) this.local.push(job);
      }
      t.jobs.clear();
      this.readBackHere();
    };
    worker.on('error', lost);
    worker.on('exit', lost);
    this.workers.push(t);
  }
}

interface Job {
  readonly id: number;
  readonly start: number;
  readonly size: number;
  resolve(hex: string): void;
  reject(e: Error): void;
}

interface Thread {
  readonly worker: Worker;
  /** The ids of the jobs posted to it and not answered yet. */
  readonly jobs: Set<number>;
  exited: boolean;
  /** Settles when the thread has exited. */
  readonly gone: Promise<void>;
}
