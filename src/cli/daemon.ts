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
