/**
 * sha512 digests (issue 9, class 2): `Digest.of` with an algorithm, and the streaming hasher giving a
 * sha512 to exactly the entries whose name says sha512. Seeded corpora of sizes and chunkings.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { EntryRecord } from '../../src/archive/tar/entry.js';
import { Digest } from '../../src/digest.js';
import { EntryHasher, needsSha512, storedDigest } from '../../src/verify/hash.js';
import { rng } from './rng.js';

function bytes(r: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

function entry(name: string, size: number, index = 0, data?: Buffer): EntryRecord {
  return { index, name, path: name, header: { name, type: 'file', size }, ...(data ? { data } : {}) } as unknown as EntryRecord;
}

async function* chunked(b: Buffer, r: () => number): AsyncIterable<Buffer> {
  for (let at = 0; at < b.length; ) {
    const n = 1 + Math.floor(r() * Math.min(b.length - at, 1 + Math.floor(r() * 300_000)));
    // the reader reuses its buffer: hand out a copy that is overwritten after the consumer is done
    const c = Buffer.from(b.subarray(at, at + n));
    yield c;
    c.fill(0xee);
    at += n;
  }
}

describe('Digest with an algorithm', () => {
  it('Digest.of hashes with sha256 by default and with sha512 when asked (seeded sizes)', () => {
    const r = rng(512);
    for (let n = 0; n < 60; n++) {
      const b = bytes(r, Math.floor(r() * (n % 10 === 0 ? 200_000 : 300)));
      const d256 = Digest.of(b);
      const d512 = Digest.of(b, 'sha512');
      assert.equal(d256.toString(), `sha256:${createHash('sha256').update(b).digest('hex')}`);
      assert.equal(d512.toString(), `sha512:${createHash('sha512').update(b).digest('hex')}`);
      assert.equal(d512.algorithm, 'sha512');
      assert.equal(d512.hex.length, 128);
      assert.ok(Digest.parse(d512.toString()).equals(d512));
      assert.ok(!d512.equals(d256));
      assert.ok(d512.matches(b) && d256.matches(b));
      assert.equal(d512.blobPath, `blobs/sha512/${d512.hex}`);
      assert.ok(Digest.fromHex('sha512', d512.hex).equals(d512));
      if (b.length) {
        const other = Buffer.from(b);
        other[Math.floor(r() * b.length)]! ^= 1 + Math.floor(r() * 255);
        assert.ok(!d512.matches(other));
      }
    }
  });
  it('reads the digest an entry name promises', () => {
    const d = Digest.of(Buffer.from('x'), 'sha512');
    assert.ok(Digest.fromEntryPath(d.blobPath)?.equals(d));
    assert.ok(Digest.fromEntryPath(d.toString())?.equals(d));
    assert.ok(Digest.fromEntryPath(`blobs/sha256/${'a'.repeat(64)}`)?.equals(Digest.sha256Hex('a'.repeat(64))));
    for (const bad of [`blobs/sha512/${'a'.repeat(64)}`, `blobs/sha256/${'a'.repeat(128)}`, `blobs/md5/${'a'.repeat(32)}`, `x/blobs/sha256/${'a'.repeat(64)}`, 'manifest.json']) {
      assert.equal(Digest.fromEntryPath(bad), undefined, bad);
    }
  });
  it('refuses malformed parts', () => {
    assert.throws(() => Digest.fromHex('sha512', 'ab'), /not a sha512 hex digest/);
    assert.throws(() => Digest.fromHex('sha256', 'a'.repeat(128)), /not a sha256 hex digest/);
    assert.throws(() => Digest.of(Buffer.from('x'), 'md5' as never), /unsupported digest algorithm/);
    assert.equal(Digest.tryParse(`sha512:${'a'.repeat(64)}`), undefined);
    assert.throws(() => Digest.parse('sha384:00'), /sha512:<128 hex digits>/);
  });
});

describe('streaming sha512', () => {
  it('only entries whose name says sha512 get a sha512, equal to Digest.of(bytes, "sha512") (seeded chunkings)', async () => {
    const r = rng(4096);
    const hasher = new EntryHasher({ decompress: false });
    const cases: { e: EntryRecord; b: Buffer; want512: boolean }[] = [];
    for (let n = 0; n < 40; n++) {
      const b = bytes(r, Math.floor(r() * (n % 8 === 0 ? 3_000_000 : 5000)));
      const kind = n % 4;
      const name = kind === 0 ? `blobs/sha512/${Digest.of(b, 'sha512').hex}` : kind === 1 ? `sha512:${Digest.of(b, 'sha512').hex}` : kind === 2 ? `blobs/sha256/${Digest.of(b).hex}` : `${n}/layer.tar`;
      const e = entry(name, b.length, n);
      cases.push({ e, b, want512: kind < 2 });
      const out: Buffer[] = [];
      for await (const c of hasher.tap(e, chunked(b, r))) out.push(Buffer.from(c));
      assert.ok(Buffer.concat(out).equals(b), 'bytes pass through unchanged');
    }
    for (const { e, b, want512 } of cases) {
      const h = hasher.get(e)!;
      assert.equal(needsSha512(e), want512, e.name);
      assert.ok(h.stored.equals(Digest.of(b)), e.name);
      if (want512) assert.ok(h.sha512?.equals(Digest.of(b, 'sha512')), e.name);
      else assert.equal(h.sha512, undefined, `${e.name}: no sha512 for a sha256 entry`);
      assert.equal(storedDigest(h, want512 ? 'sha512' : 'sha256')?.toString(), (want512 ? Digest.of(b, 'sha512') : Digest.of(b)).toString());
    }
  });
  it('metadata held in memory gets its sha512 on demand; the predicate can be chosen', async () => {
    const data = Buffer.from('{"schemaVersion":2}');
    const d512 = Digest.of(data, 'sha512');
    const h = new EntryHasher({ decompress: false }).get(entry(d512.blobPath, data.length, 0, data))!;
    assert.ok(h.sha512?.equals(d512));
    const all = new EntryHasher({ decompress: false, sha512: () => true });
    const e = entry('whatever.json', data.length, 1);
    await all.consume(
      e,
      (async function* () {
        yield data;
      })(),
    );
    assert.ok(all.get(e)!.sha512?.equals(d512));
  });
});
