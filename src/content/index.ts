/**
 * Look inside an image without a daemon (issue 21): its merged filesystem as a tar (`export`),
 * one file's bytes (`cat`), one directory (`ls`). Each opens the archive (file, OCI layout
 * directory, `-` or a stream), picks one image and platform, and reads the layers in place.
 */
import type { Readable, Writable } from 'node:stream';
import { type OutputSink, openOutput } from '../io/sink.js';
import { drained } from '../io/streams.js';
import { fstatSync } from 'node:fs';
import { PipeTarget } from '../io/pipe.js';
import { type ByteTarget, FdTarget, StreamTarget } from '../io/target.js';
import { type ImageContentOptions, openImageContent } from './image.js';
import { type MergedEntry, type MergedTarOptions, type MergedTarSummary, mergeLayers } from './merge.js';

export { type ImageContent, type ImageContentOptions, openImageContent } from './image.js';
export {
  type LayerSource,
  type MergedEntry,
  MergedFilesystem,
  type MergedTarOptions,
  type MergedTarSummary,
  type PathOptions,
  bufferLayer,
  fileLayer,
  mergeLayers,
  mergedEntries,
  mergedTarStream,
  readMergedFile,
  writeMergedTar,
} from './merge.js';

/** Options of `exportImage`. */
export interface ExportOptions extends ImageContentOptions, MergedTarOptions {}

/** What `exportImage` wrote. */
export interface ExportReport extends MergedTarSummary {
  /** The image exported: its first name, else its short ID. */
  readonly image: string;
  readonly layers: number;
}

/**
 * Write the merged filesystem of one image of `input` as a tar to `output` (a file, written to a
 * temporary name and renamed into place; `-` for standard output; or a stream), as `docker export`
 * of a container made from it would (`crane export`).
 */
export async function exportImage(input: string | Readable, output: string | Writable, options: ExportOptions = {}): Promise<ExportReport> {
  const content = await openImageContent(input, options);
  try {
    const fs = await mergeLayers(content.layers);
    const sink = await openOutput(output);
    try {
      const summary = await fs.writeTarTo(targetOf(sink, output), options);
      await sink.commit();
      return { ...summary, image: content.name, layers: content.layers.length };
    } catch (e) {
      await sink.abort();
      throw e;
    }
  } finally {
    content.close();
  }
}

/**
 * As the edit's output run: a file (also standard output redirected to one) takes write(2) calls
 * of the reused chunks, a pipe on standard output plain writes too, any other stream copies.
 */
function targetOf(sink: OutputSink, output: string | Writable): ByteTarget {
  if (sink.fd !== undefined) return new FdTarget(sink.fd, sink.writeBehind);
  if (sink.pipeFd !== undefined) return new PipeTarget(sink.pipeFd, sink.stream);
  if (output === '-' && fstatSync(1).isFile()) return new FdTarget(1);
  return new StreamTarget(sink.stream, true);
}

/** Copy one regular file of the image's merged filesystem to `out` (symbolic links followed inside the image's root). */
export async function catImageFile(input: string | Readable, path: string, out: Writable, options: ImageContentOptions = {}): Promise<void> {
  const content = await openImageContent(input, options);
  try {
    const fs = await mergeLayers(content.layers);
    const body = await fs.openFile(path);
    for await (const c of body) if (!out.write(c)) await drained(out);
  } finally {
    content.close();
  }
}

/** The entries of one directory of the image's merged filesystem (a path naming a non-directory lists just it, as `ls` does). */
export async function listImageDir(input: string | Readable, path: string, options: ImageContentOptions = {}): Promise<MergedEntry[]> {
  const content = await openImageContent(input, options);
  try {
    const fs = await mergeLayers(content.layers);
    const st = fs.stat(path, { follow: true });
    if (st && st.type !== 'directory') return [fs.stat(path) ?? st];
    return fs.readdir(path);
  } finally {
    content.close();
  }
}
