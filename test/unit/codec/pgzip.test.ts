/**
 * Issue 25: the parallel gzip of recompressed layers (src/codec/pgzip.ts, pigz's method). Its
 * output is ONE gzip member (one raw deflate stream between the header and the CRC/size trailer),
 * reads back to the input with zlib, and is exactly the sequential reference below (each 1 MiB
 * block deflated by `deflateBlock`, as the threads do, with the previous 32 KiB as dictionary,
 * sync-flushed, the last one finished; blocks that do not shrink stored):
 * the bytes depend on the input and the level only, never on the threads or their timing.
 * Go's compress/gzip reads it too: test/slow/pgzip-go.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { crc32, gunzipSync, inflateRawSync } from 'node:zlib';
import { deflateBlock } from '../../../src/codec/deflate-block.js';
import { BLOCK, parallelGzip } from '../../../src/codec/pgzip.js';

/** The same format, computed block by block on this thread. */
function reference(input: Buffer, level: number): Buffer {
  const parts: Buffer[] = [Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, level === 9 ? 2 : level < 2 ? 4 : 0, 3])];
  const block = (from: number, to: number, last: boolean) => {
    const dict = from >= 32768 ? input.subarray(from - 32768, from) : undefined;
    parts.push(deflateBlock(input.subarray(from, to), dict, level, last));
  };
  // full blocks sync-flushed, then the rest (maybe nothing) finished
  let at = 0;
  for (; at + BLOCK <= input.length; at += BLOCK) block(at, at + BLOCK, false);
  block(at, input.length, true);
  const t = Buffer.alloc(8);
  t.writeUInt32LE(crc32(input) >>> 0, 0);
  t.writeUInt32LE(input.length % 2 ** 32, 4);
  parts.push(t);
  return Buffer.concat(parts);
}

/** Text and random bytes, so that blocks compress to very different sizes (and finish out of order). */
function mixed(n: number): Buffer {
  const b = Buffer.alloc(n);
  let at = 0;
  for (let i = 0; at < n; i++) {
    const piece = i % 3 === 2 ? randomBytes(70_000) : Buffer.from(Array.from({ length: 4000 }, (_, k) => `line ${i * 4000 + k}\n`).join(''));
    at += piece.copy(b, at);
  }
  return b;
}

/** Gzip `input` through the Transform, written in chunks of `chunk` bytes. */
async function pgzip(input: Buffer, level: number, chunk = 65_536): Promise<Buffer> {
  const pieces = Array.from({ length: Math.ceil(input.length / chunk) }, (_, i) => input.subarray(i * chunk, (i + 1) * chunk));
  return buffer(Readable.from(pieces).pipe(parallelGzip(level)));
}

describe('parallel gzip (pigz method)', () => {
  const big = mixed(2 * BLOCK + 12_345);
  const sizes = [0, 1, 100, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK];

  for (const n of sizes) {
    it(`${n} bytes: one gzip member, the input back, the reference's bytes`, async () => {
      const input = big.subarray(0, n);
      const out = await pgzip(input, 3);
      assert.deepEqual(gunzipSync(out), input);
      // one member: a single raw deflate stream between the header and the trailer
      assert.deepEqual(inflateRawSync(out.subarray(10, out.length - 8)), input);
      assert.deepEqual(out, reference(input, 3));
    });
  }

  it('levels 1 and 9 of a 2 MiB mixed input, in odd-sized writes: the reference bytes, level 9 smallest', async () => {
    const outs: Buffer[] = [];
    for (const level of [1, 9]) {
      const out = await pgzip(big, level, 777_777);
      assert.deepEqual(out, reference(big, level), `level ${level}`);
      assert.deepEqual(gunzipSync(out), big);
      outs.push(out);
    }
    assert.ok(outs[1]!.length < outs[0]!.length, `${outs.map((o) => o.length)}`);
  });

  it('random blocks are stored (level 0), compressible ones deflated: the reference bytes, about the input size', async () => {
    const input = Buffer.concat([randomBytes(2 * BLOCK), big.subarray(0, BLOCK)]);
    const out = await pgzip(input, 6);
    assert.deepEqual(out, reference(input, 6));
    assert.deepEqual(gunzipSync(out), input);
    const alone = await pgzip(input.subarray(0, 2 * BLOCK), 6);
    // stored blocks: 5 bytes of header per 64 KiB, no more
    assert.ok(alone.length < 2 * BLOCK * 1.001 + 64, `${alone.length} bytes for ${2 * BLOCK}`);
  });

  it('the same bytes on every run, however the blocks are scheduled', async () => {
    const runs = await Promise.all([pgzip(big, 3), pgzip(big, 3, 1 << 20), pgzip(big, 3, 4096)]);
    for (const r of runs) assert.deepEqual(r, runs[0]);
  });
});
