/**
 * A layer's inner tar, read entry by entry as Go's archive/tar reads it (docker load, containerd,
 * crane): PAX and GNU long names and links applied, global PAX headers dropped, nothing written to
 * disk. The reader pulls from a stream; an entry's bytes are handed out only while it is the
 * current entry, and whatever the consumer leaves unread is skipped before the next header, so
 * memory holds one chunk and one header, whatever the layer's size.
 */
import type { Readable } from 'node:stream';
import { type ByteSource, StreamSource, readExact, skipBytes } from '../io/bytes.js';
import { BLOCK, type Header, MAX_EXTENSION_SIZE, TarFormatError, TarTruncatedError, applyExtensions, decodeHeader, decodeName, isZeroBlock, padding, parsePax } from '../archive/tar/header.js';

const CHUNK = 1 << 20;

/** One entry of a layer: its header as Go reads it, and its bytes while it is current. */
export interface LayerEntry {
  readonly header: Header;
  /** Position in the layer's tar, 0-based (entries, not bytes). */
  readonly ordinal: number;
  /** The content (regular files only); valid until the next entry is asked for. */
  body(): AsyncIterable<Buffer>;
}

/** The entries of an uncompressed tar stream, in order. Destroys the stream when the loop ends early. */
export async function* tarEntries(stream: Readable | ByteSource): AsyncGenerator<LayerEntry> {
  const src: ByteSource = 'read' in stream && 'reusesBuffers' in stream ? stream : new StreamSource(stream as Readable);
  let ordinal = 0;
  try {
    for (;;) {
      const header = await nextHeader(src);
      if (!header) return;
      const size = header.type === 'file' || header.type === 'contiguous-file' ? header.size : 0;
      const body = new Body(src, size);
      yield { header, ordinal: ordinal++, body: () => body };
      await body.drain();
      await skip(src, padding(size));
    }
  } finally {
    src.close();
  }
}

/** The next entry's header, its PAX/GNU extension blocks applied; undefined at the end. */
async function nextHeader(src: ByteSource): Promise<Header | undefined> {
  let pax: Record<string, string> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const blk = await readExact(src, BLOCK);
    const pending = pax !== undefined || longName !== undefined || longLink !== undefined;
    if (blk.length === 0 && !pending) return undefined;
    if (blk.length < BLOCK) throw new TarTruncatedError();
    // Go's reader stops at the first zero block (it checks the second, but a layer's tail is not ours to judge)
    if (isZeroBlock(blk)) {
      if (pending) throw new TarFormatError('Invalid tar header: an extension header with no entry after it');
      return undefined;
    }
    const raw = decodeHeader(blk);
    if (raw.kind !== 'pax' && raw.kind !== 'pax-global' && raw.kind !== 'gnu-long-name' && raw.kind !== 'gnu-long-link') {
      return applyExtensions(raw, pax, longName, longLink);
    }
    const size = raw.header.size;
    if (size > MAX_EXTENSION_SIZE) throw new TarFormatError(`Invalid tar header: a ${size}-byte extension header, more than Go's archive/tar reads`);
    const body = await readExact(src, size + padding(size));
    if (body.length < size + padding(size)) throw new TarTruncatedError();
    const data = body.subarray(0, size);
    if (raw.kind === 'pax') pax = parsePax(data);
    else if (raw.kind === 'gnu-long-name' || raw.kind === 'gnu-long-link') {
      const nul = data.indexOf(0);
      const text = decodeName(data.subarray(0, nul < 0 ? size : nul));
      if (raw.kind === 'gnu-long-name') longName = text;
      else longLink = text;
    }
    // a global PAX header: Go returns it as an entry of its own that the appliers ignore
  }
}

class Body implements AsyncIterable<Buffer> {
  constructor(
    private readonly src: ByteSource,
    private left: number,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    while (this.left > 0) {
      const piece = await this.src.read(Math.min(CHUNK, this.left));
      if (piece.length === 0) throw new TarTruncatedError();
      this.left -= piece.length;
      yield piece;
    }
  }

  async drain(): Promise<void> {
    const n = this.left;
    this.left = 0;
    await skip(this.src, n);
  }
}

async function skip(src: ByteSource, n: number): Promise<void> {
  if (!(await skipBytes(src, n))) throw new TarTruncatedError();
}

/** A layer path as the appliers clean it: no leading `/` or `./`, no `.` segments; `..` cannot climb above the root. */
export function cleanLayerPath(name: string): string {
  const out: string[] = [];
  for (const seg of name.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return out.join('/');
}
