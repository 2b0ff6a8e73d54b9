import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, unlinkSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Duplex, Readable, type Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Compression, compressor, decompressor } from '../codec/index.js';
import { Digest } from '../digest.js';
import { ArchiveError, IoError } from '../errors.js';
import { TarFormatError } from '../archive/tar/header.js';

/** What a recoded (or hashed) layer became: its blob digest and size, spooled in `path`. */
export interface Spooled {
  readonly digest: Digest;
  readonly size: number;
  readonly path: string;
}

export interface RecodeJob {
  /** The layer's compression as stored. */
  readonly from: Compression;
  /** What to write; equal to `from` copies the bytes (only hashing them). */
  readonly to: Compression;
  /** The config's DiffID for this layer: the decompressed bytes must hash to it. */
  readonly diffId?: Digest;
  /** Names the layer in errors. */
  readonly what: string;
  readonly algorithm?: 'sha256' | 'sha512';
  /** The compression level of `to` (default: LAYER_LEVELS in src/codec/compress.ts). */
  readonly level?: number;
  /** Rewrite the layer's tar on the way (`--rm-path`): after the DiffID check, before compression... */
  readonly filter?: (src: AsyncIterable<Buffer>) => AsyncIterable<Buffer>;
  /** ...and the rewritten tar must hash to this (what the first pass computed). */
  readonly newDiffId?: Digest;
}

/** Where layer spool files go: next to a file output (same file system), else $TMPDIR. */
export function spoolDir(output: unknown): string {
  return typeof output === 'string' && output !== '-' && output !== '' ? dirname(output) : tmpdir();
}

/** Spool files not yet removed: removed at exit too (the CLI exits on SIGINT/SIGTERM). */
const live = new Set<string>();
let hooked = false;

/** A fresh spool file name in `dir`, removed at process exit if still there. */
export function spoolPath(dir: string, kind = 'layer'): string {
  const p = join(dir, `.ce-${kind}-${process.pid}-${randomBytes(6).toString('hex')}.copyedit-spool`);
  live.add(p);
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const f of live) {
        try {
          unlinkSync(f);
        } catch {
          /* already gone */
        }
      }
    });
  }
  return p;
}

/**
 * Stream one layer through decompression (when it changes compression), a DiffID hash, the new
 * compression and a blob hash into a spool file. Memory stays flat (streams with back-pressure);
 * the spool file is removed on any failure. A DiffID mismatch is an ArchiveError naming the layer.
 */
export async function recodeLayer(body: AsyncIterable<Buffer>, job: RecodeJob, path: string): Promise<Spooled> {
  const recode = job.from !== job.to || job.filter !== undefined;
  if (recode && (job.from === 'xz' || job.from === 'bzip2')) {
    throw new ArchiveError(`is ${job.from}-compressed, which no image loader accepts; copyedit does not recompress it`, job.what);
  }
  const blobHash = createHash(job.algorithm ?? 'sha256');
  const diffHash = createHash('sha256');
  const checkDiff = job.diffId !== undefined && (recode || job.from === 'none');
  let size = 0;
  const stages: (Duplex | Transform | Writable | ((src: AsyncIterable<Buffer>) => AsyncIterable<Buffer>))[] = [];
  const children: Promise<void>[] = [];
  if (recode && job.from !== 'none') stages.push(...decompressor(job.from, job.what, children));
  if (checkDiff) stages.push(tap((c) => diffHash.update(c)));
  const newHash = createHash('sha256');
  if (job.filter)
    stages.push(
      job.filter,
      tap((c) => newHash.update(c)),
    );
  if (recode && job.to !== 'none') stages.push(compressorFor(job.to, job.what, children, job.level));
  stages.push(
    tap((c) => {
      blobHash.update(c);
      size += c.length;
    }),
  );
  try {
    // chunks from the archive reader are reused: copy each before it is queued
    const src = Readable.from(copies(body), { objectMode: false });
    await (pipeline as unknown as (...s: unknown[]) => Promise<void>)(src, ...stages, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
    await Promise.all(children);
  } catch (e) {
    await unlink(path).catch(() => {});
    if (e instanceof ArchiveError || e instanceof IoError) throw e;
    if (e instanceof TarFormatError) throw new ArchiveError(`its tar cannot be rewritten: ${e.message}`, job.what);
    if ((e as NodeJS.ErrnoException)?.code === 'Z_DATA_ERROR' || (e as NodeJS.ErrnoException)?.code === 'Z_BUF_ERROR') {
      throw new ArchiveError(`${job.from} data is corrupt or truncated (${(e as Error).message}); save or download the archive again`, job.what);
    }
    throw e;
  }
  if (checkDiff) {
    const actual = Digest.fromHex('sha256', diffHash.digest('hex'));
    if (!actual.equals(job.diffId!)) {
      await unlink(path).catch(() => {});
      throw new ArchiveError(
        `its content hashes to ${actual} but the config's rootfs.diff_ids says ${job.diffId}: the layer or the config is damaged; copyedit will not recompress it (save or download the archive again)`,
        job.what,
      );
    }
  }
  const rewritten = job.newDiffId && Digest.fromHex('sha256', newHash.digest('hex'));
  if (rewritten && !rewritten.equals(job.newDiffId!)) {
    await unlink(path).catch(() => {});
    throw new ArchiveError(`its rewritten content hashes to ${rewritten}, not the ${job.newDiffId} the first read gave: the input changed while copyedit read it`, job.what);
  }
  return { digest: Digest.fromHex(job.algorithm ?? 'sha256', blobHash.digest('hex')), size, path };
}

/** Read a spool file back in chunks (then the caller removes it). */
export function readSpool(path: string): AsyncIterable<Buffer> {
  return createReadStream(path, { highWaterMark: 1 << 20 });
}

export async function removeSpool(path: string): Promise<void> {
  live.delete(path);
  await unlink(path).catch(() => {});
}

async function* copies(body: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  for await (const c of body) yield Buffer.from(c);
}

function tap(f: (c: Buffer) => void): (src: AsyncIterable<Buffer>) => AsyncIterable<Buffer> {
  return async function* (src) {
    for await (const c of src) {
      f(c);
      yield c;
    }
  };
}

/** Only gzip and zstd are written: no image loader accepts xz or bzip2 layers. */
function compressorFor(kind: Exclude<Compression, 'none'>, what: string, children: Promise<void>[], level: number | undefined): Duplex | Transform {
  if (kind !== 'gzip' && kind !== 'zstd') throw new ArchiveError(`is ${kind}-compressed, which no image loader accepts; copyedit does not recompress it`, what);
  return compressor(kind, what, children, level);
}
