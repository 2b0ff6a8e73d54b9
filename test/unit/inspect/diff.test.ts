import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { diffArchives, editArchive, removeVolumes } from '../../../src/index.js';

const SAMPLES = new URL('../../../../samples/', import.meta.url).pathname;
const BIN = new URL('../../../../bin/copyedit.js', import.meta.url).pathname;
const s = (f: string) => join(SAMPLES, f);
const ID = 'sha256:e78d9c8f3911879a28f1c28fdfcb4f07391a5b65da20664a2dbbe7e174d265c8';

let dir: string;
let edited: string;
let newId: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-diff-'));
  edited = join(dir, 'edited.tar');
  const r = await editArchive({ input: s('docker20-legacy.tar'), output: edited, edits: [removeVolumes(['/data'])] });
  newId = r.images[0]!.newId.toString();
});
after(() => rm(dir, { recursive: true, force: true }));

describe('diff', () => {
  it('finds nothing between an archive and itself', async () => {
    const d = await diffArchives(s('docker26-multi.tar'), s('docker26-multi.tar'));
    assert.equal(d.identical, true);
    assert.deepEqual(
      d.images.map((i) => i.status),
      ['same', 'same'],
    );
  });
  it('shows the config change, new ID and untouched layers of an edit', async () => {
    const d = await diffArchives(s('docker20-legacy.tar'), edited);
    assert.equal(d.identical, false);
    const img = d.images[0]!;
    assert.equal(img.status, 'changed');
    assert.equal(img.a!.id, ID);
    assert.equal(img.b!.id, newId);
    assert.notEqual(newId, ID);
    assert.deepEqual(img.tagsAdded, []);
    const paths = img.config.map((c) => c.path);
    assert.ok(paths.includes('config.Volumes./data'), paths.join(','));
    assert.equal(img.config.find((c) => c.path === 'config.Volumes./data')!.after, undefined);
    assert.deepEqual(
      img.layers.map((l) => l.status),
      ['same', 'same', 'same', 'same'],
    );
  });
  it('same image in two layouts: same ID, recompressed layers, missing tag', async () => {
    const d = await diffArchives(s('docker20-legacy.tar'), s('containerd-gzip-index.tar'));
    const img = d.images[0]!;
    assert.equal(img.a!.id, img.b!.id);
    assert.deepEqual(img.tagsRemoved, ['example/app:latest']);
    assert.deepEqual(img.config, []);
    assert.deepEqual(
      img.layers.map((l) => l.status),
      ['recompressed', 'recompressed', 'recompressed', 'recompressed'],
    );
    assert.equal(img.b!.manifestDigest, 'sha256:895759ac8de918c23cf5d8425a78af6c1b635cf1a41087643fdcd6dbaac10bcb');
  });
  it('an image only on one side', async () => {
    const d = await diffArchives(s('docker20-multi.tar'), s('docker20-legacy.tar'));
    assert.deepEqual(
      d.images.map((i) => [i.status, i.a?.tags ?? null]),
      [
        ['same', ['example/app:1.0', 'example/app:latest']],
        ['only-a', ['example/other:2']],
      ],
    );
  });
  it('CLI: human and --json', () => {
    const r = spawnSync(process.execPath, [BIN, 'diff', s('docker20-legacy.tar'), edited]);
    assert.equal(r.status, 0, r.stderr.toString());
    const out = r.stdout.toString();
    assert.match(out, /^ {2}- config\.Volumes\.\/data: \{\}$/m);
    assert.match(out, /^ {2}4 of 4 layers identical$/m);
    assert.match(out, /^1 of 1 images differ$/m);
    const j = spawnSync(process.execPath, [BIN, 'diff', '--json', s('docker20-legacy.tar'), edited]);
    assert.equal(JSON.parse(j.stdout.toString()).images[0].b.id, newId);
  });
});
