/**
 * Render the fold's result as uploads: the tree under the new root, children before parents,
 * each blob HEADed first and never sent again when the target holds it, mounted from the source
 * repository when it is on the same registry, streamed across when not; each child manifest
 * pushed by digest; the tagged manifest LAST, so a failure midway leaves the old tag as it was.
 * Then the referrers that followed their subject, and (without the referrers API) the
 * `sha256-<hex>` fallback index of each new subject.
 */
import type { Readable } from 'node:stream';
import { Digest } from '../digest.js';
import { RegistryError } from '../errors.js';
import { type JsonObject, field, isJsonObject, parseJson, printJson } from '../json/lossless.js';
import { MediaType } from '../media-types.js';
import type { RegistryClient } from './client.js';
import { descriptor, fallbackTag } from './source.js';

/** Where the blobs a push needs come from. */
export interface BlobSource {
  /** The bytes of a metadata blob (new, or read from the source), when held in memory. */
  data(d: Digest): Buffer | undefined;
  /** The size of any blob the source names. */
  size(d: Digest): number | undefined;
  /** Stream a blob (a layer) from the source. */
  open(d: Digest): Promise<Readable>;
  /** The repository on the target's registry to mount blobs from, when the source is there. */
  readonly mountFrom?: string;
}

/** One thing the push did (or, on a dry run, would do). */
export interface PushStep {
  readonly action: 'exists' | 'mount' | 'upload' | 'copy' | 'manifest' | 'tag';
  readonly digest: Digest;
  readonly size: number;
  /** The tag, for `tag` steps. */
  readonly tag?: string;
}

/** What a registry edit, pull or push moved. */
export interface RegistryReport {
  readonly source: string;
  readonly target: string;
  /** The digest the target tag points at after the edit (on a dry run: would point at). */
  readonly digest: Digest;
  /** Every blob and manifest considered, in push order, with what was done (or would be). */
  readonly steps: readonly PushStep[];
  /** Bodies read from and sent to the registries (headers not counted). */
  readonly bytesReceived: number;
  readonly bytesSent: number;
  readonly requests: number;
  /** The target already held this digest under the tag: nothing was pushed. */
  readonly skipped: boolean;
}

export interface PushTarget {
  readonly client: RegistryClient;
  readonly repository: string;
  readonly tag: string | undefined;
}

export class Pusher {
  readonly steps: PushStep[] = [];
  private readonly done = new Map<string, Promise<void>>();

  constructor(
    private readonly target: PushTarget,
    private readonly source: BlobSource,
    private readonly dryRun: boolean,
  ) {}

  private get name(): string {
    return this.target.repository;
  }

  /** Push the tree under `root` (children first) and then point the tag at it. */
  async pushImage(root: Digest, mediaType: string): Promise<void> {
    await this.pushManifestTree(root, mediaType, false);
    const bytes = this.metadata(root);
    const tag = this.target.tag;
    if (!tag) return;
    this.steps.push({ action: 'tag', digest: root, size: bytes.length, tag });
    if (!this.dryRun) await this.target.client.putManifest(this.name, tag, bytes, mediaType);
  }

  /** Push a manifest or index and everything it names, by digest; `byDigest` false leaves the root for the tag. */
  async pushManifestTree(digest: Digest, mediaType: string, byDigest = true): Promise<void> {
    const key = `m:${digest}`;
    if (!this.done.has(key)) this.done.set(key, this.manifestTree(digest, mediaType, byDigest));
    return this.done.get(key);
  }

  private async manifestTree(digest: Digest, mediaType: string, byDigest: boolean): Promise<void> {
    const bytes = this.metadata(digest);
    if (byDigest && (await this.target.client.headManifest(this.name, digest.toString()))) {
      this.steps.push({ action: 'exists', digest, size: bytes.length });
      return;
    }
    const doc = parseJson(bytes) as JsonObject;
    const list = field(doc, 'manifests');
    if (Array.isArray(list)) {
      for (const c of list) {
        const d = descriptor(c);
        if (d && this.source.data(d.digest)) await this.pushManifestTree(d.digest, d.mediaType ?? MediaType.ociManifest);
      }
    } else {
      const cfg = descriptor(field(doc, 'config'));
      if (cfg) await this.blob(cfg.digest, cfg.size);
      const layers = field(doc, 'layers') ?? field(doc, 'blobs');
      for (const l of Array.isArray(layers) ? layers : []) {
        const d = descriptor(l);
        if (d) await this.blob(d.digest, d.size);
      }
    }
    if (!byDigest) return;
    this.steps.push({ action: 'manifest', digest, size: bytes.length });
    if (!this.dryRun) await this.target.client.putManifest(this.name, digest.toString(), bytes, mediaTypeOf(doc) ?? mediaType);
  }

  private metadata(d: Digest): Buffer {
    const b = this.source.data(d);
    if (!b) throw new RegistryError(`the manifest ${d} to push is not known; this is a bug`, `${this.target.client.registry}/${this.name}`);
    return b;
  }

  /** A blob: nothing when the target holds it, else mounted, uploaded from memory, or streamed across. */
  async blob(digest: Digest, size: number | undefined): Promise<void> {
    const key = `b:${digest}`;
    if (!this.done.has(key)) this.done.set(key, this.ensureBlob(digest, size ?? this.source.size(digest) ?? 0));
    return this.done.get(key);
  }

  private async ensureBlob(digest: Digest, size: number): Promise<void> {
    const c = this.target.client;
    if (await c.hasBlob(this.name, digest)) {
      this.steps.push({ action: 'exists', digest, size });
      return;
    }
    const from = this.source.mountFrom;
    if (from !== undefined && from !== this.name) {
      if (this.dryRun || (await c.mountBlob(this.name, digest, from))) {
        this.steps.push({ action: 'mount', digest, size });
        return;
      }
    }
    const data = this.source.data(digest);
    this.steps.push({ action: data ? 'upload' : 'copy', digest, size: data?.length ?? size });
    if (this.dryRun) return;
    if (data) return c.uploadBlob(this.name, digest, data, data.length);
    // a stream cannot be rewound: a retry opens the source again
    let first: Readable | undefined = await this.source.open(digest);
    await c.uploadBlob(
      this.name,
      digest,
      () => {
        const s = first;
        first = undefined;
        if (s) return s;
        throw new RegistryError(`uploading blob ${digest} failed midway and a streamed blob is not retried; run the edit again`, `${c.registry}/${this.name}`);
      },
      size,
    );
  }

  /**
   * Without the referrers API, add each pushed referrer to its subject's `sha256-<hex>` index
   * (kept entries first, ours appended), as oras and regclient do.
   */
  async fallbackIndexes(referrers: readonly { digest: Digest; mediaType: string; subject: Digest; doc: JsonObject; size: number }[]): Promise<void> {
    const bySubject = new Map<string, typeof referrers>();
    for (const r of referrers) bySubject.set(r.subject.toString(), [...(bySubject.get(r.subject.toString()) ?? []), r]);
    for (const [subject, list] of bySubject) {
      const tag = fallbackTag(Digest.parse(subject));
      const c = this.target.client;
      const existing = (await c.headManifest(this.name, tag)) ? field(parseJson((await c.getManifest(this.name, tag)).bytes) as JsonObject, 'manifests') : [];
      const kept = (Array.isArray(existing) ? existing : []).filter((d) => !list.some((r) => descriptor(d)?.digest.equals(r.digest)));
      const added = list.map((r) => referrerDescriptor(r));
      if (kept.length === (Array.isArray(existing) ? existing.length : 0) && added.length === 0) continue;
      const bytes = printJson({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [...kept, ...added] } as unknown as JsonObject);
      this.steps.push({ action: 'tag', digest: Digest.of(bytes), size: bytes.length, tag });
      if (!this.dryRun) await c.putManifest(this.name, tag, bytes, MediaType.ociIndex);
    }
  }
}

function referrerDescriptor(r: { digest: Digest; mediaType: string; doc: JsonObject; size: number }): JsonObject {
  const at = field(r.doc, 'artifactType') ?? (isJsonObject(field(r.doc, 'config')) ? field(field(r.doc, 'config') as JsonObject, 'mediaType') : undefined);
  const ann = field(r.doc, 'annotations');
  return {
    mediaType: r.mediaType,
    digest: r.digest.toString(),
    size: r.size,
    ...(typeof at === 'string' ? { artifactType: at } : {}),
    ...(isJsonObject(ann) ? { annotations: ann } : {}),
  } as unknown as JsonObject;
}

export function mediaTypeOf(doc: JsonObject): string | undefined {
  const mt = field(doc, 'mediaType');
  return typeof mt === 'string' ? mt : undefined;
}
