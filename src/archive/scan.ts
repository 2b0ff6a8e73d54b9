import type { Readable } from 'node:stream';
import { ArchiveError, ioError } from '../errors.js';
import { type ByteSource, InputClosedError, StreamSource, readExact, skipBytes } from '../io/bytes.js';
import { type EntryRecord, normalizeEntryPath } from './tar/entry.js';
import {
  BLOCK,
  MAX_EXTENSION_SIZE,
  type RawHeader,
  TarFormatError,
  TarTruncatedError,
  applyExtensions,
  checkGlobalPax,
  decodeHeader,
  isZeroBlock,
  decodeName,
  padding,
  parsePax,
} from './tar/header.js';

/** Entries up to this size that look like JSON are kept in memory: configs, manifests, indexes. */
export const METADATA_MAX_ENTRY = 16 << 20;
/** All kept metadata together may not exceed this, so memory stays bounded whatever the input. */
export const METADATA_MAX_TOTAL = 64 << 20;

/**
 * Entries an archive may hold. A docker save archive has a few per layer (at most 4 per layer in
 * the Docker <= 24 layout, one per blob in the OCI layouts), so tens to a few thousand: 50,000 is
 * about a hundred images at the 127-layer limit. Each entry read costs a record kept until the end
 * of the run (about 0.4 KiB; 1.7 KiB for an empty file, which is kept as metadata with its header
 * bytes), so past this copyedit refuses rather than grow: at most about 90 MiB over Node's ~60.
 */
export const MAX_ENTRIES = 50_000;
/** PAX and GNU long-name header bytes kept with metadata entries (with the records parsed from them). */
export const MAX_KEPT_EXTENSIONS = 16 << 20;
/** Entry names and link targets kept for the whole run, all entries together. */
export const MAX_NAME_BYTES = 16 << 20;

const ALWAYS_METADATA = new Set(['manifest.json', 'index.json', 'oci-layout', 'repositories']);
const CHUNK = 1 << 20;
const SNIFF = 4096;

/**
 * Called for every entry that is not kept in memory (layers, directories, links). The entry's
 * bytes arrive through `body`; each chunk is valid only until the next one is asked for (file
 * inputs reuse one buffer), so a consumer that keeps a chunk must copy it.
 */
export type StreamedEntryHandler = (entry: EntryRecord, body: AsyncIterable<Buffer>) => Promise<void>;

/**
 * Read a tar archive once, front to back. Metadata (small JSON entries) is kept; everything else is
 * handed to `onStreamed` as it passes, so layers flow through without being held or stored.
 * Entry order does not matter: the caller makes sense of the metadata after the scan.
 */
export async function scanArchive(input: ByteSource | Readable, onStreamed: StreamedEntryHandler, label = 'archive'): Promise<EntryRecord[]> {
  const src: ByteSource = 'reusesBuffers' in input ? input : new StreamSource(input);
  const scan = new Scan(src, onStreamed, label);
  try {
    for (;;) {
      // one entry: its header block, preceded by any PAX or GNU long-name blocks
      const ext: Extensions = { raw: [] };
      const decoded = await scan.readHeaders(ext);
      // the end-of-archive blocks, or the end of the input (after a global header, maybe: nothing
      // to apply it to)
      if (!decoded) break;
      await scan.readEntry(decoded, ext);
    }
  } catch (e) {
    src.close();
    throw scanError(e, label, scan.lastName);
  }
  if (scan.entries.length === 0) throw new ArchiveError('is not a tar archive, or holds no entries; expected the output of docker save', label);
  return scan.entries;
}

/** The blocks read before an entry's own header: PAX and GNU long-name extensions. */
interface Extensions {
  /** Every block as read (the global PAX headers excepted), to write back unchanged. */
  readonly raw: Buffer[];
  pax?: Record<string, string>;
  longName?: string;
  longLink?: string;
}

/** One scan's state: the entries so far and what they cost, against the caps above. */
class Scan {
  readonly entries: EntryRecord[] = [];
  /** The name of the last entry read, for messages. */
  lastName: string | undefined;
  private kept = 0;
  private names = 0;
  private extensions = 0;
  private globals = 0;

  constructor(
    private readonly src: ByteSource,
    private readonly onStreamed: StreamedEntryHandler,
    private readonly label: string,
  ) {}

  /** The next entry's header, its extension blocks gathered into `ext`; undefined at the end of the archive. */
  async readHeaders(ext: Extensions): Promise<RawHeader | undefined> {
    const src = this.src;
    for (;;) {
      const blk = await readExact(src, BLOCK);
      const pending = ext.pax !== undefined || ext.longName !== undefined || ext.longLink !== undefined;
      if (blk.length === 0 && !pending) return undefined; // end of input at an entry boundary
      if (blk.length < BLOCK) throw new TarTruncatedError();
      if (isZeroBlock(blk)) {
        if (pending) throw new TarFormatError('Invalid tar header: an extension header with no entry after it');
        // the end is two zero blocks (or one, then the end of the input); like Go's archive/tar
        // (docker load), anything else after one is damage
        const next = await readExact(src, BLOCK);
        if (next.length > 0 && next.length < BLOCK) throw new TarTruncatedError();
        if (next.length === BLOCK && !isZeroBlock(next)) throw new TarFormatError('Invalid tar header: a lone zero block before more data');
        return undefined;
      }
      const h = decodeHeader(blk);
      // a global PAX header is an item of its own to Go, which ignores it for the entries: it is
      // read, checked and dropped (not copied to the output), and counts as an entry for the cap
      if (h.kind !== 'pax-global') ext.raw.push(blk);
      else if (this.entries.length + ++this.globals > MAX_ENTRIES) throw new TooManyEntries();
      if (h.kind !== 'pax' && h.kind !== 'pax-global' && h.kind !== 'gnu-long-name' && h.kind !== 'gnu-long-link') return h;
      await this.readExtension(h, ext, pending);
    }
  }

  /** The body of a PAX or GNU long-name header, into `ext` (a global PAX header is checked and dropped). */
  private async readExtension(h: RawHeader, ext: Extensions, pending: boolean): Promise<void> {
    const size = h.header.size;
    if (size > MAX_EXTENSION_SIZE) throw new ExtensionTooLarge(size);
    // two of a kind before one entry: Go keeps the last, Python the first
    if ((h.kind === 'pax' && ext.pax) || (h.kind === 'gnu-long-name' && ext.longName !== undefined) || (h.kind === 'gnu-long-link' && ext.longLink !== undefined)) {
      throw new TarFormatError(
        `Invalid tar header: two ${h.kind === 'pax' ? 'PAX headers' : h.kind === 'gnu-long-name' ? 'GNU long names' : 'GNU long links'} for one entry; Go takes the last, Python the first`,
      );
    }
    if (h.kind === 'pax-global' && pending) throw new TarFormatError('Invalid tar header: a global PAX header between an extension header and its entry');
    const body = await readExact(this.src, size + padding(size));
    if (body.length < size + padding(size)) throw new TarTruncatedError();
    if (h.kind !== 'pax-global') ext.raw.push(body);
    const data = body.subarray(0, size);
    if (h.kind === 'pax') ext.pax = parsePax(data);
    else if (h.kind === 'pax-global')
      checkGlobalPax(parsePax(data)); // Go ignores the rest: so do we
    else {
      // up to the first NUL, as Go and Python read it; an empty one Go ignores and Python applies
      const text = decodeName(data.subarray(0, data.indexOf(0) < 0 ? size : data.indexOf(0)));
      if (text === '') throw new TarFormatError('Invalid tar header: an empty GNU long name or link, which Go ignores and Python applies');
      if (h.kind === 'gnu-long-name') ext.longName = text;
      else ext.longLink = text;
    }
  }

  /** The entry whose header was just read: kept in memory when it is metadata, else handed on as it streams. */
  async readEntry(decoded: RawHeader, ext: Extensions): Promise<void> {
    const header = applyExtensions(decoded, ext.pax, ext.longName, ext.longLink);
    this.lastName = header.name;
    const path = normalizeEntryPath(header.name);
    const index = this.entries.length;
    if (index + this.globals >= MAX_ENTRIES) throw new TooManyEntries();
    this.names += header.name.length + header.linkname.length;
    if (this.names > MAX_NAME_BYTES) {
      throw new ArchiveError(`has more than ${MAX_NAME_BYTES >> 20} MiB of entry names and link targets together; this is not a docker save archive copyedit can handle`, this.label);
    }
    const size = header.type === 'file' || header.type === 'contiguous-file' ? header.size : 0;
    const raw = ext.raw.length === 1 ? ext.raw[0]! : Buffer.concat(ext.raw);
    const rec: { -readonly [K in keyof EntryRecord]: EntryRecord[K] } = { index, name: header.name, path, header, raw };
    const { head, metadata } = await this.sniff(rec, size);
    if (metadata) await this.keep(rec, head, size, ext);
    else await this.stream(rec, head, size);
  }

  /** Is the entry metadata to keep? A regular file small enough whose first non-blank byte says JSON; `head` is what was read to tell. */
  private async sniff(rec: EntryRecord, size: number): Promise<{ head: Buffer; metadata: boolean | undefined }> {
    let head = Buffer.alloc(0);
    let verdict: boolean | undefined;
    if ((rec.header.type === 'file' || rec.header.type === 'contiguous-file') && size <= METADATA_MAX_ENTRY) {
      verdict = ALWAYS_METADATA.has(rec.path) ? true : undefined;
      while (verdict === undefined && head.length < size) {
        const piece = await this.src.read(Math.min(SNIFF, size - head.length));
        if (piece.length === 0) throw new TarTruncatedError();
        head = Buffer.concat([head, piece]); // a copy: the source may reuse its buffer
        // a byte-order mark before the JSON: keep it, so the reader can say what is wrong
        const bom = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
        verdict = looksLikeJson(bom ? head.subarray(3) : head);
      }
      verdict ??= true; // all blanks or empty: keep, it is tiny
    }
    return { head, metadata: verdict };
  }

  /** Read a metadata entry whole (its first `head` bytes were read already) and keep it, within the caps. */
  private async keep(rec: EntryRecord, head: Buffer, size: number, ext: Extensions): Promise<void> {
    const src = this.src;
    const data = Buffer.allocUnsafe(size);
    head.copy(data);
    let at = head.length;
    while (at < size) {
      const piece = await src.read(Math.min(CHUNK, size - at));
      if (piece.length === 0) throw new TarTruncatedError();
      piece.copy(data, at);
      at += piece.length;
    }
    await skip(src, padding(size));
    const rawHeader = rec.raw!;
    this.kept += size + rawHeader.length; // the header blocks are kept too, to write back unchanged
    if (ext.raw.length > 1) {
      // and their PAX records once more, parsed (about 100 bytes each in memory): docker save
      // writes a few hundred bytes of them
      this.extensions += rawHeader.length + 100 * (ext.pax ? Object.keys(ext.pax).length : 0);
      if (this.extensions > MAX_KEPT_EXTENSIONS) {
        throw new ArchiveError(
          `holds more than ${MAX_KEPT_EXTENSIONS >> 20} MiB of PAX or GNU long-name headers on its small entries (docker save writes a few hundred bytes of them); the archive is damaged or hostile`,
          this.label,
        );
      }
    }
    if (this.kept > METADATA_MAX_TOTAL) {
      throw new ArchiveError(`holds more than ${METADATA_MAX_TOTAL >> 20} MiB of JSON metadata; this is not a docker save archive copyedit can handle`, this.label);
    }
    this.entries.push({ index: rec.index, name: rec.name, path: rec.path, header: rec.header, data, raw: rawHeader });
  }

  /** Hand an entry that is not kept to the handler as its bytes pass, then keep only its record. */
  private async stream(rec: { -readonly [K in keyof EntryRecord]: EntryRecord[K] }, head: Buffer, size: number): Promise<void> {
    this.entries.push(rec);
    const body = new EntryBody(this.src, head, size);
    await handOn(this.onStreamed, rec, body);
    await body.drain(); // whatever the handler left unread
    await skip(this.src, padding(size));
    // written already: keep only what the layout needs (name, type, size, link), not the header bytes
    delete rec.raw;
    delete rec.header.pax;
  }
}

/** What a failed scan throws: the handler's own error as it is, the reader's named for the archive. */
function scanError(e: unknown, label: string, lastName: string | undefined): unknown {
  // the handler's own failure (writing the output): not the archive's fault, let the caller say why
  if (e instanceof HandlerFailure) return e.error;
  if (e instanceof TooManyEntries) {
    return new ArchiveError(`holds more than ${MAX_ENTRIES} entries; a docker save archive holds a few thousand at most, so copyedit stops here rather than keep a record of each`, label);
  }
  if (e instanceof ExtensionTooLarge) {
    return new ArchiveError(
      `holds a PAX or GNU long-name header of ${e.size} bytes ${lastName === undefined ? 'at its start' : `after entry ${shown(lastName)}`}, more than the ${MAX_EXTENSION_SIZE >> 20} MiB that Go's archive/tar (docker load, containerd, podman) reads; the archive is damaged or hostile`,
      label,
    );
  }
  if (e instanceof ArchiveError) {
    if (!e.message.startsWith(`${label}: `)) e.message = `${label}: ${e.message}`;
    return e;
  }
  if ((e as { exitCode?: number }).exitCode !== undefined) return e;
  if (typeof (e as NodeJS.ErrnoException)?.syscall === 'string') return ioError('read', label, e);
  return new ArchiveError(describeTarError(e, lastName), label, { cause: e });
}

class TooManyEntries {}

class ExtensionTooLarge {
  constructor(readonly size: number) {}
}

/** The bytes of one streamed entry: the sniffed head (a copy), then straight from the source. */
class EntryBody implements AsyncIterable<Buffer> {
  private left: number;
  constructor(
    private readonly src: ByteSource,
    private head: Buffer,
    size: number,
  ) {
    this.left = size - head.length;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (this.head.length) {
      const h = this.head;
      this.head = Buffer.alloc(0);
      yield h;
    }
    while (this.left > 0) {
      let piece: Buffer;
      try {
        piece = await this.src.read(Math.min(CHUNK, this.left));
        if (piece.length === 0) throw new TarTruncatedError();
      } catch (e) {
        this.readFailure = { error: e };
        throw e;
      }
      this.left -= piece.length;
      yield piece;
    }
  }

  /** Set when reading the input failed, as opposed to the consumer failing. */
  readFailure: { error: unknown } | undefined;

  async drain(): Promise<void> {
    this.head = Buffer.alloc(0);
    await skip(this.src, this.left);
    this.left = 0;
  }
}

async function skip(src: ByteSource, n: number): Promise<void> {
  if (!(await skipBytes(src, n))) throw new TarTruncatedError();
}

/** Marks an error raised by the handler (e.g. the output failed) rather than by reading the input. */
class HandlerFailure {
  constructor(readonly error: unknown) {}
}

/** Call the handler, telling its own errors apart from errors reading the entry's bytes. */
async function handOn(onStreamed: StreamedEntryHandler, rec: EntryRecord, body: EntryBody): Promise<void> {
  try {
    await onStreamed(rec, body);
  } catch (e) {
    if (body.readFailure) throw body.readFailure.error;
    throw new HandlerFailure(e);
  }
}

/** The first non-blank byte decides: `{` or `[` is JSON; undefined while only blanks were seen. */
function looksLikeJson(chunk: Buffer): boolean | undefined {
  for (let i = 0; i < chunk.length; i++) {
    const c = chunk[i]!;
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    return c === 0x7b || c === 0x5b;
  }
  return undefined;
}

function describeTarError(e: unknown, lastName: string | undefined): string {
  const msg = (e as Error)?.message ?? String(e);
  const where = lastName === undefined ? 'at its start' : `after entry ${shown(lastName)}`;
  // by type: the reader's own errors say which they are; a stream closed early is a truncation
  if (e instanceof TarTruncatedError || e instanceof InputClosedError) {
    return `is truncated ${where}: the archive ends in the middle of an entry; save or download it again`;
  }
  if (e instanceof TarFormatError) return `is not a valid tar archive (${msg}) ${where}; expected the output of docker save`;
  return `could not be read ${where}: ${msg}`;
}

/** An entry name for a message: quoted, and cut short when it is long (a PAX path can be 1 MiB). */
function shown(name: string): string {
  return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}...` : name);
}
