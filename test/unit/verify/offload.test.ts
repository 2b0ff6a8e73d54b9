import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { editArchive, removeVolumes } from '../../../src/index.js';
import { ShaOffload } from '../../../src/verify/offload.js';
import { verifyArchive } from '../../../src/verify/index.js';
import { imageConfig, makeTar, sha } from '../fixtures.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-offload-'));
});
after(() => rm(dir, { recursive: true, force: true }));

/** A legacy-layout archive with one 20 MiB layer: big enough for the hashing thread. */
async function bigArchive(): Promise<{ archive: Buffer; layerOffset: number }> {
  const layer = await makeTar([{ name: 'big.bin', data: randomBytes(20 << 20) }]);
  const config = Buffer.from(JSON.stringify(imageConfig([sha(layer)])));
  const id = sha(config);
  const archive = await makeTar([
    { name: 'aaaa/layer.tar', data: layer },
    { name: `${id}.json`, data: config },
    { name: 'manifest.json', data: JSON.stringify([{ Config: `${id}.json`, RepoTags: ['big/app:1'], Layers: ['aaaa/layer.tar'] }]) },
  ]);
  return { archive, layerOffset: 512 };
}

describe('sha256 on a worker thread', () => {
  it('gives the same digests as in-process hashing, for interleaved entries and odd chunk sizes', async () => {
    const off = new ShaOffload();
    const a = randomBytes(9 << 20);
    const b = randomBytes(17 << 20);
    const ha = off.begin(a.length);
    const hb = off.begin(b.length);
    for (let i = 0, j = 0; i < a.length || j < b.length; i += 777_777, j += 1_234_567) {
      if (i < a.length) await ha.update(a.subarray(i, i + 777_777));
      if (j < b.length) await hb.update(b.subarray(j, j + 1_234_567));
    }
    assert.equal(await ha.digest(), createHash('sha256').update(a).digest('hex'));
    assert.equal(await hb.digest(), createHash('sha256').update(b).digest('hex'));
  });
  it('a reused source buffer is copied before it changes', async () => {
    const off = new ShaOffload();
    const h = off.begin(16 << 20);
    const buf = Buffer.alloc(1 << 20);
    const ref = createHash('sha256');
    for (let i = 0; i < 16; i++) {
      buf.fill(i); // the same buffer, new content each time, as the file reader does
      ref.update(buf);
      await h.update(buf);
    }
    assert.equal(await h.digest(), ref.digest('hex'));
  });
  it('edit --verify passes a large layer and verify catches one flipped byte in it', async () => {
    const { archive, layerOffset } = await bigArchive();
    const input = join(dir, 'big.tar');
    const output = join(dir, 'big-out.tar');
    await writeFile(input, archive);
    const r = await editArchive({ input, output, edits: [removeVolumes('all')], verify: true });
    assert.equal(r.verification?.ok, true);
    const bad = Buffer.from(archive);
    const at = layerOffset + 512 + (10 << 20); // inside big.bin's data, past the layer's own header
    bad[at] = bad[at]! ^ 0xff;
    const badPath = join(dir, 'bad.tar');
    await writeFile(badPath, bad);
    const v = await verifyArchive(badPath);
    assert.equal(v.ok, false);
    assert.ok(
      v.issues.some((i) => /aaaa\/layer\.tar/.test(JSON.stringify(i)) && /DiffID|diff/i.test(JSON.stringify(i))),
      JSON.stringify(v.issues),
    );
  });
});
