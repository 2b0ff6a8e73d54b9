/**
 * The rewrite's one fold: what each node of the graph (config, manifest, index, referrer) becomes
 * under a set of steps, bottom-up and memoised by digest. Every kind of change is a step here:
 * - edits: new configs (`configs`), manifest annotations (`annotate`);
 * - selection: platforms kept (`onlyPlatforms`), absent entries removed (`dropAbsent`);
 * - conversion: Docker media types to OCI (`toOci`);
 * - layer re-encoding: what each layer blob becomes (`layer`, from the layer plan).
 * The policies (policy.ts) are applied here and nowhere else. Renderers (inplace.ts, oci.ts,
 * legacy.ts) turn the results into the entries of one layout.
 *
 * A node's new digest may not be known yet: a recompressed layer's digest is known only once it is
 * written. Such a node folds to `new` with no blob (pending); what depends on it is pending too, and
 * everything structural (kept, dropped, changed) is decided all the same, before any byte is written.
 */
import { type Descriptor, type GraphNode, type IndexNode, type ManifestNode, isAttestation, platformMatches, platformString } from '../archive/graph.js';
import type { ArchiveModel, ImageModel, LayerInfo, PlatformImage } from '../archive/model.js';
import type { Digest } from '../digest.js';
import { type Json, type JsonObject, cloneJson, field, fieldKey, isJsonObject, jsonObject } from '../json/lossless.js';
import { OCI, isDockerMediaType, ociMediaType } from '../convert/media.js';
import { SOCI_INDEX_DIGEST, bytesAnnotationsDropped, describedDigest, describesBytes, isSignature, isStatement, referrerDropped, referrerRepointed, signatureWhy, statementDropped } from './policy.js';
import { type NewBlob, type RewriteRequest, makeBlob, withDigest, withField, withoutAnnotation } from './request.js';
import { addedDescriptors, layerDescriptor, outputLayers } from './layer-list.js';

/** What one node becomes: unchanged, replaced (its blob, or pending until layers are written), or dropped. */
export type Folded = { readonly kind: 'same' } | { readonly kind: 'new'; readonly blob: NewBlob | undefined; readonly mediaType: string | undefined } | { readonly kind: 'drop'; readonly why: string };
export const SAME: Folded = { kind: 'same' };

/** What a layer blob is written as, from the layer plan; `digest` undefined until it is written. */
export interface LayerOut {
  readonly digest: Digest | undefined;
  readonly size: number | undefined;
  readonly mediaType: string;
  /** Its bytes change (recompressed): annotations about the old bytes must go. */
  readonly recoded: boolean;
}

/** The layer step: the output blob of an image layer, or undefined when it is absent (kept as it is). */
export type LayerStep = (layer: LayerInfo, family: 'oci' | 'docker', what: string) => LayerOut | undefined;

export interface FoldSteps {
  readonly request: Pick<RewriteRequest, 'configs' | 'annotate' | 'onlyPlatforms' | 'dropAbsent'>;
  /** Digests whose original stays in the output: a referrer of one follows the original's fold. */
  readonly kept?: ReadonlySet<string>;
  /** The fold of the originals, for referrers of kept subjects (a conversion converts them too). */
  readonly original?: Fold;
  readonly toOci?: boolean;
  readonly layer?: LayerStep;
  /** Layers copyedit made, by DiffID: a new config whose diff_ids name one gets it on top. */
  readonly added?: ReadonlyMap<string, LayerInfo>;
  /** Layers rewritten (`--rm-path`): old DiffID -> new. */
  readonly rewritten?: ReadonlyMap<string, Digest>;
}

export class Fold {
  private readonly memo = new Map<string, Folded>();
  private readonly configMemo = new Map<string, NewBlob | null>();
  private readonly synthMemo = new Map<string, Folded>();
  /** Per index folded: what each of its children became (statements decided with their subjects). */
  private readonly childMemo = new Map<string, readonly Folded[]>();
  /** Old digest -> new blob, for every node and config replaced. */
  readonly replaced = new Map<string, NewBlob>();
  private readonly imageById: Map<string, ImageModel>;
  annotatedAny = false;

  constructor(
    private readonly model: ArchiveModel,
    private readonly steps: FoldSteps,
    /** Warnings and notes, shared by every fold of one rewrite (each said once). */
    private readonly warnings: Set<string>,
  ) {
    this.imageById = new Map(model.images.map((i) => [i.id.toString(), i]));
  }

  /** The new config blob of an image, when the request changes it. */
  config(img: ImageModel): NewBlob | undefined {
    const key = img.id.toString();
    let nb = this.configMemo.get(key);
    if (nb === undefined) {
      const doc = this.steps.request.configs.get(key);
      nb = doc ? makeBlob(doc, img.id.algorithm) : null;
      if (nb?.digest.equals(img.id)) nb = null;
      this.configMemo.set(key, nb);
      if (nb) this.replaced.set(key, nb);
    }
    return nb ?? undefined;
  }

  /** Old config digest -> new, for every config that changed. */
  renamedConfigs(): Map<string, Digest> {
    const out = new Map<string, Digest>();
    for (const [k, v] of this.configMemo) if (v) out.set(k, v.digest);
    return out;
  }

  /** The image's layers in the output: its own, then those added (layer-list.ts). */
  layerList(img: ImageModel): readonly LayerInfo[] {
    return outputLayers(img, this.config(img), this.steps.added, this.steps.rewritten);
  }

  /** The config digest and bytes an image has in the output. */
  configOf(img: ImageModel): { digest: Digest; bytes: Buffer; changed: boolean } {
    const nb = this.config(img);
    return nb ? { digest: nb.digest, bytes: nb.bytes, changed: true } : { digest: img.id, bytes: img.configBytes, changed: false };
  }

  descriptor(desc: Descriptor): Folded {
    const key = desc.digest.toString();
    const hit = this.memo.get(key);
    if (hit) return hit;
    this.memo.set(key, SAME); // a cycle (impossible with content digests) folds to "unchanged"
    const node = this.model.graph.nodes.get(key);
    const r = !node ? this.absent(desc) : node.kind === 'index' ? this.index(node) : this.manifest(node);
    this.memo.set(key, r);
    if (r.kind === 'new' && r.blob) this.replaced.set(key, r.blob);
    return r;
  }

  /** What a descriptor naming `desc`'s node says after the fold: digest, size and media type re-pointed. */
  retarget(raw: JsonObject, r: Folded, forceType = false): JsonObject {
    if (r.kind !== 'new' || !r.blob) return raw;
    const d = cloneJson(raw);
    if ((forceType || fieldKey(d, 'mediaType') !== undefined) && r.mediaType && this.steps.toOci) d[fieldKey(d, 'mediaType') ?? 'mediaType'] = r.mediaType;
    d[fieldKey(d, 'digest') ?? 'digest'] = r.blob.digest.toString();
    d[fieldKey(d, 'size') ?? 'size'] = r.blob.size;
    return d;
  }

  private absent(desc: Descriptor): Folded {
    if (this.steps.request.dropAbsent && !isAttestation(desc)) return { kind: 'drop', why: 'not in the archive' };
    return SAME;
  }

  private manifest(m: ManifestNode): Folded {
    if (m.role === 'image') return this.imageManifest(m);
    return this.otherManifest(m);
  }

  /** The result of a node whose document may have changed. */
  private finish(n: GraphNode, doc: JsonObject, changed: boolean, pending: boolean, mediaType: string | undefined): Folded {
    if (!changed && !pending) return SAME;
    if (pending) return { kind: 'new', blob: undefined, mediaType };
    const blob = makeBlob(doc, n.digest.algorithm);
    return blob.digest.equals(n.digest) ? SAME : { kind: 'new', blob, mediaType };
  }

  private imageManifest(m: ManifestNode): Folded {
    const toOci = this.steps.toOci === true;
    const img = this.imageById.get(m.config!.digest.toString());
    const nb = img && this.config(img);
    const ann = this.steps.request.annotate;
    const annotate = ann !== undefined && img !== undefined && ann.configs.has(img.id.toString());
    const doc = cloneJson(m.doc);
    let changed = toOci && setMediaType(doc, OCI.manifest, false);
    const cfgKey = fieldKey(doc, 'config') ?? 'config';
    if (nb) {
      doc[cfgKey] = withDigest(m.config!.raw, nb.digest, nb.size);
      changed = true;
    }
    if (toOci && isDockerMediaType(m.config!.mediaType)) {
      doc[cfgKey] = withField(doc[cfgKey], 'mediaType', ociMediaType(m.config!.mediaType!));
      changed = true;
    }
    const layers = this.layers(m, img, doc);
    if (annotate) {
      this.annotatedAny = true;
      const k = fieldKey(doc, 'annotations') ?? 'annotations';
      const before = isJsonObject(doc[k]) ? (doc[k] as JsonObject) : jsonObject();
      const after = ann.edit(before);
      if (Object.keys(after).length) doc[k] = after;
      else delete doc[k];
      changed = true;
    }
    changed ||= layers.changed;
    // a manifest rewritten no longer names a SOCI index made for its old bytes
    const out = changed || layers.pending ? withoutAnnotation(doc, SOCI_INDEX_DIGEST) : doc;
    return this.finish(m, out, changed, layers.pending, toOci ? OCI.manifest : m.mediaType);
  }

  /** The layer descriptors of an image manifest through the layer step (a conversion or recompression). */
  private layers(m: ManifestNode, img: ImageModel | undefined, doc: JsonObject): { changed: boolean; pending: boolean } {
    const step = this.steps.layer;
    const layersKey = fieldKey(doc, 'layers') ?? 'layers';
    const list = doc[layersKey];
    if (!step || !Array.isArray(list)) return { changed: false, pending: false };
    const toOci = this.steps.toOci === true;
    const family = toOci || !isDockerMediaType(m.mediaType) ? 'oci' : 'docker';
    const what = img?.tags[0] ?? m.digest.short;
    let changed = false;
    let pending = false;
    const mapRaw = (raw: Json, i: number): Json => {
      const desc = m.layers[i];
      if (!isJsonObject(raw) || !desc) return raw;
      const info = img?.layers[i] ?? {};
      const l: LayerInfo = { ...info, digest: desc.digest, ...(desc.mediaType ? { mediaType: desc.mediaType } : {}) };
      const entry = l.entry ?? this.model.blobs.get(desc.digest.toString());
      const o = step(entry ? { ...l, entry } : l, family, `layer ${i + 1} (${desc.digest.short}) of ${what}`);
      if (!o) {
        if (toOci && isDockerMediaType(desc.mediaType)) {
          changed = true;
          return withField(raw, 'mediaType', ociMediaType(desc.mediaType!));
        }
        return raw;
      }
      if (!o.digest) {
        pending = true;
        return raw;
      }
      if (o.digest.equals(desc.digest) && o.size === desc.size && o.mediaType === desc.mediaType) return raw;
      changed = true;
      let d = withDigest(raw, o.digest, o.size!);
      if (fieldKey(d, 'mediaType') !== undefined) d[fieldKey(d, 'mediaType')!] = o.mediaType;
      if (o.recoded) d = this.dropByteAnnotations(d, `layer ${i + 1} of ${what}`);
      return d;
    };
    // the layer list as the new config has it: the input's own layers keep their descriptors, the others are made
    const out = img ? this.layerList(img) : undefined;
    if (!out || out === img?.layers) {
      doc[layersKey] = list.map(mapRaw);
      return { changed, pending };
    }
    const own = (l: LayerInfo, i: number) => i < list.length && (l === img!.layers[i] || (l.entry !== undefined && l.entry === img!.layers[i]?.entry));
    const add = addedDescriptors(
      out.filter((l, i) => !own(l, i)),
      (l, i) => step(l, family, `new layer ${i + 1} of ${what}`),
    );
    let k = 0;
    doc[layersKey] = out.map((l, i) => (own(l, i) ? mapRaw(list[i]!, i) : add.list[k++]!));
    return { changed: true, pending: pending || add.pending };
  }

  /** A recompressed layer's descriptor without the annotations about its old bytes. */
  private dropByteAnnotations(d: JsonObject, what: string): JsonObject {
    const k = fieldKey(d, 'annotations');
    const a = k !== undefined ? d[k] : undefined;
    if (k === undefined || !isJsonObject(a)) return d;
    const gone = Object.keys(a).filter(describesBytes);
    if (gone.length === 0) return d;
    const kept = jsonObject();
    for (const key of Object.keys(a)) if (!describesBytes(key)) kept[key] = a[key]!;
    if (Object.keys(kept).length) d[k] = kept;
    else delete d[k];
    this.warnings.add(bytesAnnotationsDropped(what, gone));
    return d;
  }

  /** Attestations, artifacts and referrers: never re-encoded; media types converted, subject followed. */
  private otherManifest(m: ManifestNode): Folded {
    const toOci = this.steps.toOci === true;
    const doc = cloneJson(m.doc);
    let changed = toOci && isDockerMediaType(m.mediaType) && setMediaType(doc, OCI.manifest, false);
    let pending = false;
    if (m.subject) {
      const s = this.subject(m, m.subject);
      if (s.kind === 'drop') return s;
      if (s.kind === 'new') {
        const k = fieldKey(doc, 'subject') ?? 'subject';
        if (s.blob) doc[k] = this.retarget(doc[k] as JsonObject, s);
        else pending = true;
        changed = true;
      }
    }
    return this.finish(m, doc, changed, pending, toOci ? ociMediaType(m.mediaType ?? OCI.manifest) : m.mediaType);
  }

  /** A referrer's subject as the output has it; a drop when the referrer cannot stay true. */
  private subject(node: GraphNode, subject: Descriptor): Folded {
    const key = subject.digest.toString();
    if (!this.model.graph.nodes.has(key)) return this.configSubject(node, subject);
    const fold = this.steps.kept?.has(key) && this.steps.original ? this.steps.original : this;
    if (this.steps.kept?.has(key) && !this.steps.original) return SAME;
    const s = fold.descriptor(subject);
    if (s.kind === 'same') return SAME;
    if (s.kind === 'drop' || isSignature(node)) {
      const why = s.kind === 'drop' ? 'its subject left the archive' : signatureWhy(node, subject);
      this.warnings.add(referrerDropped(node, why));
      return { kind: 'drop', why };
    }
    this.warnings.add(referrerRepointed(node, s.blob?.digest.toString()));
    return s;
  }

  /**
   * A subject that is not a manifest or index (a config, which the spec forbids but archives can
   * hold): the referrer cannot follow it, so it goes when that blob is replaced.
   */
  private configSubject(node: GraphNode, subject: Descriptor): Folded {
    const img = this.imageById.get(subject.digest.toString());
    if (!img || !this.config(img) || this.steps.kept?.has(subject.digest.toString())) return SAME;
    const why = `its subject ${subject.digest} is an image config the edit replaced`;
    this.warnings.add(referrerDropped(node, why));
    return { kind: 'drop', why };
  }

  private index(node: IndexNode): Folded {
    const toOci = this.steps.toOci === true;
    const results = node.children.map((c) => (isStatement(c) ? SAME : this.child(c)));
    this.statements(node, results);
    this.childMemo.set(node.digest.toString(), results);
    const doc = cloneJson(node.doc);
    let changed = toOci && setMediaType(doc, OCI.index, false);
    let pending = false;
    const list = field(node.doc, 'manifests');
    const read = new Map<Json, number>(node.children.map((c, i) => [c.raw, i]));
    const kept: Json[] = [];
    for (const raw of Array.isArray(list) ? list : []) {
      const i = read.get(raw);
      if (i === undefined || !isJsonObject(raw)) {
        kept.push(raw); // a descriptor the graph could not read stays as it was
        continue;
      }
      const c = node.children[i]!;
      const r = results[i]!;
      if (r.kind === 'drop') {
        changed = true;
        continue;
      }
      if (r.kind === 'new' && !r.blob) pending = true;
      let d: JsonObject = raw;
      if (r.kind === 'new' && r.blob) d = this.retarget(raw, r, toOci);
      else if (toOci) {
        const n = this.model.graph.nodes.get(c.digest.toString());
        const mt = n ? this.ociTypeOf(n) : isDockerMediaType(c.mediaType) ? ociMediaType(c.mediaType!) : undefined;
        if (mt !== undefined && mt !== c.mediaType) d = withField(raw, 'mediaType', mt);
      }
      if (r.kind === 'new') d = withoutAnnotation(d, SOCI_INDEX_DIGEST);
      if (d !== raw) changed = true;
      kept.push(d);
    }
    doc[fieldKey(doc, 'manifests') ?? 'manifests'] = kept;
    return this.finish(node, doc, changed, pending, toOci ? OCI.index : node.mediaType);
  }

  /** One child of an index: kept, dropped by the platform selection, or folded. */
  private child(c: Descriptor): Folded {
    const only = this.steps.request.onlyPlatforms;
    const child = this.model.graph.nodes.get(c.digest.toString());
    if (only && child?.kind === 'manifest' && child.role === 'image') {
      const img = this.imageById.get(child.config!.digest.toString());
      const p = c.platform ?? img?.platform;
      if (!only.some((w) => platformMatches(p, w))) return { kind: 'drop', why: `platform ${p ? platformString(p) : 'unknown'} was not asked for` };
    }
    if (only && !child) return { kind: 'drop', why: 'not in the archive' };
    return this.descriptor(c);
  }

  /**
   * Entries that are statements about a sibling manifest (attestations, SOCI indexes): decided
   * once the manifests they describe are. A statement about a changed manifest would lie.
   */
  private statements(node: IndexNode, results: Folded[]): void {
    node.children.forEach((c, i) => {
      if (!isStatement(c)) return;
      const ref = describedDigest(c) ?? '';
      const j = node.children.findIndex((x) => x.digest.toString() === ref);
      const target = j >= 0 ? results[j]! : SAME;
      if (target.kind === 'new') {
        this.warnings.add(statementDropped(node.entry.name, c, ref));
        results[i] = { kind: 'drop', why: 'describes the image before the change' };
      } else if (target.kind === 'drop') results[i] = { kind: 'drop', why: 'describes a platform that was dropped' };
      else results[i] = this.descriptor(c);
    });
  }

  /** What each child of a folded index became, in order. */
  childResults(index: Digest): readonly Folded[] | undefined {
    return this.childMemo.get(index.toString());
  }

  /** The image an image manifest names. */
  imageOf(m: ManifestNode): ImageModel | undefined {
    return m.config ? this.imageById.get(m.config.digest.toString()) : undefined;
  }

  /** The fold a referrer's subject is written by (the originals' when it stays as it was); undefined when it is not rewritten at all. */
  subjectFold(subject: Descriptor): Fold | undefined {
    if (!this.steps.kept?.has(subject.digest.toString())) return this;
    return this.steps.original;
  }

  /** The media type a node has in an OCI output (`--format oci`). */
  ociTypeOf(n: GraphNode): string {
    if (n.kind === 'index') return OCI.index;
    return n.role === 'image' ? OCI.manifest : ociMediaType(n.mediaType ?? OCI.manifest);
  }

  /** The platforms of an image this fold keeps (`onlyPlatforms`). */
  keptPlatforms(platforms: readonly PlatformImage[]): readonly PlatformImage[] {
    const only = this.steps.request.onlyPlatforms;
    return only ? platforms.filter((p) => only.some((w) => platformMatches(p.platform, w))) : platforms;
  }

  /** An OCI image manifest for an image from a layout without one (Docker <= 24, podman, crane). */
  synthesized(img: ImageModel, what: string, missing: (i: number, l: LayerInfo) => never): Folded {
    const key = img.id.toString();
    const hit = this.synthMemo.get(key);
    if (hit) return hit;
    const cfg = this.configOf(img);
    const doc = jsonObject();
    doc.schemaVersion = 2;
    doc.mediaType = OCI.manifest;
    const c = jsonObject();
    c.mediaType = OCI.config;
    c.digest = cfg.digest.toString();
    c.size = cfg.bytes.length;
    doc.config = c;
    let pending = false;
    doc.layers = this.layerList(img).map((l, i) => {
      const o = this.steps.layer?.(l, 'oci', `layer ${i + 1} (${l.entry?.name ?? l.diffId}) of ${what}`);
      if (!o) return missing(i, l);
      if (!o.digest) pending = true;
      return layerDescriptor(o);
    });
    const r: Folded = pending ? { kind: 'new', blob: undefined, mediaType: OCI.manifest } : { kind: 'new', blob: makeBlob(doc), mediaType: OCI.manifest };
    this.synthMemo.set(key, r);
    return r;
  }
}

/** Set a document's mediaType to `mt` when it is one of Docker's (or absent, with `always`); true when it changed. */
export function setMediaType(doc: JsonObject, mt: string, always: boolean): boolean {
  const k = fieldKey(doc, 'mediaType');
  const v = k ? doc[k] : undefined;
  if (v === mt) return false;
  if (k === undefined && !always) return false;
  if (typeof v === 'string' && !isDockerMediaType(v)) return false;
  doc[k ?? 'mediaType'] = mt;
  return true;
}
