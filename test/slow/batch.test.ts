import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { expandInputs, planJobs } from '../../src/cli/batch.js';
import { progressLine } from '../../src/cli/progress.js';
import { checkArchive } from '../unit/check.js';
import { dockerLegacy, ociLayout, readTar } from '../unit/fixtures.js';

const BIN = new URL('../../../bin/copyedit.js', import.meta.url).pathname;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-batch-'));
  await writeFile(join(dir, 'a.tar'), (await dockerLegacy()).archive);
  await writeFile(join(dir, 'b.tar'), (await ociLayout({ docker: true })).archive);
  await writeFile(join(dir, 'c.tar'), 'this is not an archive');
});
after(() => rm(dir, { recursive: true, force: true }));

const cli = (args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('batch editing', () => {
  it('edits every archive, keeps going past a failure, summarises, exits non-zero', async () => {
    const out = join(dir, 'fixed');
    const r = cli(['edit', join(dir, 'a.tar'), join(dir, 'b.tar'), join(dir, 'c.tar'), '--out-dir', out, '--rm-volume', 'all', '-j', '2']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /3 archives: 2 written, 1 failed, 0 skipped/);
    assert.match(r.stderr, /FAILED +.*c\.tar: /);
    assert.deepEqual((await readdir(out)).sort(), ['a.tar', 'b.tar']);
    for (const n of ['a.tar', 'b.tar']) assert.deepEqual(checkArchive(await readTar(await readFile(join(out, n)))), []);
  });
  it('--fail-fast stops scheduling after the first failure', () => {
    const out = join(dir, 'ff');
    const r = cli(['edit', join(dir, 'c.tar'), join(dir, 'a.tar'), join(dir, 'b.tar'), '--out-dir', out, '--rm-volume', 'all', '-j', '1', '--fail-fast']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /1 failed, 2 skipped/);
    assert.equal(existsSync(join(out, 'a.tar')), false);
  });
  it('expands quoted globs and refuses two inputs with one output name', async () => {
    assert.deepEqual(
      expandInputs([join(dir, '?.tar')]).map((p) => p.slice(dir.length + 1)),
      ['a.tar', 'b.tar', 'c.tar'],
    );
    assert.throws(() => expandInputs([join(dir, 'nope*.tar')]), /matches no file/);
    assert.throws(() => planJobs(['x/a.tar', 'y/a.tar'], 'out'), /both be written/);
    assert.throws(() => planJobs(['-'], 'out'), /standard input/);
    assert.equal(cli(['edit', join(dir, 'a.tar'), join(dir, 'b.tar'), '-o', 'x.tar', '--rm-volume', 'all']).code, 2);
  });
});

describe('compressed output and progress', () => {
  it('gzip output from --gzip or the .tar.gz name; the archive inside is consistent', async () => {
    for (const [args, name] of [
      [['--gzip'], 'g1.tar'],
      [[], 'g2.tar.gz'],
    ] as const) {
      const out = join(dir, name);
      const r = cli(['edit', join(dir, 'a.tar'), '-o', out, '--rm-port', 'all', ...args]);
      assert.equal(r.code, 0, r.stderr);
      const bytes = await readFile(out);
      assert.deepEqual([bytes[0], bytes[1]], [0x1f, 0x8b]);
      assert.deepEqual(checkArchive(await readTar(gunzipSync(bytes))), []);
    }
  });
  it('zstd output reads back as input', () => {
    const out = join(dir, 'z.tar.zst');
    assert.equal(cli(['edit', join(dir, 'b.tar'), '-o', out, '--rm-port', 'all']).code, 0);
    const r = cli(['edit', out, '-o', join(dir, 'z2.tar'), '--json', '--add-port', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).compression, 'zstd');
  });
  it('progress line: bytes, percent, rate, ETA', () => {
    assert.equal(progressLine('x.tar', 512 * 1024 * 1024, 1024 * 1024 * 1024, 2), 'x.tar  512.0 MiB / 1.0 GiB  50%  256.0 MiB/s  ETA 2s');
    assert.equal(progressLine('stdin', 1024, undefined, 1), 'stdin  1.0 KiB  1.0 KiB/s');
  });
});
