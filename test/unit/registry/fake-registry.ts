/**
 * A small OCI distribution server in-process, for the registry unit tests: manifests, blobs,
 * monolithic uploads, cross-repository mounts, tags, optionally the referrers API, Basic or
 * Bearer auth, byte counters and a fault hook (a status, or the connection dropped) per request.
 * It checks what distribution 2.8 checks: a pushed blob's digest, and that every blob and child
 * manifest a pushed manifest names is already in the repository.
 */
import { createHash, randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeOptions {
  readonly referrersApi?: boolean;
  /** Basic auth with these (the registry answers 401 + Basic challenge without them). */
  readonly basic?: { user: string; password: string };
  /** Bearer auth: a token endpoint at /token checking these; tokens valid for `tokenUses` requests. */
  readonly bearer?: { user: string; password: string; tokenUses?: number };
}

export interface Logged {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly in: number;
  readonly out: number;
}

type Fault = number | 'close' | undefined;

function sha(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

export class FakeRegistry {
  readonly blobs = new Map<string, Map<string, Buffer>>();
  readonly manifests = new Map<string, Map<string, { bytes: Buffer; mediaType: string }>>();
  readonly tags = new Map<string, Map<string, string>>();
  readonly log: Logged[] = [];
  fault: (method: string, url: string) => Fault = () => undefined;
  /** Answer uploads with a Docker-Content-Digest other than the bytes' own. */
  lie = false;
  private readonly uploads = new Map<string, string>();
  private readonly tokens = new Map<string, number>();
  private server: http.Server | undefined;
  port = 0;

  constructor(readonly o: FakeOptions = {}) {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server!.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** Bytes received in request bodies and sent in response bodies. */
  traffic(): { in: number; out: number } {
    return this.log.reduce((a, l) => ({ in: a.in + l.in, out: a.out + l.out }), { in: 0, out: 0 });
  }

  putBlob(repo: string, data: Buffer): string {
    const d = sha(data);
    this.repoMap(this.blobs, repo).set(d, data);
    return d;
  }

  putManifest(repo: string, ref: string, bytes: Buffer, mediaType: string): string {
    const d = sha(bytes);
    this.repoMap(this.manifests, repo).set(d, { bytes, mediaType });
    if (!ref.startsWith('sha256:')) this.repoMap(this.tags, repo).set(ref, d);
    return d;
  }

  resolve(repo: string, ref: string): { bytes: Buffer; mediaType: string; digest: string } | undefined {
    const d = ref.startsWith('sha256:') ? ref : this.tags.get(repo)?.get(ref);
    const m = d ? this.manifests.get(repo)?.get(d) : undefined;
    return m && d ? { ...m, digest: d } : undefined;
  }

  private repoMap<V>(m: Map<string, Map<string, V>>, repo: string): Map<string, V> {
    let r = m.get(repo);
    if (!r) {
      r = new Map();
      m.set(repo, r);
    }
    return r;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const send = (status: number, data?: Buffer | string, headers: Record<string, string> = {}): void => {
      const b = data === undefined ? Buffer.alloc(0) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      this.log.push({ method, url, status, in: body.length, out: method === 'HEAD' ? 0 : b.length });
      res.writeHead(status, { 'Content-Length': String(b.length), ...headers });
      res.end(method === 'HEAD' ? undefined : b);
    };
    const f = this.fault(method, url);
    if (f === 'close') {
      this.log.push({ method, url, status: 0, in: body.length, out: 0 });
      req.socket.destroy();
      return;
    }
    if (typeof f === 'number') send(f, '{"errors":[{"code":"UNAVAILABLE"}]}');
    else if (url.startsWith('/token')) this.token(req, send);
    else if (this.authorized(req, url, send)) this.route(method, url, body, req, send);
  }

  private token(req: IncomingMessage, send: (s: number, d?: Buffer | string, h?: Record<string, string>) => void) {
    const b = this.o.bearer!;
    const want = `Basic ${Buffer.from(`${b.user}:${b.password}`).toString('base64')}`;
    if (req.headers.authorization !== want) return send(401, '{"details":"incorrect username or password"}');
    const t = randomUUID();
    this.tokens.set(t, b.tokenUses ?? 1_000_000);
    send(200, JSON.stringify({ token: t, expires_in: 300 }), { 'Content-Type': 'application/json' });
  }

  private authorized(req: IncomingMessage, url: string, send: (s: number, d?: Buffer | string, h?: Record<string, string>) => void): boolean {
    const auth = req.headers.authorization ?? '';
    if (this.o.basic) {
      const want = `Basic ${Buffer.from(`${this.o.basic.user}:${this.o.basic.password}`).toString('base64')}`;
      if (auth === want) return true;
      send(401, '{"errors":[{"code":"UNAUTHORIZED"}]}', { 'WWW-Authenticate': 'Basic realm="fake"' });
      return false;
    }
    if (this.o.bearer) {
      const t = auth.startsWith('Bearer ') ? auth.slice(7) : '';
      const left = this.tokens.get(t);
      if (left !== undefined && left > 0) {
        this.tokens.set(t, left - 1);
        return true;
      }
      const scope = /^\/v2\/(.+?)\/(manifests|blobs|tags|referrers)\//.exec(url)?.[1];
      send(401, '{"errors":[{"code":"UNAUTHORIZED"}]}', {
        'WWW-Authenticate': `Bearer realm="http://${this.host}/token",service="fake"${scope ? `,scope="repository:${scope}:pull"` : ''}`,
      });
      return false;
    }
    return true;
  }

  private route(method: string, url: string, body: Buffer, req: IncomingMessage, send: (s: number, d?: Buffer | string, h?: Record<string, string>) => void) {
    const u = new URL(url, 'http://x');
    if (u.pathname === '/v2/') return send(200, '{}');
    const m = /^\/v2\/(.+?)\/(manifests|blobs\/uploads|blobs|tags|referrers)\/?(.*)$/.exec(u.pathname);
    if (!m) return send(404);
    const [, repo, kind, ref] = m as unknown as [string, string, string, string];
    if (kind === 'manifests') return this.manifest(method, repo, ref, body, req, send);
    if (kind === 'blobs') {
      const b = this.blobs.get(repo)?.get(ref);
      if (!b) return send(404, '{"errors":[{"code":"BLOB_UNKNOWN"}]}');
      return send(200, b, { 'Docker-Content-Digest': ref, 'Content-Type': 'application/octet-stream' });
    }
    if (kind === 'blobs/uploads') return this.upload(method, repo, ref, u, body, send);
    if (kind === 'tags') return send(200, JSON.stringify({ name: repo, tags: [...(this.tags.get(repo)?.keys() ?? [])] }), { 'Content-Type': 'application/json' });
    if (!this.o.referrersApi) return send(404, '{"errors":[{"code":"NAME_UNKNOWN"}]}');
    const list = [...(this.manifests.get(repo)?.entries() ?? [])].flatMap(([d, x]) => {
      const doc = JSON.parse(x.bytes.toString()) as { subject?: { digest?: string }; artifactType?: string };
      return doc.subject?.digest === ref ? [{ mediaType: x.mediaType, digest: d, size: x.bytes.length, ...(doc.artifactType ? { artifactType: doc.artifactType } : {}) }] : [];
    });
    send(200, JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: list }), { 'Content-Type': 'application/vnd.oci.image.index.v1+json' });
  }

  private manifest(method: string, repo: string, ref: string, body: Buffer, req: IncomingMessage, send: (s: number, d?: Buffer | string, h?: Record<string, string>) => void) {
    if (method === 'PUT') {
      const doc = JSON.parse(body.toString()) as { manifests?: { digest: string }[]; config?: { digest: string }; layers?: { digest: string }[] };
      const blobs = this.blobs.get(repo);
      const missing = [...(doc.manifests ?? []).filter((c) => !this.manifests.get(repo)?.has(c.digest)), ...[doc.config, ...(doc.layers ?? [])].filter((b) => b && !blobs?.has(b.digest))];
      if (missing.length) return send(400, '{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN"}]}');
      if (ref.startsWith('sha256:') && sha(body) !== ref) return send(400, '{"errors":[{"code":"DIGEST_INVALID"}]}');
      const d = this.putManifest(repo, ref, body, String(req.headers['content-type']));
      return send(201, undefined, { 'Docker-Content-Digest': d, Location: `/v2/${repo}/manifests/${d}` });
    }
    const r = this.resolve(repo, ref);
    if (!r) return send(404, '{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
    send(200, r.bytes, { 'Content-Type': r.mediaType, 'Docker-Content-Digest': r.digest });
  }

  private upload(method: string, repo: string, id: string, u: URL, body: Buffer, send: (s: number, d?: Buffer | string, h?: Record<string, string>) => void) {
    if (method === 'POST') {
      const mount = u.searchParams.get('mount');
      const from = u.searchParams.get('from');
      if (mount && from && this.blobs.get(from)?.has(mount)) {
        this.repoMap(this.blobs, repo).set(mount, this.blobs.get(from)!.get(mount)!);
        return send(201, undefined, { 'Docker-Content-Digest': mount });
      }
      const uuid = randomUUID();
      this.uploads.set(uuid, repo);
      return send(202, undefined, { Location: `/v2/${repo}/blobs/uploads/${uuid}`, 'Docker-Upload-UUID': uuid });
    }
    if (method === 'DELETE') return send(204);
    if (method !== 'PUT' || this.uploads.get(id) !== repo) return send(404);
    const want = u.searchParams.get('digest');
    if (sha(body) !== want) return send(400, '{"errors":[{"code":"DIGEST_INVALID"}]}');
    this.uploads.delete(id);
    this.repoMap(this.blobs, repo).set(want, body);
    send(201, undefined, { 'Docker-Content-Digest': this.lie ? sha(Buffer.from('other')) : want, Location: `/v2/${repo}/blobs/${want}` });
  }
}
