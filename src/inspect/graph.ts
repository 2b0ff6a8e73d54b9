import type { ArchiveModel } from '../archive/model.js';
import { Digest } from '../digest.js';
import { type Json, isJsonObject } from '../json/lossless.js';

/** A manifest that names an image's config, and the indexes above it (outermost first). */
export interface ManifestRef {
  readonly digest: Digest;
  readonly mediaType: string | null;
  readonly size: number | null;
  /** `os/architecture[/variant]` from the descriptor that named it, when given. */
  readonly platform: string | null;
  /** Manifest lists / image indexes between index.json and this manifest, outermost first. */
  readonly indexes: readonly Digest[];
}

/** A buildx attestation manifest (provenance, SBOM) found under an index. */
export interface AttestationRef {
  readonly digest: Digest;
  /** Whether its blob is in the archive (exports often leave it out). */
  readonly present: boolean;
  /** The manifest digest it describes (`vnd.docker.reference.digest`). */
  readonly refersTo: string | null;
  /** `in-toto.io/predicate-type` of its layers, e.g. https://slsa.dev/provenance/v0.2. */
  readonly predicateTypes: readonly string[];
  /** The index that lists it. */
  readonly index: Digest | null;
}

/** A manifest named by an index but not exported (another platform). */
export interface AbsentManifest {
  readonly digest: Digest;
  readonly platform: { readonly os?: string; readonly architecture?: string; readonly variant?: string } | null;
  /** The index that names it, or null for index.json itself. */
  readonly index: Digest | null;
}

export interface OciGraph {
  /** Config digest -> the manifests that name it. */
  readonly manifestsByConfig: ReadonlyMap<string, readonly ManifestRef[]>;
  readonly attestations: readonly AttestationRef[];
  readonly absent: readonly AbsentManifest[];
}

const str = (v: Json | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Walk index.json down to the manifests, remembering the path: the model keys images by config, but
 * "which digest does `docker pull` print" depends on the manifest and the index above it.
 */
export function walkOciGraph(model: ArchiveModel): OciGraph {
  const byConfig = new Map<string, ManifestRef[]>();
  const attestations: AttestationRef[] = [];
  const absent: AbsentManifest[] = [];
  const seen = new Set<string>();
  const visit = (desc: Json, indexes: Digest[], depth: number): void => {
    if (!isJsonObject(desc) || depth > 8) return;
    const d = Digest.tryParse(desc.digest);
    if (!d) return;
    const parent = indexes[indexes.length - 1] ?? null;
    const ann = isJsonObject(desc.annotations) ? desc.annotations : undefined;
    const node = model.nodes.get(d.toString());
    const isAttestation = ann?.['vnd.docker.reference.type'] === 'attestation-manifest';
    if (isAttestation) {
      const layers = node && Array.isArray(node.doc.layers) ? node.doc.layers : [];
      const types = layers.map((l) => (isJsonObject(l) && isJsonObject(l.annotations) ? str(l.annotations['in-toto.io/predicate-type']) : undefined));
      attestations.push({ digest: d, present: !!node, refersTo: str(ann?.['vnd.docker.reference.digest']) ?? null, predicateTypes: types.filter((t): t is string => !!t), index: parent });
      return;
    }
    const p = isJsonObject(desc.platform) ? desc.platform : undefined;
    if (!node) {
      const platform = p ? { ...(str(p.os) ? { os: str(p.os)! } : {}), ...(str(p.architecture) ? { architecture: str(p.architecture)! } : {}), ...(str(p.variant) ? { variant: str(p.variant)! } : {}) } : null;
      absent.push({ digest: d, platform, index: parent });
      return;
    }
    const key = `${d}@${indexes.join('/')}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (node.kind === 'index') {
      for (const child of node.doc.manifests as Json[]) visit(child, [...indexes, d], depth + 1);
      return;
    }
    const cfg = isJsonObject(node.doc.config) ? Digest.tryParse(node.doc.config.digest) : undefined;
    if (!cfg) return;
    const platform = p ? [str(p.os), str(p.architecture), str(p.variant)].filter(Boolean).join('/') : null;
    const ref: ManifestRef = {
      digest: d,
      mediaType: str(node.doc.mediaType) ?? str(desc.mediaType) ?? null,
      size: node.entry.header.size ?? null,
      platform: platform || null,
      indexes,
    };
    const list = byConfig.get(cfg.toString()) ?? [];
    if (!list.some((m) => m.digest.equals(d))) list.push(ref);
    byConfig.set(cfg.toString(), list);
  };
  const top = model.ociIndex?.doc.manifests;
  for (const desc of Array.isArray(top) ? top : []) visit(desc, [], 0);
  return { manifestsByConfig: byConfig, attestations, absent };
}
