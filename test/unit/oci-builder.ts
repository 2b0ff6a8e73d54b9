/**
 * Builds OCI layouts for the graph tests, the way BuildKit, containerd and ORAS lay them out:
 * multi-platform indexes with attestation manifests, OCI 1.1 artifacts and referrers, foreign layers.
 * Written for the tests, without src/: blobs are named by their sha256, descriptors carry sizes.
 */
import { type Entry, imageConfig, layer, makeTar, sha } from './fixtures.js';

export interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
  artifactType?: string;
  urls?: string[];
}

export const MT = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  empty: 'application/vnd.oci.empty.v1+json',
  artifactManifest: 'application/vnd.oci.artifact.manifest.v1+json',
  foreign: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  intoto: 'application/vnd.in-toto+json',
} as const;

export class OciBuilder {
  readonly blobs = new Map<string, Buffer>();

  blob(content: Buffer | string | object, mediaType: string): Desc {
    const bytes = Buffer.isBuffer(content) ? content : Buffer.from(typeof content === 'string' ? content : JSON.stringify(content));
    const hex = sha(bytes);
    this.blobs.set(hex, bytes);
    return { mediaType, digest: `sha256:${hex}`, size: bytes.length };
  }

  /** A one-layer image for a platform; returns the manifest descriptor (with the platform). */
  async image(os: string, architecture: string, extra: Record<string, unknown> = {}, file = `${architecture}.txt`): Promise<{ desc: Desc; config: Desc; layers: Desc[] }> {
    const l = await layer(file, `content for ${os}/${architecture}\n`);
    const ld = this.blob(l, MT.layer);
    const cfg = imageConfig([sha(l)], { os, architecture, ...extra });
    const cd = this.blob(cfg, MT.config);
    const m = { schemaVersion: 2, mediaType: MT.manifest, config: cd, layers: [ld] };
    return { desc: { ...this.blob(m, MT.manifest), platform: { os, architecture } }, config: cd, layers: [ld] };
  }

  /** A BuildKit-style provenance attestation for `subject` (a manifest descriptor). */
  attestation(subject: Desc): Desc {
    const statement = this.blob(
      { _type: 'https://in-toto.io/Statement/v0.1', subject: [{ digest: { sha256: subject.digest.slice(7) } }], predicateType: 'https://slsa.dev/provenance/v0.2', predicate: {} },
      MT.intoto,
    );
    const cfg = this.blob({ architecture: 'unknown', os: 'unknown', config: {}, rootfs: { type: 'layers', diff_ids: [statement.digest] } }, MT.config);
    const m = { schemaVersion: 2, mediaType: MT.manifest, config: cfg, layers: [{ ...statement, annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' } }] };
    return {
      ...this.blob(m, MT.manifest),
      platform: { os: 'unknown', architecture: 'unknown' },
      annotations: { 'vnd.docker.reference.digest': subject.digest, 'vnd.docker.reference.type': 'attestation-manifest' },
    };
  }

  /** An OCI 1.1 artifact (empty config), optionally a referrer of `subject`. */
  artifact(artifactType: string, payload: string, subject?: Desc): Desc {
    const empty = this.blob('{}', MT.empty);
    const l = this.blob(payload, 'application/vnd.example.payload');
    const m: Record<string, unknown> = { schemaVersion: 2, mediaType: MT.manifest, artifactType, config: empty, layers: [l] };
    if (subject) m.subject = { mediaType: subject.mediaType, digest: subject.digest, size: subject.size };
    return { ...this.blob(m, MT.manifest), artifactType };
  }

  /** The old OCI artifact manifest media type (image-spec 1.1 release candidates). */
  oldArtifact(payload: string): Desc {
    const l = this.blob(payload, 'application/vnd.example.payload');
    return this.blob({ mediaType: MT.artifactManifest, artifactType: 'application/vnd.example', blobs: [l] }, MT.artifactManifest);
  }

  index(children: Desc[]): Desc {
    return this.blob({ schemaVersion: 2, mediaType: MT.index, manifests: children }, MT.index);
  }

  /** The archive: blobs, oci-layout, index.json with `roots`, and optionally a manifest.json. */
  async archive(roots: Desc[], manifestJson?: unknown[], skip: string[] = []): Promise<Buffer> {
    const entries: Entry[] = [];
    for (const [hex, data] of [...this.blobs].sort()) if (!skip.includes(`sha256:${hex}`)) entries.push({ name: `blobs/sha256/${hex}`, data });
    entries.push({ name: 'index.json', data: JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests: roots }) });
    if (manifestJson) entries.push({ name: 'manifest.json', data: JSON.stringify(manifestJson) });
    entries.push({ name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' });
    return makeTar(entries);
  }
}

export function named(d: Desc, name: string): Desc {
  const tag = name.slice(name.lastIndexOf(':') + 1);
  return { ...d, annotations: { ...d.annotations, 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': tag } };
}

/**
 * An OCI archive of `n` images sharing one layer, their configs differing by a label, one index
 * naming them all as docker.io/example/many:1 (the many-images tests and scripts/bench/many.mjs).
 */
export async function manyImagesArchive(n: number): Promise<Buffer> {
  const b = new OciBuilder();
  const l = await layer('shared.txt', 'one layer shared by every image\n');
  const ld = b.blob(l, MT.layer);
  const manifests: Desc[] = [];
  for (let i = 0; i < n; i++) {
    const cd = b.blob(imageConfig([sha(l)], { os: 'linux', architecture: 'amd64', config: { Labels: { image: String(i) } } }), MT.config);
    manifests.push(b.blob({ schemaVersion: 2, mediaType: MT.manifest, config: cd, layers: [ld] }, MT.manifest));
  }
  return b.archive([named(b.index(manifests), 'docker.io/example/many:1')]);
}
