/**
 * `--rm-path`, the first pass: each streamed entry that decompresses to a tar is read through the
 * filter and hashed on both sides, writing nothing; what the layer would become (its old and new
 * DiffIDs, the names removed) is known before the rewrite is planned, so the configs can name the
 * new DiffIDs and the writing pass only has to redo the filter (one layer spooled at a time).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Compression, decompressor } from '../codec/index.js';
import { Digest } from '../digest.js';
import { filterMaybeTar, filterTar } from './filter.js';

/** What the filter does to one layer with a match. */
export interface Purged {
  readonly oldDiffId: Digest;
  readonly newDiffId: Digest;
  /** Entry names removed, as stored. */
  readonly removed: readonly string[];
}

/** The first pass's look at one entry: what the filter would remove (undefined: no match, or not a tar: `unreadable` says why when it began as one). */
export async function scanPurge(body: AsyncIterable<Buffer>, from: Compression, drop: (path: string) => boolean, what: string): Promise<{ purged?: Purged; unreadable?: string }> {
  const oldHash = createHash('sha256');
  const newHash = createHash('sha256');
  const removed: string[] = [];
  let unreadable: string | undefined;
  const children: Promise<void>[] = [];
  const stages = from === 'none' ? [] : decompressor(from, what, children);
  async function sink(src: AsyncIterable<Buffer>): Promise<void> {
    const tapped = tap(src, (c) => oldHash.update(c));
    // a blob that is no tar from its first header is no layer; one that stops being one is unreadable
    const notTar = (why: string, entriesRead: number) => {
      if (entriesRead > 0) unreadable = why;
    };
    for await (const c of filterMaybeTar(tapped, drop, removed, notTar)) newHash.update(c);
  }
  // a plain tar is read straight from the archive's chunks (nothing queued, nothing copied)
  if (from === 'none') await sink(body);
  else await (pipeline as unknown as (...s: unknown[]) => Promise<void>)(Readable.from(copies(body)), ...stages, sink);
  await Promise.all(children);
  if (unreadable !== undefined) return { unreadable };
  if (removed.length === 0) return {};
  return { purged: { oldDiffId: Digest.fromHex('sha256', oldHash.digest('hex')), newDiffId: Digest.fromHex('sha256', newHash.digest('hex')), removed } };
}

/** The writing pass's stage: the layer's tar without what `drop` names. */
export function purgeStage(drop: (path: string) => boolean): (src: AsyncIterable<Buffer>) => AsyncIterable<Buffer> {
  return (src) => coalesced(filterTar(src, drop, []));
}

/** Parts gathered into chunks of 256 KiB or more: a layer of small files is thousands of headers, each a part. */
async function* coalesced(src: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  let parts: Buffer[] = [];
  let size = 0;
  for await (const c of src) {
    parts.push(c);
    size += c.length;
    if (size >= 1 << 18) {
      yield Buffer.concat(parts, size);
      parts = [];
      size = 0;
    }
  }
  if (size) yield Buffer.concat(parts, size);
}

async function* tap(src: AsyncIterable<Buffer>, f: (c: Buffer) => void): AsyncIterable<Buffer> {
  for await (const c of src) {
    f(c);
    yield c;
  }
}

async function* copies(body: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  for await (const c of body) yield Buffer.from(c);
}
