import type { Digest } from '../digest.js';
import type { Json, JsonObject } from '../json/lossless.js';
import type { EntryRecord } from './entry.js';

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

/** A manifest or index blob of the OCI layout, parsed. */
export interface OciNode {
  readonly digest: Digest;
  readonly entry: EntryRecord;
  readonly kind: 'manifest' | 'index';
  readonly doc: JsonObject;
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

/** One image: a config blob and everything that names it. */
export interface ImageModel {
  /** The image ID: sha256 of the exact config bytes. */
  readonly id: Digest;
  readonly configEntry: EntryRecord;
  readonly configBytes: Buffer;
  readonly config: JsonObject;
  /** Tags from manifest.json RepoTags and index.json image names, in that order, deduplicated. */
  readonly tags: readonly string[];
  readonly layers: readonly LayerInfo[];
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
  /** Manifest and index blobs reachable from index.json that are present in the archive. */
  readonly nodes: ReadonlyMap<string, OciNode>;
  /** `blobs/<alg>/<hex>` entries by digest string. */
  readonly blobs: ReadonlyMap<string, EntryRecord>;
  readonly images: readonly ImageModel[];
  /** Non-fatal observations made while reading (missing platforms, odd entries). */
  readonly notes: readonly string[];
}

export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

export function isIndexMediaType(mt: unknown): boolean {
  return mt === MediaType.ociIndex || mt === MediaType.dockerList;
}
export function isManifestMediaType(mt: unknown): boolean {
  return mt === MediaType.ociManifest || mt === MediaType.dockerManifest;
}
