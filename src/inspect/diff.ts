import type { Readable } from 'node:stream';
import type { ImageModel } from '../archive/model.js';
import { type JsonChange, diffJson } from '../json/diff.js';
import { normalizeReference } from '../reference.js';
import { type ReadArchive, readArchive } from './read.js';
import { type InspectImage, type InspectLayer, describeArchive } from './report.js';

export interface LayerDiff {
  /** Position in the layer stack (0 = base). */
  readonly index: number;
  /** `recompressed`: same DiffID, different stored blob. */
  readonly status: 'same' | 'changed' | 'recompressed' | 'added' | 'removed';
  readonly a: InspectLayer | null;
  readonly b: InspectLayer | null;
}

export interface ImageDiff {
  /** `only-a` / `only-b`: no image on the other side shares a tag or ID with it. */
  readonly status: 'same' | 'changed' | 'only-a' | 'only-b';
  readonly a: { readonly id: string; readonly tags: readonly string[]; readonly manifestDigest: string | null } | null;
  readonly b: { readonly id: string; readonly tags: readonly string[]; readonly manifestDigest: string | null } | null;
  readonly tagsAdded: readonly string[];
  readonly tagsRemoved: readonly string[];
  /** Field-level changes of the whole image config (`config.Volumes./data`, `history[3]`, ...). */
  readonly config: readonly JsonChange[];
  readonly layers: readonly LayerDiff[];
}

export interface ArchiveDiff {
  readonly schemaVersion: 1;
  readonly a: string;
  readonly b: string;
  readonly layouts: { readonly a: string; readonly b: string };
  /** True when every image has the same ID, tags and layers on both sides. */
  readonly identical: boolean;
  readonly images: readonly ImageDiff[];
}

/** Read two archives (one after the other, each streamed) and say what differs between their images. */
export async function diffArchives(a: string | Readable, b: string | Readable): Promise<ArchiveDiff> {
  const ra = await readArchive(a);
  const rb = await readArchive(b);
  return diffReports(ra, rb);
}

/**
 * Pair images by a shared tag (normalised, so `example/app:1` = `docker.io/example/app:1`), then by
 * image ID; a single leftover on each side is paired too (an edit that also retagged).
 */
export function diffReports(ra: ReadArchive, rb: ReadArchive): ArchiveDiff {
  const ia = describeArchive(ra.model, ra.hashes, ra.label, ra.compression).images;
  const ib = describeArchive(rb.model, rb.hashes, rb.label, rb.compression).images;
  const pairs: [number | undefined, number | undefined][] = [];
  const usedB = new Set<number>();
  const norm = (tags: readonly string[]) => new Set(tags.map((t) => normalizeReference(t)));
  const pairedA = new Set<number>();
  const match = (test: (x: InspectImage, y: InspectImage) => boolean) =>
    ia.forEach((x, i) => {
      if (pairedA.has(i)) return;
      const j = ib.findIndex((y, k) => !usedB.has(k) && test(x, y));
      if (j < 0) return;
      pairs.push([i, j]);
      pairedA.add(i);
      usedB.add(j);
    });
  match((x, y) => {
    const ty = norm(y.tags);
    return [...norm(x.tags)].some((t) => ty.has(t));
  });
  match((x, y) => x.id === y.id);
  const leftA = ia.map((_, i) => i).filter((i) => !pairedA.has(i));
  const leftB = ib.map((_, j) => j).filter((j) => !usedB.has(j));
  if (leftA.length === 1 && leftB.length === 1) pairs.push([leftA[0], leftB[0]]);
  else {
    for (const i of leftA) pairs.push([i, undefined]);
    for (const j of leftB) pairs.push([undefined, j]);
  }
  const images = pairs.map(([i, j]) =>
    diffImage(i === undefined ? undefined : ia[i], i === undefined ? undefined : ra.model.images[i], j === undefined ? undefined : ib[j], j === undefined ? undefined : rb.model.images[j]),
  );
  return {
    schemaVersion: 1,
    a: ra.label,
    b: rb.label,
    layouts: { a: ra.model.layout, b: rb.model.layout },
    identical: images.every((d) => d.status === 'same'),
    images,
  };
}

function diffImage(a: InspectImage | undefined, ma: ImageModel | undefined, b: InspectImage | undefined, mb: ImageModel | undefined): ImageDiff {
  const side = (x: InspectImage | undefined) => (x ? { id: x.id, tags: x.tags, manifestDigest: x.manifestDigest } : null);
  const ta = new Set(a?.tags.map((t) => normalizeReference(t)) ?? []);
  const tb = new Set(b?.tags.map((t) => normalizeReference(t)) ?? []);
  const tagsAdded = (b?.tags ?? []).filter((t) => !ta.has(normalizeReference(t)));
  const tagsRemoved = (a?.tags ?? []).filter((t) => !tb.has(normalizeReference(t)));
  const config = ma && mb ? diffJson(ma.config, mb.config) : [];
  const la = a?.layers ?? [];
  const lb = b?.layers ?? [];
  const layers: LayerDiff[] = [];
  for (let k = 0; k < Math.max(la.length, lb.length); k++) {
    const x = la[k] ?? null;
    const y = lb[k] ?? null;
    const status = !x ? 'added' : !y ? 'removed' : x.diffId !== y.diffId ? 'changed' : x.blobDigest !== y.blobDigest ? 'recompressed' : 'same';
    layers.push({ index: k, status, a: x, b: y });
  }
  const status = !a ? 'only-b' : !b ? 'only-a' : a.id === b.id && !tagsAdded.length && !tagsRemoved.length && layers.every((l) => l.status === 'same') ? 'same' : 'changed';
  return { status, a: side(a), b: side(b), tagsAdded, tagsRemoved, config, layers };
}
