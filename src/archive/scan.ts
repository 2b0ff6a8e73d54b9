import type { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { ArchiveError, ioError } from '../errors.js';
import { type EntryRecord, normalizeEntryPath } from './entry.js';

/** Entries up to this size that look like JSON are kept in memory: configs, manifests, indexes. */
export const METADATA_MAX_ENTRY = 16 << 20;
/** All kept metadata together may not exceed this, so memory stays bounded whatever the input. */
export const METADATA_MAX_TOTAL = 256 << 20;

const ALWAYS_METADATA = new Set(['manifest.json', 'index.json', 'oci-layout', 'repositories']);

/**
 * Called for every entry that is not kept in memory (layers, directories, links): the entry's bytes
 * must be consumed from `body` before the scan moves on.
 */
export type StreamedEntryHandler = (entry: EntryRecord, body: AsyncIterable<Buffer>) => Promise<void>;

/**
 * Read a tar stream once, front to back. Metadata (small JSON entries) is kept; everything else is
 * handed to `onStreamed` as it passes, so layers flow through without being held or stored.
 * Entry order does not matter: the caller makes sense of the metadata after the scan.
 */
export async function scanArchive(tarStream: Readable, onStreamed: StreamedEntryHandler, label = 'archive'): Promise<EntryRecord[]> {
  const extract = tar.extract();
  tarStream.on('error', (e) => extract.destroy(e));
  // the input may have failed (or been closed) before we got here: never wait for bytes that cannot come
  const gone = (): void => {
    if (!tarStream.readableEnded) extract.destroy(tarStream.errored ?? new Error('Unexpected end of data: the input was closed'));
  };
  tarStream.on('close', gone);
  if (tarStream.destroyed) gone();
  tarStream.pipe(extract as unknown as NodeJS.WritableStream);
  const entries: EntryRecord[] = [];
  let kept = 0;
  let lastName: string | undefined;
  try {
    for await (const entry of extract) {
      const header = entry.header;
      lastName = header.name;
      const path = normalizeEntryPath(header.name);
      const index = entries.length;
      const isFile = header.type === 'file' || header.type === 'contiguous-file';
      const size = header.size ?? 0;
      if (isFile && size <= METADATA_MAX_ENTRY) {
        const it = (entry as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
        const head: Buffer[] = [];
        let verdict = ALWAYS_METADATA.has(path) ? true : undefined;
        let done = false;
        while (verdict === undefined) {
          const r = await it.next();
          if (r.done) {
            done = true;
            verdict = true; // all whitespace or empty: keep, it is tiny
            break;
          }
          // a byte-order mark before the JSON: keep it, so the reader can say what is wrong
          const bom = head.length === 0 && r.value[0] === 0xef && r.value[1] === 0xbb && r.value[2] === 0xbf;
          head.push(r.value);
          verdict = looksLikeJson(bom ? r.value.subarray(3) : r.value);
        }
        if (verdict) {
          const chunks = head;
          if (!done) for (let r = await it.next(); !r.done; r = await it.next()) chunks.push(r.value);
          const data = Buffer.concat(chunks);
          kept += data.length;
          if (kept > METADATA_MAX_TOTAL) {
            throw new ArchiveError(`holds more than ${METADATA_MAX_TOTAL >> 20} MiB of JSON metadata; this is not a docker save archive copyedit can handle`, label);
          }
          entries.push({ index, name: header.name, path, header, data });
          continue;
        }
        const rec: EntryRecord = { index, name: header.name, path, header };
        entries.push(rec);
        await handOn(onStreamed, rec, prepend(head, it));
        continue;
      }
      const rec: EntryRecord = { index, name: header.name, path, header };
      entries.push(rec);
      await handOn(onStreamed, rec, entry as AsyncIterable<Buffer>);
    }
  } catch (e) {
    extract.destroy();
    tarStream.destroy();
    // the handler's own failure (writing the output): not the archive's fault, let the caller say why
    if (e instanceof HandlerFailure) throw e.error;
    if (e instanceof ArchiveError) {
      if (!e.message.startsWith(`${label}: `)) e.message = `${label}: ${e.message}`;
      throw e;
    }
    if ((e as { exitCode?: number }).exitCode !== undefined) throw e;
    if (typeof (e as NodeJS.ErrnoException)?.syscall === 'string') throw ioError('read', label, e);
    throw new ArchiveError(describeTarError(e, lastName), label, { cause: e });
  }
  if (entries.length === 0) throw new ArchiveError('is not a tar archive, or holds no entries; expected the output of docker save', label);
  return entries;
}

/** Marks an error raised by the handler (e.g. the output failed) rather than by reading the input. */
class HandlerFailure {
  constructor(readonly error: unknown) {}
}

/** Call the handler, telling its own errors apart from errors reading the entry's bytes. */
async function handOn(onStreamed: StreamedEntryHandler, rec: EntryRecord, body: AsyncIterable<Buffer>): Promise<void> {
  let readFailure: { error: unknown } | undefined;
  const guarded = (async function* () {
    try {
      for await (const c of body) yield c;
    } catch (e) {
      readFailure = { error: e };
      throw e;
    }
  })();
  try {
    await onStreamed(rec, guarded);
  } catch (e) {
    if (readFailure) throw readFailure.error;
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

async function* prepend(head: Buffer[], rest: AsyncIterator<Buffer>): AsyncIterable<Buffer> {
  yield* head;
  for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
}

function describeTarError(e: unknown, lastName: string | undefined): string {
  const msg = (e as Error)?.message ?? String(e);
  const where = lastName === undefined ? 'at its start' : `after entry ${JSON.stringify(lastName)}`;
  if (/Invalid tar header|Unknown format|checksum/i.test(msg)) {
    return `is not a valid tar archive (${msg}) ${where}; expected the output of docker save`;
  }
  if (/Unexpected end|premature|truncated/i.test(msg)) {
    return `is truncated ${where}: the archive ends in the middle of an entry; save or download it again`;
  }
  return `could not be read ${where}: ${msg}`;
}
