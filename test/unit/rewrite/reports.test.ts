/**
 * A report says what was written (issue "The new surfaces as hard as the old", class 2): for every
 * sample with an index.json output and every option set that edits, converts or both, each
 * image's reported new digest is what the written index.json names it by, `changed` is true when
 * it differs from the old one, and an ID is compared only with an ID of its own kind (a config
 * digest with a config digest, an index digest with an index digest). Read with the tests' own tar
 * reader.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type EditArchiveOptions, editArchive, normalizeReference, readArchive, setLabel } from '../../../src/index.js';
import { readTar } from '../fixtures.js';

const root = new URL('../../../../', import.meta.url).pathname;
const SETS: Record<string, Partial<EditArchiveOptions>> = {
  edit: { edits: [setLabel('r', '1')] },
  'edit-oci': { edits: [setLabel('r', '1')], format: 'oci' },
  'edit-docker': { edits: [setLabel('r', '1')], format: 'docker' },
  oci: { edits: [], format: 'oci' },
  'oci-gzip': { edits: [], format: 'oci', layerCompression: 'gzip' },
  'edit-gzip': { edits: [setLabel('r', '1')], layerCompression: 'gzip' },
};

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-reports-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('reports match the written output', () => {
  it('every sample, every option set', async () => {
    const names = (await readdir(join(root, 'samples'))).filter((n) => n.endsWith('.tar')).sort();
    let checked = 0;
    for (const name of names) {
      const input = join(root, 'samples', name);
      const model = (await readArchive(input)).model;
      for (const [set, o] of Object.entries(SETS)) {
        const output = join(dir, `${name}.${set}.tar`);
        const report = await editArchive({ input, output, edits: [], fsync: false, ...o });
        const out = await readTar(await readFile(output));
        const index = out.get('index.json');
        if (!index) continue; // docker-legacy output: no digest names the image
        const manifests = (JSON.parse(index.data.toString()) as { manifests: { digest: string; annotations?: Record<string, string> }[] }).manifests;
        for (const img of report.images) {
          const what = `${name} ${set} ${img.newTags.join(',') || img.oldId.short}`;
          const named = img.newTags.length ? manifests.filter((m) => img.newTags.some((t) => normalizeReference(t) === m.annotations?.['io.containerd.image.name'])) : manifests;
          assert.ok(named.length > 0, `${what}: no index.json entry for it`);
          assert.ok(
            named.some((m) => m.digest === img.newDigest.toString()),
            `${what}: reported ${img.newDigest}, index.json names ${named.map((m) => m.digest).join(', ')}`,
          );
          assert.equal(img.changed, !img.newDigest.equals(img.oldDigest) || !img.newId.equals(img.oldId), `${what}: changed`);
          const target = model.targets.find((t) => t.platforms.some((p) => p.image.id.equals(img.oldId)) || t.node?.digest.equals(img.oldId));
          const configKind = target?.platforms.some((p) => p.image.id.equals(img.oldId));
          if (configKind)
            assert.ok(
              img.platforms.some((p) => p.newId.equals(img.newId)),
              `${what}: newId ${img.newId} is not a config of the output`,
            );
          else assert.ok(img.newId.equals(img.newDigest), `${what}: a multi-platform image's ID is its index digest; reported ${img.newId} for ${img.newDigest}`);
          checked++;
        }
        await rm(output, { force: true });
      }
    }
    assert.ok(checked > 40, `only ${checked} images checked`);
  });
});
