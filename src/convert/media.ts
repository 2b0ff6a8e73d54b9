import { normalizeReference } from '../reference.js';

/** The layouts `--format` writes (FORMATS.md section 1). */
export type TargetFormat = 'docker-legacy' | 'docker' | 'oci';
export const TARGET_FORMATS: readonly TargetFormat[] = ['docker-legacy', 'docker', 'oci'];

/** What `--layer-compression` recompresses image layers to. */
export type LayerCompression = 'none' | 'gzip' | 'zstd';
export const LAYER_COMPRESSIONS: readonly LayerCompression[] = ['none', 'gzip', 'zstd'];

// the media types themselves live in src/media-types.ts; re-exported for src/convert/plan.ts and src/pipeline.ts
export { DOCKER, OCI, isDockerMediaType, layerMediaType, mediaTypeCompression, ociMediaType } from '../media-types.js';

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
