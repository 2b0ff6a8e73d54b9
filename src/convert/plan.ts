/**
 * Layout conversion and layer recompression, planned from the model of the archive AFTER its
 * edits. The output is written anew in the target layout: each streamed input entry (a layer, a
 * blob) gets an action (copy under its new name, recompress, or leave out), and every metadata
 * entry (manifests, indexes, configs, index.json, manifest.json, repositories, the legacy
 * `<v1id>/` files) is generated once the recompressed layers' digests are known.
 */
import { derivedHeader, type EntryRecord, normalizeEntryPath } from '../archive/entry.js';
import { ATTESTATION_DIGEST, type Descriptor, type GraphNode, type ManifestNode, isAttestation, platformString } from '../archive/graph.js';
import type { ArchiveModel, ImageModel, ImageTarget, LayerInfo, LayoutName } from '../archive/model.js';
import type { Header } from '../archive/tar/header.js';
import { Digest, chainIds } from '../digest.js';
import { ArchiveError, EditError, UsageError } from '../errors.js';
import type { Compression } from '../io/source.js';
import { type Json, type JsonObject, cloneJson, field, fieldKey, isJsonObject, jsonObject, parseJson, printJson } from '../json/lossless.js';
import { normalizeReference } from '../reference.js';
import type { OutputEntry } from '../rewrite/propagate.js';
import { splitTag, tagPart } from '../rewrite/names.js';
import { DOCKER, type LayerCompression, OCI, type TargetFormat, familiarName, isDockerMediaType, layerMediaType, ociMediaType } from './media.js';

export interface ConvertOptions {
  readonly format: TargetFormat;
  readonly layerCompression?: LayerCompression | undefined;
}

/** What to do with one streamed input entry in the writing pass. */
export type StreamAction =
  | {
      readonly kind: 'copy';
      readonly name: string;
      readonly what: string;
      /** The bytes must hash to this (a blob name derived from the DiffID, or promised by the input's name)... */
      readonly check?: Digest;
      /** ...which says so: "the config's rootfs.diff_ids", "its name". */
      readonly checkSource?: string;
    }
  | {
      readonly kind: 'recode';
      /** The entry name, once the new blob digest is known. */
      readonly name: (digest: Digest) => string;
      readonly what: string;
      readonly from: Compression;
      readonly to: Compression;
      readonly diffId?: Digest;
      readonly algorithm: 'sha256' | 'sha512';
    };

/** A recoded layer as written. */
export interface RecodeResult {
  readonly digest: Digest;
  readonly size: number;
}

/** One image layer of the output, for the report. */
export interface ConvertedLayer {
  readonly diffId: string | null;
  readonly from: Compression;
  readonly to: Compression;
  readonly oldDigest: string | null;
  readonly newDigest: string | null;
  readonly oldSize: number;
  readonly newSize: number | null;
}

export interface ConversionPlan {
  readonly from: LayoutName;
  readonly to: TargetFormat;
  readonly layerCompression: LayerCompression | undefined;
  /** By input entry index; an entry without an action is left out of the output. */
  readonly actions: ReadonlyMap<number, StreamAction>;
  /** Image layers that will be recompressed. */
  readonly recompressed: number;
  readonly warnings: readonly string[];
  /** The metadata entries, given the recoded layers' results (by input entry index). */
  finish(results: ReadonlyMap<number, RecodeResult>): { entries: OutputEntry[]; layers: ConvertedLayer[]; roots: ReadonlyMap<ImageTarget, Digest> };
}

/**
 * Plan the conversion of `model` (the archive as edited) into `opts.format`. `sniff` says how an
 * input entry's bytes are compressed (from its first bytes, seen in the first pass). Throws a
 * UsageError for what the target cannot express (zstd under Docker media types), an EditError for
 * a multi-platform image in the docker-legacy layout.
 */
export function planConversion(model: ArchiveModel, from: LayoutName, opts: ConvertOptions, sniff: (e: EntryRecord) => Compression): ConversionPlan {
  const first = new Builder(model, opts, sniff, undefined);
  first.build();
  return {
    from,
    to: opts.format,
    layerCompression: opts.layerCompression,
    actions: first.actions,
    recompressed: [...first.actions.values()].filter((a) => a.kind === 'recode' && a.from !== a.to).length,
    warnings: first.warnings,
    finish(results) {
      const b = new Builder(model, opts, sniff, results);
      const entries = b.build();
      return { entries, layers: b.layerReport(), roots: b.roots };
    },
  };
}

type Out = { readonly digest: Digest; readonly size: number; readonly mediaType: string | undefined } | 'drop';

const SIGNATURE = /signature|\.sig\b|cosign|notary|notation|jose|jws/i;
const CONTAINERD_NAME = 'io.containerd.image.name';
const OCI_REF_NAME = 'org.opencontainers.image.ref.name';
/** What `docker save` (<= 24) writes as the container_config of a layer below the top one. */
const EMPTY_CONTAINER_CONFIG =
  '{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null}';

class Builder {
  readonly actions = new Map<number, StreamAction>();
  readonly warnings: string[] = [];
  /** What each target's name points at in the output (manifest or index; the config in docker-legacy). */
  readonly roots = new Map<ImageTarget, Digest>();
  private readonly entries: OutputEntry[] = [];
  private readonly names = new Set<string>();
  private readonly memo = new Map<string, Out>();
  private readonly layerOut = new Map<number, { digest: Digest; size: number; compression: Compression }>();
  private readonly reports = new Map<number, ConvertedLayer>();
  private readonly imageById: Map<string, ImageModel>;

  constructor(
    private readonly model: ArchiveModel,
    private readonly opts: ConvertOptions,
    private readonly sniff: (e: EntryRecord) => Compression,
    private readonly results: ReadonlyMap<number, RecodeResult> | undefined,
  ) {
    this.imageById = new Map(model.images.map((i) => [i.id.toString(), i]));
  }

  build(): OutputEntry[] {
    if (this.opts.format === 'docker-legacy') this.buildLegacy();
    else this.buildOci();
    return this.entries;
  }

  layerReport(): ConvertedLayer[] {
    return [...this.reports.values()];
  }

  private emit(header: Header, data: Buffer, raw?: Buffer): void {
    const key = normalizeEntryPath(header.name);
    if (this.names.has(key)) return;
    this.names.add(key);
    this.entries.push({ header, data, ...(raw ? { raw } : {}) });
  }

  /** A blob held in memory, under `blobs/<alg>/<hex>` (its header bytes kept when its name is). */
  private emitBlob(digest: Digest, data: Buffer, from?: EntryRecord): void {
    const name = `blobs/${digest.algorithm}/${digest.hex}`;
    if (from && from.name === name && from.raw) this.emit(from.header, data, from.raw);
    else this.emit(from ? derivedHeader(from.header, name, data.length) : fileHeader(name, data.length), data);
  }

  /** A blob entry as it is (an artifact's layer, an attestation's config): same digest, OCI name. */
  private carryBlob(d: Descriptor): void {
    const e = this.model.blobs.get(d.digest.toString());
    if (!e) return;
    if (e.data) this.emitBlob(d.digest, e.data, e);
    else if (!this.actions.has(e.index)) this.actions.set(e.index, { kind: 'copy', name: `blobs/${d.digest.algorithm}/${d.digest.hex}`, what: e.name });
  }

  // ---- layers ----

  private wanted(from: Compression): Compression {
    return this.opts.layerCompression ?? from;
  }

  /** The output blob of an image layer in an OCI layout (`family`: the media types of its manifest). */
  private ociLayer(l: LayerInfo, family: 'oci' | 'docker', what: string): { digest: Digest; size: number; mediaType: string } | undefined {
    const e = l.entry;
    if (!e) return undefined; // absent (non-distributable): the descriptor stays as it is
    const from = this.sniffLayer(e);
    const to = this.wanted(from);
    if (from !== to && to === 'zstd' && family === 'docker') {
      throw new UsageError(
        `${what} would be zstd-compressed, but its manifest uses Docker's media types (${DOCKER.manifest}), which have no zstd layer type; add --format oci to write OCI media types`,
      );
    }
    const algorithm = l.digest?.algorithm ?? 'sha256';
    const known = this.layerOut.get(e.index);
    let out = known;
    if (!out) {
      if (from !== to) {
        this.actions.set(e.index, { kind: 'recode', name: (d) => `blobs/${d.algorithm}/${d.hex}`, what: e.name, from, to, ...(l.diffId ? { diffId: l.diffId } : {}), algorithm });
        const r = this.results?.get(e.index);
        out = { digest: r?.digest ?? l.digest ?? l.diffId ?? Digest.of(Buffer.from(e.name)), size: r?.size ?? e.header.size, compression: to };
        this.report(e, l, from, to, r);
      } else {
        const named = l.digest ?? (from === 'none' ? l.diffId : undefined) ?? digestInName(e.path);
        if (named) {
          const check = l.digest ? undefined : named;
          const checkSource = from === 'none' && l.diffId?.equals(named) ? "the config's rootfs.diff_ids" : 'its name';
          this.actions.set(e.index, { kind: 'copy', name: `blobs/${named.algorithm}/${named.hex}`, what: e.name, ...(check ? { check, checkSource } : {}) });
          out = { digest: named, size: e.data?.length ?? e.header.size, compression: from };
        } else {
          // compressed, and no name says its digest: hash it on the way (spooled, bytes unchanged)
          this.actions.set(e.index, { kind: 'recode', name: (d) => `blobs/${d.algorithm}/${d.hex}`, what: e.name, from, to: from, algorithm });
          const r = this.results?.get(e.index);
          out = { digest: r?.digest ?? Digest.of(Buffer.from(e.name)), size: r?.size ?? e.header.size, compression: from };
        }
        this.report(e, l, from, from, undefined);
      }
      this.layerOut.set(e.index, out);
    }
    const mediaType = out.compression !== from || !l.mediaType ? layerMediaType(l.mediaType, out.compression, family) : family === 'oci' ? ociMediaType(l.mediaType) : l.mediaType;
    return { digest: out.digest, size: out.size, mediaType };
  }

  private sniffLayer(e: EntryRecord): Compression {
    return this.sniff(e);
  }

  private report(e: EntryRecord, l: LayerInfo, from: Compression, to: Compression, r: RecodeResult | undefined): void {
    if (this.reports.has(e.index)) return;
    const old = l.digest ?? (from === 'none' ? l.diffId : undefined);
    this.reports.set(e.index, {
      diffId: l.diffId?.toString() ?? null,
      from,
      to,
      oldDigest: old?.toString() ?? null,
      newDigest: from === to ? (old?.toString() ?? r?.digest.toString() ?? null) : (r?.digest.toString() ?? null),
      oldSize: e.data?.length ?? e.header.size,
      newSize: from === to ? (e.data?.length ?? e.header.size) : (r?.size ?? null),
    });
  }

  // ---- OCI layouts (oci, docker) ----

  private buildOci(): void {
    const fmt = this.opts.format;
    const top: Json[] = [];
    const mjItems: Json[] = [];
    const repos: Record<string, Record<string, string>> = {};
    for (const t of this.model.targets) {
      const root = t.descriptors[0];
      let out: Out | undefined;
      if (root && this.model.graph.nodes.has(root.digest.toString())) out = this.node(root);
      else if (!root && t.platforms[0]) out = this.synthesize(t.platforms[0].image, t);
      const base: JsonObject = root ? cloneJson(root.raw) : jsonObject();
      if (out === 'drop') continue;
      if (!root && out) base.mediaType = out.mediaType ?? OCI.manifest; // (first, as Docker orders a descriptor)
      const desc = out ? retarget(base, out, fmt === 'oci') : base;
      if (!out && root) this.warnings.push(`${root.digest} is not in the archive; index.json keeps naming it`);
      if (!root && out === undefined) continue;
      this.roots.set(t, out ? out.digest : root!.digest);
      const names = t.names;
      if (names.length === 0) top.push(withNames(desc, undefined, fmt));
      for (const n of names) top.push(withNames(desc, n, fmt));
      if (fmt === 'docker') {
        const p = t.platforms[0];
        if (p) {
          mjItems.push(this.manifestJsonItem(p.image, names));
          const lastDiff = p.image.layers.at(-1)?.diffId;
          if (lastDiff) {
            for (const n of names) {
              const [repo, tag] = splitTag(familiarName(n));
              repos[repo] ??= {};
              repos[repo][tag] = lastDiff.hex;
            }
          }
        }
      }
    }
    for (const a of this.model.artifacts) {
      const out = this.model.graph.nodes.has(a.digest.toString()) ? this.node(a) : undefined;
      if (out === 'drop') continue;
      top.push(out ? retarget(cloneJson(a.raw), out, fmt === 'oci') : a.raw);
    }
    const old = this.model.ociIndex;
    const index = old ? cloneJson(old.doc) : jsonObject();
    if (!old) {
      index.schemaVersion = 2;
      index.mediaType = OCI.index;
    } else if (fmt === 'oci') setMediaType(index, OCI.index, true);
    index[fieldKey(index, 'manifests') ?? 'manifests'] = top;
    const layoutEntry = this.model.byPath.get('oci-layout');
    if (layoutEntry?.data) this.emit(derivedHeader(layoutEntry.header, 'oci-layout'), layoutEntry.data, layoutEntry.name === 'oci-layout' ? layoutEntry.raw : undefined);
    else this.emit(fileHeader('oci-layout', 31), Buffer.from('{"imageLayoutVersion": "1.0.0"}'));
    const indexBytes = printJson(index);
    this.emit(old ? derivedHeader(old.entry.header, 'index.json', indexBytes.length) : fileHeader('index.json', indexBytes.length), indexBytes);
    if (fmt === 'docker') {
      const mj = Buffer.from(printJson(mjItems));
      const before = this.model.manifestJson?.entry;
      this.emit(before ? derivedHeader(before.header, 'manifest.json', mj.length) : fileHeader('manifest.json', mj.length), mj);
      if (Object.keys(repos).length) {
        const r = Buffer.from(JSON.stringify(repos));
        this.emit(fileHeader('repositories', r.length), r);
      }
    }
  }

  /** A Docker 25 manifest.json item: blobs paths, RepoTags as Docker shows them, LayerSources for every layer. */
  private manifestJsonItem(img: ImageModel, names: readonly string[]): JsonObject {
    const item = jsonObject();
    item.Config = `blobs/${img.id.algorithm}/${img.id.hex}`;
    item.RepoTags = names.map(familiarName);
    const layers: Json[] = [];
    const sources = jsonObject();
    const manifest = [...this.model.graph.nodes.values()].find((n): n is ManifestNode => n.kind === 'manifest' && n.role === 'image' && n.config?.digest.equals(img.id) === true);
    const family = this.opts.format !== 'oci' && isDockerMediaType(manifest?.mediaType) ? 'docker' : 'oci';
    img.layers.forEach((l, i) => {
      const o = this.ociLayer(l, family, `layer ${i + 1} of ${img.tags[0] ?? img.id.short}`);
      const absent = o ? undefined : (manifest?.layers[i] ?? undefined);
      const digest = o?.digest ?? absent?.digest ?? l.digest;
      if (!digest) return;
      layers.push(`blobs/${digest.algorithm}/${digest.hex}`);
      if (!l.diffId) return;
      if (absent) {
        sources[l.diffId.toString()] = cloneJson(absent.raw); // a foreign layer: its descriptor with its urls, as docker save keeps it
      } else if (o) {
        const d = jsonObject();
        d.mediaType = o.mediaType;
        d.size = o.size;
        d.digest = o.digest.toString();
        sources[l.diffId.toString()] = d;
      }
    });
    item.Layers = layers;
    if (Object.keys(sources).length) item.LayerSources = sources;
    return item;
  }

  /** An OCI image manifest for an image from a layout without one (Docker <= 24, podman, crane). */
  private synthesize(img: ImageModel, t: ImageTarget): Out {
    const what = t.names[0] ?? img.id.short;
    this.emitBlob(img.id, img.configBytes, img.configEntry);
    const doc = jsonObject();
    doc.schemaVersion = 2;
    doc.mediaType = OCI.manifest;
    const cfg = jsonObject();
    cfg.mediaType = OCI.config;
    cfg.digest = img.id.toString();
    cfg.size = img.configBytes.length;
    doc.config = cfg;
    doc.layers = img.layers.map((l, i) => {
      const o = this.ociLayer(l, 'oci', `layer ${i + 1} (${l.entry?.name ?? l.diffId}) of ${what}`);
      if (!o) throw new ArchiveError(`layer ${i + 1} of ${what} is not in the archive`, l.entry?.name);
      const d = jsonObject();
      d.mediaType = o.mediaType;
      d.digest = o.digest.toString();
      d.size = o.size;
      return d;
    });
    const bytes = printJson(doc);
    const digest = Digest.of(bytes);
    this.emitBlob(digest, bytes);
    return { digest, size: bytes.length, mediaType: OCI.manifest };
  }

  /** A manifest or index of the graph as it is written: converted, re-pointed, or unchanged. */
  private node(d: Descriptor): Out {
    const key = d.digest.toString();
    const hit = this.memo.get(key);
    if (hit) return hit;
    const n = this.model.graph.nodes.get(key)!;
    this.memo.set(key, { digest: n.digest, size: n.entry.data?.length ?? 0, mediaType: n.mediaType }); // (cycles are impossible)
    const r = n.kind === 'index' ? this.index(n) : n.role === 'image' ? this.imageManifest(n) : this.otherManifest(n);
    this.memo.set(key, r);
    return r;
  }

  private finishNode(n: GraphNode, doc: JsonObject, changed: boolean, mediaType: string | undefined): Out {
    if (!changed) {
      this.emitBlob(n.digest, n.entry.data!, n.entry);
      return { digest: n.digest, size: n.entry.data!.length, mediaType };
    }
    const bytes = printJson(doc);
    const digest = Digest.of(bytes, n.digest.algorithm);
    this.emitBlob(digest, bytes, n.entry);
    return { digest, size: bytes.length, mediaType };
  }

  private imageManifest(m: ManifestNode): Out {
    const toOci = this.opts.format === 'oci';
    const family = toOci || !isDockerMediaType(m.mediaType) ? 'oci' : 'docker';
    const doc = cloneJson(m.doc);
    let changed = toOci && setMediaType(doc, OCI.manifest, false);
    const img = this.imageById.get(m.config!.digest.toString());
    if (img) this.emitBlob(img.id, img.configBytes, img.configEntry);
    const cfgKey = fieldKey(doc, 'config') ?? 'config';
    const cfg = doc[cfgKey];
    if (toOci && isJsonObject(cfg) && isDockerMediaType(m.config!.mediaType)) {
      doc[cfgKey] = withField(cfg, 'mediaType', ociMediaType(m.config!.mediaType!));
      changed = true;
    }
    const layersKey = fieldKey(doc, 'layers') ?? 'layers';
    const list = doc[layersKey];
    if (Array.isArray(list)) {
      const what = img?.tags[0] ?? m.digest.short;
      doc[layersKey] = list.map((raw, i) => {
        const desc = m.layers[i];
        if (!isJsonObject(raw) || !desc) return raw;
        const info = img?.layers[i] ?? {};
        const l: LayerInfo = { ...info, digest: desc.digest, ...(desc.mediaType ? { mediaType: desc.mediaType } : {}) };
        const entry = l.entry ?? this.model.blobs.get(desc.digest.toString());
        const o = this.ociLayer(entry ? { ...l, entry } : l, family, `layer ${i + 1} (${desc.digest.short}) of ${what}`);
        if (!o) {
          if (toOci && isDockerMediaType(desc.mediaType)) {
            changed = true;
            return withField(raw, 'mediaType', ociMediaType(desc.mediaType!));
          }
          return raw;
        }
        if (o.digest.equals(desc.digest) && o.size === desc.size && o.mediaType === desc.mediaType) return raw;
        changed = true;
        return retarget(raw, o, false);
      });
    }
    return this.finishNode(m, doc, changed, toOci ? OCI.manifest : m.mediaType);
  }

  /** Attestations, artifacts and referrers: never recompressed; media types converted, subject followed. */
  private otherManifest(m: ManifestNode): Out {
    const toOci = this.opts.format === 'oci';
    const doc = cloneJson(m.doc);
    let changed = toOci && isDockerMediaType(m.mediaType) && setMediaType(doc, OCI.manifest, false);
    if (m.config) this.carryBlob(m.config);
    for (const l of m.layers) this.carryBlob(l);
    if (m.subject && this.model.graph.nodes.has(m.subject.digest.toString())) {
      const s = this.node(m.subject);
      if (s === 'drop' || !s.digest.equals(m.subject.digest)) {
        const what = m.artifactType ?? m.config?.mediaType ?? 'referrer';
        if (s === 'drop' || SIGNATURE.test(what) || m.layers.some((l) => SIGNATURE.test(l.mediaType ?? ''))) {
          this.warnings.push(`dropped referrer ${m.digest}: it signs ${m.subject.digest}, whose bytes the conversion changes`);
          return 'drop';
        }
        const k = fieldKey(doc, 'subject') ?? 'subject';
        doc[k] = retarget(doc[k] as JsonObject, s, toOci);
        changed = true;
      }
    }
    return this.finishNode(m, doc, changed, toOci ? ociMediaType(m.mediaType ?? OCI.manifest) : m.mediaType);
  }

  private index(n: Extract<GraphNode, { kind: 'index' }>): Out {
    const toOci = this.opts.format === 'oci';
    const doc = cloneJson(n.doc);
    let changed = toOci && setMediaType(doc, OCI.index, false);
    const results = n.children.map((c) => (this.model.graph.nodes.has(c.digest.toString()) ? this.node(c) : undefined));
    const moved = new Map<string, string>();
    n.children.forEach((c, i) => {
      const r = results[i];
      if (r && r !== 'drop' && !r.digest.equals(c.digest)) moved.set(c.digest.toString(), r.digest.toString());
    });
    const byRaw = new Map<Json, number>(n.children.map((c, i) => [c.raw, i]));
    const list = field(n.doc, 'manifests');
    const key = fieldKey(doc, 'manifests') ?? 'manifests';
    const out: Json[] = [];
    for (const raw of Array.isArray(list) ? list : []) {
      const i = byRaw.get(raw);
      if (i === undefined || !isJsonObject(raw)) {
        out.push(raw);
        continue;
      }
      const c = n.children[i]!;
      const r = results[i];
      if (r === 'drop') {
        changed = true;
        continue;
      }
      let d: JsonObject = raw;
      if (r && (!r.digest.equals(c.digest) || (toOci && r.mediaType !== c.mediaType))) {
        d = retarget(raw, r, toOci);
        changed = true;
      } else if (!r && toOci && isDockerMediaType(c.mediaType)) {
        d = withField(raw, 'mediaType', ociMediaType(c.mediaType!));
        changed = true;
      }
      const ref = isAttestation(c) ? c.annotations[ATTESTATION_DIGEST] : undefined;
      const now = ref !== undefined ? moved.get(ref) : undefined;
      if (now) {
        const ak = fieldKey(d, 'annotations') ?? 'annotations';
        d = withField(d, ak, withField(d[ak] as JsonObject, ATTESTATION_DIGEST, now));
        changed = true;
      }
      out.push(d);
    }
    doc[key] = out;
    return this.finishNode(n, doc, changed, toOci ? OCI.index : n.mediaType);
  }

  // ---- docker-legacy ----

  private buildLegacy(): void {
    const items: Json[] = [];
    const repos: Record<string, Record<string, string>> = {};
    const byConfig = new Map<string, { img: ImageModel; names: string[]; item?: JsonObject; top?: string }>();
    if (this.model.artifacts.length) {
      this.warnings.push(`${this.model.artifacts.length} OCI artifact(s) or referrer(s) named by index.json left out: the docker-legacy layout cannot hold them`);
    }
    for (const t of this.model.targets) {
      if (t.platforms.length > 1) {
        const ps = t.platforms.map((p) => (p.platform ? platformString(p.platform) : 'unknown'));
        throw new EditError(
          `${t.names[0] ?? t.platforms[0]!.image.id.short} is a multi-platform image (${ps.join(', ')}) and the docker-legacy layout holds one config per name; choose one with --only-platform ${ps[0]}`,
        );
      }
      if (t.attestations.length) this.warnings.push(`${t.names[0] ?? 'an image'}: ${t.attestations.length} attestation manifest(s) left out: the docker-legacy layout cannot hold them`);
      const p = t.platforms[0];
      if (!p) continue;
      const g = byConfig.get(p.image.id.toString()) ?? { img: p.image, names: [] };
      byConfig.set(p.image.id.toString(), g);
      g.names.push(...t.names);
      this.roots.set(t, p.image.id);
    }
    for (const g of byConfig.values()) {
      const img = g.img;
      const what = g.names[0] ?? img.id.short;
      const diffIds = img.layers.map((l, i) => {
        if (!l.diffId) throw new ArchiveError(`layer ${i + 1} of ${what} has no DiffID in the config (rootfs.diff_ids); the docker-legacy layout names layers by them`, img.configEntry.name);
        return l.diffId;
      });
      const chain = chainIds(diffIds);
      let parent: string | undefined;
      const paths: string[] = [];
      img.layers.forEach((l, i) => {
        const last = i === img.layers.length - 1;
        const idDoc = jsonObject();
        idDoc.layer_id = chain[i]!.toString();
        if (parent) idDoc.parent = `sha256:${parent}`;
        if (last) idDoc.config = img.id.toString();
        const v1 = Digest.of(printJson(idDoc)).hex;
        paths.push(this.legacyLayer(l, v1, `layer ${i + 1} (${l.entry?.name ?? diffIds[i]}) of ${what}`));
        this.emit(dirHeader(`${v1}/`), Buffer.alloc(0));
        this.emit(fileHeader(`${v1}/VERSION`, 3), Buffer.from('1.0'));
        const json = v1Json(img.config, v1, parent, last);
        this.emit(fileHeader(`${v1}/json`, json.length), json);
        parent = v1;
      });
      const cfgName = `${img.id.hex}.json`;
      this.emit(derivedHeader(img.configEntry.header, cfgName, img.configBytes.length), img.configBytes);
      const item = jsonObject();
      item.Config = cfgName;
      item.RepoTags = g.names.map(familiarName);
      item.Layers = paths;
      items.push(item);
      for (const n of g.names) {
        const [repo, tag] = splitTag(familiarName(n));
        repos[repo] ??= {};
        if (parent) repos[repo][tag] = parent;
      }
    }
    const mj = printJson(items);
    const before = this.model.manifestJson?.entry;
    this.emit(before ? derivedHeader(before.header, 'manifest.json', mj.length) : fileHeader('manifest.json', mj.length), mj);
    if (Object.keys(repos).length) {
      const r = Buffer.from(JSON.stringify(repos));
      this.emit(fileHeader('repositories', r.length), r);
    }
  }

  /** `<v1id>/layer.tar` for a layer; a layer already written under another v1 ID becomes a symbolic link to it, as Docker writes it. */
  private legacyLayer(l: LayerInfo, v1: string, what: string): string {
    const e = l.entry;
    const path = `${v1}/layer.tar`;
    if (!e) throw new EditError(`${what} is not in the archive (a non-distributable layer): the docker-legacy layout cannot name it; keep an OCI layout (--format docker)`);
    const prior = this.actions.get(e.index);
    const priorName = prior ? (prior.kind === 'copy' ? prior.name : prior.name(Digest.of(Buffer.alloc(0)))) : undefined;
    if (priorName && priorName !== path) {
      this.emit({ ...fileHeader(path, 0), type: 'symlink', linkname: `../${priorName}`, mode: 0o777 }, Buffer.alloc(0));
      return path;
    }
    if (prior) return path;
    const from = this.sniff(e);
    const to = this.wanted(from);
    if (to === 'zstd' && from !== 'zstd') throw new UsageError(`${what} would be zstd-compressed, but the docker-legacy layout cannot say so; add --format oci`);
    if (from !== to) {
      this.actions.set(e.index, { kind: 'recode', name: () => path, what: e.name, from, to, ...(l.diffId ? { diffId: l.diffId } : {}), algorithm: 'sha256' });
      this.report(e, l, from, to, this.results?.get(e.index));
    } else {
      this.actions.set(e.index, { kind: 'copy', name: path, what: e.name });
      this.report(e, l, from, to, undefined);
    }
    return path;
  }
}

/** The legacy `<v1id>/json`: the config (less rootfs and history) for the top layer, a stub below it. */
function v1Json(config: JsonObject, id: string, parent: string | undefined, top: boolean): Buffer {
  const doc = jsonObject();
  doc.id = id;
  if (parent) doc.parent = parent;
  if (top) {
    for (const k of Object.keys(config)) {
      const f = k.toLowerCase();
      if (f === 'rootfs' || f === 'history' || f === 'id' || f === 'parent') continue;
      doc[k] = config[k]!;
    }
  } else {
    doc.created = '1970-01-01T00:00:00Z';
    doc.container_config = parseJson(EMPTY_CONTAINER_CONFIG) as JsonObject;
    const os = field(config, 'os');
    if (typeof os === 'string') doc.os = os;
  }
  return printJson(doc);
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

function retarget(desc: JsonObject, out: Exclude<Out, 'drop'>, setType: boolean): JsonObject {
  const d = cloneJson(desc);
  if ((setType || fieldKey(d, 'mediaType') !== undefined) && out.mediaType) d[fieldKey(d, 'mediaType') ?? 'mediaType'] = out.mediaType;
  d[fieldKey(d, 'digest') ?? 'digest'] = out.digest.toString();
  d[fieldKey(d, 'size') ?? 'size'] = out.size;
  return d;
}

function withField(obj: JsonObject, name: string, value: Json): JsonObject {
  const d = isJsonObject(obj) ? cloneJson(obj) : jsonObject();
  d[fieldKey(d, name) ?? name] = value;
  return d;
}

/** Set a document's mediaType to `mt` when it is one of Docker's (or absent, with `always`); true when it changed. */
function setMediaType(doc: JsonObject, mt: string, always: boolean): boolean {
  const k = fieldKey(doc, 'mediaType');
  const v = k ? doc[k] : undefined;
  if (v === mt) return false;
  if (k === undefined && !always) return false;
  if (typeof v === 'string' && !isDockerMediaType(v)) return false;
  doc[k ?? 'mediaType'] = mt;
  return true;
}

/** crane's `<hex>.tar.gz` (and `sha256:<hex>`) names promise the blob digest. */
function digestInName(path: string): Digest | undefined {
  const m = /(?:^|\/)([a-f0-9]{64})\.tar\.gz$/.exec(path);
  return m ? Digest.fromHex('sha256', m[1]!) : Digest.fromEntryPath(path);
}

function fileHeader(name: string, size: number): Header {
  return { name, size, mode: 0o644, mtime: new Date(0), type: 'file', linkname: '', uid: 0, gid: 0, uname: '', gname: '', devmajor: 0, devminor: 0 };
}

function dirHeader(name: string): Header {
  return { ...fileHeader(name, 0), type: 'directory', mode: 0o755 };
}
