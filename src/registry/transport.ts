/**
 * One registry host over HTTP(S): the scheme (HTTPS; plain HTTP when asked, or for a loopback
 * registry that does not speak TLS, as Docker does), the auth challenge (Basic, or the Bearer token
 * flow with the scopes the run needs), retries with backoff on 429, 5xx and refused connections,
 * bounded redirects (Authorization dropped when the host changes), and the bytes each way.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { type Readable, Transform } from 'node:stream';
import { RegistryError } from '../errors.js';
import { type Credential, type CredentialOptions, findCredential } from './credentials.js';
import { redact, registerSecret } from './redact.js';
import { apiHost, isLoopback } from './ref.js';
import { type TlsOptions, type TlsSettings, tlsSettings } from './tls.js';

export interface TransportOptions extends TlsOptions, CredentialOptions {
  /** Plain HTTP for every registry of the run (`--plain-http`); loopback registries fall back by themselves. */
  readonly plainHttp?: boolean;
  /** Attempts for a request answered 429/5xx or refused (default 4). */
  readonly attempts?: number;
  /** First backoff in ms, doubled each retry (default 200). */
  readonly backoffMs?: number;
}

/** How to reach registries: credentials, TLS, plain HTTP, retries. */
export type RegistryOptions = TransportOptions;

export interface Request {
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** A path from the host (`/v2/...`) or an absolute URL (an upload location). */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** The body: bytes (retried as they are) or a stream factory (retried by calling it again). */
  readonly body?: Buffer | (() => Readable);
  readonly bodyLength?: number;
}

export interface Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body, counted as it is read (consume or `resume()` it). */
  readonly body: Readable;
  readonly url: URL;
}

/** Bytes moved by a transport, request and response bodies only. */
export interface Traffic {
  sent: number;
  received: number;
  requests: number;
}

const MAX_REDIRECTS = 5;
const TLS_MISMATCH = new Set(['EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG']);

export class Transport {
  readonly traffic: Traffic = { sent: 0, received: 0, requests: 0 };
  private scheme: 'https' | 'http' | undefined;
  private readonly tls: TlsSettings;
  private credential: Credential | undefined | null = null;
  private token: string | undefined;
  private readonly scopes = new Set<string>();

  constructor(
    readonly registry: string,
    private readonly o: TransportOptions = {},
  ) {
    this.tls = tlsSettings(registry, o);
    if (o.plainHttp) this.scheme = 'http';
  }

  /** Ask for `repository:<repo>:<actions>` in the next token (pull; pull,push on a target). */
  addScope(repository: string, actions: string): void {
    const s = `repository:${repository}:${actions}`;
    if (!this.scopes.has(s)) {
      this.scopes.add(s);
      this.token = undefined;
    }
  }

  /** Send `req`, authenticating, retrying and following redirects as needed. */
  async request(req: Request): Promise<Response> {
    let authed = false;
    for (let hop = 0; ; ) {
      const res = await this.withRetries(req);
      if (res.status === 401 && !authed) {
        res.body.resume();
        await this.authenticate(String(res.headers['www-authenticate'] ?? ''));
        authed = true;
        continue;
      }
      if ([301, 302, 303, 307, 308].includes(res.status) && res.headers.location && req.method !== 'PUT' && req.method !== 'POST') {
        res.body.resume();
        if (++hop > MAX_REDIRECTS) throw new RegistryError(`more than ${MAX_REDIRECTS} redirects for ${req.method} ${this.where(req.path)}`, this.registry);
        req = { ...req, path: new URL(res.headers.location, res.url).toString() };
        continue;
      }
      return res;
    }
  }

  private where(path: string): string {
    return redact(path.replace(/^https?:\/\/[^/]+/, ''));
  }

  private async withRetries(req: Request): Promise<Response> {
    const attempts = this.o.attempts ?? 4;
    let delay = this.o.backoffMs ?? 200;
    for (let i = 1; ; i++) {
      let res: Response;
      try {
        res = await this.once(req);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? '';
        if (i >= attempts || !['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN'].includes(code)) throw this.networkError(e, req);
        await sleep(delay);
        delay *= 2;
        continue;
      }
      if ((res.status === 429 || res.status >= 500) && i < attempts) {
        res.body.resume();
        const after = Number(res.headers['retry-after']);
        await sleep(Number.isFinite(after) && after > 0 ? Math.min(after * 1000, 10_000) : delay);
        delay *= 2;
        continue;
      }
      return res;
    }
  }

  private networkError(e: unknown, req: Request): RegistryError {
    const err = e as NodeJS.ErrnoException;
    const code = err.code ?? '';
    const why: Record<string, string> = {
      ECONNREFUSED: 'connection refused: is the registry running, and is the port right?',
      ENOTFOUND: 'no such host',
      EAI_AGAIN: 'the host name does not resolve (DNS)',
      ETIMEDOUT: 'the connection timed out',
      ECONNRESET: 'the registry closed the connection',
      DEPTH_ZERO_SELF_SIGNED_CERT: 'its certificate is self-signed: give its CA with --cert-dir DIR (ca.crt) or /etc/docker/certs.d/<host>/ca.crt, or --tls-verify=false',
      SELF_SIGNED_CERT_IN_CHAIN: 'its certificate is signed by an unknown CA: give the CA with --cert-dir DIR (ca.crt) or /etc/docker/certs.d/<host>/ca.crt, or --tls-verify=false',
      UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its certificate is signed by an unknown CA: give the CA with --cert-dir DIR (ca.crt) or /etc/docker/certs.d/<host>/ca.crt, or --tls-verify=false',
      ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate does not name this host',
      CERT_HAS_EXPIRED: 'its certificate has expired',
    };
    const text = why[code] ?? `${code || err.message}`;
    return new RegistryError(redact(`${req.method} ${this.where(req.path)} failed: ${text}`), this.registry, { cause: e });
  }

  private async once(req: Request): Promise<Response> {
    if (this.scheme === undefined) {
      try {
        this.scheme = 'https';
        return await this.send(req);
      } catch (e) {
        // Docker's rule for loopback registries: plain HTTP when the port does not speak TLS
        const code = (e as NodeJS.ErrnoException).code ?? '';
        if (!isLoopback(this.registry) || !(TLS_MISMATCH.has(code) || /wrong version number|packet length/i.test(String((e as Error).message)))) {
          this.scheme = undefined;
          throw e;
        }
        this.scheme = 'http';
      }
    }
    return this.send(req);
  }

  private send(req: Request): Promise<Response> {
    const url = /^https?:\/\//.test(req.path) ? new URL(req.path) : new URL(`${this.scheme}://${apiHost(this.registry)}${req.path}`);
    const sameHost = url.host === apiHost(this.registry);
    const headers: Record<string, string> = { 'User-Agent': 'copyedit', ...req.headers };
    const auth = sameHost ? this.authorization() : undefined;
    if (auth) headers.Authorization = auth;
    if (req.body !== undefined) headers['Content-Length'] = String(Buffer.isBuffer(req.body) ? req.body.length : (req.bodyLength ?? 0));
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const r = mod.request(url, { method: req.method, headers, ...(url.protocol === 'https:' ? this.tls : {}), timeout: 120_000 }, (res) => {
        const traffic = this.traffic;
        const counted = new Transform({
          transform(c: Buffer, _enc, done) {
            traffic.received += c.length;
            done(null, c);
          },
        });
        res.on('error', (e) => counted.destroy(e));
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res.pipe(counted), url });
      });
      this.traffic.requests++;
      r.on('error', reject);
      r.on('timeout', () => r.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      if (req.body === undefined) return void r.end();
      if (Buffer.isBuffer(req.body)) {
        this.traffic.sent += req.body.length;
        return void r.end(req.body);
      }
      const s = req.body();
      s.on('data', (c: Buffer) => {
        this.traffic.sent += c.length;
      });
      s.on('error', (e) => r.destroy(e));
      s.pipe(r);
    });
  }

  private authorization(): string | undefined {
    if (this.token) return `Bearer ${this.token}`;
    if (this.basic) return `Basic ${this.basic}`;
    return undefined;
  }

  private basic: string | undefined;

  private async credentialFor(): Promise<Credential | undefined> {
    if (this.credential === null) {
      this.credential = await findCredential(this.registry, this.o);
      registerSecret(this.credential?.password);
    }
    return this.credential;
  }

  /** Answer a 401's challenge: Basic with the credential, or a Bearer token for the run's scopes. */
  private async authenticate(challenge: string): Promise<void> {
    const cred = await this.credentialFor();
    const scheme = challenge.split(/\s/)[0]?.toLowerCase();
    if (scheme === 'basic') {
      if (!cred) throw new RegistryError('the registry asks for credentials: log in (docker login / podman login) or give --creds USER:PASSWORD', this.registry);
      this.basic = Buffer.from(`${cred.username}:${cred.password}`).toString('base64');
      registerSecret(this.basic);
      return;
    }
    if (scheme !== 'bearer') throw new RegistryError(`the registry answered 401 with an unknown challenge ${JSON.stringify(challenge.split(/\s/)[0] ?? '')}`, this.registry);
    const params = parseChallenge(challenge);
    if (!params.realm) throw new RegistryError('the registry asks for a Bearer token but names no realm', this.registry);
    this.token = await this.fetchToken(params, cred);
  }

  private async fetchToken(params: Record<string, string>, cred: Credential | undefined): Promise<string> {
    const url = new URL(params.realm!);
    if (params.service) url.searchParams.set('service', params.service);
    const scopes = new Set(this.scopes);
    if (params.scope) for (const s of params.scope.split(' ')) scopes.add(s);
    for (const s of scopes) url.searchParams.append('scope', s);
    const headers: Record<string, string> = {};
    if (cred) {
      const b = Buffer.from(`${cred.username}:${cred.password}`).toString('base64');
      registerSecret(b);
      headers.Authorization = `Basic ${b}`;
    }
    const mod = url.protocol === 'https:' ? https : http;
    const body = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const r = mod.get(url, { headers, ...(url.protocol === 'https:' ? this.tls : {}), timeout: 60_000 }, (res) => {
        const chunks: Buffer[] = [];
        let n = 0;
        res.on('data', (c: Buffer) => {
          n += c.length;
          if (n <= 1 << 20) chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      r.on('error', (e) => reject(this.networkError(e, { method: 'GET', path: `${url.origin}${url.pathname}` })));
    });
    if (body.status === 401 || body.status === 403) {
      throw new RegistryError(
        `the token server ${url.host} refused ${cred ? 'the credentials' : 'anonymous access'} (HTTP ${body.status}): check the user name and password (docker login, or --creds)`,
        this.registry,
      );
    }
    let token: unknown;
    try {
      const j = JSON.parse(body.text) as { token?: unknown; access_token?: unknown };
      token = j.token ?? j.access_token;
    } catch {}
    if (body.status !== 200 || typeof token !== 'string' || !token) throw new RegistryError(`the token server ${url.host} answered HTTP ${body.status} without a token`, this.registry);
    registerSecret(token);
    return token;
  }
}

/** `Bearer realm="...",service="...",scope="..."` -> its parameters. */
export function parseChallenge(h: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /(\w+)="([^"]*)"|(\w+)=([^\s,]+)/g;
  for (let m = re.exec(h); m; m = re.exec(h)) out[(m[1] ?? m[3])!.toLowerCase()] = (m[2] ?? m[4])!;
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
