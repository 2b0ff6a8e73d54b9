import { childProcess } from '../lazy.js';
import { existsSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { IoError } from '../errors.js';

/**
 * Daemon mode, as docker-copyedit works: `docker save REF | copyedit | docker load`, streamed, with
 * no temporary directory. `docker` may be any compatible CLI (podman works).
 */
export interface DaemonEnds {
  readonly input: Readable;
  /** Resolves when `docker save` exited 0; rejects with its stderr otherwise. */
  readonly saved: Promise<void>;
}

const ARCHIVE_NAME = /\.(tar|tar\.gz|tgz|tar\.zst|tar\.xz|tar\.bz2)$/i;

/**
 * Does a FROM word look like a file rather than an image reference? Paths start with /, ./ or ../
 * (or ~), or end in an archive extension; `vendor/app:1` has a slash too, so a slash alone does not count.
 */
export function looksLikePath(word: string): boolean {
  return /^(\/|\.\.?\/|~\/)/.test(word) || ARCHIVE_NAME.test(word);
}

/** Does a FROM/INTO word name an image in the daemon (rather than an archive file)? */
export function isDaemonRef(word: string, role: 'from' | 'into', fromIsDaemon = false): boolean {
  if (word.startsWith('docker:')) return true;
  if (word === '-') return false;
  if (role === 'from') return !existsSync(word);
  return fromIsDaemon && !ARCHIVE_NAME.test(word);
}

export function stripScheme(word: string): string {
  return word.startsWith('docker:') ? word.slice('docker:'.length) : word;
}

export function dockerSave(docker: string, ref: string): DaemonEnds {
  const child = childProcess().spawn(docker, ['save', ref], { stdio: ['ignore', 'pipe', 'pipe'] });
  const saved = exited(child, `${docker} save ${ref}`);
  saved.catch(() => {}); // awaited by the caller; may settle before it gets there
  return { input: child.stdout, saved };
}

export interface DockerLoad {
  readonly stdin: Writable;
  /** Resolves with what `docker load` printed once it exited 0. */
  readonly loaded: Promise<string>;
}

export function dockerLoad(docker: string): DockerLoad {
  const child = childProcess().spawn(docker, ['load'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const loaded = exited(child, `${docker} load`).then(() => out.trim());
  loaded.catch(() => {}); // awaited by the caller; may settle before it gets there
  child.stdin.on('error', () => {}); // EPIPE when docker load gives up; its exit status says why
  return { stdin: child.stdin, loaded };
}

function exited(child: import('node:child_process').ChildProcess, what: string): Promise<void> {
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (err.length < 4000) err += d.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(new IoError(e.code === 'ENOENT' ? `${what}: the program is not installed or not on PATH; pick one with --docker` : `${what}: ${e.message}`)),
    );
    child.on('close', (code) => (code === 0 ? resolve() : reject(new IoError(`${what} failed (exit ${code}): ${err.trim().split('\n').pop() ?? ''}`))));
  });
}

/** What daemon mode talks to, as the report names it (see DaemonInfo in report.ts). */
export interface DaemonFacts {
  readonly program: string;
  readonly endpoint: string | null;
  readonly context: string | null;
  readonly version: string | null;
  /** `containerd` when `docker info` reports the io.containerd.snapshotter driver type; podman is `classic` (config digests). */
  readonly store: 'classic' | 'containerd' | null;
}

/**
 * Ask the daemon which it is: `docker info` (server version, and DriverStatus's
 * `driver-type io.containerd.snapshotter.v1` on the containerd image store, as Docker 24-29 report
 * it), the endpoint from DOCKER_HOST or `docker context inspect`; podman: its version and storage.
 * A program that answers neither (a wrapper script) gives nulls: the report then shows both IDs.
 */
export async function daemonFacts(docker: string): Promise<DaemonFacts> {
  const run = (args: string[]) =>
    new Promise<string | null>((resolve) => {
      childProcess().execFile(docker, args, { timeout: 15_000, env: process.env }, (err, stdout) => resolve(err ? null : String(stdout).trim()));
    });
  const podman = /podman/.test(docker.split('/').pop() ?? '');
  if (podman) {
    const [version, root] = await Promise.all([run(['version', '--format', '{{.Client.Version}}']), run(['info', '--format', '{{.Store.GraphRoot}}'])]);
    const remote = process.env.CONTAINER_HOST ?? null;
    return { program: docker, endpoint: remote ?? (root ? `local storage ${root}` : null), context: null, version: version ? `podman ${version}` : null, store: 'classic' };
  }
  const [info, ctx] = await Promise.all([
    run(['info', '--format', '{{.ServerVersion}}|{{json .DriverStatus}}']),
    process.env.DOCKER_HOST ? Promise.resolve(null) : run(['context', 'inspect', '--format', '{{.Name}}|{{.Endpoints.docker.Host}}']),
  ]);
  const bar = info?.indexOf('|') ?? -1;
  const version = info && bar > 0 ? info.slice(0, bar) : null;
  const status = info && bar >= 0 ? info.slice(bar + 1) : '';
  const store = info === null || bar < 0 ? null : status.includes('io.containerd.snapshotter') ? 'containerd' : 'classic';
  const [context, host] = ctx?.includes('|') ? ctx.split('|', 2) : [null, null];
  const endpoint = process.env.DOCKER_HOST ? `${process.env.DOCKER_HOST} (DOCKER_HOST)` : host ? host : null;
  return { program: docker, endpoint, context: context || null, version: version ? `Docker ${version}` : null, store };
}

/** `unix:///run/docker.sock (context default), Docker 28.5.2, containerd image store`. */
export function describeDaemon(f: DaemonFacts): string {
  const store =
    f.store === 'containerd' ? 'containerd image store' : f.store === 'classic' ? (f.version?.startsWith('podman') ? 'IDs are config digests' : 'classic image store') : 'image store unknown';
  const where = f.endpoint ? `${f.endpoint}${f.context && !f.endpoint.endsWith('(DOCKER_HOST)') ? ` (docker context ${f.context})` : ''}` : 'endpoint unknown';
  return `${where}, ${[f.version ?? `${f.program}: version unknown`, store].join(', ')}`;
}
