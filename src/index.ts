/**
 * image-copyedit: edit container image metadata inside a docker save archive, offline.
 *
 *     import { editArchive, removeVolume, setEntrypoint } from 'image-copyedit';
 *     await editArchive({ input: 'in.tar', output: 'out.tar', edits: [removeVolume('all'), setEntrypoint('["/app"]')] });
 */
export { editArchive, editModel, type EditArchiveOptions, type EditArchiveReport, type ImageReport } from './pipeline.js';
export * from './edit/index.js';
export { Digest, chainIds } from './digest.js';
export * from './errors.js';
export { buildModel } from './archive/layout.js';
export { scanArchive } from './archive/scan.js';
export type { ArchiveModel, ImageModel, LayerInfo, LayoutName, ManifestJsonItem, OciNode } from './archive/model.js';
export { planRewrite, type RewritePlan } from './rewrite/propagate.js';
export { openInput, type Compression, type InputSource } from './io/source.js';
export { selectImages } from './select.js';
export { normalizeReference } from './reference.js';
export { parseJson, stringifyJson, JsonNumber, type Json, type JsonObject } from './json/lossless.js';
export { inspectArchive, readArchive, describeArchive, diffArchives, diffReports, walkOciGraph } from './inspect/index.js';
export type { InspectReport, InspectImage, InspectLayer, RuntimeSummary, ArchiveDiff, ImageDiff, LayerDiff, ReadArchive } from './inspect/index.js';
export { verifyArchive, verifyEntries, assertVerified, describeIssue, EntryHasher, canDecompressZstd } from './verify/index.js';
export type { VerifyReport, VerifyIssue, VerifyCounts, EntryHashes } from './verify/index.js';
