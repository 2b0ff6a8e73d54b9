/**
 * Issue 22: an image edited where it lives. Against an in-process registry (fake-registry.ts):
 * in place, across repositories (mounted), across registries (streamed), a two-platform index
 * with an attestation, referrers (API and `sha256-<hex>` fallback), only metadata moved, the tag
 * last, dry runs, and an edit already done skipped.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { editArchive, removeVolumes, setLabel } from '../../../src/index.js';
import { FakeRegistry } from './fake-registry.js';
import { seedImage, seedIndex, seedReferrer } from './images.js';

const plain = { registry: { plainHttp: true, backoffMs: 1 } };

function config(reg: FakeRegistry, repo: string, ref: string): { config: { Volumes?: unknown; Labels?: Record<string, string> } } {
  const m = JSON.parse(reg.resolve(repo, ref)!.bytes.toString()) as { config: { digest: string } };
  return JSON.parse(reg.blobs.get(repo)!.get(m.config.digest)!.toString());
}

describe('registry to registry', () => {
  let reg: FakeRegistry;
  let other: FakeRegistry;
  before(async () => {
    reg = await new FakeRegistry().start();
    other = await new FakeRegistry().start();
  });
  after(async () => {
    await reg.stop();
    await other.stop();
  });

  it('edits in place, sending only the new config and manifest and reading no layer', async () => {
    const s = seedImage(reg, 'app', '1', { layers: 3, size: 200_000 });
    reg.log.length = 0;
    const r = await editArchive({ input: `docker://${reg.host}/app:1`, output: `docker://${reg.host}/app:1`, edits: [removeVolumes('all')], ...plain });
    const now = reg.resolve('app', '1')!;
    assert.notEqual(now.digest, s.root);
    assert.equal(config(reg, 'app', '1').config.Volumes, undefined);
    assert.ok(!reg.log.some((l) => l.method === 'GET' && s.layers.some((d) => l.url.endsWith(d))), 'no layer was downloaded');
    const t = reg.traffic();
    assert.ok(t.in < 4096 && t.out < 4096, `moved ${t.in} in, ${t.out} out`);
    assert.equal(r.registry?.digest.toString(), now.digest);
    assert.equal(r.registry?.bytesSent, t.in);
    assert.deepEqual(r.registry?.steps.filter((x) => x.action === 'upload').length, 1);
    // the tagged manifest is the last write
    const writes = reg.log.filter((l) => l.method === 'PUT');
    assert.match(writes.at(-1)!.url, /\/manifests\/1$/);
  });

  it('mounts layers into another repository of the same registry', async () => {
    const s = seedImage(reg, 'src/app', '1');
    reg.log.length = 0;
    const r = await editArchive({ input: `docker://${reg.host}/src/app:1`, output: `docker://${reg.host}/dst/app:2`, edits: [setLabel('b', '2')], ...plain });
    for (const d of s.layers) assert.ok(reg.blobs.get('dst/app')?.has(d));
    assert.equal(r.registry!.steps.filter((x) => x.action === 'mount').length, 2);
    assert.ok(reg.log.some((l) => l.url.includes('mount=') && l.status === 201));
    assert.equal(config(reg, 'dst/app', '2').config.Labels?.b, '2');
    assert.equal(reg.resolve('src/app', '1')!.digest, s.root, 'the source is untouched');
    assert.ok(reg.traffic().in < 4096);
  });

  it('streams layers across registries, each once', async () => {
    const s = seedImage(reg, 'x/app', '1', { size: 100_000 });
    const r = await editArchive({ input: `docker://${reg.host}/x/app:1`, output: `docker://${other.host}/y/app:1`, edits: [removeVolumes('all')], ...plain });
    for (const d of s.layers) assert.ok(other.blobs.get('y/app')?.has(d));
    assert.equal(r.registry!.steps.filter((x) => x.action === 'copy').length, 2);
    assert.equal(config(other, 'y/app', '1').config.Volumes, undefined);
  });

  it('edits a two-platform index as one image; the attestation about the old bytes is dropped', async () => {
    const s = seedIndex(reg, 'multi', '1');
    const r = await editArchive({ input: `docker://${reg.host}/multi:1`, output: `docker://${reg.host}/multi:1`, edits: [removeVolumes('all')], ...plain });
    const idx = JSON.parse(reg.resolve('multi', '1')!.bytes.toString()) as { manifests: { digest: string; platform?: { architecture: string } }[] };
    assert.notEqual(reg.resolve('multi', '1')!.digest, s.root);
    const arches = idx.manifests.map((m) => m.platform?.architecture);
    assert.deepEqual(arches, ['amd64', 'arm64']);
    for (const m of idx.manifests) assert.equal(config(reg, 'multi', m.digest).config.Volumes, undefined);
    assert.ok(r.warnings.some((w) => /attestation/i.test(w)) || r.images[0]!.warnings.some((w) => /attestation/i.test(w)));
  });

  for (const api of [false, true]) {
    it(`re-points a referrer to the edited manifest (${api ? 'referrers API' : 'sha256-<hex> fallback tag'})`, async () => {
      const r2 = await new FakeRegistry({ referrersApi: api }).start();
      try {
        const s = seedImage(r2, 'app', '1');
        seedReferrer(r2, 'app', s.root, !api);
        await editArchive({ input: `docker://${r2.host}/app:1`, output: `docker://${r2.host}/app:1`, edits: [removeVolumes('all')], ...plain });
        const now = r2.resolve('app', '1')!.digest;
        const found = [...r2.manifests.get('app')!.values()].filter((m) => JSON.parse(m.bytes.toString()).subject?.digest === now);
        assert.equal(found.length, 1, 'one referrer names the new manifest');
        if (!api) {
          const idx = JSON.parse(r2.resolve('app', `sha256-${now.slice(7)}`)!.bytes.toString()) as { manifests: { artifactType?: string }[] };
          assert.equal(idx.manifests.length, 1);
          assert.equal(idx.manifests[0]!.artifactType, 'application/spdx+json');
        }
      } finally {
        await r2.stop();
      }
    });
  }

  it('--dry-run pushes nothing and lists what it would', async () => {
    const s = seedImage(reg, 'dry', '1');
    reg.log.length = 0;
    const r = await editArchive({ input: `docker://${reg.host}/dry:1`, output: `docker://${reg.host}/dry:2`, edits: [removeVolumes('all')], dryRun: true, ...plain });
    assert.ok(!reg.log.some((l) => l.method === 'PUT' || l.method === 'POST'));
    assert.equal(reg.resolve('dry', '2'), undefined);
    assert.equal(reg.resolve('dry', '1')!.digest, s.root);
    assert.ok(r.registry!.steps.some((x) => x.action === 'tag'));
  });

  it('skips an image the output already holds under the same digest', async () => {
    seedImage(reg, 'again', '1');
    const o = { input: `docker://${reg.host}/again:1`, output: `docker://${reg.host}/again:2`, edits: [removeVolumes('all')], ...plain };
    const first = await editArchive(o);
    reg.log.length = 0;
    const second = await editArchive(o);
    assert.equal(second.registry!.skipped, true);
    assert.equal(first.registry!.digest.toString(), second.registry!.digest.toString());
    assert.ok(!reg.log.some((l) => l.method === 'PUT' || l.method === 'POST'));
  });
});
