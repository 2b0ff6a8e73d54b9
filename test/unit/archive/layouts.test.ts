import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { editArchive, removePorts, removeVolumes, setEntrypoint, EditError } from '../../../src/index.js';
import { checkArchive } from '../check.js';
import { craneTarball, dockerLegacy, type Fixture, ociLayout, podmanArchive, readTar, sha } from '../fixtures.js';
import { parseEdit } from '../../../src/cli/edit-specs.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-unit-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const EDITS = () => [removeVolumes('all'), removePorts('all'), setEntrypoint(['/bin/echo', 'edited'])];

async function run(f: Fixture, name: string, copy?: 'stream') {
  const input = join(dir, `${name}.tar`);
  const output = join(dir, `${name}.out.tar`);
  await writeFile(input, f.archive);
  const report = await editArchive({ input, output, edits: EDITS(), ...(copy ? { copy } : {}) });
  const out = await readTar(await readFile(output));
  return { report, out, output, input };
}

/** The config the output's manifest.json (or index.json) names. */
function outConfig(out: Awaited<ReturnType<typeof readTar>>): Record<string, any> {
  const mj = out.get('manifest.json');
  if (mj) {
    const item = (JSON.parse(mj.data.toString()) as { Config: string }[])[0]!;
    return JSON.parse(out.get(item.Config)!.data.toString());
  }
  let desc = (JSON.parse(out.get('index.json')!.data.toString()) as { manifests: { digest: string }[] }).manifests[0]!;
  for (;;) {
    const doc = JSON.parse(out.get(`blobs/sha256/${desc.digest.slice(7)}`)!.data.toString());
    if (doc.config) return JSON.parse(out.get(`blobs/sha256/${doc.config.digest.slice(7)}`)!.data.toString());
    desc = doc.manifests[0];
  }
}

const cases: [string, () => Promise<Fixture>, string][] = [
  ['docker <= 24 legacy', () => dockerLegacy(), 'docker-legacy'],
  ['docker 25+ oci', () => ociLayout({ docker: true }), 'docker-oci'],
  ['containerd export', () => ociLayout(), 'containerd'],
  ['containerd gzip + multi-platform index', () => ociLayout({ gzip: true, multiPlatform: true }), 'containerd'],
  ['oci layout only', () => ociLayout({ noManifestJson: true }), 'oci'],
  ['podman docker-archive', () => podmanArchive(), 'docker-archive'],
  ['crane tarball', () => craneTarball(), 'crane'],
];

describe('every layout', () => {
  for (const [label, make, layout] of cases) {
    it(`${label}: edits the config, keeps layers, keeps every digest consistent`, async () => {
      const f = await make();
      const { report, out } = await run(f, layout + label.length);
      assert.equal(report.layout, layout);
      assert.deepEqual(checkArchive(out), []);
      const cfg = outConfig(out);
      assert.equal(cfg.config.Volumes, undefined);
      assert.equal(cfg.config.ExposedPorts, undefined);
      assert.deepEqual(cfg.config.Entrypoint, ['/bin/echo', 'edited']);
      assert.deepEqual(cfg.container_config.Entrypoint, ['/bin/echo', 'edited']);
      assert.deepEqual(cfg.config.Cmd, ['--serve']);
      assert.equal(cfg.config.Labels['org.example.vendor'], 'Example Ünïcode');
      // layers byte-identical
      const outBlobs = new Set([...out.values()].map((e) => sha(e.data)));
      for (const l of f.layers) assert.ok(outBlobs.has(sha(l)), 'layer passed through unchanged');
      // the old config is gone, the new one is named by its hash
      assert.ok(![...out.values()].some((e) => e.data.equals(f.config)), 'old config dropped');
      assert.equal(report.images.length, 1);
      assert.equal(report.images[0]!.changed, true);
      assert.notEqual(report.images[0]!.newId.toString(), report.images[0]!.oldId.toString());
    });
  }

  it('multi-platform index: absent platforms stay, the stale attestation is dropped with a warning', async () => {
    const f = await ociLayout({ gzip: true, multiPlatform: true });
    const { report, out } = await run(f, 'mp');
    const idx = JSON.parse(out.get('index.json')!.data.toString());
    const list = JSON.parse(out.get(`blobs/sha256/${idx.manifests[0].digest.slice(7)}`)!.data.toString());
    assert.equal(list.manifests.length, 2);
    assert.equal(list.manifests[1].platform.architecture, 'arm64');
    assert.equal(list.manifests[1].digest, `sha256:${sha('absent arm64 manifest')}`);
    assert.ok(report.warnings.some((w) => /attestation/.test(w)));
    assert.ok(report.warnings.some((w) => /arm64/.test(w)));
    assert.equal(idx.manifests[0].annotations['io.containerd.image.name'], 'docker.io/example/app:1.0');
  });

  it('same input and edits give byte-identical output', async () => {
    const f = await ociLayout({ docker: true });
    const a = await run(f, 'det-a');
    const b = await run(f, 'det-b');
    assert.ok((await readFile(a.output)).equals(await readFile(b.output)));
  });

  it('a file, a stream and a gzip stream of the same archive give byte-identical output', async () => {
    const f = await ociLayout({ docker: true });
    // (a file into a file is patched by default, issue 26: the streamed file output is the one to compare)
    const a = await run(f, 'path-a', 'stream');
    const { Readable } = await import('node:stream');
    const viaStream = join(dir, 'via-stream.tar');
    await editArchive({ input: Readable.from([f.archive]), output: viaStream, edits: EDITS() });
    const viaGzip = join(dir, 'via-gzip.tar');
    await editArchive({ input: Readable.from([await promisify(gzip)(f.archive)]), output: viaGzip, edits: EDITS() });
    const first = await readFile(a.output);
    assert.ok(first.equals(await readFile(viaStream)));
    assert.ok(first.equals(await readFile(viaGzip)));
  });

  it('passed-through entries keep their exact header bytes', async () => {
    const f = await dockerLegacy();
    const { output } = await run(f, 'raw-headers');
    const outBytes = await readFile(output);
    const headerOf = (archive: Buffer, name: string) => {
      const at = archive.indexOf(Buffer.from(`${name}\0`));
      assert.ok(at >= 0 && at % 512 === 0, `header of ${name}`);
      return archive.subarray(at, at + 512);
    };
    const layers = [...(await readTar(f.archive)).keys()].filter((n) => n.endsWith('layer.tar'));
    assert.equal(layers.length, 2);
    for (const name of layers) assert.ok(headerOf(outBytes, name).equals(headerOf(f.archive, name)), name);
  });

  it('warns about a port range Docker 29 refuses, and stops warning once --rm-port removed it', async () => {
    const f = await dockerLegacy({ config: { Cmd: ['x'], ExposedPorts: { '8000-8010/tcp': {}, '80/tcp': {} } } });
    const input = join(dir, 'range.tar');
    await writeFile(input, f.archive);
    const kept = await editArchive({ input, output: join(dir, 'range-a.tar'), edits: [removeVolumes('all')] });
    assert.ok(
      kept.warnings.some((w) => /"8000-8010\/tcp" is a port range/.test(w)),
      kept.warnings.join('\n'),
    );
    const fixed = await editArchive({ input, output: join(dir, 'range-b.tar'), edits: [parseEdit('rm-port', '8000-8010*')] });
    assert.deepEqual(
      fixed.warnings.filter((w) => /port range/.test(w)),
      [],
    );
  });

  it('an edit that changes nothing writes an unchanged copy and says so', async () => {
    const f = await dockerLegacy();
    const input = join(dir, 'noop.tar');
    const output = join(dir, 'noop.out.tar');
    await writeFile(input, f.archive);
    const report = await editArchive({ input, output, edits: [removeVolumes(['/not-there'])] });
    assert.equal(report.images[0]!.changed, false);
    assert.deepEqual(report.images[0]!.warnings, ['no volume matches /not-there']);
    const out = await readTar(await readFile(output));
    assert.ok([...out.values()].some((e) => e.data.equals(f.config)));
  });

  it('reads gzip-wrapped input', async () => {
    const f = await dockerLegacy();
    const input = join(dir, 'wrapped.tar.gz');
    const output = join(dir, 'wrapped.out.tar');
    await writeFile(input, await promisify(gzip)(f.archive));
    const report = await editArchive({ input, output, edits: EDITS() });
    assert.equal(report.compression, 'gzip');
    assert.deepEqual(checkArchive(await readTar(await readFile(output))), []);
  });

  it('a failed edit leaves no output and the input untouched', async () => {
    const f = await dockerLegacy();
    const input = join(dir, 'fail.tar');
    const output = join(dir, 'fail.out.tar');
    await writeFile(input, f.archive);
    const before = await stat(input);
    await assert.rejects(editArchive({ input, output, edits: EDITS(), images: ['nope:1'] }), EditError);
    await assert.rejects(stat(output), { code: 'ENOENT' });
    const afterSt = await stat(input);
    assert.equal(afterSt.mtimeMs, before.mtimeMs);
    assert.ok((await readFile(input)).equals(f.archive));
    const { readdir } = await import('node:fs/promises');
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.includes('copyedit-tmp')),
      [],
    );
  });

  it('-o naming the input replaces it only once the new archive is complete', async () => {
    const f = await dockerLegacy();
    const path = join(dir, 'inplace.tar');
    await writeFile(path, f.archive);
    await editArchive({ input: path, output: path, edits: EDITS() });
    const out = await readTar(await readFile(path));
    assert.deepEqual(checkArchive(out), []);
    assert.deepEqual(outConfig(out).config.Entrypoint, ['/bin/echo', 'edited']);
  });
});
