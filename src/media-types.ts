/**
 * Every media type copyedit reads or writes, in one place (OCI image spec, Docker's distribution
 * spec), with what they say: index or manifest, a layer's compression, the Docker type's OCI twin.
 */
import type { Compression } from './codec/detect.js';

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
  /** The short-lived OCI 1.1 release candidate's artifact manifest (read, never written). */
  artifactManifest: 'application/vnd.oci.artifact.manifest.v1+json',
} as const;

export const DOCKER = {
  list: 'application/vnd.docker.distribution.manifest.list.v2+json',
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  config: 'application/vnd.docker.container.image.v1+json',
  layer: 'application/vnd.docker.image.rootfs.diff.tar',
  layerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  foreignGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

/** The manifest, index and config types under the names the read model uses. */
export const MediaType = {
  ociIndex: OCI.index,
  ociManifest: OCI.manifest,
  ociConfig: OCI.config,
  dockerList: DOCKER.list,
  dockerManifest: DOCKER.manifest,
  dockerConfig: DOCKER.config,
} as const;

export function isIndexMediaType(mt: unknown): boolean {
  return mt === OCI.index || mt === DOCKER.list;
}
export function isManifestMediaType(mt: unknown): boolean {
  return mt === OCI.manifest || mt === DOCKER.manifest;
}

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
