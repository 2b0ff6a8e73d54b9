/**
 * Issue 24, Node 22 and 24: what copyedit takes from the running Node where it has it. .ci/run runs
 * this (with the unit and slow suites) on Node 20, 22 and 24; each assertion says what is expected
 * of the Node it runs on.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as zlib from 'node:zlib';

const ROOT = new URL('../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/copyedit.js');
const HAS_ZSTD = typeof (zlib as unknown as { createZstdCompress?: unknown }).createZstdCompress === 'function';
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-node-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe(`Node ${process.version}`, () => {
  // the codec module (src/codec) uses node:zlib's zstd where the zstd program is missing: it must round-trip
  it(`node:zlib ${HAS_ZSTD ? 'has zstd, and it round-trips' : 'has no zstd (the zstd program is used)'}`, async () => {
    if (!HAS_ZSTD) return;
    const zz = zlib as unknown as { createZstdCompress: () => import('node:stream').Transform; createZstdDecompress: () => import('node:stream').Transform };
    const z = { compress: () => zz.createZstdCompress(), decompress: () => zz.createZstdDecompress() };
    const data = Buffer.alloc(100_000, 'copyedit ');
    const packed = await new Promise<Buffer>((resolve, reject) => {
      const parts: Buffer[] = [];
      const c = z.compress();
      c.on('data', (b: Buffer) => parts.push(b))
        .on('end', () => resolve(Buffer.concat(parts)))
        .on('error', reject);
      c.end(data);
    });
    assert.deepEqual(packed.subarray(0, 4), Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), 'a zstd frame');
    const back = await new Promise<Buffer>((resolve, reject) => {
      const parts: Buffer[] = [];
      const d = z.decompress();
      d.on('data', (b: Buffer) => parts.push(b))
        .on('end', () => resolve(Buffer.concat(parts)))
        .on('error', reject);
      d.end(packed);
    });
    assert.ok(back.equals(data));
  });
  it(`--zstd output and its verify ${HAS_ZSTD ? 'need no zstd program (node:zlib)' : 'use the zstd program'}`, () => {
    const out = join(dir, 'out.tar.zst');
    // without the zstd program on PATH: only Node's own zstd can make the output
    const env = { ...process.env, PATH: HAS_ZSTD ? '/nonexistent' : (process.env.PATH ?? '') };
    const r = spawnSync(process.execPath, [BIN, 'edit', join(ROOT, 'samples/docker20-legacy.tar'), '-o', out, '--label', 'a=b'], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const v = spawnSync(process.execPath, [BIN, 'verify', out, '-q'], { env, encoding: 'utf8' });
    assert.equal(v.status, 0, v.stderr);
  });
});
