/**
 * `addLayers` (`--add-file`, `--add-layer`): one new layer on top of every selected image, in every
 * layout copyedit reads (each real sample of samples/ and the generated fixtures, a pure OCI
 * layout among them), from a file, a pipe or a directory; the config's diff_ids, history and the
 * manifest's descriptors follow, the layer is compressed as the image's others are, every digest
 * verifies, reruns under a source date epoch are byte-identical, nothing escapes the root.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { readArchive } from '../../../src/inspect/index.js';
import { editArchive, parsePlatform, setLabel } from '../../../src/index.js';
import type { ImageModel } from '../../../src/archive/model.js';
import { addFiles, addLayer } from '../../../src/layers/build.js';
import { verifyArchive } from '../../../src/verify/index.js';
import { dockerLegacy, makeTar, ociLayout, podmanArchive, readTar } from '../fixtures.js';

const root = new URL('../../../../', import.meta.url).pathname;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-add-layer-'));
  await writeFile(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const diffIds = (img: ImageModel) => img.layers.map((l) => l.diffId?.toString());
const historyOf = (img: ImageModel) => (img.config.history ?? []) as { created_by?: string; empty_layer?: boolean }[];

/** The uncompressed bytes of an image's top layer in the written archive. */
async function topLayer(out: string, img: ImageModel): Promise<{ bytes: Buffer; stored: Buffer }> {
  const entries = await readTar(await readFile(out));
  const e = img.layers.at(-1)!.entry!;
  const stored = entries.get(e.name)!.data;
  return { stored, bytes: stored[0] === 0x1f && stored[1] === 0x8b ? gunzipSync(stored) : stored };
}

async function samples(): Promise<string[]> {
  const list = async (d: string) => (await readdir(join(root, 'samples', d))).filter((n) => n.endsWith('.tar')).map((n) => join(root, 'samples', d, n));
  return [...(await list('')), ...(await list('oci11'))].sort();
}

async function fixtures(): Promise<string[]> {
  const made: [string, Buffer][] = [
    ['legacy.tar', (await dockerLegacy()).archive],
    ['podman.tar', (await podmanArchive()).archive],
    ['docker25.tar', (await ociLayout({ docker: true })).archive],
    ['containerd-gzip.tar', (await ociLayout({ gzip: true })).archive],
    ['pure-oci.tar', (await ociLayout({ noManifestJson: true, gzip: true })).archive],
  ];
  const paths: string[] = [];
  for (const [n, b] of made) {
    const p = join(dir, `fixture-${n}`);
    await writeFile(p, b);
    paths.push(p);
  }
  return paths;
}

describe('--add-file: one layer on top, in every layout', () => {
  it('every sample and fixture: same layout, one more DiffID and history entry, the layer as the others are compressed, every digest verifies', async () => {
    const inputs = [...(await samples()), ...(await fixtures())];
    assert.ok(inputs.length >= 20, 'the samples are there');
    for (const input of inputs) {
      const name = input.split('/').pop()!;
      const out = join(dir, `out-${name}`);
      const before = await readArchive(input);
      await editArchive({ input, output: out, edits: [], addLayers: [addFiles([{ src: join(dir, 'ca.pem'), dest: '/usr/local/share/ca-certificates/extra.crt' }])], sourceDateEpoch: 1700000000 });
      const v = await verifyArchive(out);
      assert.equal(v.ok, true, `${name}: ${JSON.stringify(v.issues.slice(0, 2))}`);
      const after = await readArchive(out);
      // podman's and skopeo's docker-archive has no writer of its own: docker-legacy, as --format gives it
      assert.equal(after.model.layout, before.model.layout === 'docker-archive' ? 'docker-legacy' : before.model.layout, `${name}: the layout stays`);
      assert.equal(after.model.images.length, before.model.images.length, name);
      for (const [i, img] of after.model.images.entries()) {
        const was = before.model.images[i]!;
        assert.ok(was, `${name}: ${img.tags.join()} was there`);
        assert.deepEqual(diffIds(img).slice(0, -1), diffIds(was), `${name}: the input's layers stay, in order`);
        assert.equal(img.layers.length, was.layers.length + 1, name);
        const { bytes, stored } = await topLayer(out, img);
        assert.equal(`sha256:${sha(bytes)}`, img.layers.at(-1)!.diffId!.toString(), `${name}: the DiffID is the layer's sha256`);
        const files = await readTar(bytes);
        assert.deepEqual([...files.keys()], ['usr/local/share/ca-certificates/extra.crt'], name);
        assert.equal(files.get('usr/local/share/ca-certificates/extra.crt')!.header.uid, 0);
        assert.equal(files.get('usr/local/share/ca-certificates/extra.crt')!.header.mtime!.getTime(), 1700000000_000);
        const below = was.layers.at(-1)?.entry;
        if (below && img.layers.at(-1)!.mediaType !== undefined) {
          const gz = (await readTar(await readFile(input))).get(below.name)!.data[0] === 0x1f;
          assert.equal(stored[0] === 0x1f, gz, `${name}: compressed as the layer below it`);
        }
        const h = historyOf(img);
        assert.match(h.at(-1)!.created_by!, /^copyedit: ADD FILE ca\.pem TO \/usr\/local\/share\/ca-certificates\/extra\.crt$/, name);
        assert.notEqual(h.at(-1)!.empty_layer, true, `${name}: the new entry is a layer's`);
        const nonEmpty = h.filter((x) => x.empty_layer !== true).length;
        const wasNonEmpty = historyOf(was).filter((x) => x.empty_layer !== true).length;
        assert.equal(nonEmpty, wasNonEmpty + 1, `${name}: history/layer alignment kept`);
      }
    }
  });

  it('reruns give byte-identical archives under a source date epoch; a pipe in and an OCI directory out work', async () => {
    const input = join(root, 'samples', 'docker28c-multi.tar');
    const opts = { edits: [], addLayers: [addFiles([{ src: join(dir, 'ca.pem'), dest: '/etc/x/' }])], sourceDateEpoch: 1 } as const;
    await editArchive({ ...opts, input, output: join(dir, 'r1.tar') });
    await editArchive({ ...opts, input: createReadStream(input), output: join(dir, 'r2.tar') });
    assert.equal(sha(await readFile(join(dir, 'r1.tar'))), sha(await readFile(join(dir, 'r2.tar'))));
    await editArchive({ ...opts, input, output: { dir: join(dir, 'r3') } });
    const v = await verifyArchive(join(dir, 'r3'));
    assert.equal(v.ok, true);
    const m = (await readArchive(join(dir, 'r3'))).model;
    for (const img of m.images) assert.equal(img.layers.length, 3, 'both platforms got the layer');
  });

  it('--platform: only that platform of an index gets the layer; --dry-run writes nothing and reports the layer', async () => {
    const input = join(root, 'samples', 'docker28c-multi.tar');
    const out = join(dir, 'arm.tar');
    await editArchive({ input, output: out, edits: [], platforms: [parsePlatform('linux/arm64')!], addLayers: [addFiles([{ src: join(dir, 'ca.pem'), dest: '/ca.pem' }])] });
    const m = (await readArchive(out)).model;
    const n = Object.fromEntries(m.images.map((i) => [i.platform?.architecture, i.layers.length]));
    assert.deepEqual(n, { amd64: 2, arm64: 3 });
    const dry = await editArchive({ input, output: join(dir, 'dry.tar'), dryRun: true, edits: [setLabel('a', 'b')], addLayers: [addFiles([{ src: join(dir, 'ca.pem'), dest: '/ca.pem' }])] });
    await assert.rejects(stat(join(dir, 'dry.tar')));
    const added = dry.conversion!.layers.filter((l) => l.added);
    assert.equal(added.length, 1, 'the added layer is in the report, with no old digest');
    assert.deepEqual(dry.images[0]!.edits.slice(0, 2), ['set label a=b', 'ADD FILE ca.pem TO /ca.pem'].slice(0, dry.images[0]!.edits.length > 1 ? 2 : 1));
  });
});

describe('--add-file and --add-layer: what goes in the layer', () => {
  it('a directory: sorted, links kept as links (never followed out of it), hard links as tar links, chown/chmod applied', async () => {
    const src = join(dir, 'tree');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'sub', 'b.txt'), 'b');
    await writeFile(join(src, 'a.txt'), 'a');
    await symlink('/etc/shadow', join(src, 'abs-link'));
    await symlink('../../../outside', join(src, 'sub', 'up-link'));
    const { link } = await import('node:fs/promises');
    await link(join(src, 'a.txt'), join(src, 'hard.txt'));
    const out = join(dir, 'tree.tar');
    await editArchive({
      input: join(root, 'samples', 'docker26-oci.tar'),
      output: out,
      edits: [],
      addLayers: [addFiles([{ src, dest: '/opt/app' }], { chown: { uid: 1000, gid: 2000 }, chmod: 0o750 })],
    });
    const img = (await readArchive(out)).model.images[0]!;
    const files = await readTar((await topLayer(out, img)).bytes);
    assert.deepEqual([...files.keys()], ['opt/app/', 'opt/app/a.txt', 'opt/app/abs-link', 'opt/app/hard.txt', 'opt/app/sub/', 'opt/app/sub/b.txt', 'opt/app/sub/up-link']);
    assert.equal(files.get('opt/app/abs-link')!.header.type, 'symlink');
    assert.equal(files.get('opt/app/abs-link')!.header.linkname, '/etc/shadow');
    assert.equal(files.get('opt/app/sub/up-link')!.header.linkname, '../../../outside');
    assert.equal(files.get('opt/app/hard.txt')!.header.type, 'link');
    assert.equal(files.get('opt/app/hard.txt')!.header.linkname, 'opt/app/a.txt');
    assert.equal(files.get('opt/app/sub/b.txt')!.header.uid, 1000);
    assert.equal(files.get('opt/app/sub/b.txt')!.header.gid, 2000);
    assert.equal(files.get('opt/app/sub/b.txt')!.header.mode, 0o750);
  });

  it('--add-layer: a plain tar keeps its bytes (DiffID = its sha256, as crane append); a tar.gz is undone; a directory is a layer', async () => {
    const tarBytes = await makeTar([{ name: 'etc/motd', data: 'hi\n' }]);
    await writeFile(join(dir, 'l.tar'), tarBytes);
    await writeFile(join(dir, 'l.tar.gz'), (await import('node:zlib')).gzipSync(tarBytes));
    const out = join(dir, 'layers.tar');
    await editArchive({
      input: join(root, 'samples', 'docker20-legacy.tar'),
      output: out,
      edits: [],
      addLayers: [addLayer(join(dir, 'l.tar')), addLayer(join(dir, 'l.tar.gz')), addLayer(join(dir, 'tree'))],
    });
    const img = (await readArchive(out)).model.images[0]!;
    const ids = diffIds(img);
    assert.equal(ids.at(-3), `sha256:${sha(tarBytes)}`);
    assert.equal(ids.at(-2), `sha256:${sha(tarBytes)}`);
    assert.equal(historyOf(img).at(-1)!.created_by, 'copyedit: ADD LAYER tree');
    assert.equal((await verifyArchive(out)).ok, true);
  });

  it('refuses what would escape the root, a relative destination, a tar that is not one', async () => {
    const input = join(root, 'samples', 'docker26-oci.tar');
    const out = join(dir, 'no.tar');
    assert.throws(() => addFiles([{ src: join(dir, 'ca.pem'), dest: 'etc/ca.pem' }]), /absolute/);
    assert.throws(() => addFiles([{ src: join(dir, 'ca.pem'), dest: '/etc/../../x' }]), /'\.\.'/);
    await writeFile(join(dir, 'evil.tar'), await makeTar([{ name: '../../etc/passwd', data: 'x' }]));
    await assert.rejects(editArchive({ input, output: out, edits: [], addLayers: [addLayer(join(dir, 'evil.tar'))] }), /climbs out of the root/);
    await writeFile(join(dir, 'evil-link.tar'), await makeTar([{ name: 'x', type: 'link', linkname: '../../etc/shadow' }]));
    await assert.rejects(editArchive({ input, output: out, edits: [], addLayers: [addLayer(join(dir, 'evil-link.tar'))] }), /points out of the root/);
    await writeFile(join(dir, 'not.tar'), 'hello, not a tar at all'.repeat(40));
    await assert.rejects(editArchive({ input, output: out, edits: [], addLayers: [addLayer(join(dir, 'not.tar'))] }), /not a (complete )?tar/);
    await assert.rejects(stat(out), 'no output on a refusal');
    const left = (await readdir(dir)).filter((n) => n.includes('copyedit-spool'));
    assert.deepEqual(left, [], 'no spool file left behind');
  });
});
