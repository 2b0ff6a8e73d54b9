/**
 * Issue 11: a named FIFO or `<(docker save x)` as input, standard input redirected from a file
 * (`- < file`, also when something already read part of it) and `-o FIFO` take the read(2)/write(2)
 * paths. The output equals the file -> file edit byte for byte and Python's tarfile reads it; a
 * FIFO reader gone away is exit 6; SIGTERM is handled at once while a FIFO is stalled; standard
 * input's file is read by FdSource from its current offset (seen in a child: its fd 0).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { constants as FS, closeSync, existsSync, openSync, readSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { BIN, STACK, leftovers } from '../unit/hostile-util.js';
import { TARFILE, bash, bigArchive, feed, sigterm, until } from './pipe-util.js';

const SAMPLES = new URL('../../../samples/', import.meta.url).pathname;
const SOURCE_JS = new URL('../../src/io/source.js', import.meta.url).href;
const EDIT = ['--rm-volume', 'all', '-q'];
const SKIP = spawnSync('mkfifo', ['--version']).status !== 0 ? 'no mkfifo' : spawnSync('python3', ['--version']).status !== 0 ? 'no python3' : false;
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const CMD = `${q(process.execPath)} ${q(BIN)} edit`;

describe('FIFOs, <(...), - < file and -o FIFO on the read(2)/write(2) paths (issue 11)', { skip: SKIP }, () => {
  let dir: string;
  let big: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'copyedit-fifo-'));
    big = await bigArchive(dir, 'example/fifo');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const refs = new Map<string, Buffer>();
  /** The file -> file edit of `input`, the reference. */
  async function reference(input: string): Promise<Buffer> {
    let ref = refs.get(input);
    if (!ref) {
      const out = join(dir, `ref-${refs.size}.tar`);
      // the streamed file output (a file into a file is patched by default, issue 26)
      const r = spawnSync(process.execPath, [BIN, 'edit', input, '-o', out, '--copy', 'stream', ...EDIT], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      ref = await readFile(out);
      refs.set(input, ref);
    }
    return ref;
  }

  /** Equal to the file -> file edit, and read whole by Python's tarfile as a stream. */
  async function check(out: string, input: string, what: string): Promise<void> {
    assert.ok((await readFile(out)).equals(await reference(input)), `${what}: equal to the file -> file edit`);
    const t = bash(`python3 -c ${q(TARFILE)} < ${q(out)}`);
    assert.equal(t.code, 0, `${what}: ${t.stderr}`);
    assert.match(t.stdout.trim(), /^[1-9]\d*$/, `${what}: tarfile read entries`);
  }

  const inputs = () => [join(SAMPLES, 'docker20-legacy.tar'), join(SAMPLES, 'docker20-legacy.tar.gz'), join(SAMPLES, 'docker26-multi.tar'), big, `${big}.gz`];
  const nameOf = (p: string) => p.split('/').pop()!;
  let k = 0;

  it('a named FIFO as input (its writer comes after copyedit opened it): equal to the file -> file edit', async () => {
    for (const input of inputs()) {
      const fifo = join(dir, `in${k++}.fifo`);
      const out = join(dir, `fifo-in-${nameOf(input)}.tar`);
      const r = bash(`mkfifo ${q(fifo)}; { sleep 0.2; cat ${q(input)} > ${q(fifo)}; } & ${CMD} ${q(fifo)} -o ${q(out)} ${EDIT.join(' ')}; s=$?; wait; exit $s`);
      assert.equal(r.code, 0, `${nameOf(input)}: ${r.stderr}`);
      await check(out, input, `FIFO ${nameOf(input)}`);
    }
  });

  it('<(cat x), a /dev/fd/N pipe, as input: equal to the file -> file edit', async () => {
    for (const input of inputs()) {
      const out = join(dir, `subst-${nameOf(input)}.tar`);
      const r = bash(`${CMD} <(cat ${q(input)}) -o ${q(out)} ${EDIT.join(' ')}`);
      assert.equal(r.code, 0, `${nameOf(input)}: ${r.stderr}`);
      await check(out, input, `<(cat ${nameOf(input)})`);
    }
  });

  it('- < file, and - < file after something read its first bytes ({ head -c N; copyedit edit -; } < f): equal to the file -> file edit', async () => {
    for (const input of inputs()) {
      const out = join(dir, `stdin-${nameOf(input)}.tar`);
      const r = bash(`${CMD} - -o ${q(out)} ${EDIT.join(' ')} < ${q(input)}`);
      assert.equal(r.code, 0, `${nameOf(input)}: ${r.stderr}`);
      await check(out, input, `- < ${nameOf(input)}`);
      // 1000 bytes of something else first, read away by head (which reads exactly that many from a file)
      const prefixed = join(dir, `prefixed-${nameOf(input)}`);
      await writeFile(prefixed, Buffer.concat([randomBytes(1000), await readFile(input)]));
      const out2 = join(dir, `stdin-at-${nameOf(input)}.tar`);
      const r2 = bash(`{ head -c 1000 > /dev/null; ${CMD} - -o ${q(out2)} ${EDIT.join(' ')}; } < ${q(prefixed)}`);
      assert.equal(r2.code, 0, `${nameOf(input)}: ${r2.stderr}`);
      await check(out2, input, `- < ${nameOf(input)} at offset 1000`);
    }
  });

  it('- < file: read by FdSource on fd 0 from its current offset, size = what is left; gzip decompressed from there', async () => {
    // a child whose fd 0 is a file this test advanced by 777 bytes: what openInput('-') makes of it
    const probe = join(dir, 'probe.mjs');
    await writeFile(
      probe,
      `const { openInput } = await import(${JSON.stringify(SOURCE_JS)});
const i = await openInput('-');
const h = (await import('node:crypto')).createHash('sha256');
for (let c = await i.reader.read(1 << 20); c.length > 0; c = await i.reader.read(1 << 20)) h.update(c);
i.close();
console.log(JSON.stringify({ reader: i.reader.constructor.name, compression: i.compression, size: i.size ?? null, bytesRead: i.bytesRead(), sha: h.digest('hex') }));`,
    );
    const plain = await readFile(big);
    for (const [name, body] of [
      ['plain', plain],
      ['gzip', gzipSync(plain, { level: 1 })],
    ] as const) {
      const file = join(dir, `advanced-${name}`);
      await writeFile(file, Buffer.concat([randomBytes(777), body]));
      const fd = openSync(file, 'r');
      assert.equal(readSync(fd, Buffer.alloc(777), 0, 777, null), 777);
      const r = spawnSync(process.execPath, [probe], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8' });
      closeSync(fd);
      assert.equal(r.status, 0, r.stderr);
      const got = JSON.parse(r.stdout);
      assert.deepEqual(got, {
        reader: name === 'plain' ? 'FdSource' : 'StreamSource',
        compression: name === 'plain' ? 'none' : 'gzip',
        size: body.length,
        bytesRead: body.length,
        sha: createHash('sha256').update(plain).digest('hex'),
      });
    }
  });

  it('-o FIFO | python3 tarfile (and tee): equal to the file -> file edit, plain and gzip input', async () => {
    for (const input of inputs()) {
      const fifo = join(dir, `out${k++}.fifo`);
      const out = join(dir, `fifo-out-${nameOf(input)}.tar`);
      const r = bash(`mkfifo ${q(fifo)}; tee ${q(out)} < ${q(fifo)} | python3 -c ${q(TARFILE)} & ${CMD} ${q(input)} -o ${q(fifo)} ${EDIT.join(' ')}; s=$?; wait $!; t=$?; exit $((s ? s : t))`);
      assert.equal(r.code, 0, `${nameOf(input)}: ${r.stderr}`);
      assert.match(r.stdout.trim(), /^[1-9]\d*$/, `${nameOf(input)}: tarfile read the FIFO`);
      await check(out, input, `-o FIFO from ${nameOf(input)}`);
    }
  });

  it('-o FIFO whose reader goes away (head -c 100 < FIFO): exit 6, one line, as before', async () => {
    for (const input of [big, `${big}.gz`]) {
      const fifo = join(dir, `epipe${k++}.fifo`);
      const r = bash(`mkfifo ${q(fifo)}; head -c 100 < ${q(fifo)} > /dev/null & ${CMD} ${q(input)} -o ${q(fifo)} ${EDIT.join(' ')}; echo "exit $?"; wait`);
      assert.equal(r.stdout.trim(), 'exit 6', `${nameOf(input)}: ${r.stderr}`);
      assert.equal(r.stderr.trim(), `copyedit: error: cannot write ${fifo}: the reading end of the pipe was closed`);
      assert.doesNotMatch(r.stderr, STACK);
    }
  });

  it('SIGTERM while a named FIFO input is stalled mid-archive: exit 143 at once, no output, no temporary', async () => {
    const d = join(dir, 'stall-in');
    await mkdir(d);
    const fifo = join(d, 'in.fifo');
    const output = join(d, 'out.tar');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const child = spawn(process.execPath, [BIN, 'edit', fifo, '-o', output, ...EDIT], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b));
    const exited = new Promise<number | null>((res) => child.on('close', res));
    // the writer: opened once copyedit has the reading end (ENXIO until then), half the archive, then silence
    let w: number | undefined;
    await until(() => {
      try {
        w = openSync(fifo, FS.O_WRONLY | FS.O_NONBLOCK);
        return true;
      } catch {
        return false;
      }
    }, 'the reader of the FIFO');
    const bytes = await readFile(big);
    await feed(w!, bytes.subarray(0, bytes.length >> 1));
    await until(async () => (await readdir(d)).some((n) => n.endsWith('.copyedit-tmp')), 'the temporary output');
    await new Promise((res) => setTimeout(res, 200)); // and has read all that was there
    const { code, took } = await sigterm(child, exited, () => closeSync(w!));
    assert.equal(code, 143, stderr);
    assert.ok(took < 3000, `exited ${took} ms after SIGTERM`);
    assert.equal(stderr.trim(), 'copyedit: interrupted by SIGTERM; no output was written');
    assert.equal(existsSync(output), false);
    assert.deepEqual(await leftovers(d), []);
    assert.deepEqual(await readdir(d), ['in.fifo']);
  });

  it('SIGTERM while nobody reads -o FIFO (full): exit 143 at once, the FIFO left as it was', async () => {
    const d = join(dir, 'stall-out');
    await mkdir(d);
    const fifo = join(d, 'out.fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const r = openSync(fifo, FS.O_RDONLY | FS.O_NONBLOCK); // a reader that never reads
    const child = spawn(process.execPath, [BIN, 'edit', big, '-o', fifo, ...EDIT], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b));
    const exited = new Promise<number | null>((res) => child.on('close', res));
    // the run fills the FIFO (64 KiB) and waits for room
    await new Promise((res) => setTimeout(res, 1500));
    const { code, took } = await sigterm(child, exited, () => closeSync(r));
    assert.equal(code, 143, stderr);
    assert.ok(took < 3000, `exited ${took} ms after SIGTERM`);
    assert.equal(stderr.trim(), 'copyedit: interrupted by SIGTERM; no output was written');
    assert.deepEqual(await readdir(d), ['out.fifo']);
  });

  // what reads its input twice must not wait for a second writer (a FIFO) nor split the bytes with a second reader
  for (const [what, flags, ref] of [
    ['--format oci', ['--format', 'oci'], 'file'],
    ['--layer-compression gzip', ['--layer-compression', 'gzip'], 'file'],
    ['--format docker --layer-compression none', ['--format', 'docker', '--layer-compression', 'none'], 'file'],
    ['--only-platform linux/arm64', ['--only-platform', 'linux/arm64'], 'stdin'],
  ] as const) {
    it(`${what} (reads its input twice) from a named FIFO and from <(cat x): finishes, equal to the same edit from ${ref === 'file' ? 'the file' : 'a standard input pipe'}`, async () => {
      for (const input of [join(SAMPLES, 'docker28c-multi.tar'), join(SAMPLES, 'docker20-legacy.tar.gz')]) {
        if (what.startsWith('--only') && input.endsWith('.gz')) continue; // one platform only there
        const args = [...EDIT, ...flags].map(q).join(' ');
        const T = `timeout -s KILL 30 ${CMD}`; // a hang (the bug) is exit 137, and leaves no process behind
        const want = join(dir, `two-ref-${k}.tar`);
        const r0 = ref === 'file' ? bash(`${CMD} ${q(input)} -o ${q(want)} --copy stream ${args}`) : bash(`cat ${q(input)} | ${CMD} - -o ${q(want)} ${args}`);
        assert.equal(r0.code, 0, r0.stderr);
        const fifo = join(dir, `two${k++}.fifo`);
        const viaFifo = join(dir, `two-fifo-${k}.tar`);
        const r1 = bash(`mkfifo ${q(fifo)}; { sleep 0.2; cat ${q(input)} > ${q(fifo)}; } & ${T} ${q(fifo)} -o ${q(viaFifo)} ${args}; s=$?; kill %1 2>/dev/null; wait; exit $s`);
        assert.equal(r1.code, 0, `${what} from a FIFO of ${nameOf(input)}: ${r1.stderr} (137: it hung)`);
        assert.ok((await readFile(viaFifo)).equals(await readFile(want)), `${what} from a FIFO of ${nameOf(input)}`);
        const viaSubst = join(dir, `two-subst-${k}.tar`);
        const r2 = bash(`${T} <(cat ${q(input)}) -o ${q(viaSubst)} ${args}`);
        assert.equal(r2.code, 0, `${what} from <(cat ${nameOf(input)}): ${r2.stderr} (137: it hung)`);
        assert.ok((await readFile(viaSubst)).equals(await readFile(want)), `${what} from <(cat ${nameOf(input)})`);
      }
    });
  }
});
