/**
 * The patched output (`copy: 'auto'`, src/run/patch-pass.ts) reads as the streamed one does: for
 * every uncompressed sample and every edit set, Go's archive/tar and Python's tarfile list the
 * same entries (the same names, types and contents) in both outputs, but for the PAX global
 * headers that cover the replaced metadata (Go lists them as type `g`, which loaders ignore;
 * Python does not list them); copyedit reads the same images and digests; `verify` passes; and no
 * byte of a removed value is left anywhere in the file. A generated corpus of filler lengths
 * around the 512-byte and 1 MiB boundaries is read by both.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type EditArchiveOptions, editArchive, readArchive, removeHistoryArgs, removePorts, removeVolumes, setEntrypoint, setLabel, verifyArchive } from '../../src/index.js';
import { fillerEntry, MAX_PATCH_REGION } from '../../src/io/patch.js';

const root = new URL('../../../', import.meta.url).pathname;
const TOOLS = join(root, 'test', 'tools');
let dir: string;
let goList: string | undefined;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-patch-'));
  const out = join(dir, 'tarlist');
  const b = spawnSync('go', ['build', '-o', out, join(TOOLS, 'tarlist.go')], { encoding: 'utf8', env: { ...process.env, GO111MODULE: 'off', GOCACHE: join(dir, 'gocache') } });
  if (b.status === 0) goList = out;
});
after(() => rm(dir, { recursive: true, force: true }));

interface Listed {
  ok: boolean;
  entries?: { name: string; type: string; size: number; sha256: string | null; link: string }[];
  error?: string;
}

function list(tool: 'go' | 'python', file: string): Listed {
  const r = tool === 'go' ? spawnSync(goList!, [file], { encoding: 'utf8' }) : spawnSync('python3', [join(TOOLS, 'tarlist.py'), file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim()) as Listed;
}

/** The entries a loader extracts, as a sorted list (global headers left out). */
function extracted(l: Listed): string[] {
  assert.ok(l.ok, l.error);
  return l
    .entries!.filter((e) => e.type !== 'g')
    .map((e) => JSON.stringify([e.name, e.type, e.size, e.sha256, e.link]))
    .sort();
}

const SECRET = 'patch-test-secret-value';
const SETS: Record<string, Omit<EditArchiveOptions, 'input' | 'output'>> = {
  edit: { edits: [removeVolumes('all'), removePorts('all'), setEntrypoint(['/bin/echo', 'patched'])] },
  'label-annotate': { edits: [setLabel('patched', 'yes')], sourceDateEpoch: 1700000000, annotations: { set: { 'org.example.patched': 'yes' } } },
};

describe('a patched output reads as the streamed one', () => {
  it('every uncompressed sample, every edit set: Go, Python and copyedit agree', async () => {
    const tars = (d: string) => readdir(join(root, 'samples', d)).then((ns) => ns.filter((n) => n.endsWith('.tar')).map((n) => (d ? `${d}/${n}` : n)));
    const names = [...(await tars('')), ...(await tars('oci11'))].sort();
    let patchedCount = 0;
    for (const name of names) {
      for (const [set, o] of Object.entries(SETS)) {
        const input = join(root, 'samples', name);
        const streamed = join(dir, 'streamed.tar');
        const patched = join(dir, 'patched.tar');
        const a = await editArchive({ input, output: streamed, fsync: false, ...o, copy: 'stream' });
        const b = await editArchive({ input, output: patched, fsync: false, ...o, copy: 'auto' });
        const what = `${name} ${set}`;
        assert.deepEqual(
          b.images.map((i) => [i.oldId.toString(), i.newId.toString(), i.newDigest.toString(), i.changed]),
          a.images.map((i) => [i.oldId.toString(), i.newId.toString(), i.newDigest.toString(), i.changed]),
          what,
        );
        assert.deepEqual(extracted(list('python', patched)), extracted(list('python', streamed)), `${what}: Python's tarfile`);
        if (goList) assert.deepEqual(extracted(list('go', patched)), extracted(list('go', streamed)), `${what}: Go's archive/tar`);
        const [ma, mb] = [(await readArchive(streamed)).model, (await readArchive(patched)).model];
        assert.deepEqual(
          mb.targets.map((t) => [t.names, t.platforms.map((p) => p.image.id.toString())]),
          ma.targets.map((t) => [t.names, t.platforms.map((p) => p.image.id.toString())]),
          what,
        );
        const v = await verifyArchive(patched);
        assert.ok(v.ok, `${what}: ${JSON.stringify(v.issues)}`);
        if ((await readFile(patched)).length !== (await readFile(streamed)).length) patchedCount++;
      }
    }
    assert.ok(patchedCount > 0, 'no output was patched');
  });

  it('the value a --history-rm-arg removes is nowhere in the patched file', async () => {
    const { makeTar, imageConfig, layer, sha } = await import('../unit/fixtures.js');
    const l = await layer('f.txt', 'x\n');
    const cfg = imageConfig([sha(l)], { history: [{ created_by: `|1 TOKEN=${SECRET} /bin/sh -c true` }] });
    const cfgBytes = Buffer.from(JSON.stringify(cfg));
    const id = sha(cfgBytes);
    const input = join(dir, 'secret.tar');
    await writeFile(
      input,
      await makeTar([
        { name: `${id}.json`, data: cfgBytes },
        { name: 'abc/layer.tar', data: l },
        { name: 'manifest.json', data: JSON.stringify([{ Config: `${id}.json`, RepoTags: ['secret:1'], Layers: ['abc/layer.tar'] }]) },
      ]),
    );
    const output = join(dir, 'secret.out.tar');
    await editArchive({ input, output, edits: [removeHistoryArgs(['TOKEN'])], fsync: false, copy: 'auto' });
    const bytes = await readFile(output);
    assert.equal(bytes.indexOf(SECRET), -1, 'the removed value is still in the file');
    assert.ok(bytes.length !== (await readFile(input)).length || bytes.indexOf('comment=') >= 0, 'the output was not patched');
    assert.ok((await verifyArchive(output)).ok);
  });

  it('filler entries of every length around the block and 1 MiB boundaries are read as global headers, never extracted', async () => {
    const { makeTar } = await import('../unit/fixtures.js');
    const lengths = [512, 1024, 1536, 4096, 65536, MAX_PATCH_REGION - 512, MAX_PATCH_REGION, MAX_PATCH_REGION + 512];
    for (const n of lengths) {
      const tail = await makeTar([{ name: 'after.txt', data: 'after\n' }]);
      const file = join(dir, `filler-${n}.tar`);
      const ref = join(dir, 'filler-ref.tar');
      await writeFile(file, Buffer.concat([fillerEntry(n), tail]));
      await writeFile(ref, tail);
      assert.deepEqual(extracted(list('python', file)), extracted(list('python', ref)), `${n}: Python`);
      // test/tools/tarlist.go skips what Go returns as a global header (TypeXGlobalHeader): an error or
      // any other type would show
      if (goList) assert.deepEqual(extracted(list('go', file)), extracted(list('go', ref)), `${n}: Go`);
    }
    assert.throws(() => fillerEntry(MAX_PATCH_REGION + 1024), RangeError);
  });
});
