/**
 * Layers added on top (`addLayers`): each built into an uncompressed spool before the writing
 * pass (its DiffID known up front), given to the rewrite as a config edit (`appendLayer`: DiffID
 * and history) plus a layer the fold finds by that DiffID; the layer plan copies or compresses
 * the spool like a streamed layer (entries with negative indexes). One spool per added layer,
 * removed when the run ends.
 */
import type { EntryRecord } from '../archive/entry.js';
import type { ArchiveModel, LayerInfo } from '../archive/model.js';
import type { Compression } from '../codec/index.js';
import { removeSpool, spoolDir, spoolPath } from '../convert/recode.js';
import type { TargetFormat } from '../convert/media.js';
import type { Digest } from '../digest.js';
import type { ConfigEdit } from '../edit/index.js';
import { appendLayer } from '../edit/layer.js';
import { type LayerAddition, buildLayer, describeAddition } from '../layers/build.js';
import { fileHeader } from '../rewrite/request.js';
import type { EditArchiveOptions } from './options.js';

/** The added layers of one run: the edits that list them, the layers by DiffID, their spools. */
export interface AddedLayers {
  readonly edits: readonly ConfigEdit[];
  readonly byDiffId: ReadonlyMap<string, LayerInfo>;
  readonly spools: readonly { readonly entry: EntryRecord; readonly path: string }[];
  /** Each addition's DiffID, in order. */
  readonly diffIds: readonly Digest[];
  /** How they are written unless `layerCompression` says otherwise. */
  readonly compression: Compression;
  done(): Promise<void>;
}

/** Build every addition of `opts` (one layer each), in order. */
export async function buildAdded(opts: EditArchiveOptions, model: ArchiveModel, format: TargetFormat, sniff: (e: EntryRecord) => Compression): Promise<AddedLayers> {
  const dir = spoolDir(opts.output);
  const edits: ConfigEdit[] = [];
  const byDiffId = new Map<string, LayerInfo>();
  const spools: { entry: EntryRecord; path: string }[] = [];
  const diffIds: Digest[] = [];
  const done = async () => {
    for (const s of spools) await removeSpool(s.path);
  };
  try {
    for (const [k, a] of (opts.addLayers ?? []).entries()) {
      const built = await buildLayer(a, spoolPath(dir), opts.sourceDateEpoch);
      const name = `copyedit-added-layer-${k + 1}.tar`;
      const entry: EntryRecord = { index: -1 - k, name, path: name, header: fileHeader(name, built.size) };
      spools.push({ entry, path: built.path });
      // a merged layer replaces the image's layers (flatten-pass.ts); the others go on top
      if (a.kind !== 'merged' && a.kind !== 'source') edits.push(appendLayer(built.diffId.toString(), describeAddition(a), a.kind === 'ca-cert' ? a.chain : undefined));
      diffIds.push(built.diffId);
      // uncompressed: its digest is its DiffID
      byDiffId.set(built.diffId.toString(), { diffId: built.diffId, digest: built.diffId, entry, size: built.size });
    }
  } catch (e) {
    await done();
    throw e;
  }
  return { edits, byDiffId, spools, diffIds, compression: format === 'docker-legacy' ? 'none' : layersCompression(model, sniff), done };
}

/** How the archive's image layers are compressed (the first image's top layer); gzip for what no loader takes. */
function layersCompression(model: ArchiveModel, sniff: (e: EntryRecord) => Compression): Compression {
  for (const img of model.images) {
    const top = [...img.layers].reverse().find((l) => l.entry);
    if (!top?.entry) continue;
    const c = sniff(top.entry);
    return c === 'xz' || c === 'bzip2' ? 'gzip' : c;
  }
  return 'gzip';
}

export type { LayerAddition };
