import type { ArchiveModel } from '../archive/model.js';
import { imageManifestsUnder, isAttestation, platformString } from '../archive/graph.js';
import type { Digest } from '../digest.js';
import { field, isJsonObject } from '../json/lossless.js';

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

/**
 * The archive graph seen from the configs: "which digest does `docker pull` print" depends on the
 * manifest and the index above it; the model keys images by config.
 */
export function walkOciGraph(model: ArchiveModel): OciGraph {
  const byConfig = new Map<string, ManifestRef[]>();
  const listed = new Set<string>();
  for (const root of model.graph.roots) {
    for (const pm of imageManifestsUnder(model.graph, root).manifests) {
      const key = pm.manifest.config!.digest.toString();
      const list = byConfig.get(key) ?? [];
      if (listed.has(`${key} ${pm.manifest.digest}`)) continue;
      listed.add(`${key} ${pm.manifest.digest}`);
      list.push({
        digest: pm.manifest.digest,
        mediaType: pm.manifest.mediaType ?? null,
        size: pm.manifest.entry.header.size ?? null,
        platform: pm.platform ? platformString(pm.platform) : null,
        indexes: pm.indexes,
      });
      byConfig.set(key, list);
    }
  }
  const attestations: AttestationRef[] = [];
  for (const [key, edges] of model.graph.parents) {
    const edge = edges.find((e) => isAttestation(e.desc));
    if (!edge) continue;
    const node = model.graph.nodes.get(key);
    const layers = node?.kind === 'manifest' ? node.layers : [];
    attestations.push({
      digest: edge.desc.digest,
      present: !!node,
      refersTo: edge.desc.annotations['vnd.docker.reference.digest'] ?? null,
      predicateTypes: layers.map((l) => l.annotations['in-toto.io/predicate-type']).filter((t): t is string => !!t),
      index: edge.parent ?? null,
    });
  }
  const absent = model.graph.absent.map((a) => {
    const p = field(a.desc.raw, 'platform');
    const platform =
      isJsonObject(p) && a.desc.platform ? { os: a.desc.platform.os, architecture: a.desc.platform.architecture, ...(a.desc.platform.variant ? { variant: a.desc.platform.variant } : {}) } : null;
    return { digest: a.desc.digest, platform, index: a.parent ?? null };
  });
  return { manifestsByConfig: byConfig, attestations, absent };
}
