import { createHash, type Hash } from 'node:crypto';
import type { Transform } from 'node:stream';
import { type Compression, SNIFF_BYTES, ZstdFrameCheck, detectCompression, inflater } from '../codec/index.js';
import type { EntryRecord } from '../archive/entry.js';
import { Digest, type DigestAlgorithm } from '../digest.js';
import { ShaOffload } from './offload.js';
import type { Readback } from './readback.js';

/** What hashing one entry's bytes found. */
export interface EntryHashes {
  /** sha256 of the bytes as stored in the tar (a blob digest). */
  readonly stored: Digest;
  /** sha512 of the stored bytes, for the entries that need it (`needsSha512`): a `blobs/sha512/` name. */
  readonly sha512?: Digest;
  readonly size: number;
  /** How the stored bytes are compressed, from their magic number. */
  readonly compression: Compression;
  /** sha256 after decompression (a DiffID); equals `stored` for uncompressed entries. */
  readonly content?: Digest;
  /** Why `content` is missing: an unsupported compression, corrupt data, or decompression not asked for. */
  readonly contentProblem?: string;
  /** The compressed data is damaged: a real error, unlike a decompressor that is merely missing. */
  readonly corrupt?: boolean;
}

/**
 * Whether an entry's name says its digest is sha512: an OCI blob under `blobs/sha512/` (a sha512
 * descriptor always leads there), or a crane-style `sha512:<hex>` name. Only these entries pay for
 * a second hash.
 */
export function needsSha512(entry: { readonly path: string }): boolean {
  return /^blobs\/sha512\//.test(entry.path) || /^sha512:/.test(entry.path);
}

/** The stored bytes' digest with `algorithm`, if it was computed (sha512 only for `needsSha512` entries, or as asked). */
export function storedDigest(h: EntryHashes | undefined, algorithm: DigestAlgorithm): Digest | undefined {
  if (!h) return undefined;
  return algorithm === 'sha256' ? h.stored : h.sha512;
}

/** Entries from this size on are read back (`readback`); smaller ones cost less hashed as they pass. */
const READBACK_MIN = 8 << 20;

/**
 * Hashes entries as their bytes stream past (reading an archive, or writing one), so no layer is
 * ever held. With `decompress`, gzip (and zstd where Node has it) layers are inflated on the side to
 * get their DiffID; zlib runs on the thread pool, so only sha256 costs main-thread time.
 */
export class EntryHasher {
  private readonly results = new Map<EntryRecord, EntryHashes>();
  /** sha256 of large entries runs on a worker thread, overlapping the copy. */
  private readonly sha = new ShaOffload();
  /** Results of entries hashed by reading the output back (`readback`), still being computed. */
  private readonly pending: Promise<void>[] = [];

  /**
   * `sha512` says which entries also get a sha512 of their stored bytes (default `needsSha512`: the
   * entries whose name says sha512); every other entry is hashed with sha256 only.
   */
  constructor(
    private readonly options: {
      readonly decompress: boolean;
      readonly sha512?: (entry: EntryRecord) => boolean;
      /**
       * The output file being written, to hash large entries by reading them back from it (see
       * Readback) instead of as they pass; `tap`'s caller must have written each chunk before
       * asking for the next. Results then come in later: `settle()` waits for them.
       */
      readonly readback?: Readback;
    } = { decompress: true },
  ) {}

  private wantsSha512(entry: EntryRecord): boolean {
    return (this.options.sha512 ?? needsSha512)(entry);
  }

  /** Pass `body` through unchanged, hashing it; the result is available from `get` once drained. */
  async *tap(entry: EntryRecord, body: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
    if (entry.header.type !== 'file' && entry.header.type !== 'contiguous-file') {
      yield* body;
      return;
    }
    const readback = entry.header.size >= READBACK_MIN ? this.options.readback : undefined;
    const remote = readback?.begin(entry.header.size);
    remote?.catch(() => {}); // a failure is reported by settle(), not as an unhandled rejection
    const stored = remote ? undefined : this.sha.begin(entry.header.size);
    const sha512 = this.wantsSha512(entry) ? createHash('sha512') : undefined;
    let size = 0;
    let head: Buffer | undefined = Buffer.alloc(0);
    let compression: Compression = 'none';
    let inflater: Inflater | undefined;
    for await (const chunk of body) {
      const pause = stored?.update(chunk);
      sha512?.update(chunk);
      if (pause) await pause;
      size += chunk.length;
      if (head) {
        // the magic number is up to SNIFF_BYTES bytes; only a first chunk shorter than that needs joining
        const joined: Buffer = head.length ? Buffer.concat([head, chunk]) : chunk;
        if (joined.length >= SNIFF_BYTES) {
          compression = detectCompression(joined);
          inflater = this.inflaterFor(compression);
          if (inflater) await inflater.write(joined);
          head = undefined;
        } else head = Buffer.from(joined); // the source may reuse its buffer
      } else if (inflater) await inflater.write(chunk);
      yield chunk;
      readback?.advance(); // the chunk is written now: a thread waiting for it may read it back
    }
    if (head) {
      compression = detectCompression(head);
      inflater = this.inflaterFor(compression);
      if (inflater) await inflater.write(head);
    }
    // uncompressed, the DiffID is the stored digest (set with it, below)
    let content: Digest | undefined;
    let contentProblem: string | undefined;
    let corrupt = false;
    if (compression === 'none') {
      /* nothing to inflate */
    } else if (!this.options.decompress) contentProblem = 'not decompressed';
    else if (!inflater) contentProblem = `${compression}-compressed, and this Node (${process.version}) cannot decompress ${compression} in-process`;
    else {
      const r = await inflater.end();
      if ('digest' in r) content = r.digest;
      else {
        contentProblem = r.problem;
        corrupt = true;
      }
    }
    const sha512Digest = sha512 ? Digest.fromHex('sha512', sha512.digest('hex')) : undefined;
    const done = (hex: string) => {
      const storedDigest = Digest.sha256Hex(hex);
      this.results.set(entry, {
        stored: storedDigest,
        ...(sha512Digest ? { sha512: sha512Digest } : {}),
        size,
        compression,
        ...(compression === 'none' ? { content: storedDigest } : content ? { content } : {}),
        ...(contentProblem ? { contentProblem } : {}),
        ...(corrupt ? { corrupt } : {}),
      });
    };
    if (!remote) return done(await stored!.digest());
    const later = remote.then(done);
    later.catch(() => {}); // reported by settle()
    this.pending.push(later);
  }

  /** Wait for the entries still being hashed by reading them back; throws what a read-back met. */
  async settle(): Promise<void> {
    await Promise.all(this.pending.splice(0));
  }

  /** Drain `body`, hashing it (for readers that do not write the bytes anywhere). */
  async consume(entry: EntryRecord, body: AsyncIterable<Buffer>): Promise<void> {
    for await (const _ of this.tap(entry, body)) void _;
  }

  /** Hashes of a streamed entry, or of a metadata entry held in memory (computed on demand). */
  get(entry: EntryRecord): EntryHashes | undefined {
    const known = this.results.get(entry);
    if (known || !entry.data) return known;
    const d = Digest.of(entry.data);
    const d512 = this.wantsSha512(entry) ? { sha512: Digest.of(entry.data, 'sha512') } : {};
    const compression = detectCompression(entry.data.subarray(0, SNIFF_BYTES));
    const r: EntryHashes =
      compression === 'none'
        ? { stored: d, ...d512, size: entry.data.length, compression, content: d }
        : { stored: d, ...d512, size: entry.data.length, compression, contentProblem: 'held in memory, not decompressed' };
    this.results.set(entry, r);
    return r;
  }

  private inflaterFor(c: Compression): Inflater | undefined {
    if (!this.options.decompress) return undefined;
    const z = inflater(c);
    return z ? new Inflater(z, c) : undefined;
  }
}

/** A decompressor whose output is hashed, never kept; respects back-pressure. */
class Inflater {
  private readonly hash: Hash = createHash('sha256');
  private failure: Error | undefined;
  private readonly ended: Promise<void>;

  constructor(
    private readonly z: Transform,
    private readonly kind: string,
  ) {
    this.frames = kind === 'zstd' ? new ZstdFrameCheck() : undefined;
    z.on('data', (c: Buffer) => this.hash.update(c));
    this.ended = new Promise<void>((resolve) => {
      z.on('end', () => resolve());
      z.on('error', (e: Error) => {
        this.failure ??= e;
        resolve();
      });
    });
  }

  /** zstd frames declaring a window Go's decoder refuses are refused here too (src/codec/detect.ts). */
  private readonly frames: ZstdFrameCheck | undefined;

  async write(chunk: Buffer): Promise<void> {
    if (this.failure || this.z.destroyed) return;
    const problem = this.frames?.update(chunk);
    if (problem) {
      this.failure = new Error(problem);
      this.z.destroy();
      return;
    }
    // zlib may read the chunk after this returns, and file sources reuse their buffer: copy
    if (!this.z.write(Buffer.from(chunk))) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.z.off('drain', done);
          this.z.off('error', done);
          resolve();
        };
        this.z.on('drain', done);
        this.z.on('error', done);
      });
    }
  }

  async end(): Promise<{ digest: Digest } | { problem: string }> {
    if (!this.failure) this.z.end();
    await this.ended;
    if (this.failure) return { problem: `${this.kind} data is corrupt (${this.failure.message})` };
    return { digest: Digest.sha256Hex(this.hash.digest('hex')) };
  }
}
