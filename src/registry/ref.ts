/**
 * Image references in skopeo's transport syntax: `docker://host[:port]/repo[:tag][@digest]`.
 * The first path component is the registry when it has a dot, a colon or is `localhost`, as Docker
 * reads it; otherwise the image is on Docker Hub (`registry-1.docker.io`, `library/` added).
 */
import { Digest } from '../digest.js';
import { UsageError } from '../errors.js';

export const TRANSPORT = 'docker://';

export interface RegistryRef {
  /** `host[:port]` as written (Docker Hub as `docker.io`). */
  readonly registry: string;
  readonly repository: string;
  readonly tag: string | undefined;
  readonly digest: Digest | undefined;
}

/** Is this argument a registry reference (rather than a file, a directory or `-`)? */
export function isRegistryRef(s: unknown): s is string {
  return typeof s === 'string' && s.startsWith(TRANSPORT);
}

const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;

/** Parse `docker://...`; a missing tag and digest mean `latest`. UsageError when malformed. */
export function parseRegistryRef(s: string): RegistryRef {
  if (!isRegistryRef(s)) throw new UsageError(`${JSON.stringify(s)} is not a registry reference (docker://host/repository:tag)`);
  let rest = s.slice(TRANSPORT.length);
  const bad = (why: string): never => {
    throw new UsageError(`${s}: ${why}; write docker://host[:port]/repository[:tag][@sha256:<digest>]`);
  };
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = Digest.tryParse(rest.slice(at + 1)) ?? bad('the part after @ is not a digest');
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    if (!TAG.test(tag)) bad(`${JSON.stringify(tag)} is not a valid tag`);
    rest = rest.slice(0, colon);
  }
  const slash = rest.indexOf('/');
  const head = slash >= 0 ? rest.slice(0, slash) : '';
  let registry = 'docker.io';
  let repository = rest;
  if (slash >= 0 && (head.includes('.') || head.includes(':') || head === 'localhost' || head.startsWith('['))) {
    registry = head;
    repository = rest.slice(slash + 1);
    if (!HOST.test(registry)) bad(`${JSON.stringify(registry)} is not a host name`);
  }
  if (registry === 'docker.io' && !repository.includes('/')) repository = `library/${repository}`;
  if (!repository?.split('/').every((c) => COMPONENT.test(c))) bad(`${JSON.stringify(repository)} is not a valid repository name (lowercase letters, digits, . _ - and /)`);
  if (!tag && !digest) tag = 'latest';
  return { registry, repository, tag, digest };
}

/** `host/repo:tag` (or `@digest`), as the report and errors print it. */
export function refString(r: RegistryRef): string {
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** The manifest reference to fetch: the digest when given, else the tag. */
export function manifestRef(r: RegistryRef): string {
  return r.digest?.toString() ?? r.tag!;
}

/** The host to connect to: Docker Hub's API host for `docker.io`. */
export function apiHost(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' ? 'registry-1.docker.io' : registry;
}

/** Docker's rule: plain HTTP is tried only for localhost and 127.0.0.0/8 (and ::1) unless asked. */
export function isLoopback(registry: string): boolean {
  const host = registry.replace(/:[0-9]+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
