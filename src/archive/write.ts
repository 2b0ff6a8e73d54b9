import type { ByteTarget } from '../io/target.js';
import type { EntryRecord } from './tar/entry.js';
import { BLOCK, type Header, encodeHeader, padding } from './tar/header.js';

const ZEROS = Buffer.alloc(2 * BLOCK);

/**
 * Writes a tar archive. Streamed entries keep their original header bytes (PAX records and all);
 * entries written anew get a ustar header, with PAX only where a name needs it.
 */
export class TarWriter {
  constructor(private readonly target: ByteTarget) {}

  private async put(b: Buffer): Promise<void> {
    const r = this.target.write(b);
    if (r) await r;
  }

  /** Write an entry whose bytes arrive as a stream (a layer), header as read. */
  async writeStream(entry: EntryRecord, body: AsyncIterable<Buffer>): Promise<void> {
    const h = entry.header;
    const size = h.type === 'file' || h.type === 'contiguous-file' ? h.size : 0;
    await this.put(entry.raw ?? encodeHeader(h));
    let n = 0;
    for await (const chunk of body) {
      n += chunk.length;
      if (n > size) throw new Error(`${entry.name}: more data than its header's ${size} bytes`);
      await this.put(chunk);
    }
    if (n !== size) throw new Error(`${entry.name}: ${n} of ${size} bytes`);
    const pad = padding(size);
    if (pad) await this.put(ZEROS.subarray(0, pad));
  }

  /** Write an entry held in memory; `raw` is the input's header when the entry is unchanged. */
  async writeBuffer(header: Header, data: Buffer, raw?: Buffer): Promise<void> {
    await this.put(raw ?? encodeHeader({ ...header, size: data.length }));
    await this.put(data);
    const pad = padding(data.length);
    if (pad) await this.put(ZEROS.subarray(0, pad));
  }

  /** The two zero blocks that end an archive. The caller then commits the sink. */
  async finish(): Promise<void> {
    await this.put(ZEROS);
  }
}
