/**
 * The rewrite's policies, in one place and with one wording whatever caused the change (an edit,
 * a layout conversion, a recompression): what may stay in an image once a digest it describes has
 * changed. A statement about old bytes is never left in the output as if it were about the new.
 *
 * - An attestation (BuildKit's provenance/SBOM manifest, `vnd.docker.reference.digest`) or a SOCI
 *   v2 index (`com.amazon.soci.image-manifest-digest`) describes one manifest by digest: when that
 *   manifest changes, it is dropped with a warning (its in-toto subject or its ztocs still name
 *   the old bytes).
 * - A referrer (OCI 1.1 `subject`) follows its subject, unless it is a signature (it signs the old
 *   bytes) or its subject left the archive: then it is dropped with a warning.
 * - A layer whose bytes change (recompression) loses the descriptor annotations that describe the
 *   old bytes (eStargz's TOC digest, zstd:chunked's positions and checksums); the report says so.
 * - An image manifest that names a SOCI index the rewrite dropped loses that annotation.
 */
import { ATTESTATION_DIGEST, type Descriptor, type GraphNode, isAttestation } from '../archive/graph.js';

/** Referrers whose content a changed subject makes false: a signature signs the old manifest's bytes. */
export const SIGNATURE = /signature|\.sig\b|cosign|notary|notation|jose|jws/i;

export const CONTAINERD_NAME = 'io.containerd.image.name';
export const OCI_REF_NAME = 'org.opencontainers.image.ref.name';

/** SOCI v2: on the index descriptor of a SOCI index, the image manifest it indexes. */
export const SOCI_IMAGE_MANIFEST = 'com.amazon.soci.image-manifest-digest';
/** SOCI v2: on an image manifest (and its descriptor), the SOCI index made for it. */
export const SOCI_INDEX_DIGEST = 'com.amazon.soci.index-digest';

/** Layer descriptor annotations that describe the compressed bytes, not the layer's content. */
const BYTE_ANNOTATIONS = [/^containerd\.io\/snapshot\/stargz\//, /^io\.containers\.estargz\./, /^io\.github\.containers\.zstd-chunked\./];

export function describesBytes(key: string): boolean {
  return BYTE_ANNOTATIONS.some((re) => re.test(key));
}

/**
 * The manifest digest an index entry is a statement about (an attestation's reference digest, a
 * SOCI index's image manifest), or undefined for an ordinary entry.
 */
export function describedDigest(d: Descriptor): string | undefined {
  if (!isStatement(d)) return undefined;
  if (isAttestation(d)) return d.annotations[ATTESTATION_DIGEST];
  return d.annotations[SOCI_IMAGE_MANIFEST];
}

/** An index entry that is a statement about a sibling manifest rather than an image of its own. */
export function isStatement(d: Descriptor): boolean {
  return isAttestation(d) || d.annotations[SOCI_IMAGE_MANIFEST] !== undefined;
}

/** What a statement entry is, for the warning. */
function statementKind(d: Descriptor): string {
  return isAttestation(d) ? 'attestation manifest' : 'SOCI index';
}

/** The warning when an index entry describing a changed manifest is dropped. */
export function statementDropped(where: string, d: Descriptor, about: string): string {
  return `${where}: dropped ${statementKind(d)} ${d.digest}: it describes ${about} as it was before the change`;
}

/** What a referrer is, for the warnings: its artifactType, config media type, or "referrer". */
export function referrerWhat(node: GraphNode): string {
  return node.artifactType ?? (node.kind === 'manifest' ? node.config?.mediaType : undefined) ?? 'referrer';
}

/** True when a referrer's content is a signature of its subject's bytes. */
export function isSignature(node: GraphNode): boolean {
  return SIGNATURE.test(referrerWhat(node)) || (node.kind === 'manifest' && node.layers.some((l) => SIGNATURE.test(l.mediaType ?? '')));
}

export function referrerDropped(node: GraphNode, why: string): string {
  return `dropped referrer ${node.digest}: ${why}`;
}

export function signatureWhy(node: GraphNode, subject: Descriptor): string {
  return `it is a signature (${referrerWhat(node)}) of ${subject.digest} as it was before the change, and cannot be true of the changed image`;
}

/** `now` undefined: the subject's new digest is known only once its re-encoded layers are written (a dry run). */
export function referrerRepointed(node: GraphNode, now: string | undefined): string {
  return `referrer ${node.digest} (${referrerWhat(node)}) now names the changed manifest ${now ?? '(its digest is known once its layers are written)'} as its subject`;
}

/** A note for a layer whose byte-describing annotations were removed. */
export function bytesAnnotationsDropped(layer: string, keys: readonly string[]): string {
  return `${layer}: removed ${keys.join(', ')}: they describe the layer's bytes before recompression`;
}
