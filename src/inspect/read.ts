import type { Readable } from 'node:stream';
import { buildModel } from '../archive/layout.js';
import type { ArchiveModel } from '../archive/model.js';
import { scanArchive } from '../archive/scan.js';
import { type Compression, openInput } from '../io/source.js';
import { EntryHasher } from '../verify/hash.js';

/** An archive read once: its model, plus the sha256 of every streamed entry as stored. */
export interface ReadArchive {
  readonly model: ArchiveModel;
  readonly hashes: EntryHasher;
  readonly label: string;
  readonly compression: Compression;
}

/** Stream an archive, hashing (not keeping) each layer as it passes, then model its metadata. */
export async function readArchive(input: string | Readable): Promise<ReadArchive> {
  const source = await openInput(input);
  // the stored digest is cheap and names a legacy layer's blob; DiffIDs come from the config
  const hashes = new EntryHasher({ decompress: false });
  const entries = await scanArchive(source.reader, (entry, body) => hashes.consume(entry, body), source.label).finally(() => source.close());
  const model = buildModel(entries, source.label);
  // an OCI layout directory's names outside the layout: said, never ignored silently
  const notes = source.warnings?.length ? { notes: [...source.warnings, ...model.notes] } : {};
  return { model: { ...model, ...notes }, hashes, label: source.label, compression: source.compression };
}
