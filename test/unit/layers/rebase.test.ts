/**
 * `rebase` (`--rebase-from OLD --rebase-onto NEW`): an image made on OLD (a sample) with a layer of
 * its own, rebased onto NEW (OLD with a patch layer): NEW's layers, then the image's own, history
 * rebuilt (NEW's, then the image's entries above OLD's), base annotations on the manifest, every
 * digest verifies; an OLD that is not the image's base is refused naming the first layer that
 * differs; in the docker-legacy layout too.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { editArchive } from '../../../src/index.js';
import { readArchive } from '../../../src/inspect/index.js';
import { addFiles } from '../../../src/layers/build.js';
import { verifyArchive } from '../../../src/verify/index.js';

const root = new URL('../../../../', import.meta.url).pathname;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-rebase-'));
  await writeFile(join(dir, 'app.txt'), 'app');
  await writeFile(join(dir, 'patch.txt'), 'patched');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ids = async (p: string) => (await readArchive(p)).model.images[0]!.layers.map((l) => l.diffId!.toString());
const history = async (p: string) => ((await readArchive(p)).model.images[0]!.config.history as { created_by?: string }[]).map((h) => h.created_by);

describe('--rebase-from OLD --rebase-onto NEW', () => {
  for (const sample of ['docker26-oci.tar', 'docker20-legacy.tar', 'containerd-export.tar']) {
    it(`${sample}: NEW's layers under the image's own, history rebuilt, base annotated, digests verify`, async () => {
      const old = join(root, 'samples', sample);
      const img = join(dir, `img-${sample}`);
      const nw = join(dir, `new-${sample}`);
      await editArchive({ input: old, output: img, edits: [], addLayers: [addFiles([{ src: join(dir, 'app.txt'), dest: '/app.txt' }])] });
      await editArchive({ input: old, output: nw, edits: [], tags: ['base/new:2'], addLayers: [addFiles([{ src: join(dir, 'patch.txt'), dest: '/patch.txt' }])] });
      const out = join(dir, `rebased-${sample}`);
      await editArchive({ input: img, output: out, edits: [], rebase: { from: old, onto: nw } });
      assert.equal((await verifyArchive(out)).ok, true);
      assert.deepEqual(await ids(out), [...(await ids(nw)), (await ids(img)).at(-1)]);
      const h = await history(out);
      assert.deepEqual(h.slice(0, (await history(nw)).length), await history(nw), "NEW's history first");
      assert.equal(h.at(-2), 'copyedit: ADD FILE app.txt TO /app.txt', "then the image's own entry");
      const m = (await readArchive(out)).model.images[0]!;
      const manifest = (await readArchive(out)).model.targets[0]!.platforms[0]!.manifest;
      if (manifest) {
        const a = (manifest.doc.annotations ?? {}) as Record<string, string>;
        assert.equal(a['org.opencontainers.image.base.name'], 'base/new:2');
        assert.equal(a['org.opencontainers.image.base.digest'], (await readArchive(nw)).model.images[0]!.id.toString());
      }
      assert.ok(m);
    });
  }

  it('refuses an OLD that is not the base, naming the first layer that differs; nothing written', async () => {
    const old = join(root, 'samples', 'docker26-oci.tar');
    const img = join(dir, 'img-docker26-oci.tar');
    const nw = join(dir, 'new-docker26-oci.tar');
    const out = join(dir, 'never.tar');
    await assert.rejects(editArchive({ input: img, output: out, edits: [], rebase: { from: nw, onto: old } }), /is not example\/app:1\.0's base: its layer 5 is sha256:/);
    await assert.rejects(readArchive(out));
  });
});
