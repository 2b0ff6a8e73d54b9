/**
 * Images are indexes now: multi-platform images, attestations, OCI 1.1 artifacts and referrers,
 * foreign layers, and names that must never end up on two images. Each case builds its layout with
 * test/unit/oci-builder.ts and checks the output with the tests' own reader (check.ts), never src/.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { editArchive, type EditArchiveOptions, inspectArchive, parsePlatform, removeVolumes, setEntrypoint, verifyArchive } from '../../../src/index.js';
import { checkArchive } from '../check.js';
import { readTar } from '../fixtures.js';
import { type Desc, MT, OciBuilder, named } from '../oci-builder.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-graph-'));
});
after(() => rm(dir, { recursive: true, force: true }));

let n = 0;
async function edit(archive: Buffer, opts: Omit<EditArchiveOptions, 'input' | 'output'>) {
  const input = join(dir, `in${++n}.tar`);
  const output = join(dir, `out${n}.tar`);
  await writeFile(input, archive);
  const report = await editArchive({ input, output, fsync: false, ...opts });
  const out = await readTar(await readFile(output));
  const json = (d: string) => JSON.parse(out.get(`blobs/sha256/${d.replace('sha256:', '')}`)!.data.toString());
  const index = JSON.parse(out.get('index.json')!.data.toString()) as { manifests: Desc[] };
  return { report, out, json, index, output, input };
}
const EDIT = { edits: [removeVolumes('all'), setEntrypoint(['/x'])] };

/** A BuildKit-like two-platform image with provenance attestations, named `example/multi:1`. */
async function multiPlatform(b = new OciBuilder()) {
  const amd = await b.image('linux', 'amd64');
  const arm = await b.image('linux', 'arm64');
  const top = b.index([amd.desc, arm.desc, b.attestation(amd.desc), b.attestation(arm.desc)]);
  return { b, amd, arm, top: named(top, 'docker.io/example/multi:1') };
}

describe('the archive graph', () => {
  it('a multi-platform index is one image: every platform edited, --tag renames the index, attestations leave with their blobs', async () => {
    const { b, amd, arm, top } = await multiPlatform();
    const mj = [{ Config: `blobs/sha256/${amd.config.digest.slice(7)}`, RepoTags: ['example/multi:1'], Layers: amd.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`) }];
    const { report, out, json, index } = await edit(await b.archive([top], mj), { ...EDIT, tags: ['example/fixed:2'] });
    assert.deepEqual(checkArchive(out), []);
    assert.equal(report.images.length, 1, 'one image, not one per platform');
    assert.deepEqual(
      report.images[0]!.platforms.map((p) => p.platform),
      ['linux/amd64', 'linux/arm64'],
    );
    assert.equal(index.manifests.length, 1);
    assert.equal(index.manifests[0]!.annotations!['io.containerd.image.name'], 'docker.io/example/fixed:2');
    const idx = json(index.manifests[0]!.digest);
    assert.equal(idx.manifests.length, 2, 'attestations of the edited manifests are dropped');
    for (const m of idx.manifests) {
      const cfg = json(json(m.digest).config.digest);
      assert.deepEqual(cfg.config.Entrypoint, ['/x'], `${m.platform.architecture} edited`);
      assert.equal(cfg.config.Volumes, undefined);
    }
    // nothing the output no longer names is left behind (in-toto statements, attestation configs)
    const blobsLeft = [...out.keys()].filter((k) => k.startsWith('blobs/'));
    for (const k of blobsLeft) assert.notEqual(JSON.parse(out.get(k)!.data[0] === 0x7b ? out.get(k)!.data.toString() : '{}')._type, 'https://in-toto.io/Statement/v0.1', `${k} left behind`);
    assert.ok(report.warnings.some((w) => /dropped attestation manifest/.test(w)));
    assert.equal((await verifyArchive(join(dir, `out${n}.tar`))).ok, true);
    // manifest.json follows: its item names the edited amd64 config under the new tag
    const item = JSON.parse(out.get('manifest.json')!.data.toString())[0];
    assert.deepEqual(item.RepoTags, ['example/fixed:2']);
    assert.equal(item.Config, `blobs/sha256/${json(idx.manifests[0].digest).config.digest.slice(7)}`);
    void arm;
  });

  it('--platform narrows the edit; --only-platform keeps one platform and drops the others with their layer blobs', async () => {
    const { b, arm, top } = await multiPlatform();
    const archive = await b.archive([top]);
    const narrowed = await edit(archive, { ...EDIT, platforms: [parsePlatform('linux/arm64')!] });
    const idx = narrowed.json(narrowed.index.manifests[0]!.digest);
    const byArch = Object.fromEntries(
      idx.manifests.filter((m: Desc) => m.platform?.architecture !== 'unknown').map((m: Desc) => [m.platform!.architecture, narrowed.json(narrowed.json(m.digest).config.digest).config]),
    );
    assert.deepEqual(byArch.arm64.Entrypoint, ['/x']);
    assert.deepEqual(byArch.amd64.Entrypoint, ['/app/run'], 'amd64 left as it was');
    assert.equal(idx.manifests.length, 3, "amd64's attestation stays: it is still true");

    const only = await edit(archive, { ...EDIT, onlyPlatforms: [parsePlatform('linux/amd64')!] });
    assert.deepEqual(checkArchive(only.out), []);
    const oidx = only.json(only.index.manifests[0]!.digest);
    assert.deepEqual(
      oidx.manifests.map((m: Desc) => m.platform!.architecture),
      ['amd64'],
    );
    assert.ok(!only.out.has(`blobs/sha256/${arm.layers[0]!.digest.slice(7)}`), 'arm64 layer blob left out');
    assert.ok(!only.out.has(`blobs/sha256/${arm.desc.digest.slice(7)}`), 'arm64 manifest left out');
    assert.equal((await verifyArchive(only.output)).ok, true);
  });

  it('--drop-absent trims index entries whose blobs the archive lacks', async () => {
    const { b, arm, top } = await multiPlatform();
    const archive = await b.archive([top], undefined, [arm.desc.digest]);
    const r = await edit(archive, { ...EDIT, dropAbsent: true });
    const idx = r.json(r.index.manifests[0]!.digest);
    assert.ok(!idx.manifests.some((m: Desc) => m.digest === arm.desc.digest));
    assert.deepEqual(checkArchive(r.out), []);
  });

  it('an OCI 1.1 artifact is never edited; its digest and blobs pass through', async () => {
    const b = new OciBuilder();
    const img = await b.image('linux', 'amd64');
    const art = b.artifact('application/vnd.example.thing', 'payload');
    const { report, index, json } = await edit(await b.archive([named(img.desc, 'docker.io/example/app:1'), named(art, 'docker.io/example/thing:1')]), EDIT);
    assert.equal(report.images.length, 1, 'the artifact is not an image');
    assert.equal(index.manifests[1]!.digest, art.digest, 'artifact digest unchanged');
    assert.deepEqual(json(json(art.digest).config.digest), {}, 'empty config untouched');
  });

  it('a referrer follows its subject; a signature of the old manifest is dropped with its blobs', async () => {
    const b = new OciBuilder();
    const img = await b.image('linux', 'amd64');
    const sbom = b.artifact('application/spdx+json', '{"spdxVersion":"SPDX-2.3"}', img.desc);
    const sig = b.artifact('application/vnd.dev.cosign.artifact.sig.v1+json', 'signature-bytes', img.desc);
    const { report, index, json, out } = await edit(await b.archive([named(img.desc, 'docker.io/example/app:1'), sbom, sig]), EDIT);
    assert.deepEqual(checkArchive(out), []);
    const newManifest = index.manifests[0]!;
    assert.notEqual(newManifest.digest, img.desc.digest);
    assert.equal(index.manifests.length, 2, 'the signature left index.json');
    const ref = json(index.manifests[1]!.digest);
    assert.equal(ref.artifactType, 'application/spdx+json');
    assert.equal(ref.subject.digest, newManifest.digest, 'the SBOM names the edited manifest');
    assert.equal(ref.subject.size, newManifest.size);
    assert.ok(!out.has(`blobs/sha256/${sig.digest.slice(7)}`), 'signature manifest dropped');
    assert.ok(report.warnings.some((w) => /dropped referrer .*signature/.test(w)));
    assert.ok(!out.has(`blobs/sha256/${img.desc.digest.slice(7)}`), 'old manifest dropped');
  });

  it('verify accepts OCI 1.1: empty configs, artifactType, subject, the old artifact manifest, absent foreign layers', async () => {
    const b = new OciBuilder();
    const img = await b.image('linux', 'amd64');
    const win = await b.image('windows', 'amd64');
    // a Windows image whose base layer is non-distributable and absent, as such archives ship
    const foreign = { mediaType: MT.foreign, digest: `sha256:${'f'.repeat(64)}`, size: 1000, urls: ['https://example.invalid/layer'] };
    const winCfg = JSON.parse(b.blobs.get(win.config.digest.slice(7))!.toString());
    winCfg.rootfs.diff_ids.unshift(`sha256:${'e'.repeat(64)}`);
    const winCfgDesc = b.blob(winCfg, MT.config);
    const winManifest = b.blob({ schemaVersion: 2, mediaType: MT.manifest, config: winCfgDesc, layers: [foreign, ...win.layers] }, MT.manifest);
    const roots = [
      named(img.desc, 'docker.io/example/app:1'),
      b.artifact('application/vnd.example.thing', 'x'),
      b.artifact('application/spdx+json', '{}', img.desc),
      b.oldArtifact('old'),
      named(winManifest, 'docker.io/example/win:1'),
    ];
    // Docker 25+ writes manifest.json for it, LayerSources keyed by DiffID naming the foreign blob
    const mj = [
      {
        Config: `blobs/sha256/${winCfgDesc.digest.slice(7)}`,
        RepoTags: ['example/win:1'],
        Layers: [foreign, ...win.layers].map((l) => `blobs/sha256/${l.digest.slice(7)}`),
        LayerSources: { [winCfg.rootfs.diff_ids[0]]: foreign },
      },
    ];
    const input = join(dir, 'oci11.tar');
    await writeFile(input, await b.archive(roots, mj));
    const v = await verifyArchive(input);
    assert.deepEqual(v.issues, []);
    assert.equal(v.ok, true);
    assert.ok(
      v.unverified.some((u) => /non-distributable and absent/.test(u)),
      'the absent foreign layer is reported as such',
    );
    // and edit --verify passes on it
    const r = await edit(await b.archive(roots, mj), { ...EDIT, verify: true, images: ['example/win:1'] });
    assert.equal(r.report.verification?.ok, true);
  });

  it('--tag T --keep-original where T is already a tag of the image: T names the edited image only', async () => {
    const b = new OciBuilder();
    const img = await b.image('linux', 'amd64');
    const roots = [named(img.desc, 'docker.io/example/app:1'), named(img.desc, 'docker.io/example/app:latest')];
    const mj = [{ Config: `blobs/sha256/${img.config.digest.slice(7)}`, RepoTags: ['example/app:1', 'example/app:latest'], Layers: img.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`) }];
    const { index, out } = await edit(await b.archive(roots, mj), { ...EDIT, tags: ['example/app:latest'], keepOriginal: true });
    assert.deepEqual(checkArchive(out), []);
    const owners = index.manifests.map((d) => [d.annotations?.['io.containerd.image.name'], d.digest === img.desc.digest ? 'original' : 'edited']);
    assert.deepEqual(owners, [
      ['docker.io/example/app:1', 'original'],
      ['docker.io/example/app:latest', 'edited'],
    ]);
    const items = JSON.parse(out.get('manifest.json')!.data.toString()) as { Config: string; RepoTags: string[] }[];
    const tags = items.flatMap((i) => i.RepoTags);
    assert.equal(new Set(tags).size, tags.length, `a name on two images: ${tags.join(', ')}`);
    const latest = items.find((i) => i.RepoTags.includes('example/app:latest'))!;
    assert.notEqual(latest.Config, mj[0]!.Config, 'latest names the edited config');
  });

  it('--image by one name edits the image under that name; its other names keep the original and are reported', async () => {
    const b = new OciBuilder();
    const img = await b.image('linux', 'amd64');
    const roots = [named(img.desc, 'docker.io/example/app:1'), named(img.desc, 'docker.io/example/app:latest')];
    const { index, report } = await edit(await b.archive(roots), { ...EDIT, images: ['example/app:1'] });
    assert.deepEqual(
      index.manifests.map((d) => d.digest === img.desc.digest),
      [false, true],
    );
    assert.deepEqual(report.images[0]!.otherNames, ['docker.io/example/app:latest']);
  });

  it('the graph is bounded: a 31 KB archive of nested indexes that names 40^6 paths is read once per node', async () => {
    const b = new OciBuilder();
    const img = await b.image('linux', 'amd64');
    let level: Desc = img.desc;
    for (let i = 0; i < 6; i++) level = b.index(Array.from({ length: 40 }, () => level));
    // CPU time, not wall time: the unit files run two processes at once, on a machine shared with others
    const c0 = process.cpuUsage();
    const r = await edit(await b.archive([named(level, 'docker.io/example/deep:1')]), EDIT);
    const c = process.cpuUsage(c0);
    assert.ok(c.user + c.system < 5e6, `took ${((c.user + c.system) / 1e3).toFixed(0)} ms of CPU`);
    assert.deepEqual(checkArchive(r.out), []);
    let deeper: Desc = img.desc;
    for (let i = 0; i < 10; i++) deeper = b.index([deeper]);
    await assert.rejects(edit(await b.archive([named(deeper, 'docker.io/example/deeper:1')]), EDIT), /nest more than 8 deep/);
  });
});

describe('inspect of the graph', () => {
  it('shows a multi-platform index as one image with its platforms, absent platforms and attestations, and artifacts apart', async () => {
    const { b, arm, top } = await (async () => {
      const b = new OciBuilder();
      const amd = await b.image('linux', 'amd64');
      const arm = await b.image('linux', 'arm64');
      const top = named(b.index([amd.desc, arm.desc, b.attestation(amd.desc)]), 'docker.io/example/multi:1');
      return { b, arm, top };
    })();
    const art = b.artifact('application/spdx+json', '{}', top);
    const input = join(dir, 'inspect-multi.tar');
    await writeFile(input, await b.archive([top, art], undefined, [arm.config.digest, arm.desc.digest]));
    const r = await inspectArchive(input);
    assert.equal(r.targets.length, 1);
    const t = r.targets[0]!;
    assert.deepEqual([t.kind, t.digest, t.names], ['index', top.digest, ['docker.io/example/multi:1']]);
    assert.deepEqual(
      t.platforms.map((p) => p.platform),
      ['linux/amd64'],
    );
    assert.deepEqual(t.absentPlatforms, [{ platform: 'linux/arm64', manifest: arm.desc.digest }]);
    assert.equal(t.attestations.length, 1);
    assert.deepEqual(r.artifacts, [{ digest: art.digest, mediaType: MT.manifest, artifactType: 'application/spdx+json', subject: top.digest, present: true }]);
  });
  it('stays bounded on nested indexes naming one child many times (was 4.6 GB)', async () => {
    const b = new OciBuilder();
    const img = await b.image('linux', 'amd64');
    let level: Desc = img.desc;
    for (let i = 0; i < 6; i++) level = b.index(Array.from({ length: 40 }, () => level));
    const input = join(dir, 'inspect-deep.tar');
    await writeFile(input, await b.archive([named(level, 'docker.io/example/deep:1')]));
    const r = await inspectArchive(input);
    assert.equal(r.images.length, 1);
    assert.equal(r.images[0]!.manifests.length, 1);
  });
});

describe('sha512 digests', () => {
  /** A layout whose config and manifest are named by sha512 (layers by sha256, as registries mix them). */
  async function sha512Layout(corrupt = false) {
    const { createHash } = await import('node:crypto');
    const b = new OciBuilder();
    const img = await b.image('linux', 'amd64');
    const h512 = (x: Buffer) => createHash('sha512').update(x).digest('hex');
    const cfgBytes = b.blobs.get(img.config.digest.slice(7))!;
    const cfg = { ...img.config, digest: `sha512:${h512(cfgBytes)}` };
    const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.manifest, config: cfg, layers: img.layers }));
    const md = { mediaType: MT.manifest, digest: `sha512:${corrupt ? 'a'.repeat(128) : h512(m)}`, size: m.length };
    const entries = [
      ...[...b.blobs].filter(([hex]) => hex !== img.config.digest.slice(7) && hex !== img.desc.digest.slice(7)).map(([hex, data]) => ({ name: `blobs/sha256/${hex}`, data })),
      { name: `blobs/sha512/${cfg.digest.slice(7)}`, data: cfgBytes },
      { name: `blobs/sha512/${md.digest.slice(7)}`, data: m },
      { name: 'index.json', data: JSON.stringify({ schemaVersion: 2, manifests: [named(md, 'docker.io/example/sha512:1')] }) },
      { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    ];
    const { makeTar } = await import('../fixtures.js');
    return { archive: await makeTar(entries), h512 };
  }
  it('a rewritten blob keeps its algorithm: stored under blobs/sha512/ with its sha512 name', async () => {
    const { archive, h512 } = await sha512Layout();
    const { out, index } = await edit(archive, EDIT);
    const d = index.manifests[0]!.digest;
    assert.match(d, /^sha512:[a-f0-9]{128}$/);
    const blob = out.get(`blobs/sha512/${d.slice(7)}`);
    assert.ok(blob, 'the manifest index.json names is in the archive');
    assert.equal(h512(blob.data), d.slice(7));
    const cfgDigest = JSON.parse(blob.data.toString()).config.digest as string;
    assert.match(cfgDigest, /^sha512:/);
    assert.equal(h512(out.get(`blobs/sha512/${cfgDigest.slice(7)}`)!.data), cfgDigest.slice(7));
  });
  it('a sha512 digest that does not match its content is refused, not re-hashed into a clean-looking output', async () => {
    const { archive } = await sha512Layout(true);
    await assert.rejects(edit(archive, EDIT), /content does not match its digest \(its sha512 is/);
  });
});
