/**
 * Helpers for edits.test.ts and compat.test.ts (on top of harness.ts): build a test image on a
 * docker daemon, full `docker inspect`, `docker history`, expected-config arithmetic, and the
 * bookkeeping that removes every image a test file made (and nothing else).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DockerName, type Engines, docker, dockerRmi, loadedRefs, ok } from './harness.js';

/** `docker image inspect` as parsed JSON, all fields (the harness type names only a few). */
export interface FullInspect {
  Id: string;
  RepoTags: string[] | null;
  Created: string;
  Author: string;
  Architecture: string;
  Variant?: string;
  Os: string;
  Config: Record<string, unknown>;
  ContainerConfig?: Record<string, unknown>;
  RootFS: { Type: string; Layers?: string[] };
  [k: string]: unknown;
}

export function inspectImage(e: Engines, which: DockerName, ref: string): FullInspect | undefined {
  const r = docker(e, which, ['image', 'inspect', ref]);
  if (r.status !== 0) return undefined;
  return (JSON.parse(r.stdout) as FullInspect[])[0];
}

export function mustInspect(e: Engines, which: DockerName, ref: string): FullInspect {
  const i = inspectImage(e, which, ref);
  assert.ok(i, `${which}: docker image inspect ${ref} found nothing`);
  return i;
}

/** `docker history` of an image, newest first. */
export function history(e: Engines, which: DockerName, ref: string): { createdBy: string; comment: string }[] {
  const r = ok(docker(e, which, ['history', '--no-trunc', '--format', '{{json .}}', ref]), `${which} docker history`);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { CreatedBy: string; Comment: string })
    .map((h) => ({ createdBy: h.CreatedBy, comment: h.Comment }));
}

/** Marks a key that must be ABSENT from the inspected object. */
export const ABSENT = Symbol('absent');
export type Patch = Record<string, unknown | typeof ABSENT>;

/** `base` with `patch` applied: the exact object docker inspect must show after the edit. */
export function patched(base: Record<string, unknown>, patch: Patch): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(base);
  for (const [k, v] of Object.entries(patch)) {
    if (v === ABSENT) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** Every image (ID or tag) a test file put into a daemon; `cleanup` removes exactly those. */
export class Made {
  private readonly refs: Record<DockerName, Set<string>> = { docker20: new Set(), docker26: new Set() };
  add(which: DockerName, ...refs: string[]): void {
    for (const r of refs) this.refs[which].add(r);
  }
  /** Remove our images: tags of `repo` (our unique repository) first, then every ID we noted. */
  cleanup(e: Engines, repos: readonly string[]): void {
    for (const which of ['docker20', 'docker26'] as const) {
      const tags: string[] = [];
      for (const repo of repos) {
        const r = docker(e, which, ['images', '--format', '{{.Repository}}:{{.Tag}}', repo]);
        tags.push(...r.stdout.split('\n').filter((x) => x.startsWith(`${repo}:`)));
      }
      dockerRmi(e, which, [...tags, ...this.refs[which]]);
    }
  }
}

/** `docker load -i file`; asserts it worked and returns the "Loaded image" refs (noted in `made`). */
export function loadInto(e: Engines, which: DockerName, file: string, made: Made): string[] {
  const r = ok(docker(e, which, ['load', '-i', file], { timeout: 180_000 }), `${which} docker load ${file}`);
  const refs = loadedRefs(r.stdout);
  assert.ok(refs.length > 0, `${which} docker load printed no "Loaded image" line:\n${r.stdout}`);
  made.add(which, ...refs);
  return refs;
}

/**
 * Build `tag` on Docker 20.10's classic builder from a Dockerfile (FROM scratch + one small file,
 * so nothing is pulled), and return its inspect.
 */
export function buildImage(e: Engines, which: DockerName, dir: string, tag: string, dockerfile: readonly string[], made: Made): FullInspect {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'hello.txt'), 'hello from copyedit-e2e\n');
  writeFileSync(join(dir, 'Dockerfile'), `${dockerfile.join('\n')}\n`);
  const r = docker(e, which, ['build', '-q', '-t', tag, dir], { env: { ...process.env, DOCKER_BUILDKIT: '0' }, timeout: 240_000 });
  made.add(which, tag);
  ok(r, `${which} docker build ${tag}`);
  const i = mustInspect(e, which, tag);
  made.add(which, i.Id);
  return i;
}
