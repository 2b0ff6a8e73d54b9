/**
 * Issue 26: the patched output (`--copy auto`: a kernel copy of the input, each replaced metadata
 * entry overwritten in place by a PAX global header of its exact length, the new metadata appended)
 * loads in every engine of the suite exactly as the streamed output (`--copy stream`) of the same
 * input and edits does.
 *
 * For every uncompressed sample (samples/, samples/oci11/) and for two images this file builds
 * itself (Docker 20.10's classic builder with a leaked build argument, saved by Docker 20.10 in the
 * legacy layout and by Docker 26 in the OCI layout, edited with `--history-rm-arg` too), both
 * outputs are made by the CLI and each engine reads both, one after the other (each load removed
 * before the next): Docker 20.10, 26, 28 (classic store) and 28 (containerd store) `docker load` +
 * `docker image inspect` of every loaded name (ID, tags, Config, RootFS, platform); containerd 1.6
 * and 2.1 `ctr images import` + `images ls` (name, type, target digest, size); podman `load` +
 * `image inspect`; skopeo `inspect --raw` and `--config --raw` of every docker-archive: and
 * oci-archive: reference, and a `skopeo copy` to dir: (which checks every layer against its
 * DiffID); crane `validate --tarball`. An engine that refuses the streamed output (a documented
 * gap, see layouts.test.ts) must refuse the patched one too, and one that loads it must load the
 * patched one and show the same.
 *
 * The patched outputs are checked to be patched (the input's bytes are there with filler headers),
 * and the removed build-argument value is nowhere in the patched files.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  type AnyDocker,
  type Engines,
  type Run,
  EDITS,
  RUN_ID,
  SAMPLES,
  cliEdit,
  compressionOf,
  ctr,
  describeRun,
  docker,
  dockerRmi,
  loadedRefs,
  ok,
  podman,
  podmanRmi,
  removeDir,
  requireEngines,
  run,
  skopeo,
  tarFile,
  tarNames,
  tempDir,
} from './harness.js';

const SECRET = `patched-s3cr3t-${RUN_ID}`;
const BUILT = `copyedit-etest/patched:${RUN_ID}`;
const CRANE = ['/var/cache/copyedit-engines/clients/usr/bin/crane', '/usr/bin/crane'].find((p) => existsSync(p));

let work = '';
let used: Engines | undefined;
before(() => {
  work = tempDir('patched');
});
after(() => {
  if (used) {
    dockerRmi(used, 'docker20', [BUILT]);
    dockerRmi(used, 'docker26', [BUILT]);
  }
  if (work) removeDir(work);
});

/** An input, the two outputs made from it, and the edits. */
interface Pair {
  readonly name: string;
  readonly streamed: string;
  readonly patched: string;
}

function sampleFiles(): string[] {
  const tars = (d: string) =>
    readdirSync(join(SAMPLES, d))
      .filter((n) => n.endsWith('.tar'))
      .map((n) => (d ? `${d}/${n}` : n));
  return [...tars(''), ...tars('oci11')].filter((f) => compressionOf(join(SAMPLES, f)) === 'none').sort();
}

/** Both outputs of `input` by the CLI; asserts the same report and that the patched one is patched. */
function makePair(name: string, input: string, edits: readonly string[]): Pair {
  const base = join(work, name.replace(/\//g, '-'));
  const streamed = `${base}.streamed.tar`;
  const patched = `${base}.patched.tar`;
  const a = cliEdit(input, streamed, ['--copy', 'stream', ...edits]);
  const b = cliEdit(input, patched, ['--copy', 'auto', ...edits]);
  const ids = (r: typeof a) => r.images.map((i) => [i.oldId, i.newId, i.changed]);
  assert.deepEqual(ids(b), ids(a), `${name}: the patched edit reports other images than the streamed one`);
  const bytes = readFileSync(patched);
  const head = readFileSync(input).subarray(0, 512);
  assert.ok(bytes.includes(' comment=...'), `${name}: the output was streamed, not patched (no filler header)`);
  assert.ok(bytes.subarray(0, 512).equals(head) || bytes.subarray(0, 17).toString('latin1') === 'pax_global_header', `${name}: the patched output does not begin as the input does`);
  // GNU tar lists the same files (it skips global headers) and they hold the same bytes
  const names = tarNames(patched).sort();
  assert.deepEqual(names, tarNames(streamed).sort(), `${name}: GNU tar lists other entries`);
  for (const n of names.filter((x) => !x.endsWith('/') && !x.endsWith('layer.tar') && !x.startsWith('blobs/sha256/'))) {
    assert.equal(tarFile(patched, n), tarFile(streamed, n), `${name}: ${n} differs`);
  }
  return { name, streamed, patched };
}

// ------------------------------------------------------------------ what each engine shows

/** What an engine made of one file: refused (the status) or what it shows, as JSON text. */
type Seen = { ok: false; status: number | null; error: string } | { ok: true; shows: unknown };

function refused(r: Run): Seen {
  return { ok: false, status: r.status, error: describeRun(r) };
}

function pick(i: Record<string, unknown>): unknown {
  const tags = (i.RepoTags as string[] | null | undefined) ?? [];
  return { Id: i.Id, RepoTags: [...tags].sort(), Config: i.Config, RootFS: i.RootFS, Os: i.Os, Architecture: i.Architecture, Variant: i.Variant ?? null };
}

function viaDocker(e: Engines, which: AnyDocker, file: string): Seen {
  const r = docker(e, which, ['load', '-i', file], { timeout: 180_000 });
  const refs = r.status === 0 ? loadedRefs(r.stdout) : [];
  try {
    // Docker 28 prints "Error unpacking image ..." for an entry it cannot walk, and exits 0
    if (r.status !== 0 || /^Error /m.test(r.stdout + r.stderr)) return refused({ ...r, status: r.status || 1 });
    const shows = [...new Set(refs)].sort().map((ref) => {
      const i = ok(docker(e, which, ['image', 'inspect', ref]), `${which} inspect ${ref}`);
      return { ref, image: pick((JSON.parse(i.stdout) as Record<string, unknown>[])[0]!) };
    });
    assert.ok(shows.length > 0, `${which}: docker load printed no "Loaded image" line:\n${r.stdout}`);
    return { ok: true, shows };
  } finally {
    dockerRmi(e, which, refs);
  }
}

let nsSeq = 0;
function viaCtr(e: Engines, which: 'ctr' | 'ctr21', file: string): Seen {
  const ns = `copyedit-etest-${RUN_ID}-patched-${++nsSeq}`;
  const C = (args: readonly string[]) => ctr(e, ns, args, { which, timeout: 180_000 });
  try {
    const r = C(['images', 'import', file]); // unpacks: checks DiffIDs
    if (r.status !== 0) return refused(r);
    const ls = ok(C(['images', 'ls']), `${which} images ls`)
      .stdout.trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s+/).slice(0, 3).join(' '))
      .sort();
    return { ok: true, shows: ls };
  } finally {
    const refs = C(['images', 'ls', '-q']).stdout.split('\n').filter(Boolean);
    if (refs.length) C(['images', 'rm', '--sync', ...refs]);
    C(['namespaces', 'rm', ns]);
  }
}

function viaPodman(e: Engines, file: string): Seen {
  const r = podman(e, ['load', '-i', file], { timeout: 180_000 });
  const refs = r.status === 0 ? loadedRefs(r.stdout + r.stderr) : [];
  try {
    if (r.status !== 0) return refused(r);
    const shows = [...new Set(refs)].sort().map((ref) => {
      const i = ok(podman(e, ['image', 'inspect', ref]), `podman inspect ${ref}`);
      return { ref, image: pick((JSON.parse(i.stdout) as Record<string, unknown>[])[0]!) };
    });
    return { ok: true, shows };
  } finally {
    podmanRmi(e, refs);
  }
}

/** Every docker-archive: and oci-archive: reference of a file (one per manifest.json item / index name). */
function skopeoRefs(file: string): string[] {
  const names = new Set(tarNames(file));
  const refs: string[] = [];
  if (names.has('manifest.json')) {
    const n = (JSON.parse(tarFile(file, 'manifest.json')) as unknown[]).length;
    refs.push(...(n <= 1 ? [`docker-archive:${file}`] : Array.from({ length: n }, (_, i) => `docker-archive:${file}:@${i}`)));
  }
  if (names.has('index.json')) {
    const ms = (JSON.parse(tarFile(file, 'index.json')) as { manifests: { annotations?: Record<string, string> }[] }).manifests;
    const named = [...new Set(ms.map((m) => m.annotations?.['org.opencontainers.image.ref.name']).filter((x): x is string => !!x))];
    refs.push(...(ms.length <= 1 ? [`oci-archive:${file}`] : named.map((n) => `oci-archive:${file}:${n}`)));
  }
  return refs;
}

function viaSkopeo(e: Engines, file: string): Seen {
  const shows: unknown[] = [];
  for (const ref of skopeoRefs(file)) {
    const kind = ref.slice(0, ref.indexOf(':'));
    const at = ref.slice(ref.indexOf(file) + file.length);
    const raw = skopeo(e, ['inspect', '--raw', ref]);
    const cfg = skopeo(e, ['inspect', '--config', '--raw', ref]);
    let copied: number | null = null;
    if (raw.status === 0 && cfg.status === 0) {
      const dir = join(work, `skopeo-${++nsSeq}`);
      copied = skopeo(e, ['copy', '-q', ref, `dir:${dir}`], { timeout: 180_000 }).status; // reads every layer against its DiffID
      removeDir(dir);
    }
    shows.push({ kind, at, raw: raw.status === 0 ? raw.stdout : `refused (${raw.status})`, config: cfg.status === 0 ? cfg.stdout : `refused (${cfg.status})`, copied });
  }
  return shows.length ? { ok: true, shows } : { ok: false, status: null, error: 'no docker-archive: or oci-archive: reference' };
}

function viaCrane(file: string): Seen {
  const r = run(CRANE!, ['validate', '--tarball', file], { timeout: 180_000 });
  return r.status === 0 ? { ok: true, shows: r.stdout.replaceAll(file, 'FILE') } : refused(r);
}

interface Reader {
  readonly name: string;
  read(e: Engines, file: string): Seen;
}
const READERS: readonly Reader[] = [
  ...(['docker20', 'docker26', 'docker28', 'docker28c'] as const).map((w) => ({ name: w, read: (e: Engines, f: string) => viaDocker(e, w, f) })),
  { name: 'ctr 1.6', read: (e, f) => viaCtr(e, 'ctr', f) },
  { name: 'ctr 2.1', read: (e, f) => viaCtr(e, 'ctr21', f) },
  { name: 'podman', read: viaPodman },
  { name: 'skopeo', read: viaSkopeo },
  ...(CRANE ? [{ name: 'crane validate', read: (_e: Engines, f: string) => viaCrane(f) }] : []),
];

/** Per reader, how many pairs it loaded (the suite must load some in each, or it proves nothing). */
const loaded = new Map<string, number>();

function compare(t: TestContext, e: Engines, pair: Pair): void {
  for (const reader of READERS) {
    const s = reader.read(e, pair.streamed);
    const p = reader.read(e, pair.patched);
    if (!s.ok) {
      assert.ok(!p.ok, `${pair.name}, ${reader.name}: the patched output loads where the streamed one is refused:\n${s.error}`);
      t.diagnostic(`${reader.name}: refuses both (${s.error.split('\n').pop()?.trim().slice(0, 120)})`);
      continue;
    }
    assert.ok(p.ok, `${pair.name}, ${reader.name}: the streamed output loads, the patched one is refused:\n${p.ok ? '' : p.error}`);
    const norm = (x: unknown) => JSON.parse(JSON.stringify(x).replaceAll(pair.streamed, 'OUT').replaceAll(pair.patched, 'OUT')) as unknown;
    assert.deepEqual(norm(p.shows), norm(s.shows), `${pair.name}, ${reader.name}: the patched output reads differently`);
    loaded.set(reader.name, (loaded.get(reader.name) ?? 0) + 1);
  }
}

describe('a patched output loads in every engine as the streamed one does', () => {
  for (const file of sampleFiles()) {
    it(file, { timeout: 600_000 }, (t) => {
      const e = requireEngines(t);
      if (!e) return;
      used = e;
      compare(t, e, makePair(file, join(SAMPLES, file), EDITS));
    });
  }

  it('an image built here with a leaked build argument, saved by Docker 20.10 and Docker 26, edited with --history-rm-arg', { timeout: 600_000 }, (t) => {
    const e = requireEngines(t);
    if (!e) return;
    used = e;
    const ctx = join(work, 'ctx');
    ok(run('mkdir', ['-p', ctx]));
    copyFileSync('/bin/busybox', join(ctx, 'busybox'));
    writeFileSync(
      join(ctx, 'Dockerfile'),
      ['FROM scratch', 'COPY busybox /bin/busybox', 'ARG TOKEN', 'RUN ["/bin/busybox","true"]', 'VOLUME /data', 'EXPOSE 8080', 'CMD ["/bin/busybox","true"]', ''].join('\n'),
    );
    const env = { ...process.env, DOCKER_BUILDKIT: '0' };
    ok(docker(e, 'docker20', ['build', '-q', '--build-arg', `TOKEN=${SECRET}`, '-t', BUILT, ctx], { env, timeout: 240_000 }), 'docker build');
    const legacy = join(work, 'built-docker20.tar');
    const oci = join(work, 'built-docker26.tar');
    ok(docker(e, 'docker20', ['save', '-o', legacy, BUILT]), 'docker 20.10 save');
    ok(docker(e, 'docker26', ['load', '-i', legacy]), 'docker 26 load');
    ok(docker(e, 'docker26', ['save', '-o', oci, BUILT]), 'docker 26 save');
    for (const input of [legacy, oci]) {
      assert.ok(readFileSync(input).includes(SECRET), 'the build argument is in the saved archive to begin with');
      const pair = makePair(input.slice(work.length + 1), input, ['--history-rm-arg', 'TOKEN', ...EDITS]);
      assert.equal(readFileSync(pair.patched).indexOf(SECRET), -1, `${pair.name}: the removed value is still somewhere in the patched file`);
      compare(t, e, pair);
    }
  });

  it('every engine loaded some patched outputs', (t) => {
    if (!getUsed(t)) return;
    for (const r of READERS) assert.ok((loaded.get(r.name) ?? 0) > 0, `${r.name} loaded no output at all: the comparison proves nothing`);
  });
});

function getUsed(t: TestContext): Engines | undefined {
  const e = requireEngines(t);
  return e;
}
