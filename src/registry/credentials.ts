/**
 * Where credentials come from, as the ecosystem keeps them: `--creds user:pass`, containers'
 * auth.json (`$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`,
 * `~/.config/containers/auth.json`), then Docker's config.json (`$DOCKER_CONFIG` or `~/.docker`):
 * `credHelpers[host]`, `auths[host]`, `credsStore` through the `docker-credential-*` programs.
 * A credential is only ever handed to the HTTP layer; every message that could hold one goes
 * through `redact` (src/registry/redact.ts).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RegistryError } from '../errors.js';

export interface Credential {
  readonly username: string;
  readonly password: string;
}

export interface CredentialOptions {
  /** `user:password` for every registry of the run (`--creds`). */
  readonly creds?: string;
  /** Environment to read paths from (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

/** `user:pass` -> a Credential; the password may hold colons. */
export function parseCreds(s: string): Credential {
  const i = s.indexOf(':');
  if (i <= 0) throw new RegistryError('--creds must be USER:PASSWORD (the password is not printed)');
  return { username: s.slice(0, i), password: s.slice(i + 1) };
}

/** The keys a registry is found under in auths maps: `host`, `https://host`, Docker Hub's v1 URL. */
function authKeys(registry: string): string[] {
  const keys = [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
  if (registry === 'docker.io') keys.push('https://index.docker.io/v1/', 'index.docker.io', 'registry-1.docker.io');
  return keys;
}

function readJson(path: string | undefined): Record<string, unknown> | undefined {
  if (!path) return undefined;
  try {
    const doc = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // absent or unreadable: as docker and skopeo do, go on without it
  }
}

function fromAuths(doc: Record<string, unknown> | undefined, registry: string): Credential | undefined {
  const auths = doc?.auths;
  if (!auths || typeof auths !== 'object') return undefined;
  for (const k of authKeys(registry)) {
    const e = (auths as Record<string, unknown>)[k] as Record<string, unknown> | undefined;
    if (!e || typeof e !== 'object') continue;
    if (typeof e.auth === 'string' && e.auth) {
      const plain = Buffer.from(e.auth, 'base64').toString('utf8');
      const i = plain.indexOf(':');
      if (i > 0) return { username: plain.slice(0, i), password: plain.slice(i + 1) };
    }
    if (typeof e.username === 'string' && typeof e.password === 'string') return { username: e.username, password: e.password };
  }
  return undefined;
}

/** `docker-credential-<helper> get`, the registry on stdin; undefined when it has none. */
function fromHelper(helper: string, registry: string, env: NodeJS.ProcessEnv): Promise<Credential | undefined> {
  const server = registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
  return new Promise((resolve) => {
    const child = execFile(`docker-credential-${helper}`, ['get'], { env, timeout: 30_000, maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err) return resolve(undefined); // "credentials not found in native keychain": anonymous
      try {
        const r = JSON.parse(stdout) as { Username?: string; Secret?: string };
        resolve(r.Secret ? { username: r.Username ?? '', password: r.Secret } : undefined);
      } catch {
        resolve(undefined);
      }
    });
    child.stdin?.end(server);
  });
}

/** The credential for `registry`, or undefined for anonymous access. */
export async function findCredential(registry: string, o: CredentialOptions = {}): Promise<Credential | undefined> {
  if (o.creds !== undefined) return parseCreds(o.creds);
  const env = o.env ?? process.env;
  const home = env.HOME ?? homedir();
  const authFiles = [env.REGISTRY_AUTH_FILE, env.XDG_RUNTIME_DIR && join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'), join(home, '.config', 'containers', 'auth.json')];
  for (const f of authFiles) {
    const c = fromAuths(readJson(f), registry);
    if (c) return c;
  }
  const docker = readJson(join(env.DOCKER_CONFIG ?? join(home, '.docker'), 'config.json'));
  const helpers = docker?.credHelpers as Record<string, unknown> | undefined;
  const helper =
    helpers &&
    authKeys(registry)
      .map((k) => helpers[k])
      .find((h) => typeof h === 'string');
  if (typeof helper === 'string') return fromHelper(helper, registry, env);
  const c = fromAuths(docker, registry);
  if (c) return c;
  if (typeof docker?.credsStore === 'string') return fromHelper(docker.credsStore, registry, env);
  return undefined;
}
