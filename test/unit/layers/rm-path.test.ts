/**
 * `removePaths` (`--rm-path`): exactly the layers holding a match are rewritten, streaming, so the
 * matched files' bytes are nowhere in the output (every blob decompressed and searched); layers
 * without a match keep their bytes and digests; DiffIDs, configs and manifests follow and verify;
 * hard links to a removed file go with it; `--whiteout` adds one whiteout layer instead and leaves
 * every layer byte-identical. In every layout (each sample), and on images made here with a secret
 * in a lower layer (added by copyedit's own --add-layer).
 */
import assert from 'node:assert/strict';
import { readFile, readdir, rm, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { editArchive, setLabel } from '../../../src/index.js';
import { readArchive } from '../../../src/inspect/index.js';
import type { ImageModel } from '../../../src/archive/model.js';
import { addLayer } from '../../../src/layers/build.js';
import { pathMatcher } from '../../../src/layers/filter.js';
import { verifyArchive } from '../../../src/verify/index.js';
import { makeTar, readTar } from '../fixtures.js';

const root = new URL('../../../../', import.meta.url).pathname;
const SECRET = 'AKIA-copyedit-test-secret-0123456789';
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-rm-path-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every blob of an archive, decompressed when gzip. */
async function blobs(path: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const [n, e] of await readTar(await readFile(path))) out.set(n, e.data[0] === 0x1f && e.data[1] === 0x8b ? gunzipSync(e.data) : e.data);
  return out;
}

const layerDigests = (img: ImageModel) => img.layers.map((l) => l.digest?.toString() ?? l.entry?.name);

/** A sample with a secret in a lower layer (a file, a hard link to it, a .npmrc in a directory) and a layer above it. */
async function withSecret(sample: string): Promise<string> {
  const secretLayer = join(dir, 'secret.tar');
  await writeFile(
    secretLayer,
    await makeTar([
      { name: 'app/', type: 'directory' },
      { name: 'app/keys/', type: 'directory' },
      { name: 'app/keys/id.key', data: SECRET },
      { name: 'app/keys-link', type: 'link', linkname: 'app/keys/id.key' },
      { name: 'root/.npmrc', data: `//registry/:_authToken=${SECRET}` },
      { name: 'app/keep.txt', data: 'kept' },
    ]),
  );
  const above = join(dir, 'above.tar');
  await writeFile(above, await makeTar([{ name: 'app/above.txt', data: 'above' }]));
  const out = join(dir, `secret-${sample}`);
  await editArchive({ input: join(root, 'samples', sample), output: out, edits: [], addLayers: [addLayer(secretLayer), addLayer(above)] });
  return out;
}

describe('--rm-path purges the bytes', () => {
  it('every layout: the matched entries and their bytes are in no layer; other layers keep their digests; every digest verifies', async () => {
    const samples = (await readdir(join(root, 'samples'))).filter((n) => n.endsWith('.tar') && !n.includes('multi')).sort();
    assert.ok(samples.length >= 8);
    for (const sample of samples) {
      const input = await withSecret(sample);
      const out = join(dir, `purged-${sample}`);
      const r = await editArchive({ input, output: out, edits: [], removePaths: { paths: ['/app/keys', '/root/*.npmrc'] }, sourceDateEpoch: 1 });
      assert.equal((await verifyArchive(out)).ok, true, sample);
      for (const [name, b] of await blobs(out)) assert.equal(b.includes(SECRET), false, `${sample}: the secret is still in ${name}`);
      const before = (await readArchive(input)).model.images[0]!;
      const after = (await readArchive(out)).model.images[0]!;
      assert.equal(after.layers.length, before.layers.length, `${sample}: no layer added or lost`);
      const ids = (img: ImageModel) => img.layers.map((l) => l.diffId!.toString());
      const changed = ids(after).map((d, i) => d !== ids(before)[i]);
      assert.deepEqual(changed, [...changed.slice(0, -2).map(() => false), true, false], `${sample}: only the layer with the secret is rewritten`);
      // where layers are named by their blob digest (not docker-legacy's chain IDs), the others keep their names
      if (before.layers[0]?.digest)
        assert.deepEqual(
          layerDigests(after).map((d, i) => d === layerDigests(before)[i]),
          changed.map((c) => !c),
        );
      assert.notEqual(after.layers.at(-2)!.diffId!.toString(), before.layers.at(-2)!.diffId!.toString());
      assert.equal(after.layers.at(-1)!.diffId!.toString(), before.layers.at(-1)!.diffId!.toString(), `${sample}: the layer above keeps its DiffID`);
      const rewritten = r.conversion!.layers.filter((l) => l.removed);
      assert.equal(rewritten.length, 1, `${sample}: one layer rewritten`);
      assert.deepEqual([...rewritten[0]!.removed!].sort(), ['app/keys-link', 'app/keys/', 'app/keys/id.key', 'root/.npmrc']);
      const top = await readTar((await blobs(out)).get(after.layers.at(-2)!.entry!.name)!);
      assert.deepEqual([...top.keys()], ['app/', 'app/keep.txt'], `${sample}: what is left of the layer`);
      const h = after.config.history as { created_by?: string; empty_layer?: boolean }[];
      assert.match(h.at(-1)!.created_by!, /^copyedit: RM PATH \/app\/keys, \/root\/\*\.npmrc(;|$)/);
      assert.equal(h.at(-1)!.empty_layer, true);
    }
  });

  it('reruns are byte-identical; a pipe input gives the same archive; --dry-run writes nothing and names the layers', async () => {
    const input = await withSecret('docker26-oci.tar');
    const o = { edits: [], removePaths: { paths: ['/app/keys/id.key'] }, sourceDateEpoch: 5 } as const;
    await editArchive({ ...o, input, output: join(dir, 'a.tar') });
    const { createReadStream } = await import('node:fs');
    await editArchive({ ...o, input: createReadStream(input), output: join(dir, 'b.tar') });
    assert.deepEqual(await readFile(join(dir, 'a.tar')), await readFile(join(dir, 'b.tar')));
    const dry = await editArchive({ ...o, input, output: join(dir, 'c.tar'), dryRun: true });
    assert.deepEqual(
      dry.conversion!.layers.filter((l) => l.removed).map((l) => l.removed),
      [['app/keys/id.key', 'app/keys-link']],
    );
    await assert.rejects(readFile(join(dir, 'c.tar')));
  });

  it('--whiteout: every layer byte-identical, one whiteout layer on top, a warning that the bytes remain', async () => {
    const input = await withSecret('docker26-oci.tar');
    const out = join(dir, 'wh.tar');
    const r = await editArchive({ input, output: out, edits: [], removePaths: { paths: ['/app/keys', '/root/.npmrc'], whiteout: true } });
    const before = (await readArchive(input)).model.images[0]!;
    const after = (await readArchive(out)).model.images[0]!;
    assert.deepEqual(layerDigests(after).slice(0, -1), layerDigests(before));
    const wh = await readTar((await blobs(out)).get(after.layers.at(-1)!.entry!.name)!);
    assert.deepEqual([...wh.keys()], ['app/.wh.keys', 'app/.wh.keys-link', 'root/.wh..npmrc']);
    assert.ok(r.warnings.some((w) => /bytes are still in the layers below/.test(w)));
    assert.equal((await verifyArchive(out)).ok, true);
  });

  it('no match: a note, nothing rewritten; a layer shared with an image not selected is refused', async () => {
    const r = await editArchive({ input: join(root, 'samples', 'docker26-oci.tar'), output: join(dir, 'none.tar'), edits: [], removePaths: { paths: ['/nope'] } });
    assert.ok(r.warnings.some((w) => /no layer holds a match/.test(w)));
    assert.equal(r.conversion!.layers.filter((l) => l.removed).length, 0);
    // two images sharing the base layer (hello.txt); only one selected
    const two = join(dir, 'two.tar');
    await editArchive({ input: join(root, 'samples', 'docker26-oci.tar'), output: two, edits: [setLabel('copy', '1')], tags: ['example/copy:1'], keepOriginal: true });
    await assert.rejects(
      editArchive({ input: two, output: join(dir, 'shared.tar'), edits: [], images: ['example/copy:1'], removePaths: { paths: ['/hello.txt'] } }),
      /is shared with .*select both images/,
    );
  });

  it('the matcher: exact paths, directories with their contents, * across /, never a sibling with the same prefix', () => {
    const m = pathMatcher(['/app/keys', '/*.pem', 'etc/ssl/private/']);
    assert.equal(m('app/keys'), true);
    assert.equal(m('./app/keys/a/b'), true);
    assert.equal(m('app/keys2'), false);
    assert.equal(m('usr/share/x.pem'), true);
    assert.equal(m('etc/ssl/private/k'), true);
    assert.equal(m('etc/ssl/privately'), false);
    assert.throws(() => pathMatcher(['/']), /under the root/);
  });
});
