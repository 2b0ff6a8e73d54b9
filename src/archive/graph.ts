/**
 * The graph of what an OCI layout holds, built once: index.json -> indexes (manifest lists) ->
 * manifests -> configs and layers, with each node's media type, role, platform, `artifactType` and
 * `subject`. Everything that walks manifests (the model, the rewrite, verify, inspect) uses it.
 *
 * Bounded: a node reached twice is read and expanded once (a small archive cannot cause exponential
 * work), indexes nest at most MAX_DEPTH deep and list at most MAX_CHILDREN descriptors each, and the
 * graph holds at most MAX_NODES nodes; past a limit the archive is refused with a clear error.
 */
import { Digest } from '../digest.js';
import { ArchiveError } from '../errors.js';
import { type Json, JsonBudgetError, type JsonObject, JsonSyntaxError, field, isJsonObject, parseJson } from '../json/lossless.js';
import type { EntryRecord } from './tar/entry.js';
import { MediaType, OCI, isIndexMediaType } from '../media-types.js';
import { MANIFEST_OR_INDEX, checkGoAmbiguity } from '../json/schemas.js';
import { checkOptions, optionKeys } from '../options-check.js';

/** Deepest nesting of indexes below index.json (real images use 1 or 2). */
export const MAX_DEPTH = 8;
/** Most descriptors one index may list (BuildKit's largest: a few dozen platforms and attestations). */
export const MAX_CHILDREN = 10_000;
/** Most distinct manifests and indexes in one archive. */
export const MAX_NODES = 100_000;

/** The media types the graph tells apart, for the modules that read them from here (one list: src/media-types.ts). */
export { MediaType, isIndexMediaType, isManifestMediaType } from '../media-types.js';

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** `linux/arm64/v8` -> a Platform; undefined when it is not of that form. */
export function parsePlatform(s: string): Platform | undefined {
  const parts = s.trim().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) return undefined;
  return { os: parts[0]!, architecture: parts[1]!, ...(parts[2] ? { variant: parts[2] } : {}) };
}

export function platformString(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** Does `p` match what the user asked for? A request without a variant matches every variant. */
export function platformMatches(p: Platform | undefined, want: Platform): boolean {
  if (!p) return false;
  if (p.os !== want.os || p.architecture !== want.architecture) return false;
  return want.variant === undefined || p.variant === want.variant;
}

/** A descriptor as read (digest, media type, size, platform, annotations), with its JSON. */
export interface Descriptor {
  readonly digest: Digest;
  readonly mediaType: string | undefined;
  readonly size: number | undefined;
  readonly platform: Platform | undefined;
  readonly annotations: Readonly<Record<string, string>>;
  readonly artifactType: string | undefined;
  /** Non-distributable ("foreign") layers name where to fetch them; archives usually leave them out. */
  readonly urls: readonly string[];
  readonly raw: JsonObject;
}

/**
 * What a manifest is: `image` (its config is an image config: the only thing copyedit edits),
 * `attestation` (a BuildKit provenance/SBOM manifest: describes an image, is not one), or
 * `artifact` (OCI 1.1 artifacts and referrers: an `artifactType`, a `subject`, a non-image config).
 */
export type ManifestRole = 'image' | 'attestation' | 'artifact';

export interface IndexNode {
  readonly kind: 'index';
  readonly digest: Digest;
  readonly entry: EntryRecord;
  readonly doc: JsonObject;
  readonly mediaType: string | undefined;
  readonly children: readonly Descriptor[];
  readonly subject: Descriptor | undefined;
  readonly artifactType: string | undefined;
}

export interface ManifestNode {
  readonly kind: 'manifest';
  readonly digest: Digest;
  readonly entry: EntryRecord;
  readonly doc: JsonObject;
  readonly mediaType: string | undefined;
  readonly role: ManifestRole;
  /** The config descriptor (absent in the old OCI artifact manifest). */
  readonly config: Descriptor | undefined;
  /** `layers`, or `blobs` of an OCI artifact manifest. */
  readonly layers: readonly Descriptor[];
  readonly subject: Descriptor | undefined;
  readonly artifactType: string | undefined;
}

export type GraphNode = IndexNode | ManifestNode;

/** A descriptor whose blob the archive does not hold (another platform, a foreign layer). */
export interface AbsentRef {
  readonly desc: Descriptor;
  /** The index that names it; undefined for index.json. */
  readonly parent: Digest | undefined;
}

export interface ArchiveGraph {
  /** index.json's descriptors, in order. */
  readonly roots: readonly Descriptor[];
  /** Manifests and indexes present in the archive, by digest string. */
  readonly nodes: ReadonlyMap<string, GraphNode>;
  /** For each node, the indexes that list it (undefined = index.json) with the descriptor used. */
  readonly parents: ReadonlyMap<string, readonly { readonly parent: Digest | undefined; readonly desc: Descriptor }[]>;
  readonly absent: readonly AbsentRef[];
}

export const ATTESTATION_TYPE = 'vnd.docker.reference.type';
export const ATTESTATION_DIGEST = 'vnd.docker.reference.digest';
const IMAGE_CONFIG_TYPES = new Set<string>([MediaType.dockerConfig, MediaType.ociConfig]);
const ARTIFACT_MANIFEST = OCI.artifactManifest;

/** How the graph reports a problem: the model throws, verify collects. */
export type ProblemSink = (entry: string, message: string) => void;

export const throwProblems: ProblemSink = (entry, message) => {
  throw new ArchiveError(message, entry);
};

/** Read a descriptor; undefined (with a problem reported) when it is not one. */
export function readDescriptor(v: Json | undefined, where: string, what: string, problem: ProblemSink): Descriptor | undefined {
  if (!isJsonObject(v)) {
    problem(where, `has a ${what} descriptor that is not an object`);
    return undefined;
  }
  const raw = field(v, 'digest');
  const digest = Digest.tryParse(raw);
  if (!digest) {
    problem(where, `has a ${what} descriptor with an invalid digest ${JSON.stringify(raw ?? null)}`);
    return undefined;
  }
  const mt = field(v, 'mediaType');
  const size = field(v, 'size');
  const ann = field(v, 'annotations');
  const annotations: Record<string, string> = {};
  if (isJsonObject(ann)) for (const [k, x] of Object.entries(ann)) if (typeof x === 'string') annotations[k] = x;
  const at = field(v, 'artifactType');
  const urls = field(v, 'urls');
  const platform = readPlatform(field(v, 'platform'));
  return {
    digest,
    mediaType: typeof mt === 'string' ? mt : undefined,
    size: size === undefined || size === null || typeof size === 'string' || typeof size === 'boolean' || Array.isArray(size) || isJsonObject(size) ? undefined : Number(size),
    platform,
    annotations,
    artifactType: typeof at === 'string' ? at : undefined,
    urls: Array.isArray(urls) ? urls.filter((u): u is string => typeof u === 'string') : [],
    raw: v,
  };
}

function readPlatform(p: Json | undefined): Platform | undefined {
  if (!isJsonObject(p)) return undefined;
  const os = field(p, 'os');
  const arch = field(p, 'architecture');
  const variant = field(p, 'variant');
  if (typeof os !== 'string' || typeof arch !== 'string') return undefined;
  return { os, architecture: arch, ...(typeof variant === 'string' && variant ? { variant } : {}) };
}

export function isAttestation(d: Descriptor): boolean {
  return d.annotations[ATTESTATION_TYPE] === 'attestation-manifest';
}

/** Options for building the graph. */
export interface GraphOptions {
  /** Where problems go (default: throw an ArchiveError). */
  readonly problem?: ProblemSink;
  /** Check each manifest/index blob against its digest (default true). */
  readonly checkDigests?: boolean;
}
const GRAPH_OPTIONS = optionKeys<GraphOptions>({ problem: true, checkDigests: true });

/**
 * Walk index.json and every blob it reaches. `blobs` maps `sha256:<hex>` to the entry holding it
 * (links already resolved by the caller where it matters).
 */
export function buildGraph(index: { entry: EntryRecord; doc: JsonObject }, blobs: ReadonlyMap<string, EntryRecord>, options: GraphOptions = {}): ArchiveGraph {
  checkOptions(options, GRAPH_OPTIONS, 'buildGraph');
  const problem = options.problem ?? throwProblems;
  const nodes = new Map<string, GraphNode>();
  const parents = new Map<string, { parent: Digest | undefined; desc: Descriptor }[]>();
  const absent: AbsentRef[] = [];
  const manifests = field(index.doc, 'manifests');
  if (!Array.isArray(manifests)) {
    problem(index.entry.name, 'is not an OCI image index (no "manifests" array); the archive is damaged');
    return { roots: [], nodes, parents, absent };
  }
  if (manifests.length > MAX_CHILDREN) problem(index.entry.name, `lists ${manifests.length} manifests, more than the ${MAX_CHILDREN} copyedit reads; refusing a damaged or hostile archive`);
  const roots = manifests.map((m) => readDescriptor(m, index.entry.name, 'manifest', problem)).filter((d): d is Descriptor => !!d);

  // iterative depth-first walk; each node is expanded once, however often it is named
  const stack: { desc: Descriptor; parent: IndexNode | undefined; depth: number }[] = roots.map((desc) => ({ desc, parent: undefined, depth: 0 })).reverse();
  while (stack.length) {
    const { desc, parent, depth } = stack.pop()!;
    const key = desc.digest.toString();
    const list = parents.get(key);
    const edge = { parent: parent?.digest, desc };
    if (list) {
      list.push(edge);
      continue; // already read (and expanded) through another path
    }
    parents.set(key, [edge]);
    const where = parent?.entry.name ?? index.entry.name;
    const node = readNode(desc, blobs, where, problem, options.checkDigests !== false);
    if (!node) {
      if (!blobs.has(key)) absent.push({ desc, parent: parent?.digest });
      continue;
    }
    nodes.set(key, node);
    if (nodes.size > MAX_NODES) {
      problem(node.entry.name, `the archive holds more than ${MAX_NODES} manifests and indexes; refusing a damaged or hostile archive`);
      break;
    }
    if (node.kind !== 'index') continue;
    if (depth + 1 > MAX_DEPTH) {
      problem(node.entry.name, `indexes nest more than ${MAX_DEPTH} deep; refusing a looping or hostile index`);
      continue;
    }
    for (let i = node.children.length - 1; i >= 0; i--) stack.push({ desc: node.children[i]!, parent: node, depth: depth + 1 });
  }
  return { roots, nodes, parents, absent };
}

function readNode(desc: Descriptor, blobs: ReadonlyMap<string, EntryRecord>, where: string, problem: ProblemSink, checkDigest: boolean): GraphNode | undefined {
  const blob = blobs.get(desc.digest.toString());
  if (!blob) return undefined;
  if (!blob.data) {
    // a foreign or binary blob named as a manifest: only a manifest media type makes that an error
    if (isIndexMediaType(desc.mediaType) || isManifestLike(desc.mediaType)) problem(blob.name, `is named as a manifest by ${where}, but is not JSON or is too large to be one`);
    return undefined;
  }
  if (checkDigest) {
    const actual = Digest.of(blob.data, desc.digest.algorithm);
    if (!actual.equals(desc.digest)) {
      problem(blob.name, `content does not match its digest (its ${actual.algorithm} is ${actual.hex}): the blob is damaged; save or download the archive again`);
      return undefined;
    }
  }
  let doc: Json;
  try {
    doc = parseJson(blob.data);
  } catch (e) {
    if (e instanceof JsonBudgetError) throw new ArchiveError(`manifest or index blob ${e.message}`, blob.name, { cause: e });
    if (!(e instanceof JsonSyntaxError)) throw e;
    problem(blob.name, `manifest or index blob is not valid JSON (${e.message}); the archive is damaged: save or download it again`);
    return undefined;
  }
  if (!isJsonObject(doc)) {
    problem(blob.name, 'is named as a manifest or index, but is not a JSON object');
    return undefined;
  }
  try {
    checkGoAmbiguity(doc, MANIFEST_OR_INDEX, blob.name, 'the manifest or index');
  } catch (e) {
    if (!(e instanceof ArchiveError)) throw e;
    problem(blob.name, e.message.slice(blob.name.length + 2));
    return undefined;
  }
  const mtv = field(doc, 'mediaType');
  const mediaType = typeof mtv === 'string' ? mtv : desc.mediaType;
  const at = field(doc, 'artifactType');
  const artifactType = typeof at === 'string' ? at : undefined;
  const subjectJson = field(doc, 'subject');
  const subject = subjectJson === undefined || subjectJson === null ? undefined : readDescriptor(subjectJson, blob.name, 'subject', problem);
  const list = field(doc, 'manifests');
  if (isIndexMediaType(mediaType) || (mediaType === undefined && Array.isArray(list))) {
    if (!Array.isArray(list)) {
      problem(blob.name, 'is an index without a "manifests" list');
      return undefined;
    }
    if (list.length > MAX_CHILDREN) {
      problem(blob.name, `lists ${list.length} manifests, more than the ${MAX_CHILDREN} copyedit reads; refusing a damaged or hostile archive`);
      return undefined;
    }
    const children = list.map((m) => readDescriptor(m, blob.name, 'manifest', problem)).filter((d): d is Descriptor => !!d);
    return { kind: 'index', digest: desc.digest, entry: blob, doc, mediaType, children, subject, artifactType };
  }
  const cfgJson = field(doc, 'config');
  const layersJson = mediaType === ARTIFACT_MANIFEST ? field(doc, 'blobs') : field(doc, 'layers');
  if (!isManifestLike(mediaType) && !isJsonObject(cfgJson)) {
    problem(blob.name, `is named as a manifest by ${where}, but is neither a manifest nor an index (media type ${JSON.stringify(mediaType ?? null)})`);
    return undefined;
  }
  const config = cfgJson === undefined ? undefined : readDescriptor(cfgJson, blob.name, 'config', problem);
  if (cfgJson !== undefined && !config) return undefined;
  if (layersJson !== undefined && layersJson !== null && !Array.isArray(layersJson)) {
    problem(blob.name, '"layers" is not a list');
    return undefined;
  }
  if (Array.isArray(layersJson) && layersJson.length > MAX_CHILDREN) {
    problem(blob.name, `lists ${layersJson.length} layers, more than the ${MAX_CHILDREN} copyedit reads`);
    return undefined;
  }
  const layers = (layersJson ?? []).map((l) => readDescriptor(l, blob.name, 'layer', problem)).filter((d): d is Descriptor => !!d);
  const role: ManifestRole = isAttestation(desc)
    ? 'attestation'
    : mediaType === ARTIFACT_MANIFEST || artifactType !== undefined || subject !== undefined || !config || (config.mediaType !== undefined && !IMAGE_CONFIG_TYPES.has(config.mediaType))
      ? 'artifact'
      : 'image';
  return { kind: 'manifest', digest: desc.digest, entry: blob, doc, mediaType, role, config, layers, subject, artifactType };
}

function isManifestLike(mt: string | undefined): boolean {
  return mt === MediaType.ociManifest || mt === MediaType.dockerManifest || mt === ARTIFACT_MANIFEST;
}

/** A manifest reached from a root, with the platform of the descriptor that named it. */
export interface PlatformManifest {
  readonly manifest: ManifestNode;
  readonly platform: Platform | undefined;
  /** Indexes between the root and the manifest, outermost first. */
  readonly indexes: readonly Digest[];
}

/**
 * The image manifests under a root descriptor (the root itself when it is a manifest), each once,
 * in index order. Attestations and artifacts are left out; absent manifests are in `absent`.
 */
export function imageManifestsUnder(graph: ArchiveGraph, root: Descriptor): { manifests: PlatformManifest[]; absent: Descriptor[]; attestations: ManifestNode[] } {
  const manifests: PlatformManifest[] = [];
  const absent: Descriptor[] = [];
  const attestations: ManifestNode[] = [];
  const seen = new Set<string>();
  const visit = (desc: Descriptor, indexes: Digest[], depth: number): void => {
    const key = desc.digest.toString();
    if (seen.has(key) || depth > MAX_DEPTH) return;
    seen.add(key);
    const node = graph.nodes.get(key);
    if (!node) {
      if (!isAttestation(desc)) absent.push(desc);
      return;
    }
    if (node.kind === 'index') {
      for (const c of node.children) visit(c, [...indexes, node.digest], depth + 1);
      return;
    }
    if (node.role === 'attestation' || isAttestation(desc)) attestations.push(node);
    else if (node.role === 'image') manifests.push({ manifest: node, platform: desc.platform, indexes });
  };
  visit(root, [], 0);
  return { manifests, absent, attestations };
}
