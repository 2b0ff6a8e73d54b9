/** What the pipe and FIFO slow tests share: a shell, Python's tarfile as a stream reader, a big archive. */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { imageConfig, makeTar, sha } from '../unit/fixtures.js';

/** Reads a tar stream from standard input as a pipe consumer would (mode 'r|': no seeking); prints its entry count. */
export const TARFILE = 'import sys, tarfile\nt = tarfile.open(fileobj=sys.stdin.buffer, mode="r|")\nn = 0\nfor m in t:\n    n += 1\n    if m.isfile():\n        t.extractfile(m).read()\nprint(n)';

/** `script` run by bash with pipefail; killed after a minute (a hang is then code null). */
export function bash(script: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', `set -o pipefail; ${script}`], { encoding: 'utf8', maxBuffer: 1 << 26, timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * `dir`/big.tar and big.tar.gz: one 24 MiB layer, many times a pipe's 64 KiB, so reads and writes
 * wait on each other; its config declares a volume. Returns big.tar's path.
 */
export async function bigArchive(dir: string, repo: string): Promise<string> {
  const layer = await makeTar([{ name: 'blob.bin', data: randomBytes(24 << 20) }]);
  const config = Buffer.from(JSON.stringify(imageConfig([sha(layer)], { config: { Volumes: { '/data': {} } } })));
  const big = join(dir, 'big.tar');
  await writeFile(
    big,
    await makeTar([
      { name: `${sha(layer)}.tar`, data: layer },
      { name: `${sha(config)}.json`, data: config },
      { name: 'manifest.json', data: JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: [`${repo}:1`], Layers: [`${sha(layer)}.tar`] }]) },
    ]),
  );
  await writeFile(`${big}.gz`, gzipSync(await readFile(big), { level: 1 }));
  return big;
}

/** Write all of `data` into a non-blocking fd, waiting when the pipe is full. */
export async function feed(fd: number, data: Buffer): Promise<void> {
  for (let off = 0; off < data.length; ) {
    try {
      off += writeSync(fd, data, off, data.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}

/** Wait until `cond` holds, polling every 10 ms; throws after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * SIGTERM to a run waiting on a stalled pipe or FIFO: its exit code and how long it took. A run
 * blocked in read(2) or write(2) would only see the signal once the pipe moves: `close` moves it
 * after 5 s (and is called once in any case), so that such a run fails the test instead of hanging it.
 */
export async function sigterm(child: ChildProcess, exited: Promise<number | null>, close: () => void): Promise<{ code: number | null; took: number }> {
  const t0 = Date.now();
  child.kill('SIGTERM');
  let closed = false;
  const once = () => {
    if (!closed) close();
    closed = true;
  };
  const unstall = setTimeout(once, 5000);
  const code = await exited;
  const took = Date.now() - t0;
  clearTimeout(unstall);
  once();
  return { code, took };
}
