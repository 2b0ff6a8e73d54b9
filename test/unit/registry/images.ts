/** Images seeded straight into a FakeRegistry: one platform, two platforms with an attestation, a referrer. */
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FakeRegistry } from './fake-registry.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

function sha(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

export interface Seeded {
  readonly root: string;
  readonly manifests: string[];
  readonly layers: string[];
  readonly layerBytes: number;
}

/** One platform: `layers` gzip layers of `size` random bytes each, Volumes /data, a label. */
export function seedImage(reg: FakeRegistry, repo: string, tag: string, o: { layers?: number; size?: number; arch?: string } = {}): Seeded & { manifest: Buffer } {
  const layers: { digest: string; size: number; diffId: string }[] = [];
  for (let i = 0; i < (o.layers ?? 2); i++) {
    const raw = randomBytes(o.size ?? 4096);
    const gz = gzipSync(raw);
    layers.push({ digest: reg.putBlob(repo, gz), size: gz.length, diffId: sha(raw) });
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: o.arch ?? 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/bin'], Volumes: { '/data': {} }, Labels: { a: '1' } },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map(() => ({ created: '2024-01-01T00:00:00Z', created_by: 'ADD x' })),
    }),
  );
  const cfg = reg.putBlob(repo, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfg, size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
    }),
  );
  const root = reg.putManifest(repo, tag, manifest, OCI_MANIFEST);
  return { root, manifests: [root], layers: layers.map((l) => l.digest), layerBytes: layers.reduce((n, l) => n + l.size, 0), manifest };
}

/** Two platforms and a BuildKit-style attestation manifest, under an OCI index. */
export function seedIndex(reg: FakeRegistry, repo: string, tag: string): Seeded {
  const amd = seedImage(reg, repo, 'tmp-amd64', { arch: 'amd64' });
  const arm = seedImage(reg, repo, 'tmp-arm64', { arch: 'arm64' });
  reg.tags.get(repo)!.delete('tmp-amd64');
  reg.tags.get(repo)!.delete('tmp-arm64');
  const stmt = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v0.1', subject: [{ digest: { sha256: amd.root.slice(7) } }] }));
  const stmtD = reg.putBlob(repo, stmt);
  const empty = Buffer.from('{}');
  const emptyD = reg.putBlob(repo, empty);
  const att = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: emptyD, size: 2 },
      layers: [{ mediaType: 'application/vnd.in-toto+json', digest: stmtD, size: stmt.length, annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' } }],
    }),
  );
  const attD = reg.putManifest(repo, sha(att), att, OCI_MANIFEST);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { mediaType: OCI_MANIFEST, digest: amd.root, size: amd.manifest.length, platform: { architecture: 'amd64', os: 'linux' } },
        { mediaType: OCI_MANIFEST, digest: arm.root, size: arm.manifest.length, platform: { architecture: 'arm64', os: 'linux' } },
        {
          mediaType: OCI_MANIFEST,
          digest: attD,
          size: att.length,
          platform: { architecture: 'unknown', os: 'unknown' },
          annotations: { 'vnd.docker.reference.digest': amd.root, 'vnd.docker.reference.type': 'attestation-manifest' },
        },
      ],
    }),
  );
  const root = reg.putManifest(repo, tag, index, OCI_INDEX);
  return { root, manifests: [root, amd.root, arm.root, attD], layers: [...amd.layers, ...arm.layers], layerBytes: amd.layerBytes + arm.layerBytes };
}

/** An SBOM referrer of `subject` (as `oras attach` makes it); with `fallbackTag`, also the sha256-<hex> index. */
export function seedReferrer(reg: FakeRegistry, repo: string, subject: string, fallbackTag: boolean): string {
  const sbom = Buffer.from('{"spdxVersion":"SPDX-2.3"}');
  const sbomD = reg.putBlob(repo, sbom);
  const empty = Buffer.from('{}');
  const emptyD = reg.putBlob(repo, empty);
  const subj = reg.resolve(repo, subject)!;
  const m = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/spdx+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: emptyD, size: 2 },
      layers: [{ mediaType: 'application/spdx+json', digest: sbomD, size: sbom.length }],
      subject: { mediaType: subj.mediaType, digest: subject, size: subj.bytes.length },
    }),
  );
  const d = reg.putManifest(repo, sha(m), m, OCI_MANIFEST);
  if (fallbackTag) {
    const idx = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: d, size: m.length, artifactType: 'application/spdx+json' }] }));
    reg.putManifest(repo, `sha256-${subject.slice(7)}`, idx, OCI_INDEX);
  }
  return d;
}
