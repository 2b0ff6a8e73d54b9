/**
 * Interrupts: Ctrl-C, SIGTERM and a reader that goes away mid-write leave no partial output and no
 * temporary file, exit with the documented code, and print one line, not a stack trace.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dockerLegacy, imageConfig, makeTar, sha } from '../unit/fixtures.js';
import { BIN, STACK, fileState, leftovers, runCli } from '../unit/hostile-util.js';
import { STALE_MS, removeStaleTemporaries } from '../../src/io/sink.js';

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

/** The files a process has open (Linux /proc; empty elsewhere). */
function opened(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return '';
      }
    });
  } catch {
    return [];
  }
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

describe('input from a FIFO or process substitution (issue 9.4)', () => {
  const HAVE = spawnSync('mkfifo', ['--version']).status === 0 ? false : 'no mkfifo';
  let dir: string;
  let archive: Buffer;
  let expected: Buffer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'copyedit-fifo-'));
    archive = (await dockerLegacy()).archive;
    await writeFile(join(dir, 'in.tar'), archive);
    const r = await runCli(['edit', join(dir, 'in.tar'), '-o', join(dir, 'ref.tar'), '-q', '--copy', 'stream', '--rm-volume', 'all']);
    assert.equal(r.code, 0, r.stderr);
    expected = await readFile(join(dir, 'ref.tar'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('a named pipe (plain and gzip) is read as a stream: same output as from the file', { skip: HAVE }, async () => {
    for (const [name, bytes] of [
      ['plain.fifo', archive],
      ['gz.fifo', (await import('node:zlib')).gzipSync(archive)],
    ] as const) {
      const fifo = join(dir, name);
      assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
      const out = join(dir, `${name}.tar`);
      const run = runCli(['edit', fifo, '-o', out, '-q', '--rm-volume', 'all'], { timeoutMs: 15000 });
      await new Promise((r) => setTimeout(r, 200)); // the run waits for a writer, without ESPIPE
      await writeFile(fifo, bytes);
      const r = await run;
      assert.equal(r.code, 0, r.stderr);
      assert.ok((await readFile(out)).equals(expected), name);
    }
  });

  it('process substitution <(cat in.tar), i.e. /dev/fd/N', { skip: spawnSync('bash', ['-c', 'true']).status !== 0 ? 'no bash' : false }, async () => {
    const out = join(dir, 'subst.tar');
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" edit <(cat "${join(dir, 'in.tar')}") -o "${out}" -q --rm-volume all`], { encoding: 'utf8', timeout: 15000 });
    assert.equal(r.status, 0, r.stderr);
    assert.ok((await readFile(out)).equals(expected));
  });

  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${signal} while waiting for a FIFO's writer (input) or reader (output): exit ${code}, nothing left`, { skip: HAVE, timeout: 20000 }, async () => {
      for (const side of ['input', 'output'] as const) {
        const d = join(dir, `${signal}-${side}`);
        await mkdir(d);
        const fifo = join(d, 'p.fifo');
        assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
        const args = side === 'input' ? ['edit', fifo, '-o', join(d, 'out.tar')] : ['edit', join(dir, 'in.tar'), '-o', fifo];
        const child = spawn(process.execPath, [BIN, ...args, '-q', '--rm-volume', 'all'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const exited = new Promise<number | null>((res) => child.on('close', (c) => res(c)));
        // started, its signal handlers installed, and waiting on the FIFO: it has the FIFO (input)
        // or the input file (output) open
        const want = side === 'input' ? fifo : join(dir, 'in.tar');
        await until(() => opened(child.pid!).includes(want), 10000);
        await new Promise((r) => setTimeout(r, 100));
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        const got = await exited;
        clearTimeout(timer);
        assert.equal(got, code, `${side}: ${stderr}`);
        assert.equal(stderr.trim(), `copyedit: interrupted by ${signal}; no output was written`);
        assert.deepEqual((await readdir(d)).sort(), ['p.fifo'], side);
      }
    });
  }
});

describe('temporaries left by SIGKILL (issue 9.4)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'copyedit-stale-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** A pid that is certainly not running now: a child that has exited. */
  function deadPid(): number {
    const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    return Number(r.stdout);
  }

  it('only our own old temporaries of dead processes are removed; links, young files, live pids, other names stay', async () => {
    const d = join(dir, 'unit');
    await mkdir(d);
    // the host tag of this machine, learnt from a temp name a run creates
    const host = await hostTag();
    const dead = deadPid();
    const old = (Date.now() - STALE_MS - 60_000) / 1000;
    const names = {
      stale: `.ce-${dead}-${host}-0123abcd.copyedit-tmp`,
      young: `.ce-${dead}-${host}-1123abcd.copyedit-tmp`,
      live: `.ce-${process.pid}-${host}-2123abcd.copyedit-tmp`,
      otherHost: `.ce-${dead}-${host === 'ffff' ? 'eeee' : 'ffff'}-3123abcd.copyedit-tmp`,
      link: `.ce-${dead}-${host}-4123abcd.copyedit-tmp`,
      notOurs: `.out.tar.${dead}.copyedit-tmp`,
      user: 'keep.tar',
    };
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'must survive');
    for (const [k, n] of Object.entries(names)) {
      const p = join(d, n);
      if (k === 'link') await symlink(victim, p);
      else await writeFile(p, k);
      if (k !== 'young') await utimes(p, old, old).catch(() => {});
    }
    await utimes(victim, old, old);
    const removed = await removeStaleTemporaries(d);
    assert.deepEqual(removed, [join(d, names.stale)]);
    const left = (await readdir(d)).sort();
    assert.deepEqual(
      left,
      Object.entries(names)
        .filter(([k]) => k !== 'stale')
        .map(([, n]) => n)
        .sort(),
    );
    assert.ok((await lstat(join(d, names.link))).isSymbolicLink());
    assert.equal(await readFile(victim, 'utf8'), 'must survive');
  });

  /** The host part of the temporary name, read from a run that is waiting for its input. */
  async function hostTag(): Promise<string> {
    const d = join(dir, `tag-${Math.random().toString(16).slice(2)}`);
    await mkdir(d);
    const { child, temp } = await startAndWaitForTemp(d);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    await rm(join(d, temp));
    return /^\.ce-\d+-([0-9a-f]{4})-/.exec(temp)![1]!;
  }

  async function startAndWaitForTemp(d: string) {
    const archive = (await dockerLegacy()).archive;
    const child = spawn(process.execPath, [BIN, 'edit', '-', '-o', join(d, 'out.tar'), '-q', '--rm-volume', 'all'], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.stdin.on('error', () => {});
    child.stdin.write(archive.subarray(0, 1536)); // a part: the run has its temporary file and waits
    const end = Date.now() + 10000;
    for (;;) {
      const t = (await readdir(d)).find((n) => n.endsWith('.copyedit-tmp'));
      if (t) return { child, temp: t };
      if (Date.now() > end) throw new Error('no temporary file appeared');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('SIGKILL mid-write leaves the temporary (nothing can clean up); the next run to that directory removes it once stale', async () => {
    const d = join(dir, 'kill');
    await mkdir(d);
    const { child, temp } = await startAndWaitForTemp(d);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    assert.deepEqual(await leftovers(d), [temp], 'SIGKILL cannot be cleaned up after');
    const input = join(dir, 'in.tar');
    await writeFile(input, (await dockerLegacy()).archive);
    // a young temporary is kept (its run might be alive elsewhere, or just started)
    let r = await runCli(['edit', input, '-o', join(d, 'next.tar'), '-q', '--rm-volume', 'all']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await leftovers(d), [temp]);
    const old = (Date.now() - STALE_MS - 60_000) / 1000;
    await utimes(join(d, temp), old, old);
    r = await runCli(['edit', input, '-o', join(d, 'next.tar'), '-q', '--rm-volume', 'all']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await leftovers(d), []);
  });
});
