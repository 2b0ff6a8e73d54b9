import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';

/**
 * sha256 of the `size` bytes at `start` of the file open on `fd`, read with pread(2) into `buf`:
 * what the read-back threads (readback-worker.ts) and, when one fails, the main thread
 * (readback.ts) compute. `ready(pos)`: how many bytes from `pos` on are written and may be read
 * (waiting until some are), or -1 to give up: the answer is then undefined.
 */
export function hashRange(fd: number, start: number, size: number, buf: Buffer, ready: (pos: number) => number = () => Number.POSITIVE_INFINITY): string | undefined {
  const hash = createHash('sha256');
  const end = start + size;
  for (let pos = start; pos < end; ) {
    const avail = ready(pos);
    if (avail < 0) return undefined;
    const n = readSync(fd, buf, 0, Math.min(avail, end - pos, buf.length), pos);
    if (n === 0) throw new Error(`the file ends at byte ${pos}, before the entry's end at ${end}`);
    hash.update(buf.subarray(0, n));
    pos += n;
  }
  return hash.digest('hex');
}
