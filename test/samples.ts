/**
 * The sample archives in samples/ and what the engines that made them reported about each image
 * (samples/expected.json, written by samples/make-samples.sh). Shared by the unit and engine tests.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SAMPLES = new URL('../../samples/', import.meta.url).pathname;

export interface ExpectedImage {
  repoTags: string[];
  imageId: string;
  diffIds: string[];
  architecture: string;
  os: string;
  entrypoint: string[] | null;
  cmd: string[] | null;
  volumes: string[];
  exposedPorts: string[];
  env: string[] | null;
  labels: Record<string, string> | null;
  user: string;
  workingDir: string;
  manifestDigest?: string;
  indexDigest?: string | null;
  absentManifests?: { digest: string; platform: Record<string, string> }[];
  layerMediaTypes?: string[];
  layerDigests?: string[];
}

export interface ExpectedSample {
  file: string;
  layout: string;
  images: ExpectedImage[];
  /** Set on samples whose record `copyedit inspect` cannot match yet (the reason); see loadExpected. */
  pending?: string;
  notes?: Record<string, unknown>;
}

/**
 * samples/expected.json, or why it cannot be read. Entries marked `pending` are left out unless
 * `includePending` (the engine suite sets it: it tests the spec, failures included).
 */
export function loadExpected(opts: { includePending?: boolean } = {}): { samples: ExpectedSample[] } | { error: string } {
  const p = join(SAMPLES, 'expected.json');
  if (!existsSync(p)) return { error: `${p} is missing: run samples/make-samples.sh` };
  try {
    const all = JSON.parse(readFileSync(p, 'utf8')) as { samples: ExpectedSample[] };
    return opts.includePending ? all : { ...all, samples: all.samples.filter((s) => !s.pending) };
  } catch (e) {
    return { error: `${p} is not valid JSON: ${(e as Error).message}` };
  }
}
