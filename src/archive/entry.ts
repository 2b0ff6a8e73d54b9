/**
 * The old home of the tar entry record, now src/archive/tar/entry.ts (below src/io, which writes
 * and reads entries too; see test/unit/layering.test.ts). Kept only for the modules being rewritten
 * meanwhile (src/pipeline.ts, src/convert/plan.ts, src/rewrite/propagate.ts, src/verify/hash.ts):
 * delete this file once they import ./tar/entry.js.
 */
export { type EntryRecord, derivedHeader, normalizeEntryPath, resolveRelative } from './tar/entry.js';
