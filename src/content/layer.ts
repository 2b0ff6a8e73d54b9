/**
 * Where a layer's bytes come from. A `LayerSource` opens the blob as stored (gzip, zstd, xz,
 * bzip2 or a plain tar: sniffed, never trusted from a media type) as many times as asked; the
 * merge reads each layer at most twice (headers, then the content it needs).
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { SNIFF_BYTES, decompressStream, detectCompression } from '../codec/index.js';
import { peek } from '../io/streams.js';
import { type LayerEntry, tarEntries } from './tar-entries.js';

/** One layer's blob, re-openable. `label` names it in messages (a digest or an entry name). */
export interface LayerSource {
  readonly label: string;
  /** The blob as stored; each call a fresh stream from its start. */
  open(): Readable | Promise<Readable>;
}

/** A layer held in a file: `length` bytes from `offset` (a blob file, or an entry of an uncompressed tar archive). */
export function fileLayer(path: string, label: string, offset = 0, length?: number): LayerSource {
  return {
    label,
    open: () => createReadStream(path, { start: offset, ...(length === undefined ? {} : { end: offset + length - 1 }), highWaterMark: 1 << 20 }),
  };
}

/** A layer held in memory (tests, small generated layers). */
export function bufferLayer(bytes: Buffer, label: string): LayerSource {
  return { label, open: () => Readable.from([bytes]) };
}

/** The layer's uncompressed tar stream, its compression sniffed from its first bytes. */
export async function openLayerTar(layer: LayerSource): Promise<Readable> {
  const raw = await layer.open();
  const head = await peek(raw, SNIFF_BYTES);
  const kind = detectCompression(head);
  return kind === 'none' ? raw : decompressStream(raw, kind, layer.label);
}

/** The layer's entries (see tarEntries), decompressing as they are read. */
export async function* layerEntries(layer: LayerSource): AsyncGenerator<LayerEntry> {
  yield* tarEntries(await openLayerTar(layer));
}
