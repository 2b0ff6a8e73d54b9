/**
 * image-copyedit: edit container image metadata inside a docker save archive, offline.
 *
 *     import { editArchive, removeVolumes, setEntrypoint } from 'image-copyedit';
 *     await editArchive({ input: 'in.tar', output: 'out.tar', edits: [removeVolumes('all'), setEntrypoint(['/app'])] });
 *
 * This file is the public surface, on purpose (docs/API.md, "What is public"): what a program
 * edits, reads, inspects, verifies and compares archives with, and the types of what it gets back.
 * The machinery under it (sources and sinks, the tar writer, hashers, the planners being unified
 * in issue 20) is not exported: import paths under dist/src/ are not part of the package's API.
 * test/unit/api-surface.test.ts pins this list; test/slow/api-types.test.ts compiles the example above.
 */

// edit an archive: the whole pipeline, its options and its report
export {
  editArchive,
  type EditArchiveOptions,
  type EditArchiveReport,
  type ImageReport,
  type PlatformReport,
  type ConversionReport,
} from './pipeline.js';
export type { ConvertedLayer } from './rewrite/layers.js';
export { TARGET_FORMATS, LAYER_COMPRESSIONS, type TargetFormat, type LayerCompression } from './convert/media.js';
export type { DirOutput } from './io/dir-target.js';
export type { PushStep, RegistryReport } from './registry/push.js';
export type { RegistryOptions } from './registry/transport.js';

// the edits: typed values, each a pure (config) -> config with a name
export * from './edit/index.js';

// layer content (issue 21): new layers on top, for EditArchiveOptions.addLayers
export { addFiles, addLayer, type AddedFile, type LayerAddition } from './layers/build.js';

// read an archive: the model (images as names point at them) and the graph under it
export { scanArchive, type StreamedEntryHandler } from './archive/scan.js';
export { buildModel } from './archive/layout.js';
export type { ArchiveModel, ImageModel, ImageTarget, PlatformImage, LayerInfo, LayoutName, ManifestJsonItem } from './archive/model.js';
export {
  buildGraph,
  parsePlatform,
  platformString,
  type GraphOptions,
  type ArchiveGraph,
  type Descriptor,
  type GraphNode,
  type IndexNode,
  type ManifestNode,
  type ManifestRole,
  type Platform,
} from './archive/graph.js';
export type { EntryRecord } from './archive/tar/entry.js';
export type { Header } from './archive/tar/header.js';

// inspect, compare, verify
export { inspectArchive, readArchive, diffArchives, diffReports } from './inspect/index.js';
export type { InspectReport, InspectImage, InspectLayer, RuntimeSummary, ArchiveDiff, ImageDiff, LayerDiff, ReadArchive } from './inspect/index.js';
export { verifyArchive, describeIssue } from './verify/index.js';
export type { VerifyReport, VerifyIssue, VerifyCounts } from './verify/index.js';

// look inside: the merged filesystem of an image (export, cat, ls), and of any layer stack
export {
  exportImage,
  catImageFile,
  listImageDir,
  openImageContent,
  mergeLayers,
  mergedEntries,
  mergedTarStream,
  readMergedFile,
  writeMergedTar,
  MergedFilesystem,
  bufferLayer,
  fileLayer,
} from './content/index.js';
export type { ExportOptions, ExportReport, ImageContent, ImageContentOptions, LayerSource, MergedEntry, MergedTarOptions, MergedTarSummary, PathOptions } from './content/index.js';

// values every part above speaks in
export { Digest, chainIds } from './digest.js';
export { normalizeReference } from './reference.js';
export { parseJson, stringifyJson, JsonNumber, type Json, type JsonObject } from './json/lossless.js';
export { ExitCode, CopyeditError, UsageError, ArchiveError, EditError, VerifyError, IoError, InterruptedError, RegistryError, PathError } from './errors.js';
