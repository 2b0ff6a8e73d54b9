/**
 * Planning the request: which images and platforms an edit selects, what each config becomes,
 * the names that move, and the per-image reports once the rewrite has given them digests.
 * Pure functions of the model and the options.
 */
import type { Platform } from '../archive/graph.js';
import { platformMatches, platformString } from '../archive/graph.js';
import { type ArchiveModel, type ImageModel, type ImageTarget, type PlatformImage, targetDigest } from '../archive/model.js';
import type { Digest } from '../digest.js';
import { type ConfigEdit, applyEdits } from '../edit/index.js';
import { clampTimes } from '../edit/history.js';
import { ArchiveError, EditError } from '../errors.js';
import { type JsonObject, field, fieldKey, isJsonObject, jsonObject } from '../json/lossless.js';
import { diffJson } from '../json/diff.js';
import { checkTag, uniqueReferences } from '../reference.js';
import type { RewriteRequest, TargetChange } from '../rewrite/request.js';
import type { RewritePlan } from '../rewrite/inplace.js';
import { withEngineIds } from '../inspect/engine-ids.js';
import { selectTargets } from '../select.js';
import type { EditArchiveOptions, ImageReport, PlatformReport } from './options.js';
export function editSettings(opts: EditArchiveOptions, tags: string[] | undefined): { edits: readonly ConfigEdit[]; editOpts: EditModelOptions } {
  const edits = opts.sourceDateEpoch === undefined ? opts.edits : [...opts.edits, clampTimes(opts.sourceDateEpoch)];
  const editOpts: EditModelOptions = {
    images: opts.images ?? [],
    history: opts.history !== false,
    annotations: opts.annotations,
    ...(tags ? { tags } : {}),
    ...(opts.keepOriginal ? { keepOriginal: true } : {}),
    ...(opts.platforms?.length ? { platforms: opts.platforms } : {}),
    ...(opts.onlyPlatforms?.length ? { onlyPlatforms: opts.onlyPlatforms } : {}),
    ...(opts.dropAbsent ? { dropAbsent: true } : {}),
  };
  return { edits, editOpts };
}

/** Each selected image's report, given the configs renamed and what each target's name now points at (undefined: not known yet). */
export function imageReports(reports: readonly DraftReport[], request: RewriteRequest, renamed: ReadonlyMap<string, Digest>, rootOf: (t: ImageTarget) => Digest | undefined): ImageReport[] {
  return reports.map((r, i): ImageReport => {
    const target = request.targets[i]!.target;
    const root = rootOf(target);
    const newDigest = root ?? r.oldDigest;
    const platforms = r.platforms.map((p) => ({ ...p, newId: renamed.get(p.oldId.toString()) ?? p.oldId }));
    // the ID is a config digest (one platform) or the index's (several): each compared with its own kind
    const configId = target.platforms.some((p) => p.image.id.equals(r.oldId));
    const newId = configId ? (renamed.get(r.oldId.toString()) ?? r.oldId) : newDigest;
    const retagged = r.newTags.length !== r.tags.length || r.newTags.some((x, j) => x !== r.tags[j]);
    // a root not known yet (a dry run's recompressed layers) is one that changes
    return { ...r, newId, newDigest, platforms, changed: root === undefined || !newDigest.equals(r.oldDigest) || !newId.equals(r.oldId) || retagged };
  });
}

/** Edits that must reach the legacy `<v1id>/json` files too: build arguments they repeat. */
export function legacyJsonEdit(edits: readonly ConfigEdit[]): { legacyJson?: (doc: JsonObject) => JsonObject | undefined } {
  const leaky = edits.filter((e) => e.name === 'history-rm-arg');
  if (leaky.length === 0) return {};
  return {
    legacyJson: (doc) => {
      const r = applyEdits(doc, leaky);
      return r.changed ? r.config : undefined;
    },
  };
}

export function checkTags(tags: readonly string[] | undefined): string[] | undefined {
  if (!tags || tags.length === 0) return undefined;
  // `app:1` and `docker.io/library/app:1` are one name: written once (the first spelling)
  return uniqueReferences(
    tags.map((t) => {
      const r = checkTag(t);
      if ('error' in r) throw new RangeError(`tag ${r.error}`);
      return r.tag;
    }),
  );
}

export interface EditModelOptions {
  readonly images?: readonly string[];
  readonly tags?: readonly string[];
  readonly keepOriginal?: boolean;
  readonly history?: boolean;
  readonly annotations?: EditArchiveOptions['annotations'];
  /** Edit only these platforms of a multi-platform image (default: every platform the archive holds). */
  readonly platforms?: readonly Platform[];
  /** Keep only these platforms (and edit them); the others leave the index with their blobs. */
  readonly onlyPlatforms?: readonly Platform[];
  /** Remove index entries whose manifests the archive does not hold. */
  readonly dropAbsent?: boolean;
}

/** What editModel reports per image before the rewrite gives it its new digests. */
export type DraftReport = Omit<ImageReport, 'newId' | 'changed' | 'newDigest' | 'platforms'> & { readonly platforms: readonly Omit<PlatformReport, 'newId'>[] };

/** Decide what changes for each selected image; pure apart from the returned values. */
export function editModel(model: ArchiveModel, edits: readonly ConfigEdit[], o: EditModelOptions = {}): { request: RewriteRequest; reports: DraftReport[] } {
  const selected = selectTargets(model.targets, o.images ?? []);
  if (o.tags && selected.length > 1) {
    throw new EditError(`--tag names one image, but ${selected.length} are selected (${selected.map((s) => targetLabel(s.target)).join(', ')}); pick one with --image`);
  }
  const filter = [...(o.platforms ?? []), ...(o.onlyPlatforms ?? [])];
  const wanted = (p: PlatformImage) => filter.length === 0 || filter.some((w) => platformMatches(p.platform, w));
  if (filter.length > 0 && !selected.some((s) => s.target.platforms.some(wanted))) {
    const have = selected.flatMap((s) => s.target.platforms.map((p) => (p.platform ? platformString(p.platform) : 'unknown')));
    throw new EditError(`--platform ${filter.map(platformString).join(', ')} matches no platform of the selected images; they have: ${[...new Set(have)].join(', ') || 'none'}`);
  }
  const configs = new Map<string, JsonObject>();
  const results = new Map<string, { config: JsonObject; changed: boolean; warnings: string[] }>();
  const edit = (img: ImageModel) => {
    let r = results.get(img.id.toString());
    if (!r) {
      const a = applyEdits(img.config, edits);
      // an added layer has its own history entry (edit/layer.ts)
      const described = edits.filter((e) => e.name !== 'add-layer' && e.name !== 'flatten');
      const trace = described.length === edits.length || described.some((e) => e.name !== 'source-date-epoch');
      r = { ...a, config: a.changed && o.history !== false && trace ? withHistory(a.config, described) : a.config };
      results.set(img.id.toString(), r);
      if (a.changed) configs.set(img.id.toString(), r.config);
    }
    return r;
  };
  const annotate = annotationEdit(o.annotations);
  const annotated = new Set<string>();
  const reports: DraftReport[] = [];
  const targets: TargetChange[] = [];
  for (const { target, moving } of selected) {
    const platforms = target.platforms.filter(wanted).map((p) => {
      const r = edit(p.image);
      if (annotate) annotated.add(p.image.id.toString());
      return { platform: p.platform ? platformString(p.platform) : null, oldId: p.image.id, configChanges: diffJson(p.image.config, r.config), warnings: r.warnings };
    });
    targets.push({ target, moving, ...(o.tags ? { newNames: o.tags } : {}) });
    const names = moving === 'all' ? target.names : moving;
    reports.push({
      tags: names,
      newTags: o.tags ?? names,
      oldId: platforms.length === 1 || target.platforms.length === 1 ? (platforms[0]?.oldId ?? target.platforms[0]!.image.id) : targetDigest(target),
      oldDigest: targetDigest(target),
      edits: [...edits.map((e) => e.description), ...(o.tags ? [`tag ${o.tags.join(', ')}`] : [])],
      warnings: [...new Set(platforms.flatMap((p) => p.warnings))],
      configChanges: platforms[0]?.configChanges ?? [],
      platforms: platforms.map(({ warnings: _w, ...p }) => p),
      otherNames: moving === 'all' ? [] : target.names.filter((n) => !moving.includes(n)),
    });
  }
  const request: RewriteRequest = {
    configs,
    targets,
    ...(annotate ? { annotate: { configs: annotated, edit: annotate } } : {}),
    ...(o.keepOriginal ? { keepOriginal: true } : {}),
    ...(o.onlyPlatforms?.length ? { onlyPlatforms: o.onlyPlatforms } : {}),
    ...(o.dropAbsent ? { dropAbsent: true } : {}),
  };
  return { request, reports };
}

function targetLabel(t: ImageTarget): string {
  return t.names[0] ?? targetDigest(t).short;
}

/** Docker's own edits leave a trace in `history`; so do ours (an empty layer, like LABEL or ENV). */
function withHistory(config: JsonObject, edits: readonly ConfigEdit[]): JsonObject {
  const entry = jsonObject();
  // deterministic: the image's own creation time, which --created may have set
  const created = field(config, 'created');
  if (typeof created === 'string') entry.created = created;
  entry.created_by = `copyedit: ${edits.map((e) => e.description).join('; ')}`;
  entry.comment = 'image-copyedit';
  entry.empty_layer = true;
  const out = jsonObject();
  for (const k of Object.keys(config)) out[k] = config[k]!;
  const key = fieldKey(config, 'history') ?? 'history';
  const history = config[key];
  out[key] = [...(Array.isArray(history) ? history : []), entry];
  return out;
}

function annotationEdit(a: EditArchiveOptions['annotations']): ((x: JsonObject) => JsonObject) | undefined {
  if (!a || (!a.remove?.length && !Object.keys(a.set ?? {}).length)) return undefined;
  return (before) => {
    const out = jsonObject();
    for (const k of Object.keys(before)) if (!a.remove?.includes(k)) out[k] = before[k]!;
    for (const [k, v] of Object.entries(a.set ?? {})) out[k] = v;
    return out;
  };
}

/** docker load refuses an image whose manifest.json Layers and rootfs.diff_ids differ in length. */
export function checkLayerCounts(model: ArchiveModel, label: string): void {
  model.manifestJson?.items.forEach((item, i) => {
    const img = model.manifestJson!.itemImages[i]!;
    const rootfs = field(img.config, 'rootfs');
    const diffIds = isJsonObject(rootfs) ? field(rootfs, 'diff_ids') : undefined;
    const ids = Array.isArray(diffIds) ? diffIds.length : 0;
    if (ids !== item.layers.length) {
      throw new ArchiveError(`lists ${item.layers.length} layers for ${img.tags[0] ?? img.id.short} but its config has ${ids} diff_ids; docker load would refuse it`, `${label}: manifest.json`);
    }
  });
}

/** The reports of an edit that keeps the layout (streamed or patched): each image with the IDs both kinds of engine show. */
export function inPlaceReports(model: ArchiveModel, request: RewriteRequest, reports: readonly DraftReport[], plan: RewritePlan): ImageReport[] {
  const images = imageReports(reports, request, plan.renamed, (t) => plan.targets.get(t)?.digest);
  return withEngineIds(images, model, request, plan, model.ociIndex !== undefined ? 'index' : 'manifest.json');
}
