/**
 * One block of the parallel gzip (src/codec/pgzip.ts), as its worker thread deflates it: raw
 * deflate primed with the previous 32 KiB of input, ended by a sync flush (the last block: the
 * final deflate block). A module of its own, without worker state, so that the tests compute the
 * same bytes block by block. zlib is loaded on first use (src/lazy.ts: start-up).
 */
import { zlib } from '../lazy.js';

/** Probes of a block: where they start (as fractions of it) and how long they are. */
const PROBES = [0, 0.5, 1] as const;
const PROBE = 16 << 10;

/**
 * Whether deflate would not shrink the block (random or already compressed bytes): three 16 KiB
 * probes at level 1 each come out at 98% or more of their size. Such a block is stored (level 0):
 * deflating random bytes cost 1.1 s of CPU per 60 MB at level 3 for nothing (stored: 0.13 s), as
 * klauspost/compress and so skopeo skip it too. A function of the block alone: the output's bytes
 * still depend on the input and the level only.
 */
function incompressible(data: Uint8Array): boolean {
  if (data.length < 4 * PROBE) return false;
  return PROBES.every((at) => {
    const from = Math.min(data.length - PROBE, Math.floor(at * data.length));
    return zlib().deflateRawSync(data.subarray(from, from + PROBE), { level: 1 }).length >= PROBE * 0.98;
  });
}

/**
 * The deflated block. The output chunk size is part of the format: zlib cuts stored blocks to the
 * room left in its output buffer, so it is one function of the block's length (one chunk: deflate
 * grows incompressible input by a few bytes per 16 KiB).
 */
export function deflateBlock(data: Uint8Array, dict: Uint8Array | undefined, level: number, last: boolean): Buffer {
  const chunkSize = Math.max(64 << 10, data.length + (data.length >> 6) + 1024);
  const z = zlib();
  return z.deflateRawSync(data, { level: incompressible(data) ? 0 : level, chunkSize, ...(dict ? { dictionary: dict } : {}), finishFlush: last ? z.constants.Z_FINISH : z.constants.Z_SYNC_FLUSH });
}
