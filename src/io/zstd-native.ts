import type { Transform } from 'node:stream';
import { zlib } from '../lazy.js';

/** zstd streams from Node's own zlib. */
export interface NativeZstd {
  compress(): Transform;
  decompress(): Transform;
}

type ZstdZlib = { createZstdCompress?: () => Transform; createZstdDecompress?: () => Transform };

/**
 * zstd in `node:zlib` (Node 22.15+, 23.8+, 24), or undefined on a Node without it (Node 20):
 * the callers then use the `zstd` program, as before. Default parameters (level 3, the zstd
 * program's default), so the bytes are the same either way for one zstd library version.
 */
export function nativeZstd(): NativeZstd | undefined {
  const z = zlib() as unknown as ZstdZlib;
  const { createZstdCompress: c, createZstdDecompress: d } = z;
  if (typeof c !== 'function' || typeof d !== 'function') return undefined;
  return { compress: () => c.call(z), decompress: () => d.call(z) };
}
