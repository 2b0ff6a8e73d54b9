/**
 * What compression a stream's first bytes announce, as the engines decide it: moby's and
 * containerd's `DetectCompression` (gzip, bzip2, xz, zstd; a zstd stream may begin with skippable
 * frames, as `pzstd` output does, and is zstd all the same).
 */
export type Compression = 'none' | 'gzip' | 'zstd' | 'xz' | 'bzip2';

/** How many leading bytes `detectCompression` looks at: a skippable frame needs 8 (its magic and size). */
export const SNIFF_BYTES = 8;

const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames: magic 0x184D2A50..0x184D2A5F (RFC 8878 section 3.1.2). */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_START = 0x184d2a50;

export function isZstdSkippable(magic: number): boolean {
  return (magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_START;
}

export function detectCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58 && head[4] === 0x5a && head[5] === 0x00) return 'xz';
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bzip2';
  // moby and containerd (zstdMatcher): a skippable frame's magic, with at least 8 bytes seen, is zstd
  // whatever follows; their decoder (klauspost/compress) then skips it
  if (head.length >= 8 && isZstdSkippable(readU32LE(head, 0))) return 'zstd';
  return 'none';
}

function readU32LE(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/**
 * The largest window a zstd frame may declare: Go's decoder (klauspost/compress `MaxWindowSize`,
 * 1 << 29, its default `maxWindowSize`), which Docker and containerd use with default options,
 * refuses a frame whose Window_Descriptor says more ("window size exceeded").
 */
export const ZSTD_MAX_WINDOW = 1 << 29;

/**
 * Walks zstd frames as their bytes pass (frame headers, block headers, skippable frames; block
 * contents are skipped, never held) and reports the first frame whose declared window Go's
 * decoder would refuse. Anything that is not a frame ends the walk: the decoder reports it.
 */
export class ZstdFrameCheck {
  private readonly head = Buffer.alloc(16);
  private have = 0;
  private want = 4;
  private skip = 0;
  private state: 'magic' | 'skippable' | 'descriptor' | 'header' | 'block' = 'magic';
  private descriptor = 0;
  private done = false;
  /** Frames seen so far (skippable ones included), for the message. */
  private frames = 0;

  /** Feed the next bytes; returns why the stream is refused, once, else undefined. */
  update(chunk: Uint8Array): string | undefined {
    let i = 0;
    while (i < chunk.length && !this.done) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const n = Math.min(this.want - this.have, chunk.length - i);
      this.head.set(chunk.subarray(i, i + n), this.have);
      this.have += n;
      i += n;
      if (this.have < this.want) break;
      this.have = 0;
      const problem = this.step();
      if (problem) {
        this.done = true;
        return problem;
      }
    }
    return undefined;
  }

  private expect(state: ZstdFrameCheck['state'], want: number): void {
    this.state = state;
    this.want = want;
  }

  private step(): string | undefined {
    const h = this.head;
    switch (this.state) {
      case 'magic': {
        const magic = readU32LE(h, 0);
        this.frames++;
        if (isZstdSkippable(magic)) this.expect('skippable', 4);
        else if (magic === ZSTD_MAGIC) this.expect('descriptor', 1);
        else this.done = true;
        return undefined;
      }
      case 'skippable':
        this.skip = readU32LE(h, 0);
        this.expect('magic', 4);
        return undefined;
      case 'descriptor': {
        const d = h[0]!;
        this.descriptor = d;
        const single = (d & 0x20) !== 0;
        const fcs = [single ? 1 : 0, 2, 4, 8][d >> 6]!;
        const dict = [0, 1, 2, 4][d & 3]!;
        this.expect('header', (single ? 0 : 1) + dict + fcs);
        return undefined;
      }
      case 'header': {
        if ((this.descriptor & 0x20) === 0) {
          const wd = h[0]!;
          const base = 2 ** (10 + (wd >> 3));
          const window = base + (base / 8) * (wd & 7);
          if (window > ZSTD_MAX_WINDOW) {
            return `zstd frame ${this.frames} declares a ${sizeText(window)} window, more than the ${sizeText(ZSTD_MAX_WINDOW)} that Docker's and containerd's zstd decoder accept (they refuse it with "window size exceeded"); recompress the layer with a smaller window (zstd without --long, or --long=29 at most)`;
          }
        }
        this.expect('block', 3);
        return undefined;
      }
      case 'block': {
        const b = h[0]! | (h[1]! << 8) | (h[2]! << 16);
        const type = (b >> 1) & 3;
        if (type === 3) {
          this.done = true; // reserved block type: the decoder reports the corruption
          return undefined;
        }
        this.skip = type === 1 ? 1 : b >>> 3;
        if (b & 1) {
          this.skip += this.descriptor & 4 ? 4 : 0; // the content checksum
          this.expect('magic', 4);
        } else this.expect('block', 3);
        return undefined;
      }
    }
  }
}

function sizeText(n: number): string {
  if (n >= 2 ** 30 && n % 2 ** 30 === 0) return `${n / 2 ** 30} GiB`;
  if (n >= 2 ** 20) return `${Math.round((n / 2 ** 20) * 10) / 10} MiB`;
  return `${n} bytes`;
}
