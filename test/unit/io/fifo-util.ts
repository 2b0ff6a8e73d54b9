/** What the pipe and FIFO unit tests share: a temporary directory for the file's tests, and FIFOs in it. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';

/** Why FIFO tests cannot run here, or false. */
export const NOFIFO = spawnSync('mkfifo', ['--version']).status !== 0 ? 'no mkfifo' : false;

/** A directory made before the calling file's tests and removed after them; `fifo()` makes a new FIFO there. */
export function tempFifos(prefix: string): { dir(): string; fifo(): string } {
  let tmp = '';
  let n = 0;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), prefix));
  });
  after(() => rm(tmp, { recursive: true, force: true }));
  return {
    dir: () => tmp,
    fifo() {
      const p = join(tmp, `f${n++}`);
      assert.equal(spawnSync('mkfifo', [p]).status, 0);
      return p;
    },
  };
}

/** Everything a byte source gives until its end, each chunk copied (sources may reuse their buffer). */
export async function readAll(src: { read(max: number): Promise<Buffer> }, max = 1 << 20): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (;;) {
    const c = await src.read(max);
    if (c.length === 0) return Buffer.concat(parts);
    parts.push(Buffer.from(c));
  }
}
