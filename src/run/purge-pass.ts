/**
 * `removePaths` (`--rm-path`): the first pass reads every streamed entry through the tar filter
 * (hashing, writing nothing), so before the rewrite is planned it knows which layers hold a match
 * and what their DiffIDs become. Then either those layers are rewritten (the configs name the new
 * DiffIDs through a config edit; the layer plan redoes the filter while it writes, one layer
 * spooled at a time), or, with `whiteout`, one whiteout layer is added on top and the layers stay
 * byte-identical (a warning says the bytes are still below).
 */
import type { EntryRecord } from '../archive/entry.js';
import type { ArchiveModel } from '../archive/model.js';
import type { Compression } from '../codec/index.js';
import type { Digest } from '../digest.js';
import type { ConfigEdit } from '../edit/index.js';
import { replaceDiffIds } from '../edit/layer.js';
import { ArchiveError, EditError, UsageError } from '../errors.js';
import type { LayerAddition } from '../layers/build.js';
import { layerPath, pathMatcher } from '../layers/filter.js';
import { type Purged, purgeStage, scanPurge } from '../layers/purge.js';
import type { LayerRewrite } from '../rewrite/layers.js';
import type { RewriteRequest } from '../rewrite/request.js';
import type { EditArchiveOptions } from './options.js';

/** What the first pass found, by input entry index. */
export interface PurgeScan {
  readonly drop: (path: string) => boolean;
  readonly purged: Map<number, Purged>;
  readonly unreadable: Map<number, string>;
}

export function purgeScan(opts: EditArchiveOptions): PurgeScan | undefined {
  const r = opts.removePaths;
  if (!r) return undefined;
  if (r.paths.length === 0) throw new RangeError('removePaths needs at least one path');
  if (opts.keepOriginal) throw new UsageError('--rm-path with --keep-original: the original image would keep naming the layers whose bytes are purged; write the purged image alone');
  return { drop: pathMatcher(r.paths), purged: new Map(), unreadable: new Map() };
}

/** The first pass's handler body for one streamed entry, given its first chunk's compression. */
export async function scanEntry(scan: PurgeScan, e: EntryRecord, body: AsyncIterable<Buffer>, c: Compression, label: string): Promise<void> {
  if (c === 'xz' || c === 'bzip2') {
    for await (const _ of body);
    return;
  }
  const r = await scanPurge(body, c, scan.drop, `${label}: ${e.name}`);
  if (r.purged) scan.purged.set(e.index, r.purged);
  if (r.unreadable) scan.unreadable.set(e.index, r.unreadable);
}

const describe = (opts: EditArchiveOptions) => `RM PATH ${opts.removePaths!.paths.join(', ')}${opts.removePaths!.whiteout ? ' (whiteout)' : ''}`;

/** Before the request: the config edit naming the new DiffIDs, or the whiteout layer to add. */
export function purgeEdits(opts: EditArchiveOptions, model: ArchiveModel, scan: PurgeScan): { edits: ConfigEdit[]; additions: LayerAddition[]; warnings: string[] } {
  const layerEntries = new Set<number>();
  for (const img of model.images) for (const l of img.layers) if (l.entry) layerEntries.add(l.entry.index);
  const found = [...scan.purged].filter(([i]) => layerEntries.has(i));
  for (const [i, why] of scan.unreadable) {
    if (!layerEntries.has(i)) continue;
    const e = model.entries.find((x) => x.index === i);
    throw new ArchiveError(`this layer's tar cannot be read to the end (${why}); --rm-path cannot say its bytes are gone`, e?.name);
  }
  if (found.length === 0) return { edits: [], additions: [], warnings: [`--rm-path ${opts.removePaths!.paths.join(' ')}: no layer holds a match; nothing removed`] };
  if (opts.removePaths!.whiteout) {
    const paths = found.flatMap(([, p]) => p.removed.map(layerPath));
    return {
      edits: [],
      additions: [{ kind: 'whiteouts', paths, what: describe(opts) }],
      warnings: [`--rm-path --whiteout: ${new Set(paths).size} path(s) hidden by a whiteout layer on top; their bytes are still in the layers below (drop --whiteout to purge them)`],
    };
  }
  const map = new Map(found.map(([, p]) => [p.oldDiffId.toString(), p.newDiffId.toString()]));
  return { edits: [replaceDiffIds(map, describe(opts))], additions: [], warnings: [] };
}

/** After the request: the layers to rewrite, each used by edited images only (a layer shared with an image left as it is cannot change). */
export function purgeRewrites(model: ArchiveModel, request: RewriteRequest, scan: PurgeScan, whiteout: boolean): Map<number, LayerRewrite> {
  const out = new Map<number, LayerRewrite>();
  if (whiteout) return out;
  const filter = purgeStage(scan.drop);
  for (const img of model.images) {
    const edited = request.configs.has(img.id.toString());
    img.layers.forEach((l, i) => {
      const p = l.entry && scan.purged.get(l.entry.index);
      if (!p || !l.entry) return;
      if (!edited) {
        const users = model.images.filter((o) => request.configs.has(o.id.toString()) && o.layers.some((x) => x.entry === l.entry));
        if (users.length === 0) return; // an image not selected: its layers stay
        throw new EditError(
          `layer ${i + 1} of ${img.tags[0] ?? img.id.short} holds a match and is shared with ${users[0]!.tags[0] ?? users[0]!.id.short}, which --rm-path rewrites; select both images (or neither)`,
        );
      }
      if (l.diffId && !l.diffId.equals(p.oldDiffId)) {
        throw new ArchiveError(`its content hashes to ${p.oldDiffId} but the config's rootfs.diff_ids says ${l.diffId}: the layer or the config is damaged`, l.entry.name);
      }
      out.set(l.entry.index, { oldDiffId: p.oldDiffId, newDiffId: p.newDiffId, removed: p.removed, filter });
    });
  }
  return out;
}

export type { Digest };
