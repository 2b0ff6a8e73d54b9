/**
 * Every sample layout x every real loader.
 *
 * For each archive in samples/ (made by real engines, see samples/README.md): run
 *   copyedit edit X -o Y --json --rm-volume all --rm-port all --entrypoint '["/bin/echo","edited"]'
 * then hand Y to each loader and check what the loader itself reports: the image ID is the new ID
 * from the CLI report, no volumes, no ports, the new entrypoint, every other field and the DiffIDs
 * as samples/expected.json records for the input.
 *
 * Each cell is either expected to load (then everything above is asserted) or is a documented
 * engine limitation ("n.a."): then the edited output must be refused AND the unedited input must be
 * refused by the same command too, so the gap is the engine's, not ours. A loader that accepts an
 * "n.a." cell fails the test: update the rules in ENGINES. An after() hook prints the matrix.
 */
import { type ExpectedImage, type ExpectedSample, loadExpected } from '../samples.js';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  type CliReport,
  type Compression,
  type Engines,
  type InspectedImage,
  type Run,
  RUN_ID,
  SAMPLES,
  cliEdit,
  compressionOf,
  ctr,
  describeRun,
  docker,
  dockerInspect,
  dockerRmi,
  loadedRefs,
  ok,
  podman,
  podmanInspect,
  podmanRmi,
  removeDir,
  requireEngines,
  run,
  shq,
  sha256,
  skopeo,
  tarFile,
  tarNames,
  tempDir,
} from './harness.js';

const EDITS = ['--rm-volume', 'all', '--rm-port', 'all', '--entrypoint', '["/bin/echo","edited"]'];
const NEW_ENTRYPOINT = ['/bin/echo', 'edited'];

/** The samples this suite expects (samples/make-samples.sh writes them all). */
const SAMPLE_FILES = [
  'docker20-legacy.tar',
  'docker20-multi.tar',
  'docker26-oci.tar',
  'docker26-multi.tar',
  'containerd-export.tar',
  'containerd-gzip-index.tar',
  'podman.tar',
  'skopeo-docker-archive.tar',
  'docker20-legacy.tar.gz',
  'docker20-legacy.tar.zst',
  'docker20-legacy.tar.xz',
  'docker20-legacy.tar.bz2',
];

/**
 * One matrix row: a sample, edited with EDITS (+ flags) into outName. The two last rows ask for a
 * compressed OUTPUT; their n.a. cells compare with the unedited input compressed the same way.
 */
interface Row {
  readonly name: string;
  readonly file: string;
  readonly outName: string;
  readonly flags: readonly string[];
  readonly compressRef?: 'gzip' | 'zstd';
}
const ROWS: readonly Row[] = [
  ...SAMPLE_FILES.map((f) => ({ name: f, file: f, outName: `${f}.edited.tar`, flags: [] })),
  { name: 'docker20-legacy.tar -o .tar.gz', file: 'docker20-legacy.tar', outName: 'docker20-legacy.edited.tar.gz', flags: [], compressRef: 'gzip' },
  { name: 'docker26-oci.tar --zstd', file: 'docker26-oci.tar', outName: 'docker26-oci.edited.tar.zst', flags: ['--zstd'], compressRef: 'zstd' },
];

// ------------------------------------------------------------------ expected.json

const expected = loadExpected();

function expectedSample(file: string): ExpectedSample {
  if ('error' in expected) assert.fail(expected.error);
  const s = expected.samples.find((x) => x.file === file);
  assert.ok(s, `samples/expected.json has no entry for ${file}`);
  return s;
}

// ------------------------------------------------------------------ what an archive is

interface Traits {
  readonly compression: Compression;
  readonly hasManifestJson: boolean;
  /** index.json + oci-layout */
  readonly hasIndex: boolean;
  readonly index?: { manifests: { mediaType?: string; digest: string; annotations?: Record<string, string> }[] };
  readonly manifestJson?: { Config: string; RepoTags: string[] | null; Layers: string[] }[];
}

function traitsOf(path: string): Traits {
  const compression = compressionOf(path);
  const names = new Set(tarNames(path));
  const hasManifestJson = names.has('manifest.json');
  const hasIndex = names.has('index.json') && names.has('oci-layout');
  return {
    compression,
    hasManifestJson,
    hasIndex,
    ...(hasIndex ? { index: JSON.parse(tarFile(path, 'index.json')) } : {}),
    ...(hasManifestJson ? { manifestJson: JSON.parse(tarFile(path, 'manifest.json')) } : {}),
  };
}

const OCI_TYPES = new Set(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json']);

// ------------------------------------------------------------------ checks on what a loader reports

/** The fields we compare, whichever loader reported them. */
interface Seen {
  id: string;
  entrypoint: unknown;
  cmd: unknown;
  env: unknown;
  labels: unknown;
  workingDir: unknown;
  user: unknown;
  volumes: string[];
  ports: string[];
  diffIds: unknown;
  architecture: unknown;
}

function fromInspect(i: InspectedImage): Seen {
  return {
    id: i.Id.startsWith('sha256:') ? i.Id : `sha256:${i.Id}`,
    entrypoint: i.Config.Entrypoint ?? null,
    cmd: i.Config.Cmd ?? null,
    env: i.Config.Env ?? null,
    labels: i.Config.Labels ?? null,
    workingDir: i.Config.WorkingDir ?? '',
    user: i.Config.User ?? '',
    volumes: Object.keys(i.Config.Volumes ?? {}).sort(),
    ports: Object.keys(i.Config.ExposedPorts ?? {}).sort(),
    diffIds: i.RootFS.Layers ?? [],
    architecture: i.Architecture,
  };
}

/** From raw config bytes (ctr content get, skopeo inspect --config --raw). */
function fromConfig(raw: string): Seen {
  const c = JSON.parse(raw) as { architecture?: string; config?: Record<string, unknown>; rootfs?: { diff_ids?: string[] } };
  const k = (c.config ?? {}) as Record<string, unknown>;
  return {
    id: sha256(Buffer.from(raw, 'utf8')),
    entrypoint: k.Entrypoint ?? null,
    cmd: k.Cmd ?? null,
    env: k.Env ?? null,
    labels: k.Labels ?? null,
    workingDir: k.WorkingDir ?? '',
    user: k.User ?? '',
    volumes: Object.keys((k.Volumes as object | null) ?? {}).sort(),
    ports: Object.keys((k.ExposedPorts as object | null) ?? {}).sort(),
    diffIds: c.rootfs?.diff_ids ?? [],
    architecture: c.architecture,
  };
}

/** The edited image as the loader reports it equals the input's record, edited. */
function assertEdited(seen: Seen, want: ExpectedImage, newId: string, where: string): void {
  const at = (f: string) => `${where}: ${f}`;
  assert.equal(seen.id, newId, at('image ID is not the new ID the CLI reported'));
  assert.deepEqual(seen.volumes, [], at('volumes left'));
  assert.deepEqual(seen.ports, [], at('exposed ports left'));
  assert.deepEqual(seen.entrypoint, NEW_ENTRYPOINT, at('Entrypoint'));
  assert.deepEqual(seen.cmd, want.cmd, at('Cmd changed'));
  assert.deepEqual(seen.env, want.env, at('Env changed'));
  assert.deepEqual(seen.labels ?? {}, want.labels ?? {}, at('Labels changed'));
  assert.equal(seen.workingDir, want.workingDir ?? '', at('WorkingDir changed'));
  assert.equal(seen.user, want.user ?? '', at('User changed'));
  assert.deepEqual(seen.diffIds, want.diffIds, at('RootFS DiffIDs changed'));
  assert.equal(seen.architecture, want.architecture, at('Architecture changed'));
}

/** containerd's name for a reference: docker.io/ (and library/) added to familiar names. */
function normalizeRef(ref: string): string {
  const slash = ref.indexOf('/');
  if (slash < 0) return `docker.io/library/${ref}`;
  const first = ref.slice(0, slash);
  if (first.includes('.') || first.includes(':') || first === 'localhost') return ref;
  return `docker.io/${ref}`;
}

// ------------------------------------------------------------------ one cell

interface Cell {
  readonly sample: ExpectedSample;
  /** The unedited archive to compare with: the sample, or the sample compressed like the output. */
  readonly input: string;
  readonly output: string;
  readonly report: CliReport;
  readonly outTraits: Traits;
  readonly inTraits: Traits;
  readonly work: string;
  readonly seq: number;
}

interface EngineSpec {
  readonly name: string;
  /**
   * undefined: the engine must load archives like this; else why it cannot (n.a.) and the error
   * text that refusal must show (for our output AND the unedited input), so that an output
   * refused for another reason still fails.
   */
  predict(t: Traits): NA | undefined;
  /** The plain load/read command; a non-zero exit = the engine refuses the archive. Cleans up after itself. */
  attempt(e: Engines, file: string, t: Traits, c: Cell): Run;
  /** Load the edited output and check everything. */
  verify(e: Engines, c: Cell): void;
}

interface NA {
  readonly why: string;
  readonly error: RegExp;
}
function na(why: string, error: RegExp): NA {
  return { why, error };
}
const GZIP_EOF = /loading tar component manifest\.json: unexpected EOF/;

function wantFor(c: Cell, oldId: string): ExpectedImage {
  const w = c.sample.images.find((i) => i.imageId === oldId);
  assert.ok(w, `expected.json for ${c.sample.file} has no image ${oldId}`);
  return w;
}

function dockerSpec(which: 'docker20' | 'docker26'): EngineSpec {
  const label = which === 'docker20' ? 'docker 20.10' : 'docker 26';
  return {
    name: which,
    predict(t) {
      if (!t.hasManifestJson) return na('no manifest.json: the classic image store reads nothing else', /manifest\.json|repositories/);
      if (which === 'docker20' && t.compression === 'zstd') return na('Docker 20.10 cannot decompress zstd', /invalid tar header/);
      return undefined;
    },
    attempt(e, file) {
      const r = docker(e, which, ['load', '-i', file]);
      if (r.status === 0) dockerRmi(e, which, loadedRefs(r.stdout));
      return r;
    },
    verify(e, c) {
      const newIds = c.report.images.map((i) => i.newId);
      dockerRmi(e, which, newIds); // a clean store: the load then verifies every DiffID
      const r = ok(docker(e, which, ['load', '-i', c.output]), `${label} load`);
      try {
        const refs = loadedRefs(r.stdout);
        assert.ok(refs.length > 0, `${label} load printed no "Loaded image" line:\n${r.stdout}`);
        for (const ref of refs) {
          const i = dockerInspect(e, which, ref);
          assert.ok(i, `${label}: cannot inspect loaded ${ref}`);
          assert.ok(newIds.includes(i.Id), `${label}: loaded ${ref} is ${i.Id}, not one of the new IDs ${newIds.join(', ')}`);
        }
        for (const img of c.report.images) {
          assert.ok(img.changed, `${img.tags.join(',')}: the CLI reports no change`);
          for (const tag of img.newTags ?? img.tags) {
            const i = dockerInspect(e, which, tag);
            assert.ok(i, `${label}: tag ${tag} was not loaded`);
            assert.equal(i.Id, img.newId, `${label}: tag ${tag} points at ${i.Id}, not at the new ID`);
          }
          const i = dockerInspect(e, which, img.newId);
          assert.ok(i, `${label}: image ${img.newId} not found after load`);
          assertEdited(fromInspect(i), wantFor(c, img.oldId), img.newId, `${label} inspect ${img.tags[0] ?? img.newId}`);
          assert.equal(dockerInspect(e, which, img.oldId), undefined, `${label}: the OLD image ${img.oldId} was loaded too`);
        }
      } finally {
        dockerRmi(e, which, newIds);
      }
    },
  };
}

const ctrSpec: EngineSpec = {
  name: 'ctr',
  predict(t) {
    if (t.compression !== 'none') return na(`ctr import takes no outer compression (${t.compression})`, /invalid tar header/);
    if (!t.hasIndex && !t.hasManifestJson) return na('neither index.json nor manifest.json', /./);
    return undefined;
  },
  attempt(e, file, _t, c) {
    const ns = `copyedit-etest-${RUN_ID}-${c.seq}-try`;
    const r = ctr(e, ns, ['images', 'import', file]);
    ctrCleanup(e, ns);
    return r;
  },
  verify(e, c) {
    const ns = `copyedit-etest-${RUN_ID}-${c.seq}`;
    try {
      ok(ctr(e, ns, ['images', 'import', c.output]), 'ctr images import'); // unpacks: checks DiffIDs
      const ls = ok(ctr(e, ns, ['images', 'ls']), 'ctr images ls').stdout.trim().split('\n').slice(1);
      const targets = new Map(ls.map((l) => l.split(/\s+/)).map((f) => [f[0]!, f[2]!] as const));
      assert.ok(targets.size > 0, 'ctr images import created no image');
      const newIds = c.report.images.map((i) => i.newId);
      const configOf = (ref: string, arch: string): { configDigest: string; manifest: { layers: { digest: string }[] } } => {
        let digest = targets.get(ref);
        assert.ok(digest, `ctr: no image ${ref} after import (have: ${[...targets.keys()].join(', ')})`);
        let doc = JSON.parse(ok(ctr(e, ns, ['content', 'get', digest])).stdout) as {
          mediaType?: string;
          manifests?: { digest: string; platform?: { architecture?: string; os?: string } }[];
          config?: { digest: string };
          layers: { digest: string }[];
        };
        if (doc.manifests) {
          const m = doc.manifests.find((x) => x.platform?.architecture === arch && (x.platform?.os ?? 'linux') === 'linux');
          assert.ok(m, `ctr: index ${digest} of ${ref} has no linux/${arch} manifest`);
          digest = m.digest;
          doc = JSON.parse(ok(ctr(e, ns, ['content', 'get', digest])).stdout);
        }
        assert.ok(doc.config, `ctr: ${digest} of ${ref} is not a manifest`);
        return { configDigest: doc.config.digest, manifest: doc };
      };
      // every image containerd now has is one of ours, edited
      for (const ref of targets.keys()) {
        const arch = c.sample.images[0]!.architecture;
        const { configDigest } = configOf(ref, arch);
        assert.ok(newIds.includes(configDigest), `ctr: ${ref} has config ${configDigest}, not one of the new IDs ${newIds.join(', ')} (index.json or a manifest not re-pointed?)`);
      }
      for (const img of c.report.images) {
        const want = wantFor(c, img.oldId);
        for (const tag of img.newTags ?? img.tags) {
          const { configDigest, manifest } = configOf(normalizeRef(tag), want.architecture);
          assert.equal(configDigest, img.newId, `ctr: ${tag} config`);
          if (want.layerDigests) assert.deepEqual(manifest.layers.map((l) => l.digest), want.layerDigests, `ctr: ${tag} layer blobs changed`);
        }
        const raw = ok(ctr(e, ns, ['content', 'get', img.newId]), 'ctr content get config').stdout;
        assertEdited(fromConfig(raw), want, img.newId, `ctr content ${img.tags[0] ?? img.newId}`);
      }
    } finally {
      ctrCleanup(e, ns);
    }
  },
};

function ctrCleanup(e: Engines, ns: string): void {
  const refs = ctr(e, ns, ['images', 'ls', '-q']).stdout.split('\n').filter(Boolean);
  if (refs.length) ctr(e, ns, ['images', 'rm', '--sync', ...refs]);
  run0(() => ctr(e, ns, ['namespaces', 'rm', ns]));
}
function run0(f: () => unknown): void {
  try {
    f();
  } catch {
    /* cleanup only */
  }
}

const podmanSpec: EngineSpec = {
  name: 'podman',
  predict(t) {
    if (t.compression === 'gzip') return na('podman 4.3 (containers/image 5.23) fails on gzip-wrapped docker-archives', GZIP_EOF);
    if (!t.hasIndex && !t.hasManifestJson) return na('neither index.json nor manifest.json', /./);
    return undefined;
  },
  attempt(e, file) {
    const r = podman(e, ['load', '-i', file]);
    if (r.status === 0) podmanRmi(e, loadedRefs(r.stdout));
    return r;
  },
  verify(e, c) {
    const newIds = c.report.images.map((i) => i.newId);
    const hex = (id: string) => id.replace(/^sha256:/, '');
    podmanRmi(e, newIds.map(hex));
    const r = ok(podman(e, ['load', '-i', c.output]), 'podman load');
    try {
      const refs = loadedRefs(r.stdout + r.stderr);
      assert.ok(refs.length > 0, `podman load printed no "Loaded image" line:\n${r.stdout}`);
      for (const ref of refs) {
        const i = podmanInspect(e, ref);
        assert.ok(i, `podman: cannot inspect loaded ${ref}`);
        assert.ok(newIds.includes(`sha256:${hex(i.Id)}`), `podman: loaded ${ref} is ${i.Id}, not one of the new IDs ${newIds.join(', ')}`);
      }
      for (const img of c.report.images) {
        const i = podmanInspect(e, hex(img.newId));
        assert.ok(i, `podman: image ${img.newId} not found after load (loaded: ${refs.join(', ')})`);
        assertEdited(fromInspect(i), wantFor(c, img.oldId), img.newId, `podman inspect ${img.tags[0] ?? img.newId}`);
        if (img.tags.length) {
          const names = refs.filter((ref) => podmanInspect(e, ref)?.Id === i.Id);
          assert.ok(names.length > 0, `podman: no loaded name points at ${img.newId} (${img.tags.join(', ')})`);
        }
        assert.equal(podmanInspect(e, hex(img.oldId)), undefined, `podman: the OLD image ${img.oldId} was loaded too`);
      }
    } finally {
      podmanRmi(e, newIds.map(hex));
    }
  },
};

/** skopeo docker-archive: refs: one per manifest.json item (`:@N` when there are several). */
function dockerArchiveRefs(file: string, t: Traits): string[] {
  const n = t.manifestJson?.length ?? 1;
  return n <= 1 ? [`docker-archive:${file}`] : Array.from({ length: n }, (_, i) => `docker-archive:${file}:@${i}`);
}

const skopeoSpec: EngineSpec = {
  name: 'skopeo',
  predict(t) {
    if (!t.hasManifestJson) return na('docker-archive: needs manifest.json', /manifest\.json/);
    if (t.compression === 'gzip') return na('skopeo 1.9 (containers/image 5.23) fails on gzip-wrapped docker-archives', GZIP_EOF);
    return undefined;
  },
  attempt(e, file, t) {
    return skopeo(e, ['inspect', '--config', '--raw', dockerArchiveRefs(file, t)[0]!]);
  },
  verify(e, c) {
    const seen = new Set<string>();
    dockerArchiveRefs(c.output, c.outTraits).forEach((ref, n) => {
      const raw = ok(skopeo(e, ['inspect', '--config', '--raw', ref]), 'skopeo inspect --config').stdout;
      const s = fromConfig(raw);
      const img = c.report.images.find((i) => i.newId === s.id);
      assert.ok(img, `skopeo ${ref}: config ${s.id} is not one of the new IDs ${c.report.images.map((i) => i.newId).join(', ')}`);
      seen.add(img.newId);
      assertEdited(s, wantFor(c, img.oldId), img.newId, `skopeo inspect ${ref}`);
      const manifest = JSON.parse(ok(skopeo(e, ['inspect', '--raw', ref]), 'skopeo inspect --raw').stdout) as { config: { digest: string } };
      assert.equal(manifest.config.digest, img.newId, `skopeo ${ref}: manifest config digest`);
      // a copy reads every layer and checks it against its DiffID
      const dir = join(c.work, `skopeo-dir-${n}`);
      ok(skopeo(e, ['copy', '-q', ref, `dir:${dir}`]), 'skopeo copy (verifies DiffIDs)');
      assert.ok(existsSync(join(dir, img.newId.slice('sha256:'.length))), `skopeo copy: no config blob ${img.newId} in dir:`);
      removeDir(dir);
    });
    assert.equal(seen.size, c.report.images.length, 'skopeo: not every edited image is reachable');
  },
};

/** skopeo oci-archive: one ref per index.json descriptor name, or none when there is one. */
function ociArchiveRefs(file: string, t: Traits): string[] {
  const ms = t.index?.manifests ?? [];
  if (ms.length <= 1) return [`oci-archive:${file}`];
  const names = [...new Set(ms.map((m) => m.annotations?.['org.opencontainers.image.ref.name']).filter((x): x is string => !!x))];
  return names.map((n) => `oci-archive:${file}:${n}`);
}

const skopeoOciSpec: EngineSpec = {
  name: 'skopeo-oci',
  predict(t) {
    if (!t.hasIndex) return na('oci-archive: needs index.json + oci-layout', /index\.json: no such file/);
    const ms = t.index?.manifests ?? [];
    if (ms.length > 1 && ms.some((m) => !OCI_TYPES.has(m.mediaType ?? ''))) {
      return na('skopeo 1.9 oci-archive selects a :ref only among OCI media types; these descriptors are Docker manifests', /no descriptor found for reference/);
    }
    return undefined;
  },
  attempt(e, file, t) {
    return skopeo(e, ['inspect', '--config', '--raw', ociArchiveRefs(file, t)[0]!]);
  },
  verify(e, c) {
    const refs = ociArchiveRefs(c.output, c.outTraits);
    assert.ok(refs.length > 0, 'index.json names no image');
    for (const ref of refs) {
      const raw = ok(skopeo(e, ['inspect', '--config', '--raw', ref]), 'skopeo inspect --config oci-archive').stdout;
      const s = fromConfig(raw);
      const img = c.report.images.find((i) => i.newId === s.id);
      assert.ok(img, `skopeo ${ref}: config ${s.id} is not one of the new IDs ${c.report.images.map((i) => i.newId).join(', ')} (index.json not re-pointed?)`);
      assertEdited(s, wantFor(c, img.oldId), img.newId, `skopeo inspect ${ref}`);
    }
  },
};

const ENGINES: readonly EngineSpec[] = [dockerSpec('docker20'), dockerSpec('docker26'), ctrSpec, podmanSpec, skopeoSpec, skopeoOciSpec];

// ------------------------------------------------------------------ the tests

const matrix = new Map<string, Map<string, string>>();
const notes: string[] = [];
function mark(file: string, engine: string, v: string): void {
  if (!matrix.has(file)) matrix.set(file, new Map());
  matrix.get(file)!.set(engine, v);
}
const newIdsByOldId = new Map<string, Set<string>>();
let work = '';
let seq = 0;

before(() => {
  work = tempDir('layouts');
});

after(() => {
  if (work) removeDir(work);
  const cols = ENGINES.map((x) => x.name);
  const w0 = Math.max(...ROWS.map((r) => r.name.length), 6);
  const line = (a: string, cells: string[]) => `${a.padEnd(w0)} | ${cells.map((c, i) => c.padEnd(Math.max(cols[i]!.length, 6))).join(' | ')}`;
  const out = ['', 'engine matrix: copyedit output (edit --rm-volume all --rm-port all --entrypoint) x loader', line('sample', cols)];
  for (const { name: f } of ROWS) out.push(line(f, cols.map((c) => matrix.get(f)?.get(c) ?? '-')));
  out.push('pass = loads and every field checked; pass* = our output loads though the unedited input does not;');
  out.push('n.a. = engine refuses this layout, and refuses the unedited input the same way; FAIL = see the test; skip = not run');
  for (const n of notes) out.push(`  ${n}`);
  console.log(out.join('\n'));
});

for (const row of ROWS) {
  const { file, name } = row;
  describe(name, () => {
    let cell: Cell | undefined;
    let editError: string | undefined;

    it('copyedit edit --json reports every image changed', (t: TestContext) => {
      mark(name, 'edit', 'FAIL');
      const input = join(SAMPLES, file);
      try {
        if (!existsSync(input)) {
          const have = existsSync(SAMPLES) ? readdirSync(SAMPLES).join(' ') : '(no samples/)';
          assert.fail(`${input} is missing (have: ${have}); run samples/make-samples.sh`);
        }
        const sample = expectedSample(file);
        const output = join(work, row.outName);
        const report = cliEdit(input, output, [...row.flags, ...EDITS]);
        const sampleTraits = traitsOf(input);
        assert.equal(report.compression, sampleTraits.compression, 'report.compression (of the input)');
        assert.deepEqual(report.images.map((i) => i.oldId).sort(), sample.images.map((i) => i.imageId).sort(), 'report oldIds vs expected.json imageIds');
        for (const img of report.images) {
          assert.equal(img.changed, true, `${img.tags.join(',')}: not changed`);
          assert.notEqual(img.newId, img.oldId);
          if (!newIdsByOldId.has(img.oldId)) newIdsByOldId.set(img.oldId, new Set());
          newIdsByOldId.get(img.oldId)!.add(img.newId);
        }
        const outTraits = traitsOf(output);
        assert.equal(outTraits.hasManifestJson, sampleTraits.hasManifestJson, 'manifest.json presence changed');
        assert.equal(outTraits.hasIndex, sampleTraits.hasIndex, 'index.json/oci-layout presence changed');
        assert.equal(outTraits.compression, row.compressRef ?? 'none', 'output compression');
        let ref = input;
        if (row.compressRef) {
          ref = join(work, `${row.outName}.unedited`);
          const z = row.compressRef === 'gzip' ? 'gzip -n -c' : 'zstd -q -c';
          ok(run('bash', ['-c', `${z} ${shq(input)} > ${shq(ref)}`]), `compress the unedited input (${row.compressRef})`);
        }
        const inTraits = ref === input ? sampleTraits : traitsOf(ref);
        if (outTraits.compression !== sampleTraits.compression) notes.push(`${name}: output ${outTraits.compression}, input ${sampleTraits.compression}`);
        cell = { sample, input: ref, output, report, inTraits, outTraits, work, seq: ++seq };
        mark(name, 'edit', 'pass');
        t.diagnostic(`${report.layout}: ${report.images.map((i) => `${i.oldId.slice(7, 19)} -> ${i.newId.slice(7, 19)}`).join(', ')}`);
      } catch (e) {
        editError = (e as Error).message.split('\n').slice(0, 4).join(' / ');
        throw e;
      }
    });

    for (const spec of ENGINES) {
      it(`${spec.name}`, { timeout: 180_000 }, (t: TestContext) => {
        mark(name, spec.name, 'skip');
        const e = requireEngines(t);
        if (!e) return;
        mark(name, spec.name, 'FAIL');
        assert.ok(cell, `no edited archive to load: ${editError ?? 'the edit test did not run'}`);
        const naOut = spec.predict(cell.outTraits);
        const naIn = spec.predict(cell.inTraits);
        if (naOut === undefined) {
          spec.verify(e, cell);
          if (naIn !== undefined) {
            // our output loads though the input (differently wrapped) does not: check that claim too
            const rin = spec.attempt(e, cell.input, cell.inTraits, cell);
            assert.notEqual(rin.status, 0, `${spec.name} was expected to refuse the unedited input (${naIn.why}) but accepted it: update the rules`);
            assert.match(rin.stderr + rin.stdout, naIn.error, `${spec.name} refused the unedited input, but not for the expected reason (${naIn.why})`);
            mark(name, spec.name, 'pass*');
            t.diagnostic(`unedited input n.a.: ${naIn.why}: ${lastLine(rin)}`);
          } else mark(name, spec.name, 'pass');
          return;
        }
        const rout = spec.attempt(e, cell.output, cell.outTraits, cell);
        assert.notEqual(rout.status, 0, `${spec.name} was expected to refuse the edited output (${naOut.why}) but accepted it: update the rules in layouts.test.ts`);
        assert.match(rout.stderr + rout.stdout, naOut.error, `${spec.name} refused our output, but not for the documented reason (${naOut.why}):\n${describeRun(rout)}`);
        const rin = spec.attempt(e, cell.input, cell.inTraits, cell);
        assert.notEqual(
          rin.status,
          0,
          `${spec.name} refuses our output but ACCEPTS the unedited input: the gap is ours.\n  output: ${describeRun(rout)}\n  input: ${describeRun(rin)}`,
        );
        assert.match(rin.stderr + rin.stdout, naOut.error, `${spec.name} refused the unedited input for another reason than our output:\n${describeRun(rin)}`);
        mark(name, spec.name, 'n.a.');
        t.diagnostic(`n.a.: ${naOut.why}; output: ${lastLine(rout)}; unedited input: ${lastLine(rin)}`);
      });
    }
  });
}

describe('determinism', () => {
  it('the same input config and edits give the same new ID in every layout', () => {
    assert.ok(newIdsByOldId.size > 0, 'no edit ran');
    for (const [oldId, ids] of newIdsByOldId) {
      assert.equal(ids.size, 1, `${oldId} was edited into ${ids.size} different configs: ${[...ids].join(', ')}`);
    }
  });
});

function lastLine(r: Run): string {
  return (r.stderr || r.stdout).trim().split('\n').pop()?.slice(0, 160) ?? '';
}
