/**
 * The check of a tar given to `--add-layer`: every entry name (and hard link target) stays inside
 * the root (no `..` component), and the tar is complete. Symbolic links are kept as they are (an
 * absolute target is resolved inside the container by the engine, never by copyedit). Reads the
 * spooled tar's headers with positioned reads, skipping the data.
 */
import { open } from 'node:fs/promises';
import { BLOCK, MAX_EXTENSION_SIZE, applyExtensions, decodeHeader, decodeName, isZeroBlock, padding, parsePax } from '../archive/tar/header.js';
import { UsageError, ioError } from '../errors.js';

const escapes = (p: string) => p.split('/').includes('..');

/** Refuse a layer tar whose entries climb out of the root, or that is not a tar at all. */
export async function checkLayerTar(path: string, what: string): Promise<number> {
  const fh = await open(path, 'r').catch((e) => Promise.reject(ioError('read', path, e)));
  try {
    const size = (await fh.stat()).size;
    const block = Buffer.alloc(BLOCK);
    let off = 0;
    let count = 0;
    let pax: Record<string, string> | undefined;
    let longName: string | undefined;
    let longLink: string | undefined;
    const readAt = async (buf: Buffer, at: number) => {
      const { bytesRead } = await fh.read(buf, 0, buf.length, at);
      if (bytesRead !== buf.length) throw new UsageError(`--add-layer ${what}: the tar ends in the middle of an entry (truncated)`);
    };
    while (off + BLOCK <= size) {
      await readAt(block, off);
      if (isZeroBlock(block)) return count;
      let raw: ReturnType<typeof decodeHeader>;
      try {
        raw = decodeHeader(block);
      } catch (e) {
        throw new UsageError(`--add-layer ${what}: not a tar file (${(e as Error).message}) at byte ${off}`);
      }
      const n = raw.header.size;
      off += BLOCK;
      if (raw.kind === 'pax' || raw.kind === 'gnu-long-name' || raw.kind === 'gnu-long-link') {
        if (n > MAX_EXTENSION_SIZE) throw new UsageError(`--add-layer ${what}: a tar extension header of ${n} bytes`);
        const ext = Buffer.alloc(n);
        await readAt(ext, off);
        if (raw.kind === 'pax') pax = parsePax(ext);
        else if (raw.kind === 'gnu-long-name') longName = decodeName(ext.subarray(0, ext.indexOf(0) < 0 ? n : ext.indexOf(0)));
        else longLink = decodeName(ext.subarray(0, ext.indexOf(0) < 0 ? n : ext.indexOf(0)));
      } else if (raw.kind !== 'pax-global') {
        const h = applyExtensions(raw, pax, longName, longLink);
        if (escapes(h.name)) throw new UsageError(`--add-layer ${what}: entry ${h.name} climbs out of the root with '..'; no loader should unpack it`);
        if (h.type === 'link' && escapes(h.linkname)) throw new UsageError(`--add-layer ${what}: hard link ${h.name} points out of the root (${h.linkname})`);
        pax = longName = longLink = undefined;
        count++;
      }
      const data =
        raw.kind === 'pax' || raw.kind === 'gnu-long-name' || raw.kind === 'gnu-long-link' || raw.kind === 'pax-global' || raw.header.type === 'file' || raw.header.type === 'contiguous-file' ? n : 0;
      off += data + padding(data);
    }
    if (off !== size || count === 0) throw new UsageError(`--add-layer ${what}: not a complete tar file (no end-of-archive blocks)`);
    return count;
  } finally {
    await fh.close();
  }
}
