/**
 * Output compression now lives in src/codec/compress.ts (one codec module for every reader and
 * writer); re-exported here while src/pipeline.ts, being rewritten, imports it from this path.
 */
export { type CompressStage, type OutputCompression, compressInto, outputCompression } from '../codec/compress.js';
