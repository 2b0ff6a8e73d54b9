/**
 * The renderer for the OCI layouts a conversion writes (`--format oci`, `--format docker`, and a
 * recompression of either): every node the folds keep, written under `blobs/<alg>/<hex>` children
 * first, then oci-layout, index.json and, for `docker`, Docker 25's manifest.json and repositories.
 */
import { derivedHeader, type EntryRecord, normalizeEntryPath } from '../archive/entry.js';
import type { Descriptor } from '../archive/graph.js';
import type { ArchiveModel, ImageModel, LayerInfo, PlatformImage } from '../archive/model.js';
import type { Header } from '../archive/tar/header.js';
import type { Digest } from '../digest.js';
import { ArchiveError } from '../errors.js';
import { type Json, type JsonObject, cloneJson, fieldKey, isJsonObject, jsonObject, printJson } from '../json/lossless.js';
import { normalizeReference } from '../reference.js';
import { OCI, type TargetFormat, familiarName, isDockerMediaType } from '../convert/media.js';
import { type Fold, type Folded, SAME, setMediaType } from './fold.js';
import type { LayerPlan } from './layers.js';
import { type OutputImage, splitTag, tagPart } from './names.js';
import { CONTAINERD_NAME, OCI_REF_NAME } from './policy.js';
import { type OutputEntry, fileHeader } from './request.js';

/** The two folds of a conversion: the images as edited, and as they were (for names that stay). */
export interface Folds {
  readonly edited: Fold;
  readonly original: Fold;
}

/** What the renderers give back: the entries, and what each output image's name points at. */
export interface Rendered {
  readonly entries: OutputEntry[];
  /** Per output image: its root digest (index, manifest; the config in docker-legacy); undefined while pending. */
  readonly roots: Map<OutputImage, Digest | undefined>;
}

/** Writes metadata entries once each, by normalised name. */
export class Emitter {
  readonly entries: OutputEntry[] = [];
  private readonly names = new Set<string>();

  emit(header: Header, data: Buffer, raw?: Buffer): void {
    const key = normalizeEntryPath(header.name);
    if (this.names.has(key)) return;
    this.names.add(key);
    this.entries.push({ header, data, ...(raw ? { raw } : {}) });
  }

  /** A blob held in memory, under `blobs/<alg>/<hex>` (its header bytes kept when its name is). */
  blob(digest: Digest, data: Buffer, from?: EntryRecord): void {
    const name = `blobs/${digest.algorithm}/${digest.hex}`;
    if (from && from.name === name && from.raw) this.emit(from.header, data, from.raw);
    else this.emit(from ? derivedHeader(from.header, name, data.length) : fileHeader(name, data.length), data);
  }
}

export function renderOci(model: ArchiveModel, folds: Folds, outputs: readonly OutputImage[], layers: LayerPlan, format: TargetFormat, warnings: Set<string>): Rendered {
  return new OciRenderer(model, folds, layers, format, warnings).render(outputs);
}

class OciRenderer {
  private readonly out = new Emitter();
  private readonly visited = new Set<string>();
  private readonly toOci: boolean;

  constructor(
    private readonly model: ArchiveModel,
    private readonly folds: Folds,
    private readonly layers: LayerPlan,
    private readonly format: TargetFormat,
    private readonly warnings: Set<string>,
  ) {
    this.toOci = format === 'oci' && !layers.sameLayout;
  }

  render(outputs: readonly OutputImage[]): Rendered {
    const top: Json[] = [];
    const items: Json[] = [];
    const repos: Record<string, Record<string, string>> = {};
    const roots = new Map<OutputImage, Digest | undefined>();
    for (const o of outputs) {
      const fold = o.side === 'new' ? this.folds.edited : this.folds.original;
      const r = this.root(o, fold);
      if (!r) continue;
      roots.set(o, r.digest);
      if (o.names.length === 0) top.push(withNames(r.desc, undefined, this.format));
      for (const n of o.names) top.push(withNames(r.desc, n, this.format));
      const p = this.platforms(o)[0];
      if (this.format === 'docker' && p) this.dockerItem(p, o.names, fold, items, repos);
    }
    for (const a of this.model.artifacts) {
      const r = this.model.graph.nodes.has(a.digest.toString()) ? this.node(a, this.folds.edited) : undefined;
      if (r?.kind === 'drop') continue;
      top.push(r ? this.descriptorFor(a, r, this.folds.edited) : a.raw);
    }
    this.finish(top, items, repos);
    return { entries: this.out.entries, roots };
  }

  /** The platforms an output image holds (the edited side keeps only those asked for). */
  private platforms(o: OutputImage): readonly PlatformImage[] {
    return o.side === 'new' ? this.folds.edited.keptPlatforms(o.target.platforms) : o.target.platforms;
  }

  /** An output image's index.json descriptor (without names) and root digest; undefined when it has none. */
  private root(o: OutputImage, fold: Fold): { desc: JsonObject; digest: Digest | undefined } | undefined {
    const root = o.target.descriptors[0];
    if (root && this.model.graph.nodes.has(root.digest.toString())) {
      const r = this.node(root, fold);
      if (r.kind === 'drop') return undefined;
      return { desc: this.descriptorFor(root, r, fold), digest: r.kind === 'new' ? r.blob?.digest : root.digest };
    }
    if (root) {
      this.warnings.add(`${root.digest} is not in the archive; index.json keeps naming it`);
      return { desc: cloneJson(root.raw), digest: root.digest };
    }
    const p = o.target.platforms[0];
    if (!p) return undefined;
    const what = o.target.names[0] ?? p.image.id.short;
    const r = fold.synthesized(p.image, what, (i, l) => {
      throw new ArchiveError(`layer ${i + 1} of ${what} is not in the archive`, l.entry?.name);
    });
    if (r.kind !== 'new') return undefined;
    this.config(p.image, fold);
    if (r.blob) this.out.blob(r.blob.digest, r.blob.bytes);
    const desc = jsonObject();
    desc.mediaType = OCI.manifest;
    return { desc: fold.retarget(desc, r, true), digest: r.blob?.digest };
  }

  /** A descriptor naming `d`'s node as the output has it. */
  private descriptorFor(d: Descriptor, r: Folded, fold: Fold): JsonObject {
    if (r.kind === 'new') return fold.retarget(cloneJson(d.raw), r, this.toOci);
    if (!this.toOci) return d.raw;
    const node = this.model.graph.nodes.get(d.digest.toString());
    const mt = node ? fold.ociTypeOf(node) : undefined;
    if (!mt || d.mediaType === mt) return d.raw;
    const out = cloneJson(d.raw);
    out[fieldKey(out, 'mediaType') ?? 'mediaType'] = mt;
    return out;
  }

  /** Fold a node and write it, children first (a node reached twice is written once). */
  private node(d: Descriptor, fold: Fold): Folded {
    const key = d.digest.toString();
    const r = fold.descriptor(d);
    const seen = `${fold === this.folds.edited ? 'e' : 'o'}:${key}`;
    if (r.kind === 'drop' || this.visited.has(seen)) return r;
    this.visited.add(seen);
    const n = this.model.graph.nodes.get(key)!;
    if (n.kind === 'index') {
      const results = fold.childResults(n.digest);
      n.children.forEach((c, i) => {
        if (results?.[i]?.kind !== 'drop' && this.model.graph.nodes.has(c.digest.toString())) this.node(c, fold);
      });
    } else if (n.role === 'image') {
      const img = fold.imageOf(n);
      if (img) this.config(img, fold);
    } else {
      if (n.config) this.carry(n.config);
      for (const l of n.layers) this.carry(l);
      if (n.subject && this.model.graph.nodes.has(n.subject.digest.toString())) {
        const sf = fold.subjectFold(n.subject);
        if (sf) this.node(n.subject, sf);
      }
    }
    if (r.kind === 'new') {
      if (r.blob) this.out.blob(r.blob.digest, r.blob.bytes, n.entry);
    } else this.out.blob(n.digest, n.entry.data!, n.entry);
    return r;
  }

  private config(img: ImageModel, fold: Fold): void {
    const c = fold.configOf(img);
    this.out.blob(c.digest, c.bytes, img.configEntry);
  }

  private carry(d: Descriptor): void {
    const e = this.layers.carry(d);
    if (e?.data) this.out.blob(d.digest, e.data, e);
  }

  /** A Docker 25 manifest.json item (blobs paths, RepoTags as Docker shows them, LayerSources for every layer) and its repositories lines. */
  private dockerItem(p: PlatformImage, names: readonly string[], fold: Fold, items: Json[], repos: Record<string, Record<string, string>>): void {
    const img = p.image;
    const cfg = fold.configOf(img);
    const item = jsonObject();
    item.Config = `blobs/${cfg.digest.algorithm}/${cfg.digest.hex}`;
    item.RepoTags = names.map(familiarName);
    const paths: Json[] = [];
    const sources = jsonObject();
    const manifest = p.manifest;
    const family = isDockerMediaType(manifest?.mediaType) ? 'docker' : 'oci';
    const layers = fold.layerList(img);
    layers.forEach((l: LayerInfo, i) => {
      const o = this.layers.oci(l, family, `layer ${i + 1} of ${img.tags[0] ?? img.id.short}`);
      const absent = o ? undefined : manifest?.layers[i];
      const digest = o ? o.digest : (absent?.digest ?? l.digest);
      if (!digest) return;
      paths.push(`blobs/${digest.algorithm}/${digest.hex}`);
      if (!l.diffId) return;
      if (absent)
        sources[l.diffId.toString()] = cloneJson(absent.raw); // a foreign layer: its descriptor with its urls, as docker save keeps it
      else if (o) {
        const d = jsonObject();
        d.mediaType = o.mediaType;
        d.size = o.size ?? 0;
        d.digest = digest.toString();
        sources[l.diffId.toString()] = d;
      }
    });
    item.Layers = paths;
    // a containerd export written back as one: no LayerSources, no repositories (as ctr writes it)
    const containerd = this.layers.sameLayout && this.model.layout === 'containerd';
    if (Object.keys(sources).length && !containerd) item.LayerSources = sources;
    items.push(item);
    const lastDiff = layers.at(-1)?.diffId;
    if (!lastDiff || containerd) return;
    for (const n of names) {
      const [repo, tag] = splitTag(familiarName(n));
      repos[repo] ??= {};
      repos[repo][tag] = lastDiff.hex;
    }
  }

  private finish(top: Json[], items: Json[], repos: Record<string, Record<string, string>>): void {
    const old = this.model.ociIndex;
    const index = old ? cloneJson(old.doc) : jsonObject();
    if (!old) {
      index.schemaVersion = 2;
      index.mediaType = OCI.index;
    } else if (this.toOci) setMediaType(index, OCI.index, true);
    index[fieldKey(index, 'manifests') ?? 'manifests'] = top;
    const layoutEntry = this.model.byPath.get('oci-layout');
    if (layoutEntry?.data) this.out.emit(derivedHeader(layoutEntry.header, 'oci-layout'), layoutEntry.data, layoutEntry.name === 'oci-layout' ? layoutEntry.raw : undefined);
    else this.out.emit(fileHeader('oci-layout', 31), Buffer.from('{"imageLayoutVersion": "1.0.0"}'));
    const indexBytes = printJson(index);
    this.out.emit(old ? derivedHeader(old.entry.header, 'index.json', indexBytes.length) : fileHeader('index.json', indexBytes.length), indexBytes);
    if (this.format !== 'docker') return;
    const mj = Buffer.from(printJson(items));
    const before = this.model.manifestJson?.entry;
    this.out.emit(before ? derivedHeader(before.header, 'manifest.json', mj.length) : fileHeader('manifest.json', mj.length), mj);
    if (Object.keys(repos).length) {
      const r = Buffer.from(JSON.stringify(repos));
      this.out.emit(fileHeader('repositories', r.length), r);
    }
  }
}

/** index.json descriptor for one name: containerd's full name, and the OCI ref.name (a tag as Docker writes it, the familiar reference as skopeo's oci-archive does). */
function withNames(desc: JsonObject, name: string | undefined, fmt: TargetFormat): JsonObject {
  const d = cloneJson(desc);
  const k = fieldKey(d, 'annotations') ?? 'annotations';
  const a = isJsonObject(d[k]) ? cloneJson(d[k] as JsonObject) : jsonObject();
  delete a[CONTAINERD_NAME];
  delete a[OCI_REF_NAME];
  if (name !== undefined) {
    a[CONTAINERD_NAME] = normalizeReference(name);
    a[OCI_REF_NAME] = fmt === 'docker' ? tagPart(name) : familiarName(name);
  }
  if (Object.keys(a).length) d[k] = a;
  else delete d[k];
  return d;
}

export { SAME };
