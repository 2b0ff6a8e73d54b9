/**
 * Issue 23 class 9 / issue 20 through the CLI: an OCI index of 5,000 and of 10,000 one-layer
 * images (one shared layer, configs differing by a label; OciBuilder) is edited and converted to
 * the docker layout (both were refused at the old flat budget of 262,144 JSON values, "image
 * config is not valid JSON"); a config of a dense array is still refused, exit 3, with the
 * wording of a limit. The budget itself: test/unit/json/json-budget.test.ts; timings:
 * scripts/bench/many.mjs, docs/PERFORMANCE.md.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { imageConfig, layer, makeTar, sha } from '../unit/fixtures.js';
import { BIN } from '../unit/hostile-util.js';
import { manyImagesArchive } from '../unit/oci-builder.js';

const many = manyImagesArchive;

const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args, '--no-fsync', '-q'], { encoding: 'utf8', maxBuffer: 1 << 26 });

describe('archives of many images within the JSON value budget', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'copyedit-many-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const n of [5000, 10000]) {
    it(`an index of ${n} one-layer images is edited and converted to the docker layout`, async () => {
      const input = join(dir, `many-${n}.tar`);
      await writeFile(input, await many(n));
      const edit = run('edit', input, '-o', join(dir, 'edited.tar'), '--label', 'x=y');
      assert.equal(edit.status, 0, edit.stderr.slice(0, 600));
      const conv = run('edit', input, '-o', join(dir, 'docker.tar'), '--format', 'docker', '--verify');
      assert.equal(conv.status, 0, conv.stderr.slice(0, 600));
    });
  }

  it('a config of a dense array is still refused, as a limit and not as damage', async () => {
    const l = await layer('a.txt', 'a\n');
    const cfg = JSON.stringify(imageConfig([sha(l)], { x: '__X__' })).replace('"__X__"', `[${Array(2_000_000).fill('{}').join(',')}]`);
    const id = sha(cfg);
    const input = join(dir, 'dense.tar');
    await writeFile(
      input,
      await makeTar([
        { name: 'l1/layer.tar', data: l },
        { name: `${id}.json`, data: cfg },
        { name: 'manifest.json', data: JSON.stringify([{ Config: `${id}.json`, RepoTags: ['img/dense:1'], Layers: ['l1/layer.tar'] }]) },
      ]),
    );
    const r = run('edit', input, '-o', join(dir, 'out.tar'), '--rm-volume', 'all');
    assert.equal(r.status, 3, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `${id}\\.json: image config holds more JSON values than copyedit reads \\(262144 plus one per 24 bytes of metadata; reached after \\d+ bytes\\), a limit that bounds its memory: the archive is not damaged`,
      ),
    );
    assert.doesNotMatch(r.stderr, /not valid JSON|damaged: save/);
  });
});
