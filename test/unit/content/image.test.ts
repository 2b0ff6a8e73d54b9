/**
 * Issue 21 (read side): export, cat and ls on whole archives (a docker-archive file, gzip-wrapped,
 * from a stream, an OCI layout directory, two images), through the library and the CLI's exit codes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { catImageFile, exportImage, listImageDir } from '../../../src/content/index.js';
import { EditError, PathError } from '../../../src/errors.js';
import { type Op, dockerArchive, layerTar, ociLayoutFiles, oracle, tarRows } from './layer-gen.js';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'copyedit.js');
const dir = mkdtempSync(join(tmpdir(), 'copyedit-content-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const STACK: Op[][] = [
  [
    { kind: 'dir', path: 'etc' },
    { kind: 'file', path: 'etc/os-release', content: 'ID=test\n' },
    { kind: 'file', path: 'etc/secret', content: 'KEY' },
    { kind: 'dir', path: 'opt' },
    { kind: 'file', path: 'opt/old', content: 'old' },
  ],
  [
    { kind: 'whiteout', path: 'etc/secret' },
    { kind: 'opaque', dir: 'opt' },
    { kind: 'file', path: 'opt/new', content: 'new' },
    { kind: 'symlink', path: 'release', target: '/etc/os-release' },
    { kind: 'symlink', path: 'out', target: '../../..' },
  ],
];
const plain = STACK.map((ops) => layerTar(ops));
const archive = join(dir, 'app.tar');
writeFileSync(archive, dockerArchive([{ tag: 'example/app:1.0', layers: plain }]));

async function exportRows(input: string | Readable, options = {}): Promise<unknown> {
  const out = join(dir, `out-${Math.random()}.tar`);
  await exportImage(input, out, options);
  return tarRows(readFileSync(out));
}

describe('export, cat, ls on archives (issue 21)', () => {
  it('export of a docker-archive file equals the oracle; so does a gzip-wrapped one, one from a stream, and an OCI layout directory with gzip layers', async () => {
    const want = oracle(STACK);
    assert.deepEqual(await exportRows(archive), want);
    const gz = join(dir, 'app.tar.gz');
    writeFileSync(gz, gzipSync(readFileSync(archive)));
    assert.deepEqual(await exportRows(gz), want);
    assert.deepEqual(await exportRows(Readable.from([readFileSync(archive)])), want);
    const layout = join(dir, 'layout');
    for (const [name, data] of ociLayoutFiles('1.0', [gzipSync(plain[0]!), plain[1]!], plain)) {
      mkdirSync(dirname(join(layout, name)), { recursive: true });
      writeFileSync(join(layout, name), data);
    }
    assert.deepEqual(await exportRows(layout), want);
  });

  it('export of large files from gzip layers through write(2) keeps every byte in order (chunks of every size)', async () => {
    const big = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => String.fromCharCode(97 + ((i * seed) % 26))).join(''));
    const layers: Op[][] = [
      [
        { kind: 'file', path: 'small1', content: 'x' },
        { kind: 'file', path: 'big1', content: big(700_000, 7).toString() },
        { kind: 'file', path: 'small2', content: 'y'.repeat(1000) },
      ],
      [
        { kind: 'file', path: 'big2', content: big(3_000_000, 13).toString() },
        { kind: 'file', path: 'small3', content: 'z' },
        { kind: 'file', path: 'mid', content: big(300_000, 3).toString() },
      ],
    ];
    const file = join(dir, 'bigfiles.tar');
    writeFileSync(file, dockerArchive([{ tag: 'big:1', layers: layers.map((ops, i) => (i === 0 ? gzipSync(layerTar(ops)) : layerTar(ops))) }]));
    assert.deepEqual(await exportRows(file), oracle(layers));
  });

  it('cat follows a symlink inside the root; ls lists a directory; a missing path is a PathError', async () => {
    const out = new PassThrough();
    const got: Buffer[] = [];
    out.on('data', (c: Buffer) => got.push(c));
    await catImageFile(archive, '/release', out);
    assert.equal(Buffer.concat(got).toString(), 'ID=test\n');
    assert.deepEqual(
      (await listImageDir(archive, '/opt')).map((e) => e.path),
      ['opt/new'],
    );
    await assert.rejects(catImageFile(archive, '/etc/secret', new PassThrough()), PathError);
    await assert.rejects(listImageDir(archive, '/out'), PathError);
  });

  it('two images: --image picks one, none given is refused naming both', async () => {
    const two = join(dir, 'two.tar');
    writeFileSync(
      two,
      dockerArchive([
        { tag: 'a:1', layers: [plain[0]!] },
        { tag: 'b:1', layers: plain },
      ]),
    );
    await assert.rejects(exportImage(two, join(dir, 'x.tar')), (e) => e instanceof EditError && /2 images \(a:1, b:1\); name one with --image/.test(e.message));
    assert.deepEqual(await exportRows(two, { image: 'a:1' }), oracle([STACK[0]!]));
  });

  it('the CLI: cat to stdout, ls -l, export -o -, exit 7 for a missing path or one leading out of the root', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'buffer' });
    const cat = run('cat', archive, '/etc/os-release');
    assert.equal(cat.status, 0, cat.stderr.toString());
    assert.equal(cat.stdout.toString(), 'ID=test\n');
    const ls = run('ls', archive, '/', '-l');
    assert.equal(ls.status, 0, ls.stderr.toString());
    assert.match(ls.stdout.toString(), /^lrwxrwxrwx 0\/0 +0 2023-11-14 22:13 release -> \/etc\/os-release$/m);
    assert.equal(run('cat', archive, '/etc/secret').status, 7);
    const out = run('cat', archive, '/out/etc/passwd');
    assert.equal(out.status, 7);
    assert.match(out.stderr.toString(), /leads out of the image's root/);
    const exp = run('export', archive, '-o', '-', '--source-date-epoch', '5');
    assert.equal(exp.status, 0, exp.stderr.toString());
    assert.equal(exp.stdout.length % 512, 0);
    assert.equal(run('export', archive).status, 2);
    // standard input (spooled), and a multi-platform sample made by Docker 28
    const stdin = spawnSync(process.execPath, [BIN, 'cat', '-', '/release'], { input: readFileSync(archive) });
    assert.equal(stdin.status, 0, stdin.stderr.toString());
    assert.equal(stdin.stdout.toString(), 'ID=test\n');
    const multi = join(ROOT, 'samples', 'docker28c-multi.tar');
    assert.equal(run('ls', multi, '/').status, 4);
    const arm = run('ls', multi, '/', '--platform', 'linux/arm64');
    assert.equal(arm.status, 0, arm.stderr.toString());
    assert.match(arm.stdout.toString(), /^hello\.txt$/m);
    assert.equal(run('ls', multi, '/', '--platform', 'linux/s390x').status, 4);
  });
});
