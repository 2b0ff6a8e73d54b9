/**
 * Interrupts: Ctrl-C, SIGTERM and a reader that goes away mid-write leave no partial output and no
 * temporary file, exit with the documented code, and print one line, not a stack trace.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { imageConfig, makeTar, sha } from '../unit/fixtures.js';
import { BIN, STACK, fileState, leftovers } from '../unit/hostile-util.js';

describe('interrupts (issue 6)', () => {
  let dir: string;
  let big: string;
  let bigBytes: Buffer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'copyedit-signals-'));
    // one large layer, so that the run is still writing when we interrupt it
    const layer = await makeTar([{ name: 'blob.bin', data: randomBytes(24 << 20) }]);
    const config = Buffer.from(JSON.stringify(imageConfig([sha(layer)])));
    bigBytes = await makeTar([
      { name: `${sha(layer)}.tar`, data: layer },
      { name: `${sha(config)}.json`, data: config },
      { name: 'manifest.json', data: JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: ['example/big:1'], Layers: [`${sha(layer)}.tar`] }]) },
    ]);
    big = join(dir, 'big.tar');
    await writeFile(big, bigBytes);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function until(cond: () => Promise<boolean>, what: string, ms = 10000): Promise<void> {
    const end = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Feed `input` slowly into `copyedit edit - -o OUT`; once the temp file exists, send `signal`. */
  async function interrupt(signal: 'SIGINT' | 'SIGTERM', input: Buffer, name: string) {
    const outDir = join(dir, name);
    await mkdir(outDir);
    const output = join(outDir, 'out.tar');
    const child = spawn(process.execPath, [BIN, 'edit', '-', '-o', output, '-q', '--rm-volume', 'all'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => {});
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('close', (code, sig) => res({ code, signal: sig })));
    // half the input, and the pipe stays open: the run waits for the rest, mid-layer
    child.stdin.write(input.subarray(0, input.length >> 1));
    await until(async () => (await readdir(outDir)).some((n) => n.endsWith('.copyedit-tmp')), 'the temporary output');
    child.kill(signal);
    const r = await exited;
    child.stdin.destroy();
    return { ...r, stderr, outDir, output };
  }

  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${signal} mid-write: exit ${code}, no output, no temp file`, async () => {
      const r = await interrupt(signal, bigBytes, signal);
      assert.equal(r.code, code, r.stderr);
      assert.equal(r.stderr.trim(), `copyedit: interrupted by ${signal}; no output was written`);
      assert.equal(existsSync(r.output), false);
      assert.deepEqual(await leftovers(r.outDir), []);
    });
  }

  it('SIGINT while xz decompresses the input: exit 130, nothing left', { skip: spawnSync('xz', ['--version']).status !== 0 ? 'no xz' : false }, async () => {
    // xz -0 of random data is about as big as the data: the pipe is still busy when we interrupt
    const xz = spawnSync('xz', ['-0', '-c'], { input: bigBytes, maxBuffer: 1 << 27 }).stdout;
    const r = await interrupt('SIGINT', xz, 'xz');
    assert.equal(r.code, 130, r.stderr);
    assert.deepEqual(await readdir(r.outDir), []);
  });

  it('a closed stdout pipe (copyedit edit big.tar -o - | head -c 1000): exit 6, one line, input untouched', async () => {
    const before = await fileState(big);
    const child = spawn(process.execPath, [BIN, 'edit', big, '-o', '-', '-q', '--rm-volume', 'all'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let got = 0;
    child.stdout.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= 1000) child.stdout.destroy(); // what head -c 1000 does
    });
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    assert.equal(code, 6, stderr);
    assert.equal(stderr.trim(), 'copyedit: error: cannot write standard output: the reading end of the pipe was closed');
    assert.doesNotMatch(stderr, STACK);
    assert.deepEqual(await fileState(big), before);
  });

  it('the same through a shell pipe into head', { skip: spawnSync('bash', ['-c', 'true']).status !== 0 ? 'no bash' : false }, async () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" edit "${big}" -o - -q --rm-volume all | head -c 1000 >/dev/null; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    assert.equal(r.stdout.trim(), '6', r.stderr);
    assert.match(r.stderr, /^copyedit: error: cannot write standard output: the reading end of the pipe was closed\n$/);
    assert.deepEqual(await readFile(big), bigBytes);
  });
});
