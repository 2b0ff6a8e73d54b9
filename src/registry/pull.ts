/**
 * A registry image as an OCI image layout tar stream (oci-layout, every blob, index.json naming
 * the image last), for the archive edit to read as it reads `docker save`: layers streamed from
 * the registry one at a time, each checked against its digest as it passes, never held in memory.
 */
import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { TarWriter } from '../archive/write.js';
import { Digest } from '../digest.js';
import { RegistryError } from '../errors.js';
import { fileHeader } from '../rewrite/request.js';
import type { RegistryClient } from './client.js';
import { refString } from './ref.js';
import type { RegistryImage } from './source.js';

/**
 * The image as a tar stream; a failure (a digest mismatch, the registry gone) ends the stream
 * early, and `failure()` says why (the reader only sees a truncated archive).
 */
export function layoutStream(client: RegistryClient, image: RegistryImage): { stream: Readable; failure: () => Error | undefined } {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  let failed: Error | undefined;
  out.on('error', () => undefined); // the reader's own error (truncated) is the one it throws
  const writer = new TarWriter({
    write: (b) => {
      if (out.destroyed) throw new RegistryError('the reader stopped', refString(image.ref));
      if (!out.write(b)) return new Promise<void>((r) => out.once('drain', () => r()));
    },
  });
  const write = async (): Promise<void> => {
    for (const e of image.model.entries) {
      if (e.path === 'index.json') continue;
      if (e.data) {
        await writer.writeBuffer(e.header, e.data);
        continue;
      }
      const d = Digest.fromEntryPath(e.path)!;
      await writer.writeStream(e, checked(await client.getBlob(image.ref.repository, d), d, refString(image.ref)));
    }
    const idx = image.model.byPath.get('index.json')!;
    await writer.writeBuffer(fileHeader('index.json', idx.data!.length), idx.data!);
    await writer.finish();
    out.end();
  };
  write().catch((e: unknown) => {
    failed = e as Error;
    out.destroy(failed);
  });
  return { stream: out, failure: () => failed };
}

/** The blob's bytes, its digest checked when the last byte has passed. */
async function* checked(body: Readable, d: Digest, label: string): AsyncIterable<Buffer> {
  const h = createHash(d.algorithm);
  for await (const c of body) {
    h.update(c as Buffer);
    yield c as Buffer;
  }
  const got = h.digest('hex');
  if (got !== d.hex) throw new RegistryError(`blob ${d} does not match its digest (the registry sent ${d.algorithm}:${got}); refusing it`, label);
}
