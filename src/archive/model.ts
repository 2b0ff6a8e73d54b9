import type { Digest } from '../digest.js';
import type { Json, JsonObject } from '../json/lossless.js';
import type { EntryRecord } from './entry.js';
import type { ArchiveGraph, Descriptor, GraphNode, ManifestNode, Platform } from './graph.js';

/**
 * The layouts of FORMATS.md section 1, as recognised from the metadata:
 * - `docker-legacy`: Docker <= 24 save: `<v1id>/layer.tar`, `<imageid>.json`, manifest.json, repositories
 * - `docker-oci`: Docker 25+ save: OCI layout (blobs/, index.json, oci-layout) plus manifest.json with LayerSources
 * - `containerd`: ctr/nerdctl/buildx export: OCI layout plus a plain manifest.json, layers as stored
 * - `oci`: an OCI image layout without manifest.json (oci-archive)
 * - `docker-archive`: podman/skopeo: `<diffid>.tar` at the root, `<imageid>.json`, manifest.json
 * - `crane`: go-containerregistry tarball: `sha256:<hex>` config, `<digest>.tar.gz` layers
 */
export type LayoutName = 'docker-legacy' | 'docker-oci' | 'containerd' | 'oci' | 'docker-archive' | 'crane';

/** One element of manifest.json. */
export interface ManifestJsonItem {
  readonly config: string;
  readonly repoTags: readonly string[];
  readonly layers: readonly string[];
  readonly raw: JsonObject;
}

/** What the model knows of one layer of an image. */
export interface LayerInfo {
  readonly diffId?: Digest;
  /** The tar entry that holds it, when present (after following one symlink). */
  readonly entry?: EntryRecord;
  /** Blob digest and media type from an OCI/Docker manifest, when the layout has one. */
  readonly digest?: Digest;
  readonly mediaType?: string;
  readonly size?: number;
}

/**
 * One image config (one platform of an image) and its layers. The unit an edit applies to; what a
 * name points at is an ImageTarget, which holds one ImageModel per platform.
 */
export interface ImageModel {
  /** The image ID: sha256 of the exact config bytes. */
  readonly id: Digest;
  readonly configEntry: EntryRecord;
  readonly configBytes: Buffer;
  readonly config: JsonObject;
  /** Tags from manifest.json RepoTags and index.json image names, in that order, deduplicated. */
  readonly tags: readonly string[];
  readonly layers: readonly LayerInfo[];
  /** From the descriptor that named its manifest, else from the config's os/architecture/variant. */
  readonly platform: Platform | undefined;
}

/** One platform of an image: its config and, in OCI layouts, the manifest naming it. */
export interface PlatformImage {
  readonly image: ImageModel;
  readonly manifest: ManifestNode | undefined;
  readonly platform: Platform | undefined;
  /** Indexes between the name and the manifest, outermost first. */
  readonly indexes: readonly Digest[];
}

/**
 * An image as an engine sees it: what a name points at. An index.json entry (a manifest, or an
 * index of several platforms with their attestations), or, in layouts without index.json, a
 * manifest.json item.
 */
export interface ImageTarget {
  /** The names (tags) pointing at it, as written; empty for an untagged image. */
  readonly names: readonly string[];
  /** The index.json descriptors that name it (same digest), in order; empty without index.json. */
  readonly descriptors: readonly Descriptor[];
  /** The index or manifest the descriptors name (undefined without index.json). */
  readonly node: GraphNode | undefined;
  /** The platforms whose config the archive holds, in index order. */
  readonly platforms: readonly PlatformImage[];
  /** Platforms the index names but the archive does not hold. */
  readonly absent: readonly Descriptor[];
  /** BuildKit attestation manifests under it. */
  readonly attestations: readonly ManifestNode[];
  /** Positions in manifest.json of the items that describe it. */
  readonly manifestJsonItems: readonly number[];
}

/** The digest `docker images` shows for a target with the containerd store: the root's, or the config's. */
export function targetDigest(t: ImageTarget): Digest {
  return t.node?.digest ?? t.platforms[0]!.image.id;
}

export interface ArchiveModel {
  readonly layout: LayoutName;
  /** All entries in input order; `data` is set for metadata kept in memory. */
  readonly entries: readonly EntryRecord[];
  /** Lookup by normalised path; a repeated name resolves to the LAST copy, as docker load does. */
  readonly byPath: ReadonlyMap<string, EntryRecord>;
  readonly manifestJson?: {
    readonly entry: EntryRecord;
    readonly doc: Json[];
    readonly items: readonly ManifestJsonItem[];
    /** The image each item's Config names (same order as `items`). */
    readonly itemImages: readonly ImageModel[];
  };
  readonly ociIndex?: { readonly entry: EntryRecord; readonly doc: JsonObject };
  /** The graph below index.json (empty when the layout has none, or docker load ignores it). */
  readonly graph: ArchiveGraph;
  /** `blobs/<alg>/<hex>` entries by digest string. */
  readonly blobs: ReadonlyMap<string, EntryRecord>;
  /** Every image config the archive names and holds (one per platform). */
  readonly images: readonly ImageModel[];
  /** What names point at: the images a user selects, edits and tags. */
  readonly targets: readonly ImageTarget[];
  /** index.json entries that are not images: OCI artifacts, referrers, indexes of them. */
  readonly artifacts: readonly Descriptor[];
  /** Non-fatal observations made while reading (missing platforms, odd entries). */
  readonly notes: readonly string[];
}
