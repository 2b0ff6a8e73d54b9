/**
 * `--rm-path`: which layer entries a path or pattern removes, and the streaming tar filter that
 * leaves them out. Kept entries pass byte for byte (their header blocks, PAX and GNU extension
 * blocks, data and padding as read), so a layer without a match comes out identical. A removed
 * directory takes everything under it; a hard link to a removed file goes too (its bytes are the
 * removed file's). Header-only types carry no data, as Go's archive/tar reads them.
 */
import { BLOCK, type Header, MAX_EXTENSION_SIZE, TarFormatError, applyExtensions, decodeHeader, decodeName, isZeroBlock, padding, parsePax } from '../archive/tar/header.js';
import { globToRegExp, isPattern } from '../edit/glob.js';

/** A layer entry name as a path from the root: no leading `./` or `/`, no trailing `/`. */
export function layerPath(name: string): string {
  return name
    .replace(/^(\.?\/)+/, '')
    .replace(/\/+$/, '')
    .replace(/\/\.?\/+/g, '/');
}

/** Does a path (or one of its parent directories) match one of the `--rm-path` specs? */
export function pathMatcher(specs: readonly string[]): (path: string) => boolean {
  const tests = specs.map((s) => {
    const p = layerPath(s);
    if (p === '' || p.split('/').includes('..')) throw new RangeError(`--rm-path ${s}: name a path under the root (like /app/.env or /root/*.npmrc)`);
    if (isPattern(p)) {
      const re = globToRegExp(p);
      return (c: string) => re.test(c);
    }
    return (c: string) => c === p;
  });
  return (path) => {
    const parts = layerPath(path).split('/');
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (tests.some((t) => t(prefix))) return true;
    }
    return false;
  };
}

/** Reads exact byte counts from a chunked stream. */
class ChunkReader {
  private buf: Buffer = Buffer.alloc(0);
  private done = false;
  constructor(private readonly it: AsyncIterator<Buffer>) {}

  /**
   * At least `n` bytes in `buf`. A source's chunk may be reused once the next is asked for: what
   * is left of it (less than a header) is copied first; a chunk itself is not (its consumer uses
   * each part before asking for more).
   */
  private async fill(n: number): Promise<boolean> {
    while (this.buf.length < n && !this.done) {
      const left = this.buf.length ? Buffer.from(this.buf) : undefined;
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        if (left) this.buf = left;
      } else this.buf = left ? Buffer.concat([left, r.value]) : r.value;
    }
    return this.buf.length >= n;
  }

  /** Exactly `n` bytes, or undefined at a clean end (nothing left). */
  async exact(n: number): Promise<Buffer | undefined> {
    if (!(await this.fill(n))) {
      if (this.buf.length === 0) return undefined;
      throw new TarFormatError('the layer tar ends in the middle of a header');
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** `n` bytes as they come (passed on, or dropped when `keep` is false). */
  async *take(n: number, keep: boolean): AsyncIterable<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buf.length === 0 && !(await this.fill(1))) throw new TarFormatError('the layer tar ends in the middle of an entry');
      const part = this.buf.subarray(0, Math.min(left, this.buf.length));
      this.buf = this.buf.subarray(part.length);
      left -= part.length;
      if (keep) yield part;
    }
  }

  /** Everything left (the end blocks and whatever follows them), as it is. */
  async *rest(): AsyncIterable<Buffer> {
    if (this.buf.length) yield this.buf;
    this.buf = Buffer.alloc(0);
    for (;;) {
      const r = await this.it.next();
      if (r.done) return;
      yield r.value;
    }
  }
}

const HEADER_ONLY = new Set<Header['type']>(['link', 'symlink', 'character-device', 'block-device', 'directory', 'fifo']);

/**
 * The layer tar `src` without the entries `drop` names; `removed` collects their names (as
 * stored). Throws TarFormatError when `src` is not a tar.
 */
export async function* filterTar(src: AsyncIterable<Buffer>, drop: (path: string) => boolean, removed: string[]): AsyncIterable<Buffer> {
  yield* entriesOf(new ChunkReader(src[Symbol.asyncIterator]()), drop, removed);
}

/**
 * The same over a blob that may not be a tar at all (the first pass sees every streamed entry
 * before the metadata says which are layers): on a format error the rest passes unread and
 * `notTar` is called, so the source is still read to its end.
 */
export async function* filterMaybeTar(src: AsyncIterable<Buffer>, drop: (path: string) => boolean, removed: string[], notTar: (why: string, entriesRead: number) => void): AsyncIterable<Buffer> {
  const r = new ChunkReader(src[Symbol.asyncIterator]());
  const seen = { entries: 0 };
  try {
    yield* entriesOf(r, drop, removed, seen);
  } catch (e) {
    if (!(e instanceof TarFormatError)) throw e;
    notTar(e.message, seen.entries);
    yield* r.rest();
  }
}

async function* entriesOf(r: ChunkReader, drop: (path: string) => boolean, removed: string[], seen = { entries: 0 }): AsyncIterable<Buffer> {
  const gone = new Set<string>();
  let pending: Buffer[] = [];
  let pax: Record<string, string> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await r.exact(BLOCK);
    if (!block) return; // no end blocks: what Go reads as the end too
    if (isZeroBlock(block)) {
      yield* pending;
      yield block;
      yield* r.rest();
      return;
    }
    const raw = decodeHeader(block);
    const size = raw.header.size;
    if (raw.kind === 'pax' || raw.kind === 'gnu-long-name' || raw.kind === 'gnu-long-link' || raw.kind === 'pax-global') {
      if (size > MAX_EXTENSION_SIZE) throw new TarFormatError(`a tar extension header of ${size} bytes`);
      const ext = (await r.exact(size + padding(size))) ?? Buffer.alloc(0);
      if (ext.length < size) throw new TarFormatError('the layer tar ends in an extension header');
      const body = ext.subarray(0, size);
      const text = () => decodeName(body.subarray(0, body.indexOf(0) < 0 ? size : body.indexOf(0)));
      if (raw.kind === 'pax') pax = parsePax(body);
      else if (raw.kind === 'gnu-long-name') longName = text();
      else if (raw.kind === 'gnu-long-link') longLink = text();
      if (raw.kind === 'pax-global') yield* [block, ext];
      else pending.push(block, ext);
      continue;
    }
    const h = applyExtensions(raw, pax, longName, longLink);
    pax = longName = longLink = undefined;
    seen.entries++;
    const data = HEADER_ONLY.has(h.type) ? 0 : size;
    const path = layerPath(h.name);
    const out = drop(path) || (h.type === 'link' && gone.has(layerPath(h.linkname)));
    if (out) {
      gone.add(path);
      removed.push(h.name);
    } else {
      yield* pending;
      yield block;
    }
    pending = [];
    yield* r.take(data + padding(data), !out);
  }
}
