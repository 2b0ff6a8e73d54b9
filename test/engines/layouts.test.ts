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
 *
 * What is loaded is read from the OUTPUT archive itself (test/engines/graph.ts): manifest.json items
 * for the classic stores, podman and skopeo docker-archive:, index.json names -> index -> every
 * platform manifest present for Docker 28's containerd store and ctr (1.6, 2.1); the CLI report only
 * pairs new config IDs with old ones, whatever its shape. Rows of INDEX_FILES (issue 12) also check
 * the index rules on the archives: every platform edited, artifacts untouched, referrers re-pointed,
 * signatures and attestations of an edited manifest dropped with their blobs.
 */
import { type ExpectedImage, type ExpectedSample, loadExpected } from '../samples.js';
import { SIGNATURE_TYPES, idPairs, platformOf, readGraph } from './graph.js';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  type CliReport,
  type Compression,
  type AnyDocker,
  type Engines,
  type InspectedImage,
  type Run,
  RUN_ID,
  SAMPLES,
  cliEdit,
  compressionOf,
  ctr,
  ctr21,
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
  EDITS,
  NEW_ENTRYPOINT,
} from './harness.js';

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
/** Samples of the index graph (issue 12): multi-platform, attestations, OCI 1.1, foreign layers. */
const INDEX_FILES = [
  'docker28c-multi.tar',
  'docker28c-amd64.tar',
  'docker28-classic.tar',
  'containerd21-export.tar',
  'oci11/oci11-artifact.tar',
  'oci11/oci11-referrers.tar',
  'oci11/oci11-artifact-manifest.tar',
  'oci11/windows-foreign.tar',
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
  ...[...SAMPLE_FILES, ...INDEX_FILES].map((f) => ({ name: f, file: f, outName: `${f.replace('/', '-')}.edited.tar`, flags: [] })),
  { name: 'docker20-legacy.tar -o .tar.gz', file: 'docker20-legacy.tar', outName: 'docker20-legacy.edited.tar.gz', flags: [], compressRef: 'gzip' },
  { name: 'docker26-oci.tar --zstd', file: 'docker26-oci.tar', outName: 'docker26-oci.edited.tar.zst', flags: ['--zstd'], compressRef: 'zstd' },
];

// ------------------------------------------------------------------ expected.json

const expected = loadExpected({ includePending: true });

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
  /** a config in the archive says os windows */
  readonly windows: boolean;
  /** a manifest of the withdrawn application/vnd.oci.artifact.manifest.v1+json type */
  readonly artifactManifestType: boolean;
  /** a NAMED index.json entry is an artifact (empty/non-image config or artifactType) */
  readonly namedArtifact: boolean;
}

function traitsOf(path: string): Traits {
  const compression = compressionOf(path);
  const names = new Set(tarNames(path));
  const hasManifestJson = names.has('manifest.json');
  const hasIndex = names.has('index.json') && names.has('oci-layout');
  const g = readGraph(path);
  try {
    const osOf = (file: string) => {
      try {
        return (JSON.parse(readFileSync(join(g.dir, file), 'utf8')) as { os?: string }).os;
      } catch {
        return undefined;
      }
    };
    const windows = (g.manifestJson ?? []).some((i) => osOf(i.Config) === 'windows') || g.images().some((m) => g.config(m.configDigest!)?.os === 'windows');
    return {
      compression,
      hasManifestJson,
      hasIndex,
      ...(hasIndex ? { index: JSON.parse(tarFile(path, 'index.json')) } : {}),
      ...(hasManifestJson ? { manifestJson: JSON.parse(tarFile(path, 'manifest.json')) } : {}),
      windows,
      artifactManifestType: g.allManifests().some((m) => m.mediaType === 'application/vnd.oci.artifact.manifest.v1+json'),
      namedArtifact: g.names.some((n) => n.name && n.manifests.some((m) => m.artifact && !m.attests && !m.subject)),
    };
  } finally {
    g.dispose();
  }
}

const OCI_TYPES = new Set(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json', 'application/vnd.oci.artifact.manifest.v1+json']);

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
  /** the report's {oldId,newId} pairs, newId -> oldId */
  readonly pairs: Map<string, string>;
  /** every new config ID the report names */
  readonly newIds: Set<string>;
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

/**
 * The input image a new config came from: the report's {oldId,newId} pair wherever the report
 * has it, else the one expected image of the same os/architecture.
 */
function wantForNew(c: Cell, newId: string, cfg?: Record<string, unknown>): ExpectedImage {
  const old = c.pairs.get(newId);
  if (old) return wantFor(c, old);
  const plat = platformOf(cfg);
  const same = c.sample.images.filter((i) => `${i.os}/${i.architecture}` === plat);
  assert.equal(same.length, 1, `${newId} (${plat}): the report pairs it with no old ID and expected.json has ${same.length} images of that platform`);
  return same[0]!;
}

/** Config digests of the output's manifest.json items, with their RepoTags. */
function manifestJsonImages(c: Cell): { id: string; tags: string[] }[] {
  return (c.outTraits.manifestJson ?? []).map((i) => ({
    id: `sha256:${i.Config.replace(/^blobs\/sha256\//, '').replace(/\.json$/, '')}`,
    tags: i.RepoTags ?? [],
  }));
}

const DOCKER_LABEL: Record<AnyDocker, string> = { docker20: 'docker 20.10', docker26: 'docker 26', docker28: 'docker 28 (classic store)', docker28c: 'docker 28 (containerd store)' };
const WINDOWS = na('a windows image: a Linux daemon refuses it', /cannot load windows image on linux/);

/** Docker with the classic image store: reads manifest.json (and repositories) only. */
function dockerSpec(which: 'docker20' | 'docker26' | 'docker28'): EngineSpec {
  const label = DOCKER_LABEL[which];
  return {
    name: which,
    predict(t) {
      if (!t.hasManifestJson) return na('no manifest.json: the classic image store reads nothing else', /manifest\.json|repositories/);
      if (which === 'docker20' && t.compression === 'zstd') return na('Docker 20.10 cannot decompress zstd', /invalid tar header/);
      if (t.windows) return WINDOWS;
      return undefined;
    },
    attempt(e, file) {
      const r = docker(e, which, ['load', '-i', file]);
      if (r.status === 0) dockerRmi(e, which, loadedRefs(r.stdout));
      return r;
    },
    verify(e, c) {
      // what the classic store loads: manifest.json's items, each config with its RepoTags
      const items = manifestJsonImages(c);
      assert.ok(items.length > 0, 'the output has no manifest.json item');
      const ids = items.map((i) => i.id);
      dockerRmi(e, which, ids); // a clean store: the load then verifies every DiffID
      const r = ok(docker(e, which, ['load', '-i', c.output]), `${label} load`);
      try {
        const refs = loadedRefs(r.stdout);
        assert.ok(refs.length > 0, `${label} load printed no "Loaded image" line:\n${r.stdout}`);
        for (const ref of refs) {
          const i = dockerInspect(e, which, ref);
          assert.ok(i, `${label}: cannot inspect loaded ${ref}`);
          assert.ok(ids.includes(i.Id), `${label}: loaded ${ref} is ${i.Id}, not one of the output's configs ${ids.join(', ')}`);
        }
        for (const item of items) {
          assert.ok(c.newIds.has(item.id), `${label}: manifest.json names config ${item.id}, which the CLI report does not list as a new ID (an unedited image?)`);
          for (const tag of item.tags) {
            const i = dockerInspect(e, which, tag);
            assert.ok(i, `${label}: tag ${tag} was not loaded`);
            assert.equal(i.Id, item.id, `${label}: tag ${tag} points at ${i.Id}, not at the new ID`);
          }
          const i = dockerInspect(e, which, item.id);
          assert.ok(i, `${label}: image ${item.id} not found after load`);
          const want = wantForNew(c, item.id, { os: i.Os, architecture: i.Architecture });
          assertEdited(fromInspect(i), want, item.id, `${label} inspect ${item.tags[0] ?? item.id}`);
          assert.equal(dockerInspect(e, which, want.imageId), undefined, `${label}: the OLD image ${want.imageId} was loaded too`);
        }
      } finally {
        dockerRmi(e, which, ids);
      }
    },
  };
}

/**
 * Docker 28 with the containerd image store: loads index.json (names -> index or manifest). Its
 * `image inspect` Id is the name's target digest (index or manifest), so the configs are read
 * from its containerd (namespace moby) with ctr 2.1, and each platform through
 * `docker image inspect --platform`.
 */
const docker28cSpec: EngineSpec = {
  name: 'docker28c',
  predict(t) {
    if (!t.hasIndex && !t.hasManifestJson) return na('neither index.json nor manifest.json', /./);
    if (t.artifactManifestType) return na('containerd image store: an application/vnd.oci.artifact.manifest.v1+json entry fails the unpack walk', /descriptor is neither a manifest or index/);
    return undefined;
  },
  attempt(e, file) {
    const r = docker(e, 'docker28c', ['load', '-i', file]);
    if (r.status === 0) dockerRmi(e, 'docker28c', loadedRefs(r.stdout));
    // Docker 28 prints "Error unpacking image ..." for an entry it cannot walk, and exits 0
    return r.status === 0 && /^Error /m.test(r.stdout + r.stderr) ? { ...r, status: 1 } : r;
  },
  verify(e, c) {
    const label = DOCKER_LABEL.docker28c;
    const g = readGraph(c.output);
    const named = g.names.filter((n) => n.name);
    const refsToRemove = new Set<string>(named.map((n) => n.name));
    try {
      for (const n of named) dockerRmi(e, 'docker28c', [n.name]);
      const r = ok(docker(e, 'docker28c', ['load', '-i', c.output]), `${label} load`);
      for (const ref of loadedRefs(r.stdout)) refsToRemove.add(ref);
      if (named.length === 0) {
        // no index.json (docker legacy / docker-archive layouts): the store loads manifest.json and
        // makes its own manifest; the config it points at is read from containerd
        const items = manifestJsonImages(c);
        assert.ok(items.length > 0, 'the output has neither index.json names nor manifest.json items');
        for (const item of items) {
          assert.ok(c.newIds.has(item.id), `${label}: manifest.json names config ${item.id}, which the report does not list as new`);
          for (const tag of item.tags) {
            refsToRemove.add(tag);
            const i = dockerInspect(e, 'docker28c', tag);
            assert.ok(i, `${label}: tag ${tag} was not loaded`);
            const target = ok(ctr21(e, 'moby', ['images', 'ls', `name==${normalizeRef(tag)}`]), 'ctr 2.1 images ls')
              .stdout.trim()
              .split('\n')[1]
              ?.split(/\s+/)[2];
            assert.ok(target, `${label}: containerd has no image ${normalizeRef(tag)}`);
            const man = JSON.parse(ok(ctr21(e, 'moby', ['content', 'get', target])).stdout) as { config?: { digest: string } };
            assert.equal(man.config?.digest, item.id, `${label}: ${tag} points at config ${man.config?.digest}, not the new ${item.id}`);
            const want = wantForNew(c, item.id, { os: i.Os, architecture: i.Architecture });
            assertEdited({ ...fromInspect(i), id: item.id }, want, item.id, `${label} inspect ${tag}`);
          }
        }
        return;
      }
      for (const n of named) {
        // the name is loaded as the output's target: the new index or manifest
        const i = dockerInspect(e, 'docker28c', n.name);
        assert.ok(i, `${label}: ${n.name} was not loaded`);
        assert.equal(i.Id, n.top.digest, `${label}: ${n.name} is ${i.Id}, not the output's ${n.top.digest}`);
        const images = n.manifests.filter((m) => m.present && !m.artifact && !m.attests && m.configDigest);
        if (n.manifests.every((m) => m.artifact)) continue; // an artifact name: loaded as is, nothing to edit
        assert.ok(images.length > 0, `${n.name}: no image manifest present in the output`);
        for (const m of images) {
          const cfg = g.config(m.configDigest!);
          const plat = platformOf(cfg);
          // the config containerd holds for that manifest
          const raw = ok(ctr21(e, 'moby', ['content', 'get', m.configDigest!]), `ctr 2.1 -n moby content get ${m.configDigest}`).stdout;
          const want = wantForNew(c, m.configDigest!, cfg);
          assert.ok(c.newIds.has(m.configDigest!), `${n.name} ${plat}: config ${m.configDigest} is not one of the report's new IDs (platform left unedited?)`);
          assertEdited(fromConfig(raw), want, m.configDigest!, `${label} ${n.name} ${plat} (containerd content)`);
          // and as docker shows it (a Linux daemon shows no config for a windows image: Os "")
          if (cfg?.os !== 'linux') continue;
          const pi = n.index ? dockerInspect(e, 'docker28c', n.name, plat) : i;
          assert.ok(pi, `${label}: docker image inspect --platform ${plat} ${n.name} failed`);
          const seen = fromInspect(pi);
          assertEdited({ ...seen, id: m.configDigest! }, want, m.configDigest!, `${label} inspect --platform ${plat} ${n.name}`);
        }
      }
    } finally {
      dockerRmi(e, 'docker28c', refsToRemove);
      g.dispose();
    }
  },
};

/** ctr images import (1.6 = Docker 20.10's managed containerd, 2.1 = Docker 28's). */
function ctrSpec(which: 'ctr' | 'ctr21'): EngineSpec {
  const label = which === 'ctr' ? 'ctr 1.6' : 'ctr 2.1';
  const C = (e: Engines, ns: string, args: readonly string[]) => ctr(e, ns, args, { which });
  return {
    name: which,
    predict(t) {
      if (which === 'ctr' && t.compression !== 'none') return na(`ctr 1.6 import takes no outer compression (${t.compression})`, /invalid tar header/);
      if (which === 'ctr21' && (t.compression === 'xz' || t.compression === 'bzip2')) return na(`ctr 2.1 import undoes gzip and zstd only (${t.compression})`, /invalid tar header/);
      if (!t.hasIndex && !t.hasManifestJson) return na('neither index.json nor manifest.json', /./);
      if (t.windows) return na("the windows image's foreign layer is absent: the unpack needs it", /failed to extract layer.*not found/s);
      if (which === 'ctr' && t.namedArtifact) return na('ctr 1.6 unpacks a named artifact as an image and fails', /mismatched image rootfs and manifest layers/);
      return undefined;
    },
    attempt(e, file, _t, c) {
      const ns = `copyedit-etest-${RUN_ID}-${c.seq}-${which}-try`;
      const r = C(e, ns, ['images', 'import', file]);
      cleanupNs(e, which, ns);
      return r;
    },
    verify(e, c) {
      const ns = `copyedit-etest-${RUN_ID}-${c.seq}-${which}`;
      const g = readGraph(c.output);
      try {
        ok(C(e, ns, ['images', 'import', c.output]), `${label} images import`); // unpacks: checks DiffIDs
        const ls = ok(C(e, ns, ['images', 'ls']), `${label} images ls`)
          .stdout.trim()
          .split('\n')
          .slice(1);
        const targets = new Map(ls.map((l) => l.split(/\s+/)).map((f) => [f[0]!, f[2]!] as const));
        assert.ok(targets.size > 0, `${label} images import created no image`);
        let checked = 0;
        for (const n of g.names.filter((x) => x.name)) {
          const ref = normalizeRef(n.name.replace(/^docker\.io\//, ''));
          const target = targets.get(ref);
          assert.ok(target, `${label}: no image ${ref} after import (have: ${[...targets.keys()].join(', ')})`);
          assert.equal(target, n.top.digest, `${label}: ${ref} points at ${target}, not the output's ${n.top.digest}`);
          for (const m of n.manifests.filter((x) => x.present && !x.artifact && !x.attests && x.configDigest)) {
            // every platform present that this containerd took in: its config as containerd holds it
            // (ctr 1.6 imports the content of this machine's platform only: linux/amd64)
            const got = C(e, ns, ['content', 'get', m.configDigest!]);
            if (got.status !== 0 && /not found/.test(got.stderr) && m.platform && m.platform.architecture !== 'amd64') continue;
            const raw = ok(got, `${label} content get ${m.configDigest}`).stdout;
            const cfg = JSON.parse(raw) as Record<string, unknown>;
            const want = wantForNew(c, m.configDigest!, cfg);
            assert.ok(c.newIds.has(m.configDigest!), `${label} ${ref} ${platformOf(cfg)}: config ${m.configDigest} is not one of the report's new IDs`);
            assertEdited(fromConfig(raw), want, m.configDigest!, `${label} content ${ref} ${platformOf(cfg)}`);
            if (want.layerDigests)
              assert.deepEqual(
                m.layers.map((l) => l.digest),
                want.layerDigests,
                `${label}: ${ref} layer blobs changed`,
              );
            checked++;
          }
        }
        if (g.names.length === 0) {
          // manifest.json only (docker legacy layouts): ctr names the images by RepoTags
          for (const item of manifestJsonImages(c)) {
            const raw = ok(C(e, ns, ['content', 'get', item.id]), `${label} content get config`).stdout;
            assertEdited(fromConfig(raw), wantForNew(c, item.id, JSON.parse(raw)), item.id, `${label} content ${item.tags[0] ?? item.id}`);
            for (const tag of item.tags) assert.ok(targets.has(normalizeRef(tag)), `${label}: ${tag} not imported`);
            checked++;
          }
        }
        assert.ok(checked > 0, `${label}: no image config checked`);
      } finally {
        cleanupNs(e, which, ns);
        g.dispose();
      }
    },
  };
}

function cleanupNs(e: Engines, which: 'ctr' | 'ctr21', ns: string): void {
  const refs = ctr(e, ns, ['images', 'ls', '-q'], { which }).stdout.split('\n').filter(Boolean);
  if (refs.length) ctr(e, ns, ['images', 'rm', '--sync', ...refs], { which });
  run0(() => ctr(e, ns, ['namespaces', 'rm', ns], { which }));
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
    if (t.windows) return na('the foreign layer is absent: podman tries its urls (a loopback address here) and fails', /failed fetching external blob|Some layer tarfiles are missing/);
    return undefined;
  },
  attempt(e, file) {
    const r = podman(e, ['load', '-i', file]);
    if (r.status === 0) podmanRmi(e, loadedRefs(r.stdout));
    return r;
  },
  verify(e, c) {
    // podman load reads manifest.json (docker-archive) when there is one, else the OCI index
    const items = c.outTraits.hasManifestJson ? manifestJsonImages(c) : [...c.newIds].map((id) => ({ id, tags: [] as string[] }));
    const newIds = items.map((i) => i.id);
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
      for (const img of items) {
        assert.ok(c.newIds.has(img.id), `podman: the output names config ${img.id}, which the report does not list as new`);
        const i = podmanInspect(e, hex(img.id));
        assert.ok(i, `podman: image ${img.id} not found after load (loaded: ${refs.join(', ')})`);
        const want = wantForNew(c, img.id, { os: i.Os, architecture: i.Architecture });
        assertEdited(fromInspect(i), want, img.id, `podman inspect ${img.tags[0] ?? img.id}`);
        if (img.tags.length) {
          const names = refs.filter((ref) => podmanInspect(e, ref)?.Id === i.Id);
          assert.ok(names.length > 0, `podman: no loaded name points at ${img.id} (${img.tags.join(', ')})`);
        }
        assert.equal(podmanInspect(e, hex(want.imageId)), undefined, `podman: the OLD image ${want.imageId} was loaded too`);
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
    if (t.windows) return na('docker-archive: the absent foreign layer', /Some layer tarfiles are missing/);
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
      assert.ok(c.newIds.has(s.id), `skopeo ${ref}: config ${s.id} is not one of the new IDs ${[...c.newIds].join(', ')}`);
      const img = { newId: s.id };
      seen.add(img.newId);
      assertEdited(s, wantForNew(c, s.id, JSON.parse(raw)), img.newId, `skopeo inspect ${ref}`);
      const manifest = JSON.parse(ok(skopeo(e, ['inspect', '--raw', ref]), 'skopeo inspect --raw').stdout) as { config: { digest: string } };
      assert.equal(manifest.config.digest, img.newId, `skopeo ${ref}: manifest config digest`);
      // a copy reads every layer and checks it against its DiffID
      const dir = join(c.work, `skopeo-dir-${n}`);
      ok(skopeo(e, ['copy', '-q', ref, `dir:${dir}`]), 'skopeo copy (verifies DiffIDs)');
      assert.ok(existsSync(join(dir, img.newId.slice('sha256:'.length))), `skopeo copy: no config blob ${img.newId} in dir:`);
      removeDir(dir);
    });
    assert.equal(seen.size, manifestJsonImages(c).length, 'skopeo: not every manifest.json image is reachable');
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
      if (!(JSON.parse(raw) as { rootfs?: unknown }).rootfs) continue; // an artifact's config: never edited
      const s = fromConfig(raw);
      assert.ok(c.newIds.has(s.id), `skopeo ${ref}: config ${s.id} is not one of the new IDs ${[...c.newIds].join(', ')} (index.json not re-pointed?)`);
      assertEdited(s, wantForNew(c, s.id, JSON.parse(raw)), s.id, `skopeo inspect ${ref}`);
    }
  },
};

const ENGINES: readonly EngineSpec[] = [dockerSpec('docker20'), dockerSpec('docker26'), dockerSpec('docker28'), docker28cSpec, ctrSpec('ctr'), ctrSpec('ctr21'), podmanSpec, skopeoSpec, skopeoOciSpec];

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
  for (const { name: f } of ROWS)
    out.push(
      line(
        f,
        cols.map((c) => matrix.get(f)?.get(c) ?? '-'),
      ),
    );
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
        const pairs = idPairs(report);
        if (!INDEX_FILES.includes(file)) {
          assert.deepEqual(report.images.map((i) => i.oldId).sort(), sample.images.map((i) => i.imageId).sort(), 'report oldIds vs expected.json imageIds');
        }
        for (const [newId, oldId] of pairs) {
          if (!newIdsByOldId.has(oldId)) newIdsByOldId.set(oldId, new Set());
          newIdsByOldId.get(oldId)!.add(newId);
        }
        // (index rows: the report may also list artifacts, unchanged; the index rules test checks those)
        for (const img of report.images.filter((i) => !INDEX_FILES.includes(file) || sample.images.some((x) => x.imageId === i.oldId))) {
          assert.equal(img.changed, true, `${img.tags.join(',')}: not changed`);
          assert.notEqual(img.newId, img.oldId);
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
        cell = { sample, input: ref, output, report, inTraits, outTraits, work, seq: ++seq, pairs, newIds: new Set(pairs.keys()) };
        mark(name, 'edit', 'pass');
        t.diagnostic(`${report.layout}: ${report.images.map((i) => `${i.oldId.slice(7, 19)} -> ${i.newId.slice(7, 19)}`).join(', ')}`);
      } catch (e) {
        editError = (e as Error).message.split('\n').slice(0, 4).join(' / ');
        throw e;
      }
    });

    if (INDEX_FILES.includes(file)) {
      it('the output follows the index rules (issue 12)', () => {
        assert.ok(cell, `no edited archive: ${editError ?? 'the edit test did not run'}`);
        const { pairs, sample } = cell;
        // whatever the report's shape, every image config (every platform) was edited, and nothing else
        assert.deepEqual(
          [...new Set(pairs.values())].filter((id) => sample.images.some((i) => i.imageId === id)).sort(),
          sample.images.map((i) => i.imageId).sort(),
          'not every platform/image config of the input was edited',
        );
        const g = readGraph(cell.input);
        try {
          const artifactIds = new Set(
            g
              .allManifests()
              .filter((m) => m.artifact)
              .flatMap((m) => [m.digest, ...(m.configDigest ? [m.configDigest] : [])]),
          );
          const edited = [...pairs.entries()].filter(([n, o]) => n !== o && artifactIds.has(o));
          assert.deepEqual(edited, [], 'the report says artifacts (or their configs) were edited: an artifact is never edited');
        } finally {
          g.dispose();
        }
        checkIndexRules(cell.input, cell.output);
      });
    }

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
        assert.notEqual(rin.status, 0, `${spec.name} refuses our output but ACCEPTS the unedited input: the gap is ours.\n  output: ${describeRun(rout)}\n  input: ${describeRun(rin)}`);
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

/**
 * What issue 12 asks of an edited index, checked on the archives themselves: artifacts pass through
 * untouched; a non-signature referrer of an edited manifest names the new manifest; a signature
 * referrer of an edited manifest is dropped; an attestation of an edited manifest is dropped with
 * its blobs; no index entry names an edited manifest's OLD digest.
 */
function checkIndexRules(input: string, output: string): void {
  const gi = readGraph(input);
  const go = readGraph(output);
  try {
    const outDigests = new Set(go.allManifests().map((m) => m.digest));
    const outPresent = new Set(
      go
        .allManifests()
        .filter((m) => m.present)
        .map((m) => m.digest),
    );
    const edited = gi
      .images()
      .filter((m) => !outPresent.has(m.digest))
      .map((m) => m.digest);
    for (const m of gi.allManifests()) {
      if (m.artifact && !m.subject && m.present)
        assert.ok(outPresent.has(m.digest), `artifact ${m.digest} (${m.artifactType ?? m.mediaType}) was changed or dropped; artifacts pass through untouched`);
      if (m.subject && edited.includes(m.subject)) {
        const sig = SIGNATURE_TYPES.has(m.artifactType ?? '');
        const now = go.allManifests().filter((x) => x.artifactType === m.artifactType && x.present);
        if (sig)
          assert.deepEqual(
            now.map((x) => x.digest),
            [],
            `signature referrer ${m.digest} of the edited ${m.subject} is still in the output (a signature cannot be true for the new image)`,
          );
        else {
          assert.equal(now.length, 1, `referrer ${m.digest} (${m.artifactType}) of the edited ${m.subject}: ${now.length} such referrers in the output, want 1`);
          assert.ok(
            now[0]!.subject && now[0]!.subject !== m.subject && go.images().some((x) => x.digest === now[0]!.subject),
            `referrer ${m.artifactType} still names the OLD manifest ${m.subject}, or one not in the output`,
          );
        }
      }
      if (m.attests && edited.includes(m.attests)) {
        assert.ok(!outDigests.has(m.digest), `attestation ${m.digest} of the edited manifest ${m.attests} is still in the output index`);
        assert.equal(go.blob(m.digest), undefined, `attestation manifest blob ${m.digest} is still in the output`);
        for (const l of gi.allManifests().find((x) => x.digest === m.digest)?.layers ?? []) {
          assert.equal(go.blob(l.digest), undefined, `in-toto blob ${l.digest} of a dropped attestation is still in the output`);
        }
      }
    }
    for (const d of edited) assert.ok(!outDigests.has(d), `the output index still names the edited manifest's old digest ${d}`);
  } finally {
    gi.dispose();
    go.dispose();
  }
}

function lastLine(r: Run): string {
  return (r.stderr || r.stdout).trim().split('\n').pop()?.slice(0, 160) ?? '';
}
