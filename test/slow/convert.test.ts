/**
 * Converted archives read by independent implementations, daemonless: Python's tarfile lists every
 * entry (names, sizes, and each `blobs/sha256/<hex>` hashes to its name), `skopeo inspect` reads the
 * image from `oci-archive:` (oci, docker) or `docker-archive:` (docker-legacy) and finds the same
 * config, and zstd layers decompressed by the `zstd` program hash to the config's DiffIDs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ArchiveModel, type LayerCompression, type TargetFormat, editArchive, normalizeReference, readArchive } from '../../src/index.js';
import { SAMPLES } from '../samples.js';
import { readTar } from '../unit/fixtures.js';

const TOOLS = new URL('../../../test/tools/', import.meta.url).pathname;
const has = (cmd: string) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
const SKOPEO = has('skopeo');
const ZSTD = has('zstd');
const PYTHON = has('python3');

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-convert-slow-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const SAMPLE_FILES = readdirSync(SAMPLES)
  .filter((f) => f.endsWith('.tar'))
  .map((f) => join(SAMPLES, f));

interface Converted {
  output: string;
  format: TargetFormat;
  model: ArchiveModel;
}

let n = 0;
async function convert(input: string, format: TargetFormat, layerCompression?: LayerCompression): Promise<Converted> {
  const before = (await readArchive(input)).model;
  const multi = before.targets.find((t) => t.platforms.length > 1)?.platforms[0]?.platform;
  const output = join(dir, `c${n++}.tar`);
  await editArchive({
    input,
    output,
    edits: [],
    format,
    ...(layerCompression ? { layerCompression } : {}),
    ...(format === 'docker-legacy' && multi ? { onlyPlatforms: [multi] } : {}),
  });
  return { output, format, model: (await readArchive(output)).model };
}

function skopeo(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync('skopeo', ['--insecure-policy', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/**
 * The skopeo reference for the first named image of a converted archive: docker-archive: reads
 * manifest.json (docker-legacy, docker), oci-archive: index.json (oci, and docker whose manifests
 * have OCI media types: skopeo's OCI layout skips descriptors of Docker's media types).
 */
function skopeoRef(c: Converted, via: 'docker-archive' | 'oci-archive' = c.format === 'docker-legacy' ? 'docker-archive' : 'oci-archive'): string {
  const named = c.model.targets.find((t) => t.names.length > 0);
  if (via === 'docker-archive') return `docker-archive:${c.output}${named ? `:${named.names[0]}` : ''}`;
  if (!named) return `oci-archive:${c.output}`;
  // oci: ref.name is the familiar reference (as skopeo's oci-archive writes it); docker: the tag alone (as Docker does)
  const full = normalizeReference(named.names[0]!);
  const ref = c.format === 'docker' ? full.slice(full.lastIndexOf(':') + 1) : full.replace(/^docker\.io\/(library\/)?/, '');
  return `oci-archive:${c.output}:${ref}`;
}

describe('converted archives, read by Python tarfile and skopeo', () => {
  const all: Converted[] = [];
  for (const input of SAMPLE_FILES) {
    for (const format of ['oci', 'docker', 'docker-legacy'] as const) {
      it(`${input.split('/').at(-1)} -> ${format}: skopeo inspect finds the same config`, { skip: !SKOPEO && 'skopeo is not installed' }, async () => {
        const c = await convert(input, format);
        all.push(c);
        const ociTypes = [...c.model.graph.nodes.values()].every((x) => !/vnd\.docker\./.test(x.mediaType ?? ''));
        const vias =
          format === 'docker-legacy'
            ? (['docker-archive'] as const)
            : format === 'oci' || !ociTypes
              ? ([format === 'oci' ? 'oci-archive' : 'docker-archive'] as const)
              : (['oci-archive', 'docker-archive'] as const);
        const before = (await readArchive(input)).model;
        for (const via of vias) {
          const ref = skopeoRef(c, via);
          const cfg = skopeo(['inspect', '--config', '--raw', ref]);
          assert.equal(cfg.code, 0, `skopeo inspect ${ref}: ${cfg.err}`);
          const id = `sha256:${sha256(Buffer.from(cfg.out))}`;
          assert.ok(
            c.model.images.some((i) => i.id.toString() === id),
            `skopeo read config ${id}, not one of ${c.model.images.map((i) => i.id.short).join(', ')}`,
          );
          assert.ok(
            before.images.some((i) => i.id.toString() === id),
            'the config is one of the input configs, byte for byte',
          );
        }
      });
    }
  }

  it('Python tarfile lists every converted archive as our reader does; every blob hashes to its name', { skip: !PYTHON && 'python3 is not installed' }, async () => {
    if (all.length === 0) for (const input of SAMPLE_FILES.slice(0, 3)) for (const f of ['oci', 'docker', 'docker-legacy'] as const) all.push(await convert(input, f));
    const r = spawnSync('python3', [join(TOOLS, 'tarlist.py'), ...all.map((c) => c.output)], { encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, all.length);
    for (const [i, line] of lines.entries()) {
      const c = all[i]!;
      const py = JSON.parse(line) as { ok: boolean; clean: boolean; entries: { name: string; type: string; size: number; sha256: string | null }[] };
      assert.ok(py.ok && py.clean, `${c.output}: ${line.slice(0, 200)}`);
      const ours = await readTar(await readFile(c.output));
      const names = py.entries.map((e) => Buffer.from(e.name, 'hex').toString('utf8'));
      const bare = (x: string) => x.replace(/\/+$/, ''); // tarfile drops a directory's trailing slash
      assert.deepEqual(new Set(names.map(bare)), new Set([...ours.keys()].map(bare)), c.output);
      for (const [j, e] of py.entries.entries()) {
        const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(names[j]!);
        if (m && e.type === '0') assert.equal(e.sha256, m[1], `${names[j]} in ${c.output}`);
      }
    }
  });
});

describe('zstd layers, checked with the zstd program', () => {
  it('every zstd layer of a --layer-compression zstd --format oci archive decompresses to its DiffID; skopeo reads it', {
    skip: (!ZSTD && 'zstd is not installed') || (!SKOPEO && 'skopeo is not installed'),
  }, async () => {
    for (const input of ['docker20-legacy.tar', 'docker28c-multi.tar', 'containerd-gzip-index.tar'].map((f) => join(SAMPLES, f))) {
      const c = await convert(input, 'oci', 'zstd');
      const tar = await readTar(await readFile(c.output));
      let checked = 0;
      for (const img of c.model.images) {
        for (const l of img.layers) {
          assert.equal(l.mediaType, 'application/vnd.oci.image.layer.v1.tar+zstd');
          const z = spawnSync('zstd', ['-dc'], { input: tar.get(l.entry!.path)!.data, maxBuffer: 1 << 28 });
          assert.equal(z.status, 0);
          assert.equal(`sha256:${sha256(z.stdout)}`, l.diffId?.toString(), `${l.entry!.name} of ${input}`);
          checked++;
        }
      }
      assert.ok(checked > 0);
      const r = skopeo(['inspect', skopeoRef(c)]);
      assert.equal(r.code, 0, r.err);
    }
  });
});
