/**
 * Issue 9 class 4 and issue 14 items 7-8: nothing outside the output is damaged, and every failure
 * is clean. Devices, FIFOs and terminals are written into, never replaced; symbolic links are
 * written through; long names fit; a full disk fails at once with nothing left behind; a missing or
 * unwritable directory says so.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, statSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { dockerLegacy, imageConfig, makeTar, sha } from '../unit/fixtures.js';
import { BIN, STACK, leftovers, runCli } from '../unit/hostile-util.js';

const ROOT = process.getuid?.() === 0;
const EDIT = ['--rm-volume', 'all', '-q'];

/** An archive with one layer of `layerBytes` (random, or zeros: a "gzip bomb" when compressed). */
async function archiveWith(layerBytes: Buffer): Promise<Buffer> {
  const layer = await makeTar([{ name: 'blob.bin', data: layerBytes }]);
  const config = Buffer.from(JSON.stringify(imageConfig([sha(layer)], { config: { Volumes: { '/data': {} } } })));
  return makeTar([
    { name: `${sha(layer)}.tar`, data: layer },
    { name: `${sha(config)}.json`, data: config },
    { name: 'manifest.json', data: JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: ['example/io:1'], Layers: [`${sha(layer)}.tar`] }]) },
  ]);
}

/** Mount a tmpfs of `size` on a new directory (root only); undefined when that is not possible here. */
function mountTmpfs(dir: string, opts: string): boolean {
  if (!ROOT) return false;
  return spawnSync('mount', ['-t', 'tmpfs', '-o', opts, 'none', dir]).status === 0;
}

describe('output: devices, FIFOs, terminals, links, names, directories (issue 9.4, 14.7, 14.8)', () => {
  let dir: string;
  let good: string;
  let expected: Buffer;
  let streamed: Buffer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'copyedit-io-'));
    good = join(dir, 'good.tar');
    await writeFile(good, (await dockerLegacy()).archive);
    const ref = join(dir, 'ref.tar');
    const r = await runCli(['edit', good, '-o', ref, ...EDIT]);
    assert.equal(r.code, 0, r.stderr);
    expected = await readFile(ref);
    // what a stream (a FIFO, a device) gets: the streamed output (a file into a file is patched, issue 26)
    const r2 = await runCli(['edit', good, '-o', ref, '--copy', 'stream', ...EDIT]);
    assert.equal(r2.code, 0, r2.stderr);
    streamed = await readFile(ref);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('-o FIFO: the archive is written into the FIFO, which stays a FIFO', { skip: spawnSync('mkfifo', ['--version']).status !== 0 ? 'no mkfifo' : false }, async () => {
    const fifo = join(dir, 'out.fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
    const got: Buffer[] = [];
    reader.stdout.on('data', (d: Buffer) => got.push(d));
    const readerDone = new Promise((res) => reader.on('close', res));
    const r = await runCli(['edit', good, '-o', fifo, ...EDIT], { timeoutMs: 15000 }).finally(() => {
      // a run that replaced the FIFO never opened it: do not wait for the reader forever
      setTimeout(() => reader.kill(), 3000).unref();
    });
    await readerDone;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Buffer.concat(got).equals(streamed), 'the FIFO reader got the same archive as a streamed file output holds');
    assert.ok(lstatSync(fifo).isFIFO(), 'still a FIFO');
    assert.deepEqual(await leftovers(dir), []);
  });

  // a private copy of /dev/null (same device numbers), made with mknod: a broken build must not
  // replace the system's /dev/null, which other programs on this machine are using
  it('-o a character device such as /dev/null (root): written into, the device node is not replaced', async (t) => {
    const dev = join(dir, 'null');
    if (!ROOT || spawnSync('mknod', ['-m', '666', dev, 'c', '1', '3']).status !== 0) return t.skip('not root, or mknod failed: cannot make a device node');
    const before = lstatSync(dev);
    const r = await runCli(['edit', good, '-o', dev, ...EDIT]);
    assert.equal(r.code, 0, r.stderr);
    const now = lstatSync(dev);
    assert.ok(now.isCharacterDevice(), 'still a character device');
    assert.equal(now.rdev, before.rdev);
    assert.equal(now.ino, before.ino);
    assert.deepEqual(await leftovers(dir), []);
  });

  it('-o - onto a terminal is refused (exit 2, what to do); a pipe is fine', { skip: spawnSync('script', ['--version']).status !== 0 ? 'no script(1) for a pty' : false }, () => {
    const cmd = `"${process.execPath}" "${BIN}" edit "${good}" -o - ${EDIT.join(' ')}; echo "rc=$?"`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'latin1', timeout: 20000 });
    assert.match(r.stdout, /copyedit: error: refusing to write a binary archive to a terminal \(standard output\); redirect it/);
    assert.match(r.stdout, /rc=2/);
    assert.doesNotMatch(r.stdout, /manifest\.json/, 'no archive bytes on the terminal');
  });

  it('-o a 250-byte name: the temporary name fits within NAME_MAX', async () => {
    const name = `${'n'.repeat(246)}.tar`;
    const r = await runCli(['edit', good, '-o', join(dir, name), ...EDIT]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await readFile(join(dir, name))).equals(expected));
    const max = `${'m'.repeat(251)}.tar`;
    const r2 = await runCli(['edit', good, '-o', join(dir, max), ...EDIT]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(await leftovers(dir), []);
  });

  describe('-o naming a symbolic link writes through it, as cp does (issue 14.7)', () => {
    it('link to an existing file: the link stays, the file it names gets the archive', async () => {
      const d = join(dir, 'links1');
      await mkdir(join(d, 'real'), { recursive: true });
      await writeFile(join(d, 'real', 'target.tar'), 'old');
      await symlink('real/target.tar', join(d, 'link.tar'));
      const r = await runCli(['edit', good, '-o', join(d, 'link.tar'), ...EDIT]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok((await lstat(join(d, 'link.tar'))).isSymbolicLink(), 'the link is still a link');
      assert.equal(await readlink(join(d, 'link.tar')), 'real/target.tar');
      assert.ok((await readFile(join(d, 'real', 'target.tar'))).equals(expected));
      assert.deepEqual([...(await leftovers(d)), ...(await leftovers(join(d, 'real')))], []);
    });
    it('dangling link, chain of links, relative link from another directory: the final file is created', async () => {
      const d = join(dir, 'links2');
      await mkdir(join(d, 'a', 'b'), { recursive: true });
      await mkdir(join(d, 'c'));
      // d/out.tar -> a/hop.tar -> (relative to a/) ../c/final.tar, which does not exist yet
      await symlink('a/hop.tar', join(d, 'out.tar'));
      await symlink('../c/final.tar', join(d, 'a', 'hop.tar'));
      const r = await runCli(['edit', good, '-o', join(d, 'out.tar'), ...EDIT]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok((await lstat(join(d, 'out.tar'))).isSymbolicLink());
      assert.ok((await lstat(join(d, 'a', 'hop.tar'))).isSymbolicLink());
      assert.ok((await readFile(join(d, 'c', 'final.tar'))).equals(expected));
    });
    it('a loop of links: exit 6, nothing written', async () => {
      const d = join(dir, 'links3');
      await mkdir(d);
      await symlink('y.tar', join(d, 'x.tar'));
      await symlink('x.tar', join(d, 'y.tar'));
      const r = await runCli(['edit', good, '-o', join(d, 'x.tar'), ...EDIT]);
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stderr, /too many levels of symbolic links/);
      assert.ok((await lstat(join(d, 'x.tar'))).isSymbolicLink());
      assert.deepEqual(await leftovers(d), []);
    });
  });

  describe('an output directory that cannot take the file says why and what to do (issue 14.8)', () => {
    const refused = async (output: string, message: RegExp, o: { uid?: number } = {}) => {
      const r =
        o.uid !== undefined
          ? spawnSync(process.execPath, [BIN, 'edit', good, '-o', output, ...EDIT], { uid: o.uid, gid: o.uid, encoding: 'utf8' })
          : spawnSync(process.execPath, [BIN, 'edit', good, '-o', output, ...EDIT], { encoding: 'utf8' });
      assert.equal(r.status, 6, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, STACK);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    };
    it('missing directory (ENOENT)', async () => {
      const d = join(dir, 'nodir');
      await refused(join(d, 'o.tar'), new RegExp(`^copyedit: error: cannot write ${d}/o\\.tar: the directory ${d} does not exist; create it \\(mkdir -p ${d}\\) or choose another output path\\n$`));
    });
    it('a file where the directory should be (ENOTDIR)', async () => {
      await refused(join(good, 'o.tar'), new RegExp(`^copyedit: error: cannot write ${good}/o\\.tar: ${good} is not a directory \\(a part of that path is a file\\); choose another output path\\n$`));
    });
    it('the output is a non-empty directory: exit 2 (an empty one takes an OCI layout directory)', async () => {
      const r = spawnSync(process.execPath, [BIN, 'edit', good, '-o', dir, ...EDIT], { encoding: 'utf8' });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /cannot write .*: the directory is not empty .*remove it or name another \(or name an archive file, e\.g\. -o .*\/out\.tar\)/);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    });
    it('directory not writable (EACCES)', { skip: ROOT || process.getuid?.() !== undefined ? false : 'no uids here' }, async () => {
      const d = join(dir, 'ro');
      await mkdir(d);
      await chmod(d, 0o555);
      await chmod(dir, 0o755);
      await chmod(good, 0o644);
      await refused(
        join(d, 'o.tar'),
        new RegExp(
          `cannot write ${d}/o\\.tar: no permission to create a file in ${d} \\(the output is written there as a temporary file, then renamed\\); fix the directory's permissions or choose another output path`,
        ),
        ROOT ? { uid: 65534 } : {},
      );
      assert.deepEqual(await leftovers(d), []);
    });
    it('read-only file system (EROFS)', async (t) => {
      const d = join(dir, 'rofs');
      await mkdir(d);
      if (!mountTmpfs(d, 'ro,size=64k')) return t.skip('not root, or mount failed: cannot make a read-only file system');
      try {
        await refused(join(d, 'o.tar'), new RegExp(`cannot write ${d}/o\\.tar: ${d} is on a read-only file system; remount it read-write or choose another output path`));
      } finally {
        spawnSync('umount', [d]);
      }
    });
  });

  describe('a full disk: exit 6 at once, an ENOSPC message, no temporary file (issue 9.4, and the gzip bomb)', () => {
    let full: string;
    let mounted = false;
    let big: string;
    before(async () => {
      full = join(dir, 'full');
      await mkdir(full);
      mounted = mountTmpfs(full, 'size=1m');
      big = join(dir, 'big.tar');
      await writeFile(big, await archiveWith(randomBytes(3 << 20)));
    });
    after(() => {
      if (mounted) spawnSync('umount', [full]);
    });
    for (const name of ['out.tar', 'out.tar.gz', 'out.tar.zst']) {
      it(`-o full/${name}`, { timeout: 30000 }, async (t) => {
        if (!mounted) return t.skip('not root, or mount failed: no small file system to fill');
        if (name.endsWith('.zst') && spawnSync('zstd', ['--version']).status !== 0) return t.skip('no zstd program');
        const started = Date.now();
        const r = await runCli(['edit', big, '-o', join(full, name), ...EDIT], { timeoutMs: 20000 });
        assert.equal(r.code, 6, r.stderr);
        assert.match(
          r.stderr,
          new RegExp(`^copyedit: error: cannot write ${full}/${name.replace(/\./g, '\\.')}: no space left on device; free some space or write the output to another file system\\n$`),
        );
        assert.ok(Date.now() - started < 15000, 'no hang');
        assert.equal(existsSync(join(full, name)), false);
        assert.deepEqual(await leftovers(full), []);
      });
    }
    it('a gzip bomb (a small .tar.gz whose layer expands past the free space): fails fast and cleanly', { timeout: 30000 }, async (t) => {
      if (!mounted) return t.skip('not root, or mount failed: no small file system to fill');
      const bomb = join(dir, 'bomb.tar.gz');
      await writeFile(bomb, gzipSync(await archiveWith(Buffer.alloc(16 << 20))));
      assert.ok(statSync(bomb).size < 100_000);
      const r = await runCli(['edit', bomb, '-o', join(full, 'bomb.tar'), ...EDIT], { timeoutMs: 20000 });
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stderr, /no space left on device/);
      assert.deepEqual(await leftovers(full), []);
    });
  });
});
