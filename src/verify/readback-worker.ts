/**
 * Worker thread for `edit --verify` into a file: hashes byte ranges of the output file, read back
 * with pread(2) while the main thread is still writing it. `state` is shared with the main thread:
 * [0] the number of bytes written to the file so far (the main thread stores it and notifies),
 * [1] non-zero once the run is abandoned. A job is {id, fd, start, size}; the answer {id, hex}, or
 * {id, error} (a read failed), or {id, cancelled}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { hashRange } from './range-hash.js';

const state = new BigInt64Array((workerData as { state: SharedArrayBuffer }).state);
const buf = Buffer.allocUnsafe(1 << 20);

/** Bytes written from `pos` on, once there are some (sleeping until the writer stores a new count); -1 once cancelled. */
function written(pos: number): number {
  for (;;) {
    if (Atomics.load(state, 1) !== 0n) return -1;
    const count = Atomics.load(state, 0);
    if (Number(count) > pos) return Number(count) - pos;
    // the writer is behind: the timeout only rechecks [1]
    Atomics.wait(state, 0, count, 100);
  }
}

parentPort!.on('message', (job: { id: number; fd: number; start: number; size: number }) => {
  try {
    const hex = hashRange(job.fd, job.start, job.size, buf, written);
    parentPort!.postMessage(hex === undefined ? { id: job.id, cancelled: true } : { id: job.id, hex });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    parentPort!.postMessage({ id: job.id, error: { message: err?.message ?? String(e), code: err?.code } });
  }
});
