/**
 * `flatten` (`--flatten`): every selected image's layers replaced by one, its merged filesystem as
 * src/content makes it (whiteouts, opaque directories, a file replaced by a directory and back,
 * hard links whose target was removed, symlinks kept). A generated corpus of whiteout shapes is
 * checked against the flat-map oracle of test/unit/content/layer-gen.ts (written from moby's and
 * containerd's appliers), through the written archive; every sample layout flattens to an archive
 * whose digests verify and whose one layer holds the same tree as the original's merged one.
 */
import assert from 'node:assert/strict';
import { readFile, readdir, rm, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { editArchive } from '../../../src/index.js';
import { readArchive } from '../../../src/inspect/index.js';
import { openImageContent } from '../../../src/content/image.js';
import { mergedTarStream } from '../../../src/content/merge.js';
import { verifyArchive } from '../../../src/verify/index.js';
import { readTar } from '../fixtures.js';
import { rng } from '../rng.js';
import { type Op, dockerArchive, layerTar, oracle, randomStack, tarRows } from '../content/layer-gen.js';

const root = new URL('../../../../', import.meta.url).pathname;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-flatten-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Flatten `input`; the one layer's bytes (uncompressed) of each image, and the output's model. */
async function flatten(input: string, out: string): Promise<Buffer[]> {
  await editArchive({ input, output: out, edits: [], flatten: true, sourceDateEpoch: 1_700_000_000 });
  assert.equal((await verifyArchive(out)).ok, true, `${input}: the flattened archive verifies`);
  const m = (await readArchive(out)).model;
  const files = await readTar(await readFile(out));
  return m.images.map((img) => {
    assert.equal(img.layers.length, 1, 'one layer');
    const h = img.config.history as unknown[];
    assert.deepEqual(
      h.map((x) => (x as { created_by: string }).created_by),
      ['copyedit: FLATTEN'],
      'history reduced to one entry',
    );
    const b = files.get(img.layers[0]!.entry!.name)!.data;
    return b[0] === 0x1f ? gunzipSync(b) : b;
  });
}

describe('--flatten: the merged filesystem as one layer', () => {
  it('whiteout shapes and a generated corpus: the flattened layer is the oracle merged tree', async () => {
    const rand = rng(21);
    const shapes: Op[][][] = [
      // a file replaced by a directory and back; a hard link whose target was removed; an opaque directory
      [
        [
          { kind: 'file', path: 'p', content: 'file' },
          { kind: 'dir', path: 'o' },
          { kind: 'file', path: 'o/old', content: 'old' },
          { kind: 'file', path: 'h', content: 'shared' },
          { kind: 'hardlink', path: 'h2', target: 'h' },
        ],
        [
          { kind: 'whiteout', path: 'p' },
          { kind: 'dir', path: 'p' },
          { kind: 'file', path: 'p/in', content: 'in' },
          { kind: 'whiteout', path: 'h' },
          { kind: 'opaque', dir: 'o' },
          { kind: 'file', path: 'o/new', content: 'new' },
        ],
        [
          { kind: 'whiteout', path: 'p' },
          { kind: 'file', path: 'p', content: 'file again' },
          { kind: 'symlink', path: 'l', target: '/etc/../p' },
        ],
      ],
    ];
    for (let i = 0; i < 25; i++) shapes.push(randomStack(rand, 3 + (i % 3), 8));
    for (const [i, layers] of shapes.entries()) {
      const input = join(dir, `corpus-${i}.tar`);
      await writeFile(input, dockerArchive([{ tag: `corpus/c${i}:1`, layers: layers.map((ops) => layerTar(ops)) }]));
      const [flat] = await flatten(input, join(dir, `corpus-${i}-flat.tar`));
      assert.deepEqual(await tarRows(flat!), oracle(layers), `stack ${i}: ${JSON.stringify(layers)}`);
    }
  });

  it('every sample layout: one layer per image (platform) holding the original merged tree; old layers gone', async () => {
    const samples = (await readdir(join(root, 'samples'))).filter((n) => n.endsWith('.tar')).sort();
    for (const s of samples) {
      const input = join(root, 'samples', s);
      const out = join(dir, `flat-${s}`);
      const layers = await flatten(input, out);
      const before = (await readArchive(input)).model;
      const img = before.images[0]!;
      const target = before.targets.find((t) => t.platforms.some((p) => p.image === img))!;
      const content = await openImageContent(input, {
        image: img.id.toString(),
        ...(target.platforms.length > 1 && img.platform ? { platform: `${img.platform.os}/${img.platform.architecture}` } : {}),
      });
      try {
        const chunks: Buffer[] = [];
        for await (const c of mergedTarStream(content.layers, { sourceDateEpoch: 1_700_000_000 })) chunks.push(c as Buffer);
        assert.deepEqual(await tarRows(layers[0]!), await tarRows(Buffer.concat(chunks)), `${s}: the same tree`);
      } finally {
        content.close();
      }
      const names = [...(await readTar(await readFile(out))).keys()];
      for (const l of img.layers) if (l.entry) assert.ok(!names.includes(l.entry.name) || l.entry.name.endsWith('/layer.tar'), `${s}: ${l.entry.name} left in the output`);
    }
  });
});
