import { closeSync, openSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { workerThreads } from '../lazy.js';

/**
 * sha256 of ranges of a file being written, computed by reading them back on worker threads
 * (src/verify/readback-worker.ts) while the copy goes on: `edit --verify` into a file.
 *
 * Why not hash the bytes as they pass (ShaOffload)? Then one layer is hashed by one thread at the
 * speed of one sha256 (1.6 GB/s here), and the copy waits for it: a 1.4 GiB edit took 1.3 s, sha256
 * alone 0.9 s of it. Read back from the file (the page cache), the layers are hashed by several
 * threads at once, each following the writer at its own pace, and the copy never waits; what is
 * checked is what the file holds. Costs one more read of each large entry, from memory.
 */
export class Readback {
  private readonly state = new SharedArrayBuffer(16);
  /** [0]: bytes written to the file so far; [1]: 1 once closed (workers give up their jobs). */
  private readonly shared = new BigInt64Array(this.state);
  private readonly workers: { worker: Worker; jobs: number }[] = [];
  private readonly answers = new Map<number, { resolve: (hex: string) => void; reject: (e: Error) => void; worker: { jobs: number } }>();
  private nextId = 1;
  private failure: Error | undefined;
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
   * then hashes as the bytes pass. `threads`: two by default, so that two layers are hashed at
   * once (measured on 2 cores: 1 thread 1.42-1.51 s, 2 threads 1.17-1.28 s, 3 threads 1.26-1.42 s
   * for a 1.4 GiB edit; hashing as the bytes pass 1.27-1.42 s).
   */
  static open(writeFd: number, position: () => number, threads = 2): Readback | undefined {
    let fd: number;
    try {
      fd = openSync(`/proc/self/fd/${writeFd}`, 'r');
    } catch {
      return undefined;
    }
    const r = new Readback(fd, position);
    // started now, so their start-up (~50 ms each) overlaps reading the archive's first entries
    for (let i = 0; i < threads; i++) r.spawn();
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
    if (this.failure) return Promise.reject(this.failure);
    const start = this.position();
    // the thread with the fewest jobs takes it; another thread is started while all are busy
    const w = this.workers.reduce((a, b) => (b.jobs < a.jobs ? b : a));
    const id = this.nextId++;
    w.jobs++;
    w.worker.ref();
    return new Promise<string>((resolve, reject) => {
      this.answers.set(id, { resolve, reject, worker: w });
      w.worker.postMessage({ id, fd: this.fd, start, size });
    });
  }

  /** The writer has written up to `position()`: wake the threads waiting for those bytes. */
  advance(): void {
    Atomics.store(this.shared, 0, BigInt(this.position()));
    Atomics.notify(this.shared, 0);
  }

  /** Stop: outstanding jobs are abandoned (their promises reject), the threads end, the descriptor closes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.shared, 1, 1n);
    Atomics.notify(this.shared, 0);
    this.fail(new Error('verification stopped'));
    for (const w of this.workers) void w.worker.terminate();
    // a thread may still be in a read(2) of it: terminate() waits for that, so close after
    const left = this.workers.map((w) => new Promise<void>((r) => w.worker.once('exit', () => r())));
    void Promise.all(left).then(() => closeSync(this.fd));
  }

  private spawn(): { worker: Worker; jobs: number } | undefined {
    let worker: Worker;
    try {
      // `../verify/`: this module also runs from the CLI bundle in dist/src/cli (scripts/bundle.mjs)
      worker = new (workerThreads().Worker)(new URL('../verify/readback-worker.js', import.meta.url), { workerData: { state: this.state } });
    } catch {
      return undefined;
    }
    const entry = { worker, jobs: 0 };
    worker.unref();
    worker.on('message', (m: { id: number; hex?: string; error?: { message: string; code?: string }; cancelled?: boolean }) => {
      const a = this.answers.get(m.id);
      if (!a) return;
      this.answers.delete(m.id);
      if (--a.worker.jobs === 0) worker.unref();
      if (m.hex !== undefined) a.resolve(m.hex);
      else if (m.error) a.reject(Object.assign(new Error(m.error.message), m.error.code ? { code: m.error.code } : {}));
      else a.reject(new Error('verification stopped'));
    });
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => {
      if (code !== 0 && !this.closed) this.fail(new Error(`a hashing thread stopped (exit ${code})`));
    });
    this.workers.push(entry);
    return entry;
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const a of this.answers.values()) a.reject(this.failure);
    this.answers.clear();
    for (const w of this.workers) {
      w.jobs = 0;
      w.worker.unref();
    }
  }
}
