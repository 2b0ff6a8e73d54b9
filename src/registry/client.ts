/**
 * The Docker Registry HTTP API v2 / OCI distribution operations copyedit needs, over one
 * Transport: manifests by tag or digest (every manifest media type accepted, size bounded, digest
 * checked), blobs (HEAD, streamed GET, cross-repository mount, monolithic upload), tags, and the
 * OCI 1.1 referrers API. Every failure is a one-line RegistryError naming the image.
 */
import type { Readable } from 'node:stream';
import { Digest } from '../digest.js';
import { RegistryError } from '../errors.js';
import { MediaType, OCI } from '../media-types.js';
import type { Response, Transport } from './transport.js';

/** Most bytes a manifest or index may have (distribution's own limit is 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 << 20;

export const MANIFEST_ACCEPT = [MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerList, MediaType.dockerManifest, OCI.artifactManifest].join(', ');

export interface FetchedManifest {
  readonly bytes: Buffer;
  readonly mediaType: string | undefined;
  readonly digest: Digest;
}

export class RegistryClient {
  constructor(readonly transport: Transport) {}

  get registry(): string {
    return this.transport.registry;
  }

  private fail(what: string, res: Response, name: string): never {
    const status = res.status;
    const why =
      status === 401
        ? 'the registry refused the credentials (HTTP 401): check the user name and password (docker login, or --creds)'
        : status === 403
          ? 'access denied (HTTP 403): the credentials lack permission for this repository'
          : status === 404
            ? 'not found (HTTP 404)'
            : `HTTP ${status}`;
    throw new RegistryError(`${what}: ${why}`, `${this.registry}/${name}`);
  }

  /** GET a manifest or index; its digest is checked when `ref` is one. */
  async getManifest(name: string, ref: string): Promise<FetchedManifest> {
    const res = await this.transport.request({ method: 'GET', path: `/v2/${name}/manifests/${ref}`, headers: { Accept: MANIFEST_ACCEPT } });
    if (res.status !== 200) {
      res.body.resume();
      this.fail(`manifest ${ref}`, res, name);
    }
    const bytes = await readBounded(
      res.body,
      MAX_MANIFEST_BYTES,
      () => new RegistryError(`manifest ${ref} is larger than ${MAX_MANIFEST_BYTES >> 20} MiB; it is not an image manifest`, `${this.registry}/${name}`),
    );
    const want = Digest.tryParse(ref);
    const digest = Digest.of(bytes, want?.algorithm ?? 'sha256');
    if (want && !digest.equals(want)) throw new RegistryError(`manifest ${ref} does not match its digest (the registry sent ${digest}); refusing it`, `${this.registry}/${name}`);
    const ct = String(res.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim();
    return { bytes, mediaType: ct || undefined, digest };
  }

  /** The digest a manifest reference resolves to, or undefined when absent. */
  async headManifest(name: string, ref: string): Promise<Digest | undefined> {
    const res = await this.transport.request({ method: 'HEAD', path: `/v2/${name}/manifests/${ref}`, headers: { Accept: MANIFEST_ACCEPT } });
    res.body.resume();
    if (res.status === 404) return undefined;
    if (res.status !== 200) this.fail(`manifest ${ref}`, res, name);
    return Digest.tryParse(res.headers['docker-content-digest']);
  }

  async putManifest(name: string, ref: string, bytes: Buffer, mediaType: string): Promise<void> {
    const res = await this.transport.request({ method: 'PUT', path: `/v2/${name}/manifests/${ref}`, headers: { 'Content-Type': mediaType }, body: bytes });
    const text = (await readBounded(res.body, 64 << 10, () => undefined).catch(() => Buffer.alloc(0))).toString('utf8');
    if (res.status !== 201 && res.status !== 200) {
      const code = /"code"\s*:\s*"([A-Z_]+)"/.exec(text)?.[1];
      throw new RegistryError(`pushing manifest ${ref} failed: HTTP ${res.status}${code ? ` ${code}` : ''}`, `${this.registry}/${name}`);
    }
    verifyDigest(res.headers['docker-content-digest'], Digest.of(bytes), `manifest ${ref}`, `${this.registry}/${name}`);
  }

  /** Does the repository hold this blob? */
  async hasBlob(name: string, digest: Digest): Promise<boolean> {
    const res = await this.transport.request({ method: 'HEAD', path: `/v2/${name}/blobs/${digest}` });
    res.body.resume();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    this.fail(`blob ${digest}`, res, name);
  }

  /** The blob's bytes as a stream (the caller checks the digest as it reads). */
  async getBlob(name: string, digest: Digest): Promise<Readable> {
    const res = await this.transport.request({ method: 'GET', path: `/v2/${name}/blobs/${digest}` });
    if (res.status !== 200) {
      res.body.resume();
      this.fail(`blob ${digest}`, res, name);
    }
    return res.body;
  }

  /** A small blob (a config) in memory, digest checked. */
  async getSmallBlob(name: string, digest: Digest, max: number): Promise<Buffer> {
    const body = await this.getBlob(name, digest);
    const bytes = await readBounded(body, max, () => new RegistryError(`blob ${digest} is larger than ${max >> 20} MiB; it is not an image config`, `${this.registry}/${name}`));
    if (!Digest.of(bytes, digest.algorithm).equals(digest)) throw new RegistryError(`blob ${digest} does not match its digest; refusing it`, `${this.registry}/${name}`);
    return bytes;
  }

  /** Mount a blob from another repository of this registry; false when the registry would not. */
  async mountBlob(name: string, digest: Digest, from: string): Promise<boolean> {
    const q = `mount=${encodeURIComponent(digest.toString())}&from=${encodeURIComponent(from)}`;
    const res = await this.transport.request({ method: 'POST', path: `/v2/${name}/blobs/uploads/?${q}`, body: Buffer.alloc(0) });
    res.body.resume();
    if (res.status === 201) return true;
    if (res.status === 202) {
      // an upload session was opened instead: cancel it (best effort)
      const loc = res.headers.location;
      if (loc)
        await this.transport.request({ method: 'DELETE', path: new URL(loc, res.url).toString() }).then(
          (r) => r.body.resume(),
          () => undefined,
        );
      return false;
    }
    this.fail(`mounting blob ${digest} from ${from}`, res, name);
  }

  /** Upload a blob in one PUT (POST for a session, then PUT ?digest=). */
  async uploadBlob(name: string, digest: Digest, body: Buffer | (() => Readable), size: number): Promise<void> {
    const start = await this.transport.request({ method: 'POST', path: `/v2/${name}/blobs/uploads/`, body: Buffer.alloc(0) });
    start.body.resume();
    if (start.status !== 202 || !start.headers.location) this.fail(`starting the upload of blob ${digest}`, start, name);
    const url = new URL(start.headers.location, start.url);
    url.searchParams.set('digest', digest.toString());
    const put = await this.transport.request({ method: 'PUT', path: url.toString(), headers: { 'Content-Type': 'application/octet-stream' }, body, bodyLength: size });
    put.body.resume();
    if (put.status !== 201) this.fail(`uploading blob ${digest}`, put, name);
    verifyDigest(put.headers['docker-content-digest'], digest, `blob ${digest}`, `${this.registry}/${name}`);
  }

  /** The repository's tags (for the referrers tag-schema fallback). */
  async tags(name: string): Promise<string[]> {
    const res = await this.transport.request({ method: 'GET', path: `/v2/${name}/tags/list?n=10000` });
    if (res.status === 404) {
      res.body.resume();
      return [];
    }
    if (res.status !== 200) {
      res.body.resume();
      this.fail('tags', res, name);
    }
    const doc = JSON.parse((await readBounded(res.body, 16 << 20, () => undefined)).toString('utf8')) as { tags?: unknown };
    return Array.isArray(doc.tags) ? doc.tags.filter((t): t is string => typeof t === 'string') : [];
  }

  /** The OCI 1.1 referrers index of `digest`, or undefined when the registry has no referrers API. */
  async referrers(name: string, digest: Digest): Promise<Buffer | undefined> {
    const res = await this.transport.request({ method: 'GET', path: `/v2/${name}/referrers/${digest}`, headers: { Accept: MediaType.ociIndex } });
    if (res.status !== 200 || !String(res.headers['content-type'] ?? '').startsWith(MediaType.ociIndex)) {
      res.body.resume();
      return undefined;
    }
    return readBounded(res.body, MAX_MANIFEST_BYTES, () => undefined);
  }
}

/** What the registry says it stored (Docker-Content-Digest, when it says) must be what was sent. */
function verifyDigest(header: string | string[] | undefined, want: Digest, what: string, where: string): void {
  const got = Digest.tryParse(Array.isArray(header) ? header[0] : header);
  if (got && got.algorithm === want.algorithm && !got.equals(want)) throw new RegistryError(`${what}: the registry stored ${got}, not what was sent; nothing more is pushed`, where);
}

/** Read a response body, refusing more than `max` bytes. */
export function readBounded(body: Readable, max: number, tooLarge: () => Error | undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    body.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) {
        body.destroy();
        reject(tooLarge() ?? new RegistryError(`a response is larger than ${max} bytes`));
        return;
      }
      chunks.push(c);
    });
    body.on('end', () => resolve(Buffer.concat(chunks)));
    body.on('error', reject);
  });
}
