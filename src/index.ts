/**
 * image-copyedit: edit container image metadata inside a docker save archive, offline.
 *
 *     import { editArchive, removeVolume, setEntrypoint } from 'image-copyedit';
 *     await editArchive({ input: 'in.tar', output: 'out.tar', edits: [removeVolume('all'), setEntrypoint('["/app"]')] });
 */
export {
  editArchive,
  editModel,
  type EditArchiveOptions,
  type EditArchiveReport,
  type ImageReport,
  type PlatformReport,
  type EditModelOptions,
  type DraftReport,
  type ConversionReport,
} from './pipeline.js';
export { planConversion, type ConversionPlan, type ConvertOptions, type ConvertedLayer, type StreamAction, type RecodeResult } from './convert/plan.js';
export { TARGET_FORMATS, LAYER_COMPRESSIONS, type TargetFormat, type LayerCompression } from './convert/media.js';
export { TarWriter } from './archive/write.js';
export { type ByteTarget, FdTarget, StreamTarget } from './io/target.js';
export { WriteBehind, WRITE_BEHIND_EVERY } from './io/write-behind.js';
export type { EntryRecord } from './archive/tar/entry.js';
export type { Header } from './archive/tar/header.js';
export * from './edit/index.js';
export { Digest, chainIds } from './digest.js';
export * from './errors.js';
export { buildModel } from './archive/layout.js';
export { scanArchive } from './archive/scan.js';
export type { ArchiveModel, ImageModel, ImageTarget, PlatformImage, LayerInfo, LayoutName, ManifestJsonItem } from './archive/model.js';
export { buildGraph, parsePlatform, platformString, type ArchiveGraph, type Descriptor, type GraphNode, type IndexNode, type ManifestNode, type ManifestRole, type Platform } from './archive/graph.js';
export { planRewrite, type OutputEntry, type RewritePlan, type RewriteRequest, type TargetChange } from './rewrite/propagate.js';
export { openInput, type Compression, type InputSource } from './io/source.js';
export type { DirOutput } from './io/dir-target.js';
export { selectTargets, type TargetSelection } from './select.js';
export { normalizeReference } from './reference.js';
export { parseJson, stringifyJson, JsonNumber, type Json, type JsonObject } from './json/lossless.js';
export { inspectArchive, readArchive, describeArchive, diffArchives, diffReports, walkOciGraph } from './inspect/index.js';
export type { InspectReport, InspectImage, InspectLayer, RuntimeSummary, ArchiveDiff, ImageDiff, LayerDiff, ReadArchive } from './inspect/index.js';
export { verifyArchive, verifyEntries, assertVerified, describeIssue, EntryHasher, canDecompressZstd } from './verify/index.js';
export type { VerifyReport, VerifyIssue, VerifyCounts, EntryHashes } from './verify/index.js';
