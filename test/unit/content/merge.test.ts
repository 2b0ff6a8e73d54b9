/**
 * Issue 21 (read side): the merged filesystem of a stack of layers, as Docker's and containerd's
 * appliers make it: named whiteout shapes, then a generated corpus checked against the oracle of
 * layer-gen.ts (a flat-map applier written from the rules), through `export`'s tar stream.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bufferLayer, mergeLayers, mergedEntries, readMergedFile, writeMergedTar } from '../../../src/content/merge.js';
import { ArchiveError, PathError } from '../../../src/errors.js';
import { rng } from '../rng.js';
import { type Op, layerTar, oracle, randomStack, tarRows } from './layer-gen.js';
import { PassThrough } from 'node:stream';

const stack = (layers: readonly (readonly Op[])[], gzip = false) => layers.map((ops, i) => bufferLayer(layerTar(ops, { gzip: gzip && i % 2 === 0, dotSlash: i % 3 === 1 }), `layer${i}`));

async function exported(layers: readonly (readonly Op[])[], gzip = false): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await writeMergedTar(stack(layers, gzip), out);
  return Buffer.concat(chunks);
}

async function same(layers: readonly (readonly Op[])[], gzip = false): Promise<void> {
  const got = await tarRows(await exported(layers, gzip));
  assert.deepEqual(got, oracle(layers));
  // the listing API says the same thing as the tar
  const listed = (await mergedEntries(stack(layers))).map((e) => e.path);
  assert.deepEqual(
    listed.slice().sort(),
    got.map((r) => r.path),
  );
}

describe('merged filesystem: whiteout shapes (issue 21)', () => {
  it('a whiteout removes a file and a whole directory from below', async () => {
    await same([
      [
        { kind: 'dir', path: 'etc' },
        { kind: 'file', path: 'etc/key', content: 'SECRET' },
        { kind: 'dir', path: 'd' },
        { kind: 'file', path: 'd/f', content: 'x' },
      ],
      [
        { kind: 'whiteout', path: 'etc/key' },
        { kind: 'whiteout', path: 'd' },
      ],
    ]);
    const rows = await tarRows(await exported([[{ kind: 'file', path: 'k', content: 'SECRET' }], [{ kind: 'whiteout', path: 'k' }]]));
    assert.deepEqual(rows, []);
  });

  it('an opaque directory hides what is below and keeps what its own layer wrote, before or after the marker', async () => {
    const layers: Op[][] = [
      [
        { kind: 'dir', path: 'o' },
        { kind: 'file', path: 'o/old', content: 'old' },
        { kind: 'dir', path: 'o/sub' },
        { kind: 'file', path: 'o/sub/deep', content: 'd' },
      ],
      [
        { kind: 'dir', path: 'o' },
        { kind: 'file', path: 'o/new1', content: 'n1' },
        { kind: 'opaque', dir: 'o' },
        { kind: 'file', path: 'o/new2', content: 'n2' },
      ],
    ];
    await same(layers);
    assert.deepEqual(
      (await tarRows(await exported(layers))).map((r) => r.path),
      ['o', 'o/new1', 'o/new2'],
    );
  });

  it('a file replaced by a directory and back, and a directory replaced by a symlink', async () => {
    await same([
      [
        { kind: 'file', path: 'p', content: 'file' },
        { kind: 'dir', path: 'q' },
        { kind: 'file', path: 'q/inside', content: 'i' },
      ],
      [
        { kind: 'dir', path: 'p' },
        { kind: 'file', path: 'p/child', content: 'c' },
        { kind: 'symlink', path: 'q', target: '/p' },
      ],
      [{ kind: 'file', path: 'p', content: 'file again' }],
    ]);
  });

  it('a hard link keeps its content when its target is removed or replaced in a later layer', async () => {
    const layers: Op[][] = [
      [
        { kind: 'file', path: 'a', content: 'shared bytes', uid: 7 },
        { kind: 'hardlink', path: 'b', target: 'a' },
      ],
      [
        { kind: 'whiteout', path: 'a' },
        { kind: 'hardlink', path: 'c', target: 'b' },
      ],
      [{ kind: 'file', path: 'b', content: 'replaced' }],
    ];
    await same(layers);
    const rows = await tarRows(await exported(layers));
    assert.equal(rows.find((r) => r.path === 'c')?.size, 'shared bytes'.length);
  });

  it('links across layers: a hard link in an upper layer to a lower file, symlinks kept as links', async () => {
    await same([
      [
        { kind: 'dir', path: 'lib' },
        { kind: 'file', path: 'lib/libc.so.6', content: 'ELF' },
        { kind: 'symlink', path: 'lib/libc.so', target: 'libc.so.6' },
      ],
      [
        { kind: 'hardlink', path: 'lib/copy', target: 'lib/libc.so.6' },
        { kind: 'symlink', path: 'etc', target: '/nonexistent' },
      ],
    ]);
  });

  it('deep paths and names past ustar (PAX), non-ASCII names, xattrs kept', async () => {
    const deep = Array.from({ length: 30 }, (_, i) => `dir${i}`).join('/');
    const layers: Op[][] = [
      [
        { kind: 'file', path: `${deep}/${'n'.repeat(120)}`, content: 'deep' },
        { kind: 'file', path: 'über/ñ', content: 'u', xattr: { 'security.capability': 'AQAAAgAgAAAAAAAAAAAAAAAAAAA=' } },
      ],
    ];
    await same(layers);
    const fs = await mergeLayers(stack(layers));
    assert.deepEqual(fs.stat('/über/ñ')?.xattrs, { 'security.capability': 'AQAAAgAgAAAAAAAAAAAAAAAAAAA=' });
  });

  it('a contiguous file (type 7) is exported as a regular file with its content', async () => {
    const { encodeHeader, BLOCK } = await import('../../../src/archive/tar/header.js');
    const body = Buffer.from('contiguous bytes');
    const h = encodeHeader({ name: 'cont', size: body.length, mode: 0o644, mtime: new Date(0), type: 'contiguous-file', linkname: '', uid: 0, gid: 0, uname: '', gname: '', devmajor: 0, devminor: 0 });
    const tar = Buffer.concat([h, body, Buffer.alloc(BLOCK - body.length), Buffer.alloc(2 * BLOCK)]);
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    await writeMergedTar([bufferLayer(tar, 'layer0')], out);
    assert.deepEqual(
      (await tarRows(Buffer.concat(chunks))).map((r) => [r.path, r.type, r.size]),
      [['cont', 'file', body.length]],
    );
  });

  it('a hard link to a missing path is refused as Docker refuses it, naming the layer', async () => {
    await assert.rejects(mergeLayers(stack([[{ kind: 'hardlink', path: 'b', target: 'nope' }]])), (e) => e instanceof ArchiveError && /layer0: hard link "b"/.test(e.message));
  });

  it('generated corpus: export equals the oracle on 150 random stacks (gzip and plain layers, ./ names)', async () => {
    for (let seed = 1; seed <= 150; seed++) {
      const layers = randomStack(rng(seed));
      try {
        await same(layers, seed % 2 === 0);
      } catch (e) {
        throw new Error(`seed ${seed}: ${JSON.stringify(layers)}\n${(e as Error).message}`);
      }
    }
  });
});

describe('merged filesystem: one file, one directory (issue 21)', () => {
  const layers: Op[][] = [
    [
      { kind: 'dir', path: 'etc' },
      { kind: 'dir', path: 'etc/ssl' },
      { kind: 'file', path: 'etc/ssl/cert.pem', content: 'CERTS' },
      { kind: 'symlink', path: 'etc/ssl/certs', target: '/etc/ssl' },
    ],
    [
      { kind: 'symlink', path: 'up', target: '../../etc' },
      { kind: 'symlink', path: 'abs', target: '/etc/ssl/cert.pem' },
    ],
  ];
  it('reads a file through symlinks inside the root (absolute targets are the image root)', async () => {
    assert.equal((await readMergedFile(stack(layers), '/abs'))?.toString(), 'CERTS');
    assert.equal((await readMergedFile(stack(layers), 'etc/ssl/certs/certs/cert.pem'))?.toString(), 'CERTS');
    assert.equal(await readMergedFile(stack(layers), '/etc/none'), undefined);
  });
  it('refuses a path or a link that leads out of the root, and a directory read as a file', async () => {
    const fs = await mergeLayers(stack(layers));
    assert.throws(() => fs.stat('/up/ssl/cert.pem', { follow: true }), PathError);
    assert.throws(() => fs.stat('../etc'), PathError);
    await assert.rejects(fs.readFile('/etc'), (e) => e instanceof PathError && /not a regular file/.test(e.message));
    assert.deepEqual(
      fs.readdir('/etc/ssl').map((e) => [e.path, e.type]),
      [
        ['etc/ssl/cert.pem', 'file'],
        ['etc/ssl/certs', 'symlink'],
      ],
    );
  });
  it('the tar is deterministic and clamps mtimes to the source date epoch', async () => {
    const a = await exported(layers);
    const b = await exported(layers);
    assert.ok(a.equals(b));
    const fs = await mergeLayers(stack(layers));
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    await fs.writeTar(out, { sourceDateEpoch: 1000 });
    const { tarEntries } = await import('../../../src/content/tar-entries.js');
    const { Readable } = await import('node:stream');
    for await (const e of tarEntries(Readable.from([Buffer.concat(chunks)]))) assert.equal(e.header.mtime.getTime(), 1000_000);
  });
});
