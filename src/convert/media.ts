import type { Compression } from '../io/source.js';
import { normalizeReference } from '../reference.js';

/** The layouts `--format` writes (FORMATS.md section 1). */
export type TargetFormat = 'docker-legacy' | 'docker' | 'oci';
export const TARGET_FORMATS: readonly TargetFormat[] = ['docker-legacy', 'docker', 'oci'];

/** What `--layer-compression` recompresses image layers to. */
export type LayerCompression = 'none' | 'gzip' | 'zstd';
export const LAYER_COMPRESSIONS: readonly LayerCompression[] = ['none', 'gzip', 'zstd'];

export const OCI = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  foreign: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  foreignGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  foreignZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
} as const;

export const DOCKER = {
  list: 'application/vnd.docker.distribution.manifest.list.v2+json',
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  config: 'application/vnd.docker.container.image.v1+json',
  layer: 'application/vnd.docker.image.rootfs.diff.tar',
  layerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  foreignGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

/** Docker's media types and their OCI equivalents (what `--format oci` writes instead). */
const TO_OCI: Readonly<Record<string, string>> = {
  [DOCKER.list]: OCI.index,
  [DOCKER.manifest]: OCI.manifest,
  [DOCKER.config]: OCI.config,
  [DOCKER.layer]: OCI.layer,
  [DOCKER.layerGzip]: OCI.layerGzip,
  [DOCKER.foreignGzip]: OCI.foreignGzip,
};

/** The OCI media type for `mt` (unchanged when it is not one of Docker's). */
export function ociMediaType(mt: string): string {
  return TO_OCI[mt] ?? mt;
}

export function isDockerMediaType(mt: string | undefined): boolean {
  return mt !== undefined && mt in TO_OCI;
}

/** A layer's media type for the compression it is written with, in the family of `before`. */
export function layerMediaType(before: string | undefined, c: Compression, family: 'oci' | 'docker'): string {
  const foreign = before !== undefined && /foreign|nondistributable/.test(before);
  if (family === 'docker') return foreign ? DOCKER.foreignGzip : c === 'gzip' ? DOCKER.layerGzip : DOCKER.layer;
  if (foreign) return c === 'gzip' ? OCI.foreignGzip : c === 'zstd' ? OCI.foreignZstd : OCI.foreign;
  return c === 'gzip' ? OCI.layerGzip : c === 'zstd' ? OCI.layerZstd : OCI.layer;
}

/** The compression a layer media type announces, when it says. */
export function mediaTypeCompression(mt: string | undefined): Compression | undefined {
  if (!mt) return undefined;
  if (/(\+|\.)gzip$/.test(mt)) return 'gzip';
  if (/\+zstd$/.test(mt)) return 'zstd';
  if (/\.tar$/.test(mt)) return 'none';
  return undefined;
}

/** `docker.io/library/app:1` -> `app:1`, `docker.io/example/app:1` -> `example/app:1`: as Docker shows names. */
export function familiarName(ref: string): string {
  return normalizeReference(ref).replace(/^docker\.io\/(library\/(?=[^/]+$))?/, '');
}

/** The layout family each input layout converts to when only `--layer-compression` is given. */
export function defaultFormat(layout: string): TargetFormat {
  if (layout === 'docker-oci' || layout === 'containerd') return 'docker';
  if (layout === 'oci') return 'oci';
  return 'docker-legacy';
}
