/**
 * The layer plan of a conversion or recompression: for every streamed input entry the output
 * keeps (a layer, a large blob), the action of the writing pass (copy under a new name, or
 * re-encode), decided from the graph and the first bytes of each layer, before anything is written.
 * Given the re-encoded layers' results, it also says what each layer blob became: the fold's layer
 * step (`oci`) reads it.
 */
import type { EntryRecord } from '../archive/entry.js';
import type { Descriptor } from '../archive/graph.js';
import type { ArchiveModel, LayerInfo } from '../archive/model.js';
import { Digest } from '../digest.js';
import { EditError, UsageError } from '../errors.js';
import type { Compression } from '../io/source.js';
import { DOCKER, type LayerCompression, type TargetFormat, layerMediaType, ociMediaType } from '../convert/media.js';
import type { LayerOut } from './fold.js';

export interface ConvertOptions {
  readonly format: TargetFormat;
  readonly layerCompression?: LayerCompression | undefined;
  /** Layers copyedit made (uncompressed spools, entries with negative indexes), by DiffID. */
  readonly added?: ReadonlyMap<string, LayerInfo>;
  /** How an added layer is written without `layerCompression`: as the image's other layers are. */
  readonly addedCompression?: Compression;
  /** Layers rewritten (`--rm-path`), by input entry index. */
  readonly rewrite?: ReadonlyMap<number, LayerRewrite>;
  /** The format was not asked for (layers added in the input's own layout): Docker media types stay, a containerd export stays one. */
  readonly sameLayout?: boolean;
}

/** A layer whose tar is rewritten (`--rm-path`): the filter, and the DiffIDs before and after it (from the first pass). */
export interface LayerRewrite {
  readonly oldDiffId: Digest;
  readonly newDiffId: Digest;
  readonly removed: readonly string[];
  readonly filter: (src: AsyncIterable<Buffer>) => AsyncIterable<Buffer>;
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
      /** The entry name: fixed (docker-legacy), or given by the new blob digest once it is known. */
      readonly name: string | ((digest: Digest) => string);
      readonly what: string;
      readonly from: Compression;
      readonly to: Compression;
      readonly diffId?: Digest;
      readonly algorithm: 'sha256' | 'sha512';
      /** `--rm-path`: the tar filter and the DiffID after it. */
      readonly filter?: LayerRewrite['filter'];
      readonly newDiffId?: Digest;
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
  /** A layer copyedit made (`addLayers`): no old bytes. */
  readonly added?: true;
  /** A layer rewritten by `--rm-path`: the entries removed and its DiffID before. */
  readonly removed?: readonly string[];
  readonly oldDiffId?: string;
}

const blobPath = (d: Digest) => `blobs/${d.algorithm}/${d.hex}`;

export class LayerPlan {
  /** By input entry index; a streamed entry without an action is left out of the output. */
  readonly actions = new Map<number, StreamAction>();
  private readonly outs = new Map<number, { digest: Digest | undefined; size: number | undefined; compression: Compression }>();
  private readonly reports = new Map<number, ConvertedLayer>();

  constructor(
    private readonly model: ArchiveModel,
    private readonly opts: ConvertOptions,
    private readonly sniff: (e: EntryRecord) => Compression,
    private readonly results: ReadonlyMap<number, RecodeResult>,
  ) {}

  /** Image layers re-encoded (their compression changes). */
  get recompressed(): number {
    return [...this.actions].filter(([i, a]) => i >= 0 && a.kind === 'recode' && a.from !== a.to).length;
  }

  /** The output keeps the input's layout (layers added): Docker media types stay, a containerd export stays one. */
  get sameLayout(): boolean {
    return this.opts.sameLayout === true;
  }

  layerReport(): ConvertedLayer[] {
    return [...this.reports.values()];
  }

  private wanted(from: Compression, e: EntryRecord): Compression {
    return this.opts.layerCompression ?? (e.index < 0 ? this.opts.addedCompression : undefined) ?? from;
  }

  /** The output blob of an image layer in an OCI layout (`family`: the media types of its manifest). */
  oci(l: LayerInfo, family: 'oci' | 'docker', what: string): LayerOut | undefined {
    const e = l.entry;
    if (!e) return undefined; // absent (non-distributable): the descriptor stays as it is
    const from = this.sniff(e);
    const to = this.wanted(from, e);
    if (from !== to && to === 'zstd' && family === 'docker') {
      throw new UsageError(
        `${what} would be zstd-compressed, but its manifest uses Docker's media types (${DOCKER.manifest}), which have no zstd layer type; add --format oci to write OCI media types`,
      );
    }
    const out = this.outs.get(e.index) ?? this.planOci(e, l, from, to);
    const mediaType = out.compression !== from || !l.mediaType ? layerMediaType(l.mediaType, out.compression, family) : family === 'oci' ? ociMediaType(l.mediaType) : l.mediaType;
    return { digest: out.digest, size: out.size, mediaType, recoded: out.compression !== from || this.opts.rewrite?.has(e.index) === true };
  }

  private planOci(e: EntryRecord, l: LayerInfo, from: Compression, to: Compression): { digest: Digest | undefined; size: number | undefined; compression: Compression } {
    const algorithm = l.digest?.algorithm ?? 'sha256';
    const r = this.results.get(e.index);
    let out: { digest: Digest | undefined; size: number | undefined; compression: Compression };
    const rw = this.opts.rewrite?.get(e.index);
    const named = from === to && !rw ? (l.digest ?? (from === 'none' ? l.diffId : undefined) ?? digestInName(e.path)) : undefined;
    if (named) {
      const check = l.digest ? undefined : named;
      const checkSource = from === 'none' && l.diffId?.equals(named) ? "the config's rootfs.diff_ids" : 'its name';
      this.actions.set(e.index, { kind: 'copy', name: blobPath(named), what: e.name, ...(check ? { check, checkSource } : {}) });
      out = { digest: named, size: e.data?.length ?? e.header.size, compression: from };
    } else {
      // re-encoded; or compressed with no name saying its digest: hashed on the way (spooled, bytes unchanged)
      this.actions.set(e.index, { kind: 'recode', name: blobPath, what: e.name, from, to, ...checks(rw, from !== to ? l.diffId : undefined), algorithm });
      out = { digest: r?.digest, size: r?.size, compression: to };
    }
    this.report(e, l, from, to, from !== to || rw ? r : undefined);
    this.outs.set(e.index, out);
    return out;
  }

  /** A blob entry as it is (an artifact's layer, an attestation's config): same digest, OCI name; its data when it is in memory. */
  carry(d: Descriptor): EntryRecord | undefined {
    const e = this.model.blobs.get(d.digest.toString());
    if (!e) return undefined;
    if (e.data) return e;
    if (!this.actions.has(e.index)) this.actions.set(e.index, { kind: 'copy', name: blobPath(d.digest), what: e.name });
    return undefined;
  }

  /**
   * `<v1id>/layer.tar` for a layer of a docker-legacy output; when the same entry was already
   * written under another v1 ID, the name it was written under (the renderer links to it, as
   * Docker writes a repeated layer).
   */
  legacy(l: LayerInfo, path: string, what: string): { linkTo?: string } {
    const e = l.entry;
    if (!e) throw new EditError(`${what} is not in the archive (a non-distributable layer): the docker-legacy layout cannot name it; keep an OCI layout (--format docker)`);
    const prior = this.actions.get(e.index);
    if (prior) {
      const name = prior.name;
      return typeof name === 'string' && name !== path ? { linkTo: name } : {};
    }
    const from = this.sniff(e);
    const to = this.wanted(from, e);
    if (to === 'zstd' && from !== 'zstd') throw new UsageError(`${what} would be zstd-compressed, but the docker-legacy layout cannot say so; add --format oci`);
    const rw = this.opts.rewrite?.get(e.index);
    if (from !== to || rw) {
      this.actions.set(e.index, { kind: 'recode', name: path, what: e.name, from, to, ...checks(rw, l.diffId), algorithm: 'sha256' });
      this.report(e, l, from, to, this.results.get(e.index));
    } else {
      this.actions.set(e.index, { kind: 'copy', name: path, what: e.name });
      this.report(e, l, from, to, undefined);
    }
    return {};
  }

  private report(e: EntryRecord, l: LayerInfo, from: Compression, to: Compression, r: RecodeResult | undefined): void {
    if (this.reports.has(e.index)) return;
    const rw = this.opts.rewrite?.get(e.index);
    // an added layer (negative index) had no old bytes; a rewritten one's were its old DiffID's
    const old = e.index < 0 ? undefined : (l.digest ?? (from === 'none' ? (rw?.oldDiffId ?? l.diffId) : undefined));
    const same = from === to && !rw;
    this.reports.set(e.index, {
      diffId: (rw?.newDiffId ?? l.diffId)?.toString() ?? null,
      from,
      to,
      oldDigest: old?.toString() ?? null,
      newDigest: same ? ((e.index < 0 ? l.digest : old)?.toString() ?? r?.digest.toString() ?? null) : (r?.digest.toString() ?? null),
      oldSize: e.index < 0 ? 0 : (e.data?.length ?? e.header.size),
      newSize: same ? (e.data?.length ?? e.header.size) : (r?.size ?? null),
      ...(e.index < 0 ? { added: true as const } : {}),
      ...rewritten(rw),
    });
  }
}

function rewritten(rw: LayerRewrite | undefined): { removed?: readonly string[]; oldDiffId?: string } {
  return rw ? { removed: rw.removed, oldDiffId: rw.oldDiffId.toString() } : {};
}

/** The DiffID checks of a recode: the input's (`diffId`), and the filter's with its result for a rewritten layer. */
function checks(rw: LayerRewrite | undefined, diffId: Digest | undefined): { diffId?: Digest; filter?: LayerRewrite['filter']; newDiffId?: Digest } {
  if (rw) return { diffId: rw.oldDiffId, filter: rw.filter, newDiffId: rw.newDiffId };
  return diffId ? { diffId } : {};
}

/** crane's `<hex>.tar.gz` (and `sha256:<hex>`) names promise the blob digest. */
function digestInName(path: string): Digest | undefined {
  const m = /(?:^|\/)([a-f0-9]{64})\.tar\.gz$/.exec(path);
  return m ? Digest.fromHex('sha256', m[1]!) : Digest.fromEntryPath(path);
}
