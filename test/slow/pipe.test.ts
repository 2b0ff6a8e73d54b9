/**
 * Issue 11: standard input and output as real pipes (`cat x | copyedit edit - -o - | docker load`),
 * read and written with read(2)/write(2) (src/io/pipe.ts). The output equals the file -> file edit
 * byte for byte and Python's tarfile reads it from the pipe; a reader gone away is exit 6; a
 * non-blocking stdin works; SIGTERM is handled at once while either pipe is stalled.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { constants as FS, closeSync, existsSync, openSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, STACK, leftovers } from '../unit/hostile-util.js';
import { TARFILE, bash, bigArchive, feed, sigterm, until } from './pipe-util.js';

const SAMPLES = new URL('../../../samples/', import.meta.url).pathname;
const EDIT = ['--rm-volume', 'all', '-q'];
const SKIP = spawnSync('mkfifo', ['--version']).status !== 0 ? 'no mkfifo' : spawnSync('python3', ['--version']).status !== 0 ? 'no python3' : false;
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe('standard input and output as pipes (issue 11)', { skip: SKIP }, () => {
  let dir: string;
  let big: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'copyedit-pipe-'));
    big = await bigArchive(dir, 'example/pipe');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** The file -> file edit of `input`, the reference. */
  function reference(input: string, name: string): string {
    const out = join(dir, `${name}.ref.tar`);
    // the streamed file output (a file into a file is patched by default, issue 26)
    const r = spawnSync(process.execPath, [BIN, 'edit', input, '-o', out, '--copy', 'stream', ...EDIT], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return out;
  }

  const inputs = () => [
    ...readdirSync(SAMPLES)
      .filter((f) => /\.tar(\.gz|\.zst|\.xz|\.bz2)?$/.test(f))
      .map((f) => join(SAMPLES, f)),
    big,
    `${big}.gz`,
  ];

  it('cat x | copyedit edit - -o - | python3 tarfile: every sample, equal to the file -> file edit byte for byte', async () => {
    const checked: string[] = [];
    for (const input of inputs()) {
      const name = input.split('/').pop()!;
      const ref = reference(input, name);
      const out = join(dir, `${name}.pipe.tar`);
      const r = bash(`cat ${q(input)} | ${q(process.execPath)} ${q(BIN)} edit - -o - ${EDIT.join(' ')} | tee ${q(out)} | python3 -c ${q(TARFILE)}`);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.match(r.stdout.trim(), /^[1-9]\d*$/, `${name}: tarfile read entries`);
      assert.ok((await readFile(out)).equals(await readFile(ref)), `${name}: the pipe's output equals the file -> file edit`);
      checked.push(name);
    }
    assert.ok(checked.length >= 10, `checked ${checked.join(', ')}`);
  });

  for (const [what, feed] of [
    ['cat big | copyedit edit -', (cmd: string) => `cat ${q(big)} | ${cmd} -`],
    ['copyedit edit big.tar', (cmd: string) => `${cmd} ${q(big)}`],
    ['cat big.tar.gz | copyedit edit -', (cmd: string) => `cat ${q(`${big}.gz`)} | ${cmd} -`],
  ] as const) {
    it(`${what} -o - | cat: equal to the file -> file edit; | head -c 100: exit 6, one line, no hang`, async () => {
      const cmd = `${q(process.execPath)} ${q(BIN)} edit`;
      const out = join(dir, 'stdout.tar');
      const ok = bash(`${feed(cmd)} -o - ${EDIT.join(' ')} | cat > ${q(out)}`);
      assert.equal(ok.code, 0, ok.stderr);
      assert.ok((await readFile(out)).equals(await readFile(reference(big, 'stdout'))));
      const err = join(dir, 'epipe.err');
      const r = bash(`set +o pipefail; ${feed(cmd)} -o - ${EDIT.join(' ')} 2>${q(err)} | head -c 100 > /dev/null; echo "\${PIPESTATUS[@]}"; cat ${q(err)}`);
      const [codes, ...rest] = r.stdout.trim().split('\n');
      assert.equal(codes?.split(' ').at(-2), '6', r.stdout);
      assert.equal(rest.join('\n'), 'copyedit: error: cannot write standard output: the reading end of the pipe was closed');
      assert.doesNotMatch(r.stdout, STACK);
    });
  }

  /**
   * A FIFO in `dir` and both its ends: non-blocking (as a parent may leave them), or blocking (as a
   * shell's pipe is: `sleep 30 | copyedit ...`). The non-blocking ends are opened first, so that
   * no open waits for the other end; they stay open (closed with `close`).
   */
  function fifo(name: string, blocking: { r?: boolean; w?: boolean } = {}): { r: number; w: number; close: () => void } {
    const path = join(dir, name);
    assert.equal(spawnSync('mkfifo', [path]).status, 0);
    const nbr = openSync(path, FS.O_RDONLY | FS.O_NONBLOCK);
    const nbw = openSync(path, FS.O_WRONLY | FS.O_NONBLOCK);
    const r = blocking.r ? openSync(path, FS.O_RDONLY) : nbr;
    const w = blocking.w ? openSync(path, FS.O_WRONLY) : nbw;
    const fds = new Set([nbr, nbw, r, w]);
    let closed = false;
    const close = () => {
      if (!closed) for (const fd of fds) closeSync(fd);
      closed = true;
    };
    return { r, w, close };
  }

  it('a non-blocking pipe as standard input (O_NONBLOCK on its file description): the same output', async () => {
    const ref = await readFile(reference(big, 'nb'));
    const { r, w, close } = fifo('nb.fifo');
    const child = spawn(process.execPath, [BIN, 'edit', '-', '-o', '-', ...EDIT], { stdio: [r, 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    const closed = new Promise<number | null>((res) => child.on('close', res));
    await feed(w, await readFile(big));
    close();
    assert.equal(await closed, 0, stderr);
    assert.ok(Buffer.concat(out).equals(ref));
  });

  it('SIGTERM while standard input is a stalled pipe (sleep 30 | copyedit edit - -o x): exit 143 at once, nothing left', async () => {
    const outDir = join(dir, 'stall-in');
    await mkdir(outDir);
    const output = join(outDir, 'out.tar');
    const { r, w, close } = fifo('stall-in.fifo', { r: true });
    const child = spawn(process.execPath, [BIN, 'edit', '-', '-o', output, ...EDIT], { stdio: [r, 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<number | null>((res) => child.on('close', res));
    // half the archive, then the writer stalls with its end open: the run waits mid-layer
    const bytes = await readFile(big);
    await feed(w, bytes.subarray(0, bytes.length >> 1));
    await until(async () => (await readdir(outDir)).some((n) => n.endsWith('.copyedit-tmp')), 'the temporary output');
    await new Promise((res) => setTimeout(res, 200)); // and has read all that was there
    const { code, took } = await sigterm(child, exited, close);
    assert.equal(code, 143, stderr);
    assert.ok(took < 3000, `exited ${took} ms after SIGTERM`);
    assert.equal(stderr.trim(), 'copyedit: interrupted by SIGTERM; no output was written');
    assert.equal(existsSync(output), false);
    assert.deepEqual(await leftovers(outDir), []);
  });

  it('SIGTERM while standard output is a stalled pipe (copyedit edit big -o - | sleep 30): exit 143 at once', async () => {
    const { w, close } = fifo('stall-out.fifo', { w: true });
    const child = spawn(process.execPath, [BIN, 'edit', '-', '-o', '-', ...EDIT], { stdio: ['pipe', w, 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    child.stdin!.on('error', () => {});
    const exited = new Promise<number | null>((res) => child.on('close', res));
    child.stdin!.end(await readFile(big));
    // nobody reads the FIFO: the run fills it (64 KiB) and waits for room
    await new Promise((res) => setTimeout(res, 1500));
    const { code, took } = await sigterm(child, exited, close);
    assert.equal(code, 143, stderr);
    assert.ok(took < 3000, `exited ${took} ms after SIGTERM`);
  });
});
