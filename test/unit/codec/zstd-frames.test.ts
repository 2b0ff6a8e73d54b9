/**
 * zstd as the engines read it (issue 23, class 4), on a generated corpus of real frames made by
 * the `zstd` and `pzstd` programs: 0..3 skippable frames (magic 0x184D2A50..5F, sizes 0..4096) in
 * front of a layer or of a whole archive are zstd, as moby's and containerd's DetectCompression
 * say, so recompression and `verify` work; a frame declaring a window above Go's decoder limit
 * (klauspost/compress MaxWindowSize, 512 MiB) is refused with exit 3 naming the layer, at any
 * frame of the stream, and one at the limit is read.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArchiveError, editArchive, removeVolumes, verifyArchive } from '../../../src/index.js';
import { ZSTD_MAX_WINDOW, ZstdFrameCheck, detectCompression } from '../../../src/codec/index.js';
import { dockerLegacy, imageConfig, layer, sha } from '../fixtures.js';
import { type Desc, MT, OciBuilder, named } from '../oci-builder.js';
import { rng } from '../rng.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-zstd-frames-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const zstd = (args: string[], input: Buffer): Buffer => execFileSync('zstd', args, { input, maxBuffer: 64 << 20 });

function skippable(magicLow: number, size: number, fill: number): Buffer {
  const b = Buffer.alloc(8 + size, fill);
  b.writeUInt32LE(0x184d2a50 + magicLow, 0);
  b.writeUInt32LE(size, 4);
  return b;
}

/** The frame's Window_Descriptor set to `wd` (a frame from a pipe has one: not single-segment). */
function withWindow(frame: Buffer, wd: number): Buffer {
  const f = Buffer.from(frame);
  assert.equal(f.readUInt32LE(0), 0xfd2fb528);
  assert.equal(f[4]! & 0x20, 0, 'not a single-segment frame');
  f[5] = wd;
  return f;
}

const windowOf = (wd: number) => {
  const base = 2 ** (10 + (wd >> 3));
  return base + (base / 8) * (wd & 7);
};

interface Case {
  readonly name: string;
  readonly blob: Buffer;
  /** undefined: read as zstd; else the refusal's text. */
  readonly refused?: RegExp;
}

async function cases(): Promise<{ tar: Buffer; list: Case[] }> {
  const tar = await layer('app/data.txt', 'zstd frames as the engines read them\n'.repeat(200));
  // from a pipe: no content size, a Window_Descriptor; from pzstd: a skippable frame first
  const piped = zstd(['-q', '-c', '-3'], tar);
  const pz = execFileSync('pzstd', ['-q', '-c', '-p', '2'], { input: tar });
  const single = zstd(['-q', '-c', '--content-size', '-19'], tar);
  const list: Case[] = [];
  const r = rng(23);
  for (const [base, frame] of [
    ['pipe', piped],
    ['pzstd', pz],
    ['sized', single],
  ] as const) {
    for (let n = 0; n <= 3; n++) {
      for (const size of [0, 5, 4096]) {
        // every magic, 0x184D2A5B too: it begins with '[', so a small layer starting so is held in
        // memory as JSON-looking; the conversion's second pass must still write it (it once did not)
        const low = () => Math.floor(r() * 16);
        const pre = Array.from({ length: n }, (_, i) => skippable(low(), i === 0 ? size : Math.floor(r() * 64), i + 1));
        list.push({ name: `${base}, ${n} skippable frame(s) of ${size}+ bytes`, blob: Buffer.concat([...pre, frame]) });
        if (n === 0) break; // the size does not matter without a frame
      }
    }
  }
  // magic 0x184D2A5B ('[') first, whatever the draw: the JSON-looking small layer
  for (const size of [0, 5]) list.push({ name: `pipe, a '[' skippable frame of ${size} bytes first`, blob: Buffer.concat([skippable(11, size, 1), piped]) });
  // windows around the limit, in the first frame and in a later one (behind a skippable frame)
  for (const wd of [0x90, 0x97, 0x98, 0x99, 0x9f, 0xa0, 0xa8, 0xf8]) {
    const big = windowOf(wd) > ZSTD_MAX_WINDOW;
    const refused = big ? /zstd frame \d declares a [\d.]+ [MG]iB window, more than the 512 MiB that Docker's and containerd's zstd decoder accept/ : undefined;
    list.push({ name: `window ${windowOf(wd)} (0x${wd.toString(16)}) first`, blob: withWindow(piped, wd), ...(refused ? { refused } : {}) });
    const [first, second] = [zstd(['-q', '-c'], tar.subarray(0, 1024)), zstd(['-q', '-c'], tar.subarray(1024))];
    list.push({ name: `window 0x${wd.toString(16)} in a later frame`, blob: Buffer.concat([first, skippable(3, 7, 0), withWindow(second, wd)]), ...(refused ? { refused } : {}) });
  }
  return { tar, list };
}

async function archiveWith(blob: Buffer, tar: Buffer): Promise<Buffer> {
  const b = new OciBuilder();
  const l: Desc = b.blob(blob, 'application/vnd.oci.image.layer.v1.tar+zstd');
  const cfg = b.blob(imageConfig([sha(tar)]), MT.config);
  const m = b.blob({ schemaVersion: 2, mediaType: MT.manifest, config: cfg, layers: [l] }, MT.manifest);
  return b.archive([named(m, 'docker.io/library/zs:1')]);
}

describe('zstd frames as the engines read them (generated corpus)', () => {
  it('detects the way moby and containerd detect (skippable magic with 8 bytes seen)', () => {
    for (let low = 0; low < 16; low++) {
      const s = skippable(low, 0, 0);
      assert.equal(detectCompression(s), 'zstd', `0x184d2a5${low.toString(16)}`);
      assert.equal(detectCompression(s.subarray(0, 7)), 'none', 'fewer than 8 bytes: not zstd (as moby)');
    }
    assert.equal(detectCompression(Buffer.from([0x60, 0x2a, 0x4d, 0x18, 0, 0, 0, 0])), 'none');
  });

  it('the frame walker finds the window of every frame, whatever the chunking', async () => {
    const { list } = await cases();
    const r = rng(4);
    for (const c of list) {
      for (const chunk of [1, 3, 1 + Math.floor(r() * 50), c.blob.length]) {
        const check = new ZstdFrameCheck();
        let problem: string | undefined;
        for (let i = 0; i < c.blob.length && !problem; i += chunk) problem = check.update(c.blob.subarray(i, i + chunk));
        if (c.refused) assert.match(problem ?? '', c.refused, `${c.name}, chunks of ${chunk}`);
        else assert.equal(problem, undefined, `${c.name}, chunks of ${chunk}`);
      }
    }
  });

  it('recompresses to gzip (DiffID checked) and verifies, or refuses with exit 3 naming the layer', async () => {
    const { tar, list } = await cases();
    let i = 0;
    for (const c of list) {
      const input = join(dir, `in-${i}.tar`);
      await writeFile(input, await archiveWith(c.blob, tar));
      const output = join(dir, `out-${i++}.tar`);
      const run = editArchive({ input, output, edits: [], format: 'oci', layerCompression: 'gzip' });
      if (c.refused) {
        await assert.rejects(run, (e: unknown) => {
          assert.ok(e instanceof ArchiveError, `${c.name}: ${e}`);
          assert.equal(e.exitCode, 3);
          assert.match(e.message, new RegExp(`blobs/sha256/${sha(c.blob)}: `), c.name);
          assert.match(e.message, c.refused!, c.name);
          return true;
        });
        continue;
      }
      const report = await run.catch((e: unknown) => assert.fail(`${c.name}: ${e}`));
      assert.equal(report.conversion?.layersRecompressed, 1, c.name);
      const v = await verifyArchive(input);
      assert.deepEqual(v.issues, [], `${c.name}: verify`);
      const w = await verifyArchive(output);
      assert.deepEqual(w.issues, [], `${c.name}: verify the output`);
    }
  });

  it('a whole archive behind skippable frames (pzstd of docker save) is read as zstd', async () => {
    const f = await dockerLegacy();
    for (const n of [0, 1, 2, 3]) {
      const pre = Array.from({ length: n }, (_, i) => skippable(i * 5, i * 9, 7));
      const input = join(dir, `whole-${n}.tar.zst`);
      await writeFile(input, Buffer.concat([...pre, execFileSync('pzstd', ['-q', '-c'], { input: f.archive })]));
      const r = await editArchive({ input, output: join(dir, `whole-${n}.tar`), edits: [removeVolumes('all')] });
      assert.equal(r.compression, 'zstd', `${n} skippable frame(s)`);
    }
  });
});
