/**
 * --format and --layer-compression, in process: every sample converted to every layout (and
 * recompressed), read back by our reader and by the independent checker of test/unit/check.ts,
 * verified (every digest), DiffIDs and configs unchanged, names kept; and the refusals.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  ArchiveError,
  type ArchiveModel,
  EditError,
  type LayerCompression,
  type TargetFormat,
  UsageError,
  editArchive,
  normalizeReference,
  readArchive,
  removeVolumes,
  setEntrypoint,
  verifyArchive,
} from '../../../src/index.js';
import { formatReport } from '../../../src/cli/report.js';
import { SAMPLES } from '../../samples.js';
import { checkArchive } from '../check.js';
import { craneTarball, dockerLegacy, type Fixture, ociLayout, podmanArchive, readTar, sha } from '../fixtures.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-convert-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SAMPLE_FILES = readdirSync(SAMPLES)
  .filter((f) => f.endsWith('.tar'))
  .map((f) => join(SAMPLES, f));
const OCI11 = existsSync(join(SAMPLES, 'oci11'))
  ? readdirSync(join(SAMPLES, 'oci11'))
      .filter((f) => f.endsWith('.tar'))
      .map((f) => join(SAMPLES, 'oci11', f))
  : [];
const FORMATS: TargetFormat[] = ['oci', 'docker', 'docker-legacy'];
const LAYOUT_OF: Record<TargetFormat, string> = { oci: 'oci', docker: 'docker-oci', 'docker-legacy': 'docker-legacy' };
const DOCKER_TYPES = /application\/vnd\.docker\.(distribution|container|image)/;

/** name -> the set of config digests it reaches (one per platform held). */
function namesToConfigs(m: ArchiveModel): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const t of m.targets) for (const n of t.names) out.set(normalizeReference(n), t.platforms.map((p) => p.image.id.toString()).sort());
  return out;
}

function diffIdsOf(m: ArchiveModel): Map<string, string[]> {
  return new Map(m.images.map((i) => [i.id.toString(), i.layers.map((l) => l.diffId?.toString() ?? '?')]));
}

let n = 0;
async function convert(input: string, o: { format?: TargetFormat; layerCompression?: LayerCompression; onlyPlatforms?: { os: string; architecture: string }[] }) {
  const output = join(dir, `out-${n++}.tar`);
  const report = await editArchive({ input, output, edits: [], ...o });
  return { report, output };
}

/** A multi-platform target's platforms, for --only-platform when writing docker-legacy. */
function firstPlatforms(m: ArchiveModel): { os: string; architecture: string }[] | undefined {
  const multi = m.targets.find((t) => t.platforms.length > 1);
  const p = multi?.platforms[0]?.platform;
  return p ? [{ os: p.os, architecture: p.architecture }] : undefined;
}

describe('--format: every sample to every layout', () => {
  for (const input of [...SAMPLE_FILES, ...OCI11]) {
    for (const format of FORMATS) {
      it(`${input.split('/').slice(-1)[0]} -> ${format}: read back, verified, names, configs and DiffIDs kept`, async () => {
        const before = (await readArchive(input)).model;
        const only = format === 'docker-legacy' ? firstPlatforms(before) : undefined;
        if (format === 'docker-legacy' && before.images.some((i) => i.layers.some((l) => !l.entry))) {
          // a non-distributable layer the archive does not hold: only OCI layouts can name it
          await assert.rejects(convert(input, { format }), (e) => e instanceof EditError && /non-distributable.*--format docker/.test(e.message));
          return;
        }
        const { report, output } = await convert(input, { format, ...(only ? { onlyPlatforms: only } : {}) });
        assert.equal(report.conversion?.to, format);
        const after = (await readArchive(output)).model;
        assert.equal(after.layout, LAYOUT_OF[format]);
        const v = await verifyArchive(output);
        assert.ok(v.ok, JSON.stringify(v.issues));
        // no problem the input did not have (a foreign layer is absent by design, in both)
        const known = new Set(checkArchive(await readTar(await readFile(input))));
        assert.deepEqual(
          checkArchive(await readTar(await readFile(output))).filter((p) => !known.has(p)),
          [],
        );
        // every name still reaches the same configs (one platform when it had to be chosen)
        const want = namesToConfigs(before);
        const got = namesToConfigs(after);
        for (const [name, ids] of want) {
          if (ids.length === 0) continue;
          const have = got.get(name);
          assert.ok(have, `${name} is missing from the output (it has ${[...got.keys()].join(', ')})`);
          if (only) assert.ok(have.every((x) => ids.includes(x)));
          else assert.deepEqual(have, ids);
        }
        // configs byte-identical, so DiffIDs too; every output config existed before
        const ids = diffIdsOf(before);
        for (const [id, diffs] of diffIdsOf(after)) assert.deepEqual(diffs, ids.get(id), `config ${id}`);
        if (format !== 'docker-legacy') {
          // skopeo's OCI layout skips a descriptor without the media type it looks for
          const idx = JSON.parse(after.ociIndex!.entry.data!.toString()) as { manifests: { mediaType?: string }[] };
          for (const d of idx.manifests) assert.ok(d.mediaType, `index.json descriptor without mediaType: ${JSON.stringify(d)}`);
        }
        if (format === 'oci') {
          assert.equal(after.manifestJson, undefined, 'oci: no manifest.json');
          for (const node of after.graph.nodes.values()) assert.doesNotMatch(node.entry.data!.toString(), DOCKER_TYPES, node.entry.name);
          assert.doesNotMatch(after.ociIndex!.entry.data!.toString(), DOCKER_TYPES);
        }
        if (format === 'docker') {
          // Docker 25's names: containerd's full name and the tag alone as ref.name; manifest.json with LayerSources
          const idx = JSON.parse(after.ociIndex!.entry.data!.toString()) as { manifests: { annotations?: Record<string, string> }[] };
          for (const d of idx.manifests) {
            const a = d.annotations ?? {};
            if (a['io.containerd.image.name']) assert.equal(a['org.opencontainers.image.ref.name'], a['io.containerd.image.name'].split(':').at(-1));
          }
          for (const item of after.manifestJson!.items) assert.ok(item.raw.LayerSources !== undefined || item.layers.length === 0);
        }
      });
    }
  }
});

describe('--format: the generated fixtures of every layout (crane, podman, ...) to every layout', () => {
  const fixtures: [string, () => Promise<Fixture>][] = [
    ['docker-legacy', () => dockerLegacy()],
    ['docker 25', () => ociLayout({ docker: true })],
    ['containerd gzip + index', () => ociLayout({ gzip: true, multiPlatform: true })],
    ['oci', () => ociLayout({ noManifestJson: true })],
    ['podman', () => podmanArchive()],
    ['crane', () => craneTarball()],
  ];
  for (const [label, make] of fixtures) {
    for (const format of FORMATS) {
      for (const layerCompression of [undefined, 'gzip', 'none'] as const) {
        it(`${label} -> ${format}${layerCompression ? ` (${layerCompression})` : ''}`, async () => {
          const f = await make();
          const input = join(dir, `fx-${n++}.tar`);
          await writeFile(input, f.archive);
          const { output } = await convert(input, { format, ...(layerCompression ? { layerCompression } : {}) });
          const v = await verifyArchive(output);
          assert.ok(v.ok, JSON.stringify(v.issues));
          assert.deepEqual(checkArchive(await readTar(await readFile(output))), []);
          const m = (await readArchive(output)).model;
          assert.equal(m.layout, LAYOUT_OF[format]);
          assert.deepEqual([...namesToConfigs(m).keys()], ['docker.io/example/app:1.0']);
        });
      }
    }
  }

  it('a crane layer whose bytes do not hash to the digest its name promises is refused, saying so', async () => {
    const f = await craneTarball();
    const entries = await readTar(f.archive);
    const name = [...entries.keys()].find((k) => k.endsWith('.tar.gz'))!;
    const data = entries.get(name)!.data;
    const bad = Buffer.from(f.archive);
    const at = f.archive.indexOf(data) + data.length - 1;
    bad[at] = bad[at]! ^ 0xff; // the gzip trailer's size byte: same length, other bytes
    const input = join(dir, 'crane-bad.tar');
    await writeFile(input, bad);
    await assert.rejects(convert(input, { format: 'oci' }), (e) => e instanceof ArchiveError && e.message.includes(name) && /but its name says/.test(e.message));
  });
});

describe('--layer-compression', () => {
  for (const input of SAMPLE_FILES) {
    it(`${input.split('/').slice(-1)[0]}: gzip then none gives back the uncompressed layers, DiffIDs unchanged and verified`, async () => {
      const base = (await readArchive(input)).model;
      const only = firstPlatforms(base);
      const gz = await convert(input, { format: 'oci', layerCompression: 'gzip' });
      const v = await verifyArchive(gz.output);
      assert.ok(v.ok, JSON.stringify(v.issues));
      const m = (await readArchive(gz.output)).model;
      for (const img of m.images) for (const l of img.layers) if (l.entry) assert.match(l.mediaType ?? '', /\+gzip$/);
      assert.deepEqual(diffIdsOf(m), new Map([...diffIdsOf(base)].filter(([k]) => m.images.some((i) => i.id.toString() === k))));
      const plain = await convert(gz.output, { format: 'docker-legacy', layerCompression: 'none', ...(only ? { onlyPlatforms: only } : {}) });
      const out = await readTar(await readFile(plain.output));
      const back = (await readArchive(plain.output)).model;
      for (const img of back.images) {
        for (const l of img.layers) {
          const e = out.get(l.entry!.path)!;
          assert.equal(`sha256:${sha(e.data)}`, l.diffId?.toString(), `${l.entry!.name} is the uncompressed layer`);
        }
      }
      assert.ok((await verifyArchive(plain.output)).ok);
    });
  }

  it('zstd: OCI media types, zstd frames, DiffIDs unchanged; the report lists each layer', async () => {
    const input = join(SAMPLES, 'docker20-legacy.tar');
    const { report, output } = await convert(input, { format: 'oci', layerCompression: 'zstd' });
    assert.equal(report.conversion?.layersRecompressed, 3);
    assert.ok(report.conversion!.layers.every((l) => l.to === 'zstd' && l.newDigest !== l.oldDigest && l.newSize !== null));
    const m = (await readArchive(output)).model;
    const out = await readTar(await readFile(output));
    for (const l of m.images[0]!.layers) {
      assert.equal(l.mediaType, 'application/vnd.oci.image.layer.v1.tar+zstd');
      assert.deepEqual([...out.get(l.entry!.path)!.data.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
    }
    assert.deepEqual(diffIdsOf(m), diffIdsOf((await readArchive(input)).model));
    assert.deepEqual(checkArchive(out), []);
  });

  it('artifact blobs are never recompressed; an attestation of a manifest the conversion changed is dropped, not re-pointed', async () => {
    for (const sample of ['docker28c-multi.tar', 'oci11/oci11-artifact.tar', 'oci11/oci11-referrers.tar']) {
      const input = join(SAMPLES, sample);
      const before = (await readArchive(input)).model;
      const { output, report } = await convert(input, { format: 'oci', layerCompression: 'zstd' });
      const after = (await readArchive(output)).model;
      const imageLayers = new Set(before.images.flatMap((i) => i.layers.map((l) => l.digest?.toString())));
      const kept = new Set([...after.graph.nodes.keys()]);
      for (const node of before.graph.nodes.values()) {
        if (node.kind !== 'manifest' || node.role === 'image' || !kept.has(node.digest.toString())) continue;
        // not an image, and still in the output: its config and layers are there under the same digests
        for (const b of [node.config, ...node.layers]) {
          if (!b || imageLayers.has(b.digest.toString()) || !before.blobs.has(b.digest.toString())) continue;
          assert.ok(after.blobs.has(b.digest.toString()), `${sample}: ${b.digest} of ${node.entry.name} is gone`);
        }
      }
      // the in-toto statements name the old manifests: no attestation of a recompressed image may stay
      for (const node of after.graph.nodes.values()) {
        if (node.kind !== 'index') continue;
        for (const c of node.children) assert.equal(c.annotations['vnd.docker.reference.digest'], undefined, `${sample}: attestation ${c.digest} kept`);
      }
      const had = [...before.graph.nodes.values()].some((x) => x.kind === 'manifest' && x.role === 'attestation');
      if (had)
        assert.ok(
          report.warnings.some((w) => /dropped attestation manifest .* as it was before the change/.test(w)),
          report.warnings.join('\n'),
        );
    }
  });

  it('a layer already in the wanted compression is copied as it is (same digest)', async () => {
    const input = join(SAMPLES, 'containerd-gzip-index.tar');
    const { report, output } = await convert(input, { format: 'oci', layerCompression: 'gzip' });
    assert.equal(report.conversion?.layersRecompressed, 0);
    const a = (await readArchive(input)).model.images[0]!.layers.map((l) => l.digest?.toString());
    const b = (await readArchive(output)).model.images[0]!.layers.map((l) => l.digest?.toString());
    assert.deepEqual(b, a);
  });

  it('without --format, the input layout family is kept (docker 25 stays docker)', async () => {
    const { report, output } = await convert(join(SAMPLES, 'docker26-oci.tar'), { layerCompression: 'gzip' });
    assert.equal(report.conversion?.to, 'docker');
    assert.equal((await readArchive(output)).model.layout, 'docker-oci');
    assert.ok((await verifyArchive(output)).ok);
  });
});

describe('conversion refusals and failures', () => {
  it('zstd into docker-legacy is a usage error before anything is read', async () => {
    await assert.rejects(convert(join(dir, 'does-not-exist.tar'), { format: 'docker-legacy', layerCompression: 'zstd' }), (e) => e instanceof UsageError && /--format oci/.test(e.message));
  });

  it('zstd under Docker media types (--format docker) is a usage error naming the layer and --format oci', async () => {
    await assert.rejects(
      convert(join(SAMPLES, 'containerd-export.tar'), { format: 'docker', layerCompression: 'zstd' }),
      (e) => e instanceof UsageError && /layer 1 .*Docker's media types.*--format oci/.test(e.message),
    );
  });

  it('zstd on a legacy input without --format (it stays docker-legacy) is refused', async () => {
    await assert.rejects(convert(join(SAMPLES, 'podman.tar'), { layerCompression: 'zstd' }), (e) => e instanceof UsageError && /--format oci/.test(e.message));
  });

  it('a multi-platform image into docker-legacy names its platforms and --only-platform', async () => {
    await assert.rejects(
      convert(join(SAMPLES, 'docker28c-multi.tar'), { format: 'docker-legacy' }),
      (e) => e instanceof EditError && /linux\/amd64, linux\/arm64/.test(e.message) && /--only-platform linux\/amd64/.test(e.message),
    );
  });

  it('a recompressed layer whose content does not match its DiffID is refused, naming the layer; no output, no spool file left', async () => {
    const f = await dockerLegacy();
    const entries = await readTar(f.archive);
    // damage the first layer's bytes (same size): the config's DiffID no longer matches
    const layerName = [...entries.keys()].find((k) => k.endsWith('/layer.tar') && entries.get(k)!.header.type === 'file')!;
    const at = f.archive.indexOf(entries.get(layerName)!.data);
    const bad = Buffer.from(f.archive);
    bad[at + 600] = bad[at + 600]! ^ 0xff;
    const sub = await mkdtemp(join(dir, 'diffid-'));
    const input = join(sub, 'in.tar');
    await writeFile(input, bad);
    const output = join(sub, 'out.tar');
    for (const layerCompression of ['gzip', undefined] as const) {
      await assert.rejects(
        editArchive({ input, output, edits: [], format: 'oci', ...(layerCompression ? { layerCompression } : {}) }),
        (e) => e instanceof ArchiveError && e.message.includes(layerName) && /diff_ids/.test(e.message),
      );
      assert.deepEqual(await readdir(sub), ['in.tar']);
    }
  });

  it('a corrupt gzip layer is an archive error naming it, when it must be decompressed', async () => {
    const f = await ociLayout({ gzip: true });
    const entries = await readTar(f.archive);
    const name = [...entries.keys()].find((k) => entries.get(k)!.data[0] === 0x1f && entries.get(k)!.data[1] === 0x8b)!;
    const data = entries.get(name)!.data;
    const at = f.archive.indexOf(data);
    const bad = Buffer.from(f.archive);
    bad.fill(0xff, at + 12, at + data.length - 8); // deflate data destroyed, gzip header and size kept
    const input = join(dir, 'corrupt-gz.tar');
    await writeFile(input, bad);
    await assert.rejects(
      editArchive({ input, output: join(dir, 'corrupt-out.tar'), edits: [], format: 'oci', layerCompression: 'none' }),
      (e) => e instanceof ArchiveError && e.message.includes(name) && /corrupt or truncated/.test(e.message),
    );
    assert.equal(existsSync(join(dir, 'corrupt-out.tar')), false);
  });

  it('a pipe input is spooled (and the spool removed); the result equals the file input', async () => {
    const input = join(SAMPLES, 'docker20-legacy.tar');
    const a = await convert(input, { format: 'oci', layerCompression: 'gzip' });
    const output = join(dir, 'from-pipe.tar');
    await editArchive({ input: Readable.from([await readFile(input)]), output, edits: [], format: 'oci', layerCompression: 'gzip' });
    assert.ok((await readFile(output)).equals(await readFile(a.output)));
    assert.deepEqual(
      (await readdir(tmpdir())).filter((f) => f.startsWith(`.ce-input-${process.pid}-`)),
      [],
    );
  });

  it('--verify checks what the conversion writes: every blob name and DiffID of the output, none left unverified', async () => {
    const output = join(dir, 'verified.tar');
    const r = await editArchive({ input: join(SAMPLES, 'docker20-legacy.tar'), output, edits: [], format: 'oci', layerCompression: 'gzip', verify: true });
    assert.ok(r.verification?.ok);
    assert.deepEqual(r.verification.unverified, []);
    assert.equal(r.verification.counts.blobNames, 5); // 3 layers, config, manifest
    assert.equal(r.verification.counts.diffIds, 4);
  });

  it('--dry-run writes nothing and reports the plan', async () => {
    const output = join(dir, 'dry.tar');
    const r = await editArchive({ input: join(SAMPLES, 'docker20-legacy.tar'), output, edits: [], format: 'oci', layerCompression: 'gzip', dryRun: true });
    assert.equal(r.conversion?.layersRecompressed, 3);
    assert.equal(r.conversion?.from, 'docker-legacy');
    assert.equal(existsSync(output), false);
    assert.deepEqual(formatReport(r, true).split('\n'), [
      'example/app:1.0, example/app:latest: config unchanged (classic store ID e78d9c8f3911); the name would point at a new manifest (its digest, the ID on the containerd store, is known once the layers are recompressed)',
      'layout: docker-legacy -> oci; 3 layers would be recompressed to gzip',
      'dry run: nothing was written',
    ]);
    // without recompression the new manifest is known: the dry run names the digest the real run writes
    const planned = await editArchive({ input: join(SAMPLES, 'docker20-legacy.tar'), output, edits: [], format: 'oci', dryRun: true });
    const real = await editArchive({ input: join(SAMPLES, 'docker20-legacy.tar'), output, edits: [], format: 'oci' });
    assert.equal(planned.images[0]!.newDigest.toString(), real.images[0]!.newDigest.toString());
    assert.equal(real.images[0]!.newDigest.toString(), 'sha256:f3a7bed25423ecfa1f6066f5694f149a2817a5947af6e9e54f239f1fdb3b8bec'); // what Docker 26 saved
    // one kind of digest per arrow: the containerd store's ID before is the manifest its importer writes, not the config digest
    assert.equal(real.images[0]!.ids?.containerd.old?.toString(), 'sha256:1b74a0e6b85a809914daafe055ec66efda27330361c6ce6d0d8b6ce991f0fbf4');
    assert.equal(real.images[0]!.ids?.containerd.new?.toString(), real.images[0]!.newDigest.toString());
    assert.equal(planned.images[0]!.ids?.containerd.new?.toString(), real.images[0]!.newDigest.toString());
  });
});

describe('conversion with edits', () => {
  it('edits apply, then the layout converts: the new config is named by the new manifest; reruns are byte-identical', async () => {
    const input = join(SAMPLES, 'docker20-legacy.tar');
    const run = async (name: string) => {
      const output = join(dir, name);
      const r = await editArchive({ input, output, edits: [removeVolumes('all'), setEntrypoint(['/x'])], format: 'oci', layerCompression: 'gzip', sourceDateEpoch: 1_700_000_000 });
      return { r, bytes: await readFile(output), output };
    };
    const a = await run('e1.tar');
    const b = await run('e2.tar');
    assert.ok(a.bytes.equals(b.bytes));
    const m = (await readArchive(a.output)).model;
    const img = m.images[0]!;
    assert.equal(img.id.toString(), a.r.images[0]!.newId.toString());
    assert.notEqual(img.id.toString(), a.r.images[0]!.oldId.toString());
    assert.equal(a.r.images[0]!.newDigest.toString(), m.targets[0]!.descriptors[0]!.digest.toString());
    const cfg = JSON.parse(img.configBytes.toString()) as { config: { Entrypoint: string[]; Volumes?: unknown } };
    assert.deepEqual(cfg.config.Entrypoint, ['/x']);
    assert.equal(cfg.config.Volumes, undefined);
  });

  it('a fixture OCI layout with gzip layers and a multi-platform index converts to docker-legacy with --only-platform', async () => {
    const f = await ociLayout({ gzip: true, multiPlatform: true });
    const input = join(dir, 'fx.tar');
    await writeFile(input, f.archive);
    const before = (await readArchive(input)).model;
    const only = firstPlatforms(before);
    const { output } = await convert(input, { format: 'docker-legacy', layerCompression: 'none', ...(only ? { onlyPlatforms: only } : {}) });
    const out = await readTar(await readFile(output));
    assert.deepEqual(checkArchive(out), []);
    const back = (await readArchive(output)).model;
    assert.equal(back.layout, 'docker-legacy');
    for (const l of back.images[0]!.layers) assert.equal(`sha256:${sha(out.get(l.entry!.path)!.data)}`, l.diffId?.toString());
    // and the original gzip bytes decompress to the same layers
    const gz = before.images[0]!.layers[0]!;
    const inTar = await readTar(f.archive);
    assert.equal(`sha256:${sha(gunzipSync(inTar.get(gz.entry!.path)!.data))}`, gz.diffId?.toString());
    void gzipSync;
    void copyFile;
  });
});
