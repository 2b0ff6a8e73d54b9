/**
 * Issue 25: `compressionLevel` (`--compression-level`) sets the level of the recompressed layers:
 * gzip 1-9 (default 3), zstd 1-19 (default 3). Generated: a docker-legacy archive whose layer
 * is 200 KB of text, recompressed at the default, at 1 and at 9: the default is level 3's bytes,
 * 9 is smaller than 1, each reads back to the same DiffIDs; and the refusals (exit 2).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { type EditArchiveOptions, UsageError, editArchive } from '../../../src/index.js';
import { runCli } from '../hostile-util.js';
import { imageConfig, layer, makeTar, sha } from '../fixtures.js';

let dir: string;
let input: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-level-'));
  input = join(dir, 'in.tar');
  const text = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${(i * 7919) % 1000}`).join('\n');
  const l = await layer('data.txt', text);
  const cfg = JSON.stringify(imageConfig([sha(l)]));
  const id = sha(cfg);
  await writeFile(
    input,
    await makeTar([
      { name: 'l1/layer.tar', data: l },
      { name: `${id}.json`, data: cfg },
      { name: 'manifest.json', data: JSON.stringify([{ Config: `${id}.json`, RepoTags: ['example/level:1'], Layers: ['l1/layer.tar'] }]) },
    ]),
  );
});
after(() => rm(dir, { recursive: true, force: true }));

async function convert(name: string, extra: Partial<EditArchiveOptions>): Promise<{ size: number; digest: string }> {
  const output = join(dir, name);
  const r = await editArchive({ input, output, edits: [], format: 'oci', layerCompression: 'gzip', fsync: false, ...extra });
  const l = r.conversion!.layers[0]!;
  assert.equal(String(l.diffId), String(l.oldDigest), 'the DiffID is kept');
  return { size: l.newSize ?? 0, digest: String(l.newDigest) };
}

describe('--compression-level', () => {
  it('gzip: the default is level 3; level 9 is smaller than level 1; all read back', async () => {
    const def = await convert('def.tar', {});
    const three = await convert('three.tar', { compressionLevel: 3 });
    const one = await convert('one.tar', { compressionLevel: 1 });
    const nine = await convert('nine.tar', { compressionLevel: 9 });
    assert.equal(def.digest, three.digest);
    assert.ok(nine.size < one.size, `level 9: ${nine.size} bytes, level 1: ${one.size}`);
    const blob = await readFile(join(dir, 'nine.tar'));
    assert.ok(blob.includes(Buffer.from([0x1f, 0x8b, 8])));
    assert.ok(gunzipSync(blob.subarray(blob.indexOf(Buffer.from([0x1f, 0x8b, 8])))).length > 100_000);
  });

  it('refused outside the range, or without --layer-compression gzip|zstd (exit 2)', async () => {
    for (const [opts, msg] of [
      [{ compressionLevel: 0 }, /gzip levels are 1 to 9 \(default 3\)/],
      [{ compressionLevel: 10 }, /gzip levels are 1 to 9/],
      [{ compressionLevel: 2.5 }, /gzip levels are 1 to 9/],
      [{ layerCompression: 'zstd', compressionLevel: 20 }, /zstd levels are 1 to 19 \(default 3\)/],
      [{ layerCompression: undefined, compressionLevel: 3 }, /give --layer-compression gzip or zstd too/],
      [{ layerCompression: 'none', compressionLevel: 3 }, /give --layer-compression gzip or zstd too/],
    ] as const) {
      await assert.rejects(convert('refused.tar', opts as Partial<EditArchiveOptions>), (e: unknown) => e instanceof UsageError && msg.test(e.message));
    }
    const r = await runCli(['edit', input, '-o', join(dir, 'cli.tar'), '--format', 'oci', '--layer-compression', 'gzip', '--compression-level', '11']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--compression-level 11: gzip levels are 1 to 9/);
  });
});
