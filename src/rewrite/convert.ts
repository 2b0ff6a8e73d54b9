/**
 * A rewrite into another layout, or with layers re-encoded: the same fold as an edit, with the
 * conversion's steps (media types, the layer plan), rendered by the target layout's renderer.
 *
 * The writing pass needs each streamed entry's action before it reads the entry, and a layer's new
 * digest is known only once it is written. So the rewrite is rendered twice from the same graph:
 * first with no layer results (nodes that depend on a re-encoded layer fold to "pending"; the
 * actions, the kept and dropped nodes and the warnings are all decided), then, after the writing
 * pass, with the layers' digests, to write the metadata. Nothing is re-read or re-parsed between.
 */
import type { EntryRecord } from '../archive/entry.js';
import type { ArchiveModel, ImageTarget, LayoutName } from '../archive/model.js';
import type { Digest } from '../digest.js';
import type { Compression } from '../io/source.js';
import { type LayerCompression, type TargetFormat, isDockerMediaType } from '../convert/media.js';
import { Fold } from './fold.js';
import { renderLegacy } from './legacy.js';
import { type ConvertOptions, type ConvertedLayer, LayerPlan, type RecodeResult, type StreamAction } from './layers.js';
import { assignNames, keptOriginals, outputImages } from './names.js';
import { renderOci } from './oci.js';
import type { OutputEntry, RewriteRequest } from './request.js';

export interface ConversionPlan {
  readonly from: LayoutName;
  readonly to: TargetFormat;
  readonly layerCompression: LayerCompression | undefined;
  /** By input entry index; a streamed entry without an action is left out of the output. */
  readonly actions: ReadonlyMap<number, StreamAction>;
  /** Image layers that will be recompressed. */
  readonly recompressed: number;
  /** As far as known before the write (`finish` gives them with the new digests). */
  readonly warnings: readonly string[];
  /** Old config digest -> new, for every config the edit changed. */
  readonly renamed: ReadonlyMap<string, Digest>;
  /** What each edited target's name points at in the output, as far as known before the write (undefined: pending). */
  readonly roots: ReadonlyMap<ImageTarget, Digest | undefined>;
  /** Input entries the output no longer holds (unreferenced, or dropped by a policy). */
  readonly dropped: readonly string[];
  /** The metadata entries, given the recoded layers' results (by input entry index). */
  finish(results: ReadonlyMap<number, RecodeResult>): { entries: OutputEntry[]; layers: ConvertedLayer[]; roots: ReadonlyMap<ImageTarget, Digest | undefined>; warnings: string[] };
}

interface Rendering {
  readonly entries: OutputEntry[];
  readonly layers: LayerPlan;
  readonly roots: Map<ImageTarget, Digest | undefined>;
  readonly warnings: Set<string>;
  readonly renamed: Map<string, Digest>;
}

/**
 * Plan the rewrite of `model` under `request` into `opts.format`. `sniff` says how an input
 * entry's bytes are compressed (from its first bytes, seen in the first pass). Throws a UsageError
 * for what the target cannot express (zstd under Docker media types), an EditError for a
 * multi-platform image in the docker-legacy layout.
 */
export function planConversion(model: ArchiveModel, request: RewriteRequest, from: LayoutName, opts: ConvertOptions, sniff: (e: EntryRecord) => Compression): ConversionPlan {
  const render = (results: ReadonlyMap<number, RecodeResult>): Rendering => {
    const warnings = new Set<string>();
    const layers = new LayerPlan(model, opts, sniff, results);
    const toOci = opts.format === 'oci' && opts.sameLayout !== true;
    const added = {
      ...(opts.added?.size ? { added: opts.added } : {}),
      ...(opts.rewrite?.size ? { rewritten: new Map([...opts.rewrite.values()].map((w) => [w.oldDiffId.toString(), w.newDiffId])) } : {}),
    };
    const layer = opts.format === 'docker-legacy' ? undefined : layers.oci.bind(layers);
    const original = new Fold(model, { request: { configs: new Map() }, toOci, ...(layer ? { layer } : {}) }, warnings);
    const edited = new Fold(model, { request, kept: keptOriginals(model, request), original, toOci, ...(layer ? { layer } : {}), ...added }, warnings);
    const owners = assignNames(model, request);
    const change = new Set(request.targets.map((c) => c.target));
    // the edit changes nothing of this image: its two sides are one image
    const unchanged = (t: ImageTarget) => !request.onlyPlatforms?.length && t.platforms.every((p) => !edited.config(p.image) && !request.annotate?.configs.has(p.image.id.toString()));
    const outputs = outputImages(model, request, owners, unchanged);
    const folds = { edited, original };
    const r = opts.format === 'docker-legacy' ? renderLegacy(model, folds, outputs, layers, warnings) : renderOci(model, folds, outputs, layers, opts.format, warnings);
    const roots = new Map<ImageTarget, Digest | undefined>();
    for (const o of outputs) if (change.has(o.target) && o.side === 'new') roots.set(o.target, r.roots.get(o));
    return { entries: r.entries, layers, roots, warnings, renamed: edited.renamedConfigs() };
  };
  const first = render(new Map());
  return {
    from,
    to: opts.format,
    layerCompression: opts.layerCompression,
    actions: first.layers.actions,
    recompressed: first.layers.recompressed,
    warnings: [...first.warnings],
    renamed: first.renamed,
    roots: first.roots,
    dropped: droppedEntries(model, first),
    finish(results) {
      const r = render(results);
      return { entries: r.entries, layers: r.layers.layerReport(), roots: r.roots, warnings: [...r.warnings] };
    },
  };
}

/** Input entries of an image that the output does not carry: streamed ones without an action, metadata not written. */
function droppedEntries(model: ArchiveModel, r: Rendering): string[] {
  const written = new Set<string>();
  for (const e of r.entries) {
    const m = /(?:^|\/)(?:(sha256|sha512)\/)?([a-f0-9]{64,128})(?:\.json)?$/.exec(e.header.name);
    if (m) written.add(`${m[1] ?? 'sha256'}:${m[2]}`);
  }
  const parts = new Map<EntryRecord, string>();
  for (const n of model.graph.nodes.values()) parts.set(n.entry, n.digest.toString());
  for (const img of model.images) {
    parts.set(img.configEntry, img.id.toString());
    for (const l of img.layers) if (l.entry) parts.set(l.entry, '');
  }
  for (const [d, e] of model.blobs) if (!parts.has(e)) parts.set(e, e.data ? d : '');
  const out: string[] = [];
  for (const [e, d] of parts) {
    if (e.header.type === 'directory') continue;
    if (d === '' ? !r.layers.actions.has(e.index) : !written.has(d)) out.push(e.name);
  }
  return out.sort();
}

/** Is the archive already in `format` (so there is nothing to convert)? */
export function isLayoutOf(model: ArchiveModel, format: TargetFormat): boolean {
  if (format === 'docker-legacy') return model.layout === 'docker-legacy';
  if (format === 'docker') return model.layout === 'docker-oci';
  if (model.layout !== 'oci') return false;
  for (const n of model.graph.nodes.values()) {
    if (isDockerMediaType(n.mediaType)) return false;
    if (n.kind === 'manifest' && (isDockerMediaType(n.config?.mediaType) || n.layers.some((l) => isDockerMediaType(l.mediaType)))) return false;
    if (n.kind === 'index' && n.children.some((c) => isDockerMediaType(c.mediaType))) return false;
  }
  return true;
}

export type { ConvertOptions, ConvertedLayer, RecodeResult, StreamAction };
