/**
 * Worker thread for `edit --verify` into a file: hashes byte ranges of the output file, read back
 * with pread(2) while the main thread is still writing it. `state` is shared with the main thread:
 * [0] the number of bytes written to the file so far (the main thread stores it and notifies),
 * [1] non-zero once the run is abandoned. A job is {id, fd, start, size}; the answer {id, hex}, or
 * {id, error} (a read failed), or {id, cancelled}.
 */
import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const state = new BigInt64Array((workerData as { state: SharedArrayBuffer }).state);
const buf = Buffer.allocUnsafe(1 << 20);

parentPort!.on('message', (job: { id: number; fd: number; start: number; size: number }) => {
  const hash = createHash('sha256');
  const end = job.start + job.size;
  let pos = job.start;
  try {
    while (pos < end) {
      if (Atomics.load(state, 1) !== 0n) {
        parentPort!.postMessage({ id: job.id, cancelled: true });
        return;
      }
      const written = Atomics.load(state, 0);
      const ready = Number(written) - pos;
      if (ready <= 0) {
        // the writer is behind: sleep until it stores a new position (the timeout only rechecks [1])
        Atomics.wait(state, 0, written, 100);
        continue;
      }
      const n = readSync(job.fd, buf, 0, Math.min(ready, end - pos, buf.length), pos);
      if (n === 0) throw new Error(`the file ends at byte ${pos}, before the entry's end at ${end}`);
      hash.update(buf.subarray(0, n));
      pos += n;
    }
    parentPort!.postMessage({ id: job.id, hex: hash.digest('hex') });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    parentPort!.postMessage({ id: job.id, error: { message: err?.message ?? String(e), code: err?.code } });
  }
});
