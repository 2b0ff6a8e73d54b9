import type { Readable } from 'node:stream';
import type { Header } from '../archive/tar/header.js';
import { type EntryRecord, normalizeEntryPath } from '../archive/tar/entry.js';
import { scanArchive } from '../archive/scan.js';
import { VerifyError, ioError } from '../errors.js';
import { type Compression, openInput } from '../io/source.js';
import { verifyEntries } from './check.js';
import { EntryHasher } from './hash.js';
import { type VerifyReport, describeIssue } from './report.js';

export { verifyEntries } from './check.js';
export { EntryHasher, type EntryHashes } from './hash.js';
export { canDecompressZstd } from '../codec/index.js';
export { describeIssue, type VerifyCounts, type VerifyIssue, type VerifyReport } from './report.js';

/**
 * Read an archive once and recompute every digest in it. manifest.json usually comes after the
 * layers, so each layer is hashed (stored and decompressed) as it passes and matched afterwards.
 * Never throws for a mismatch: see `report.ok`, or call `assertVerified`.
 */
export async function verifyArchive(input: string | Readable): Promise<VerifyReport & { readonly compression: Compression }> {
  const source = await openInput(input);
  const hasher = new EntryHasher({ decompress: true });
  const entries = await scanArchive(source.reader, (entry, body) => hasher.consume(entry, body), source.label).finally(() => source.close());
  const report = verifyEntries(entries, hasher, source.label);
  return { ...report, notes: [...(source.warnings ?? []), ...report.notes], compression: source.compression };
}

/** Throw a VerifyError (exit 5) listing the problems unless every check held. */
export function assertVerified(report: VerifyReport): void {
  if (report.ok) return;
  const shown = report.issues.slice(0, 10).map((i) => `  ${describeIssue(i)}`);
  const more = report.issues.length > 10 ? [`  ... and ${report.issues.length - 10} more`] : [];
  throw new VerifyError(`${report.label}: ${report.issues.length} digest check${report.issues.length === 1 ? '' : 's'} failed:\n${[...shown, ...more].join('\n')}`);
}

/**
 * Verify an archive being written: the entries streamed through `hasher.tap` (in order), then the
 * metadata entries held in memory. Used by `edit --verify` before the output is committed.
 * `label`: the output's name.
 */
export async function verifyWritten(
  streamed: readonly EntryRecord[],
  written: readonly { readonly header: Header; readonly data: Buffer }[],
  hasher: EntryHasher,
  label: string,
): Promise<VerifyReport> {
  // a read-back of the output that failed (EIO): an I/O error on the output, exit 6
  await hasher.settle().catch((e: unknown) => {
    throw ioError('read back', label, e);
  });
  const entries: EntryRecord[] = [...streamed];
  for (const w of written) entries.push({ index: entries.length, name: w.header.name, path: normalizeEntryPath(w.header.name), header: { ...w.header, size: w.data.length }, data: w.data });
  return verifyEntries(entries, hasher, label);
}
