import type { Readable } from 'node:stream';
import { readArchive } from './read.js';
import { type InspectReport, describeArchive } from './report.js';

export { describeArchive, type InspectImage, type InspectLayer, type InspectReport, type RuntimeSummary } from './report.js';
export { walkOciGraph, type AbsentManifest, type AttestationRef, type ManifestRef, type OciGraph } from './graph.js';
export { readArchive, type ReadArchive } from './read.js';
export { diffArchives, diffReports, type ArchiveDiff, type ImageDiff, type LayerDiff } from './diff.js';

/** Everything `copyedit inspect` shows, for every image in the archive. */
export async function inspectArchive(input: string | Readable): Promise<InspectReport> {
  const r = await readArchive(input);
  return describeArchive(r.model, r.hashes, r.label, r.compression);
}
