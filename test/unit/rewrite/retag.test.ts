import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { editArchive, removeVolumes, setCreated, EditError } from '../../../src/index.js';
import { checkTag } from '../../../src/reference.js';
import { checkArchive } from '../check.js';
import { dockerLegacy, type Fixture, ociLayout, readTar } from '../fixtures.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-retag-'));
});
after(() => rm(dir, { recursive: true, force: true }));

let n = 0;
async function edit(f: Fixture, opts: Omit<Parameters<typeof editArchive>[0], 'input' | 'output'>) {
  const input = join(dir, `in${++n}.tar`);
  const output = join(dir, `out${n}.tar`);
  await writeFile(input, f.archive);
  const report = await editArchive({ input, output, ...opts });
  return { report, out: await readTar(await readFile(output)) };
}
const json = (out: Awaited<ReturnType<typeof readTar>>, name: string) => JSON.parse(out.get(name)!.data.toString());

describe('tags, history, annotations, dry run', () => {
  it('--tag replaces RepoTags, index.json names and repositories entries', async () => {
    const { out, report } = await edit(await ociLayout({ docker: true }), { edits: [removeVolumes('all')], tags: ['example/fixed:2', 'registry.example.com:5000/team/app'] });
    assert.deepEqual(checkArchive(out), []);
    assert.deepEqual(json(out, 'manifest.json')[0].RepoTags, ['example/fixed:2', 'registry.example.com:5000/team/app:latest']);
    const names = json(out, 'index.json').manifests.map((d: any) => [d.annotations['io.containerd.image.name'], d.annotations['org.opencontainers.image.ref.name']]);
    assert.deepEqual(names, [
      ['docker.io/example/fixed:2', '2'],
      ['registry.example.com:5000/team/app:latest', 'latest'],
    ]);
    assert.deepEqual(Object.keys(json(out, 'repositories')).sort(), ['example/fixed', 'registry.example.com:5000/team/app']);
    assert.deepEqual(report.images[0]!.newTags, ['example/fixed:2', 'registry.example.com:5000/team/app:latest']);
  });
  it('--keep-original keeps the old image, config and tags next to the new one', async () => {
    const f = await dockerLegacy();
    const { out } = await edit(f, { edits: [removeVolumes('all')], tags: ['example/fixed:2'], keepOriginal: true });
    assert.deepEqual(checkArchive(out), []);
    const items = json(out, 'manifest.json');
    assert.equal(items.length, 2);
    assert.deepEqual(
      items.map((i: any) => i.RepoTags),
      [['example/app:1.0'], ['example/fixed:2']],
    );
    assert.ok(
      [...out.values()].some((e) => e.data.equals(f.config)),
      'original config kept',
    );
    assert.deepEqual(Object.keys(json(out, 'repositories')), ['example/app', 'example/fixed']);
  });
  it('--keep-original in an OCI layout keeps the old manifest referenced from index.json', async () => {
    const f = await ociLayout({ docker: true });
    const { out } = await edit(f, { edits: [removeVolumes('all')], tags: ['example/fixed:2'], keepOriginal: true });
    assert.deepEqual(checkArchive(out), []);
    const idx = json(out, 'index.json').manifests;
    assert.equal(idx.length, 2);
    assert.ok(out.has(`blobs/sha256/${idx[0].digest.slice(7)}`) && out.has(`blobs/sha256/${idx[1].digest.slice(7)}`));
    assert.notEqual(idx[0].digest, idx[1].digest);
  });
  it('refuses bad tags, --keep-original without --tag, and --tag on several images', async () => {
    assert.deepEqual(checkTag('App:1'), { error: 'App:1: "App" must be lowercase letters and digits, separated by . _ __ or -' });
    assert.ok('error' in checkTag('x@sha256:abc'));
    assert.deepEqual(checkTag('busybox'), { tag: 'busybox:latest' });
    const f = await dockerLegacy();
    // the library refuses bad arguments with RangeError (the CLI turns them into usage errors, exit 2)
    await assert.rejects(edit(f, { edits: [removeVolumes('all')], tags: ['Bad:1'] }), RangeError);
    await assert.rejects(edit(f, { edits: [removeVolumes('all')], keepOriginal: true }), /keepOriginal needs tags/);
    void EditError;
  });
  it('appends one empty_layer history entry, deterministic, unless --no-history', async () => {
    const f = await dockerLegacy();
    const cfgOf = (out: Awaited<ReturnType<typeof readTar>>) => json(out, json(out, 'manifest.json')[0].Config);
    const a = cfgOf((await edit(f, { edits: [removeVolumes('all')] })).out);
    const b = cfgOf((await edit(f, { edits: [removeVolumes('all')] })).out);
    assert.deepEqual(a, b);
    assert.equal(a.history.length, 3);
    assert.deepEqual(a.history[2], { created: '2026-11-01T00:00:00Z', created_by: 'copyedit: remove all volumes', comment: 'image-copyedit', empty_layer: true });
    const c = cfgOf((await edit(f, { edits: [removeVolumes('all')], history: false })).out);
    assert.equal(c.history.length, 2);
    const d = cfgOf((await edit(f, { edits: [setCreated('2030-01-01T00:00:00Z')] })).out);
    assert.equal(d.history[2].created, '2030-01-01T00:00:00Z');
  });
  it('annotations go on the image manifest of OCI layouts; other layouts warn', async () => {
    const { out } = await edit(await ociLayout(), { edits: [], annotations: { set: { 'org.example.fixed': 'yes' } } });
    assert.deepEqual(checkArchive(out), []);
    const desc = json(out, 'index.json').manifests[0];
    assert.equal(json(out, `blobs/sha256/${desc.digest.slice(7)}`).annotations['org.example.fixed'], 'yes');
    const legacy = await edit(await dockerLegacy(), { edits: [], annotations: { set: { a: 'b' } } });
    assert.ok(legacy.report.warnings.some((w) => /no image manifest/.test(w)));
  });
  it('--dry-run writes nothing and reports field changes', async () => {
    const f = await dockerLegacy();
    const input = join(dir, 'dry.tar');
    await writeFile(input, f.archive);
    const output = join(dir, 'dry-out.tar');
    const r = await editArchive({ input, output, edits: [removeVolumes(['/data'])], dryRun: true });
    await assert.rejects(readFile(output), { code: 'ENOENT' });
    assert.deepEqual(
      r.images[0]!.configChanges.filter((c) => c.path.includes('Volumes')).map((c) => [c.path, c.before, c.after]),
      [
        ['config.Volumes./data', '{}', undefined],
        ['container_config.Volumes./data', '{}', undefined],
      ],
    );
  });
});
