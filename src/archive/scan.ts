import type { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { ArchiveError } from '../errors.js';
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
          head.push(r.value);
          verdict = looksLikeJson(r.value);
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
        await onStreamed(rec, prepend(head, it));
        continue;
      }
      const rec: EntryRecord = { index, name: header.name, path, header };
      entries.push(rec);
      await onStreamed(rec, entry as AsyncIterable<Buffer>);
    }
  } catch (e) {
    extract.destroy();
    tarStream.destroy();
    if (e instanceof ArchiveError || (e as { exitCode?: number }).exitCode !== undefined) throw e;
    throw new ArchiveError(describeTarError(e, lastName), label, { cause: e });
  }
  if (entries.length === 0) throw new ArchiveError('is not a tar archive, or holds no entries; expected the output of docker save', label);
  return entries;
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
