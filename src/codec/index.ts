/** Compression codecs (gzip, zstd, xz, bzip2): detection, decompression and compression for every reader and writer. */
export { type Compression, SNIFF_BYTES, ZSTD_MAX_WINDOW, ZstdFrameCheck, detectCompression } from './detect.js';
export { canDecompressZstd, decompressStream, decompressor, inflater } from './decompress.js';
export { type CompressStage, type OutputCompression, LAYER_LEVELS, compressInto, compressor, outputCompression } from './compress.js';
