/**
 * Issue 22's mixed directions: a registry image edited into an archive (a pull: layers streamed
 * and digest-checked, the archive readable by the archive reader) and an archive edited into a
 * registry (a push: uncompressed layers gzip-compressed as docker push does, unless
 * --layer-compression none; a second push sends no layer again).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegistryError, editArchive, readArchive, removeVolumes, setLabel } from '../../../src/index.js';
import { FakeRegistry } from './fake-registry.js';
import { seedImage } from './images.js';

const SAMPLE = new URL('../../../../samples/docker28-classic.tar', import.meta.url).pathname;
const plain = { registry: { plainHttp: true, backoffMs: 1 } };

describe('between a registry and an archive', () => {
  let reg: FakeRegistry;
  let dir: string;
  before(async () => {
    reg = await new FakeRegistry().start();
    dir = await mkdtemp(join(tmpdir(), 'ce-reg-'));
  });
  after(async () => {
    await reg.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('pulls: docker:// -> an OCI archive with the edit and every layer', async () => {
    const s = seedImage(reg, 'pull/app', '1', { size: 50_000 });
    const out = join(dir, 'pulled.tar');
    const r = await editArchive({ input: `docker://${reg.host}/pull/app:1`, output: out, edits: [removeVolumes('all')], ...plain });
    assert.equal(r.registry?.source, `${reg.host}/pull/app:1`);
    assert.ok(r.registry!.bytesReceived >= s.layerBytes);
    const a = await readArchive(out);
    assert.equal(a.model.images.length, 1);
    assert.equal((a.model.images[0]!.config as { config?: { Volumes?: unknown } }).config?.Volumes, undefined);
    for (const d of s.layers) assert.ok(a.model.blobs.has(d), `layer ${d} in the archive`);
  });

  it('a pulled layer that does not match its digest fails the pull, no output left', async () => {
    const s = seedImage(reg, 'pull/bad', '1');
    const blobs = reg.blobs.get('pull/bad')!;
    blobs.set(s.layers[0]!, Buffer.from('not the layer'));
    const out = join(dir, 'bad.tar');
    await assert.rejects(
      editArchive({ input: `docker://${reg.host}/pull/bad:1`, output: out, edits: [removeVolumes('all')], ...plain }),
      (e: unknown) => e instanceof Error && /does not match|bytes/.test(e.message),
    );
    assert.equal(existsSync(out), false, 'no output left');
  });

  it('pushes: an archive -> docker://, uncompressed layers gzip-compressed; a second push sends no layer', async () => {
    const r = await editArchive({ input: SAMPLE, output: `docker://${reg.host}/push/app:1`, edits: [setLabel('pushed', 'yes')], ...plain });
    const m = reg.resolve('push/app', '1')!;
    const doc = JSON.parse(m.bytes.toString()) as { config: { digest: string }; layers: { mediaType: string }[] };
    assert.ok(doc.layers.length > 0);
    for (const l of doc.layers) assert.match(l.mediaType, /gzip/);
    const cfg = JSON.parse(reg.blobs.get('push/app')!.get(doc.config.digest)!.toString()) as { config: { Labels: Record<string, string> } };
    assert.equal(cfg.config.Labels.pushed, 'yes');
    assert.equal(r.registry!.digest.toString(), m.digest);
    reg.log.length = 0;
    const again = await editArchive({ input: SAMPLE, output: `docker://${reg.host}/push/app:2`, edits: [setLabel('pushed', 'yes')], ...plain });
    assert.equal(again.registry!.digest.toString(), m.digest, 'the same bytes: reproducible');
    assert.ok(!again.registry!.steps.some((x) => x.action === 'upload' || x.action === 'copy'), JSON.stringify(again.registry!.steps.map((x) => x.action)));
  });

  it('pushes an image with two tags (two index.json entries, one digest) as one image', async () => {
    const legacy = new URL('../../../../samples/docker20-legacy.tar', import.meta.url).pathname;
    const r = await editArchive({ input: legacy, output: `docker://${reg.host}/push/legacy:1`, edits: [setLabel('a', 'b')], ...plain });
    assert.equal(reg.resolve('push/legacy', '1')!.digest, r.registry!.digest.toString());
  });

  it('pushes with --layer-compression none: layers as they are in the archive', async () => {
    await editArchive({ input: SAMPLE, output: `docker://${reg.host}/push/raw:1`, edits: [setLabel('a', 'b')], layerCompression: 'none', ...plain });
    const doc = JSON.parse(reg.resolve('push/raw', '1')!.bytes.toString()) as { layers: { mediaType: string }[] };
    for (const l of doc.layers) assert.doesNotMatch(l.mediaType, /gzip/);
  });

  it('a push refused by the registry is a RegistryError and leaves no tag', async () => {
    reg.fault = (method) => (method === 'PUT' ? 500 : undefined);
    try {
      await assert.rejects(editArchive({ input: SAMPLE, output: `docker://${reg.host}/push/fail:1`, edits: [setLabel('a', 'b')], ...plain }), RegistryError);
    } finally {
      reg.fault = () => undefined;
    }
    assert.equal(reg.resolve('push/fail', '1'), undefined);
  });
});
