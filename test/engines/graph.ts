/**
 * What an archive holds, read independently of src/ (plain JSON over an extracted copy): the names
 * in index.json / manifest.json, what each name points at (an index's platform manifests, present
 * or absent; attestation manifests; artifacts; referrers with their subject) and each config.
 * The engine tests check the engines against THIS, so a change in the CLI's report shape cannot
 * hide what the archive really says.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ok, removeDir, run, tempDir } from './harness.js';

export const IMAGE_CONFIG_TYPES = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);
export const ARTIFACT_MANIFEST = 'application/vnd.oci.artifact.manifest.v1+json';
export const SIGNATURE_TYPES = new Set(['application/vnd.dev.cosign.artifact.sig.v1+json']);

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
  artifactType?: string;
  urls?: string[];
}

export interface ManifestNode {
  digest: string;
  mediaType: string;
  present: boolean;
  platform?: Descriptor['platform'];
  /** artifactType, empty/non-image config, or the old artifact manifest type */
  artifact: boolean;
  artifactType?: string;
  subject?: string;
  /** for a BuildKit attestation manifest: the manifest it describes */
  attests?: string;
  configDigest?: string;
  layers: Descriptor[];
}

export interface Named {
  /** io.containerd.image.name, else org.opencontainers.image.ref.name, else '' (unnamed entry) */
  name: string;
  top: Descriptor;
  /** index digest when the name points at an index, else undefined */
  index?: string;
  manifests: ManifestNode[];
}

export interface ArchiveGraph {
  dir: string;
  names: Named[];
  manifestJson?: { Config: string; RepoTags: string[] | null; Layers: string[] }[];
  blob(digest: string): Buffer | undefined;
  config(digest: string): Record<string, unknown> | undefined;
  /** every manifest node reachable from index.json (deduplicated) */
  allManifests(): ManifestNode[];
  /** image (non-artifact, non-attestation) manifests present, with their configs */
  images(): ManifestNode[];
  dispose(): void;
}

/** Extract an archive (any compression GNU tar undoes) and read its graph. */
export function readGraph(archive: string): ArchiveGraph {
  const dir = tempDir('graph');
  ok(run('tar', ['-xaf', archive, '-C', dir]), `tar -x ${archive}`);
  const blobPath = (d: string) => join(dir, 'blobs', ...d.split(':'));
  const blob = (d: string) => (existsSync(blobPath(d)) ? readFileSync(blobPath(d)) : undefined);
  const json = (d: string): Record<string, unknown> | undefined => {
    const b = blob(d);
    if (!b) return undefined;
    try {
      return JSON.parse(b.toString('utf8')) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  const seen = new Map<string, ManifestNode>();
  const manifestNode = (d: Descriptor, attests?: string): ManifestNode => {
    const have = seen.get(d.digest);
    if (have) return have;
    const m = json(d.digest) as { mediaType?: string; artifactType?: string; config?: Descriptor; layers?: Descriptor[]; blobs?: Descriptor[]; subject?: Descriptor } | undefined;
    const mediaType = m?.mediaType ?? d.mediaType ?? '';
    const configType = m?.config?.mediaType;
    const node: ManifestNode = {
      digest: d.digest,
      mediaType,
      present: m !== undefined,
      ...(d.platform ? { platform: d.platform } : {}),
      artifact: !!(m?.artifactType || d.artifactType || mediaType === ARTIFACT_MANIFEST || (configType && !IMAGE_CONFIG_TYPES.has(configType))),
      ...(m?.artifactType || d.artifactType ? { artifactType: m?.artifactType ?? d.artifactType } : {}),
      ...(m?.subject ? { subject: m.subject.digest } : {}),
      ...(attests ? { attests } : {}),
      ...(m?.config ? { configDigest: m.config.digest } : {}),
      layers: m?.layers ?? m?.blobs ?? [],
    };
    seen.set(d.digest, node);
    return node;
  };
  const names: Named[] = [];
  const indexPath = join(dir, 'index.json');
  if (existsSync(indexPath)) {
    const idx = JSON.parse(readFileSync(indexPath, 'utf8')) as { manifests?: Descriptor[] };
    for (const top of idx.manifests ?? []) {
      const name = top.annotations?.['io.containerd.image.name'] ?? top.annotations?.['org.opencontainers.image.ref.name'] ?? '';
      const doc = json(top.digest) as { manifests?: Descriptor[]; mediaType?: string } | undefined;
      if (doc?.manifests || /index|list/.test(top.mediaType ?? '')) {
        const manifests = (doc?.manifests ?? []).map((m) =>
          manifestNode(m, m.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' ? m.annotations['vnd.docker.reference.digest'] : undefined),
        );
        names.push({ name, top, index: top.digest, manifests });
      } else names.push({ name, top, manifests: [manifestNode(top)] });
    }
  }
  const mjPath = join(dir, 'manifest.json');
  const manifestJson = existsSync(mjPath) ? (JSON.parse(readFileSync(mjPath, 'utf8')) as ArchiveGraph['manifestJson']) : undefined;
  return {
    dir,
    names,
    ...(manifestJson ? { manifestJson } : {}),
    blob,
    config: json,
    allManifests: () => [...seen.values()],
    images: () => [...seen.values()].filter((m) => m.present && !m.artifact && !m.attests && m.configDigest),
    dispose: () => removeDir(dir),
  };
}

/** Every {oldId,newId} pair anywhere in a CLI report (whatever its shape), newId -> oldId. */
export function idPairs(report: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.oldId === 'string' && typeof o.newId === 'string') out.set(o.newId, o.oldId);
      Object.values(o).forEach(walk);
    }
  };
  walk(report);
  return out;
}

export function platformOf(cfg: Record<string, unknown> | undefined): string {
  if (!cfg) return '?';
  return [cfg.os, cfg.architecture, cfg.variant].filter((x) => typeof x === 'string' && x).join('/');
}
