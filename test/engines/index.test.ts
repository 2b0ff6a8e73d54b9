/**
 * Issue 12 against the real engines: a multi-platform index is ONE image.
 *
 *  case 5  `--tag T --keep-original` with T one of the image's own tags: after the load T is the
 *          EDITED image (Docker 28 containerd store, podman 4.3); the original keeps its other tags.
 *  case 6  the BuildKit two-platform save of Docker 28 (containerd store): `--tag T` works and both
 *          platforms are edited (both configs checked); `--only-platform linux/amd64` loads and
 *          RUNS on both Docker 28 stores; `--platform linux/arm64` edits arm64 only.
 *  --drop-absent: an index whose other platforms are absent is trimmed so that
 *          `ctr images import --all-platforms` (1.6 and 2.1) accepts it (the unedited input is refused).
 *
 * Every check reads the engine itself: containerd's content (ctr 2.1, namespace moby) for the
 * configs Docker 28 holds, `docker image inspect [--platform]`, `docker run`, podman inspect.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { loadExpected } from '../samples.js';
import { readGraph } from './graph.js';
import {
  type AnyDocker,
  type Engines,
  RUN_ID,
  SAMPLES,
  cli,
  ctr,
  ctr21,
  describeRun,
  docker,
  dockerInspect,
  dockerRmi,
  ok,
  podman,
  podmanInspect,
  podmanRmi,
  removeDir,
  requireEngines,
  tempDir,
  EDITS,
  NEW_ENTRYPOINT,
} from './harness.js';

const MULTI = join(SAMPLES, 'docker28c-multi.tar');

let work = '';
before(() => {
  work = tempDir('index');
});
after(() => {
  if (work) removeDir(work);
});

function edit(input: string, out: string, flags: readonly string[]): void {
  ok(cli(['edit', input, '-o', join(work, out), ...flags, ...EDITS]), `copyedit edit ${flags.join(' ')}`);
}

/** The config digest of each platform of NAME in Docker 28's containerd (namespace moby). */
function d28cConfigs(e: Engines, name: string): Map<string, string> {
  const full = name.includes('/') && !name.startsWith('docker.io/') && !/^[^/]*[.:]/.test(name) ? `docker.io/${name}` : name;
  const line = ok(ctr21(e, 'moby', ['images', 'ls', `name==${full}`]), 'ctr 2.1 images ls')
    .stdout.trim()
    .split('\n')[1];
  assert.ok(line, `containerd (moby) has no image ${full}`);
  const target = line.split(/\s+/)[2]!;
  const doc = JSON.parse(ok(ctr21(e, 'moby', ['content', 'get', target])).stdout) as {
    manifests?: { digest: string; platform?: { os: string; architecture: string } }[];
    config?: { digest: string };
  };
  const out = new Map<string, string>();
  if (doc.config) out.set('single', doc.config.digest);
  for (const m of doc.manifests ?? []) {
    if (!m.platform || m.platform.os === 'unknown') continue;
    const got = ctr21(e, 'moby', ['content', 'get', m.digest]);
    if (got.status !== 0) continue; // absent platform
    out.set(`${m.platform.os}/${m.platform.architecture}`, (JSON.parse(got.stdout) as { config: { digest: string } }).config.digest);
  }
  return out;
}

function configOf(e: Engines, digest: string): { Entrypoint?: string[]; Volumes?: object | null; ExposedPorts?: object | null; Cmd?: string[] } {
  return (JSON.parse(ok(ctr21(e, 'moby', ['content', 'get', digest])).stdout) as { config: Record<string, never> }).config;
}

function assertEditedConfig(c: ReturnType<typeof configOf>, where: string): void {
  assert.deepEqual(c.Entrypoint, NEW_ENTRYPOINT, `${where}: Entrypoint not edited`);
  assert.deepEqual(Object.keys(c.Volumes ?? {}), [], `${where}: volumes left`);
  assert.deepEqual(Object.keys(c.ExposedPorts ?? {}), [], `${where}: ports left`);
  assert.deepEqual(c.Cmd, ['--serve'], `${where}: Cmd changed`);
}

function load(e: Engines, which: AnyDocker, file: string, extra: string[] = []): void {
  ok(docker(e, which, ['load', ...extra, '-i', join(work, file)]), `docker ${which} load ${file}`);
}

function engines(t: TestContext): Engines | undefined {
  return requireEngines(t);
}

/** No archive carries one name on two images: index.json names and manifest.json RepoTags are unique. */
function assertUniqueNames(file: string): void {
  const g = readGraph(join(work, file));
  try {
    const names = g.names.filter((n) => n.name).map((n) => `${n.name} -> ${n.top.digest}`);
    const byName = new Map<string, Set<string>>();
    for (const n of g.names.filter((x) => x.name)) {
      if (!byName.has(n.name)) byName.set(n.name, new Set());
      byName.get(n.name)!.add(n.top.digest);
    }
    for (const [name, ds] of byName) assert.equal(ds.size, 1, `index.json names ${name} on ${ds.size} different images: ${names.join(', ')}`);
    const tags = (g.manifestJson ?? []).flatMap((i) => i.RepoTags ?? []);
    assert.equal(new Set(tags).size, tags.length, `manifest.json gives one tag to two images: ${tags.join(', ')}`);
  } finally {
    g.dispose();
  }
}

describe('case 5: --tag T --keep-original where T is already a tag of the original', () => {
  it('Docker 28 (containerd store): T is the EDITED image after load; the other tag stays on the original', (t) => {
    const e = engines(t);
    if (!e) return;
    // docker26-oci.tar carries example/app:1.0 and example/app:latest on one image
    edit(join(SAMPLES, 'docker26-oci.tar'), 'case5.tar', ['--tag', 'example/app:1.0', '--keep-original']);
    assertUniqueNames('case5.tar');
    dockerRmi(e, 'docker28c', ['example/app:1.0', 'example/app:latest']);
    try {
      load(e, 'docker28c', 'case5.tar');
      const t1 = d28cConfigs(e, 'example/app:1.0');
      const tl = d28cConfigs(e, 'example/app:latest');
      assertEditedConfig(configOf(e, [...t1.values()][0]!), 'example/app:1.0');
      assert.deepEqual(configOf(e, [...tl.values()][0]!).Entrypoint, ['/app/run'], 'example/app:latest (the original) was changed');
      assert.deepEqual(dockerInspect(e, 'docker28c', 'example/app:1.0')?.Config.Entrypoint, NEW_ENTRYPOINT, 'docker image inspect example/app:1.0');
    } finally {
      dockerRmi(e, 'docker28c', ['example/app:1.0', 'example/app:latest']);
    }
  });

  it('Docker 28 (containerd store), two-platform index with one tag: T is the edited index, the original is untagged', (t) => {
    const e = engines(t);
    if (!e) return;
    edit(MULTI, 'case5-multi.tar', ['--tag', 'example/multi:1.0', '--keep-original']);
    assertUniqueNames('case5-multi.tar');
    const g = readGraph(join(work, 'case5-multi.tar'));
    try {
      const named = g.names.filter((n) => n.name.endsWith('example/multi:1.0'));
      assert.equal(named.length, 1, `the output names example/multi:1.0 ${named.length} times (no archive may carry one name on two images)`);
    } finally {
      g.dispose();
    }
    dockerRmi(e, 'docker28c', ['example/multi:1.0']);
    try {
      load(e, 'docker28c', 'case5-multi.tar');
      const cfgs = d28cConfigs(e, 'example/multi:1.0');
      assert.ok(cfgs.has('linux/amd64') && cfgs.has('linux/arm64'), `example/multi:1.0 platforms: ${[...cfgs.keys()].join(', ')}`);
      for (const [p, d] of cfgs) assertEditedConfig(configOf(e, d), `example/multi:1.0 ${p}`);
    } finally {
      dockerRmi(e, 'docker28c', ['example/multi:1.0']);
    }
  });

  it('podman 4.3: T is the EDITED image after load; the other tag stays on the original', (t) => {
    const e = engines(t);
    if (!e) return;
    edit(join(SAMPLES, 'docker26-oci.tar'), 'case5-podman.tar', ['--tag', 'example/app:1.0', '--keep-original']);
    // podman 4.3 names a docker-archive's short RepoTags localhost/...
    const names = ['localhost/example/app:1.0', 'localhost/example/app:latest', 'docker.io/example/app:1.0', 'docker.io/example/app:latest'];
    podmanRmi(e, names);
    try {
      // no assertUniqueNames first: this test shows what podman makes of the archive as it is
      ok(podman(e, ['load', '-i', join(work, 'case5-podman.tar')]), 'podman load');
      const t1 = podmanInspect(e, names[0]!) ?? podmanInspect(e, names[2]!);
      const tl = podmanInspect(e, names[1]!) ?? podmanInspect(e, names[3]!);
      assert.ok(t1 && tl, 'podman: both tags loaded');
      assert.deepEqual(t1.Config.Entrypoint, NEW_ENTRYPOINT, 'podman: example/app:1.0 is not the edited image');
      assert.deepEqual(Object.keys(t1.Config.Volumes ?? {}), [], 'podman: example/app:1.0 volumes');
      assert.deepEqual(tl.Config.Entrypoint, ['/app/run'], 'podman: example/app:latest (the original) changed');
    } finally {
      podmanRmi(e, names);
    }
  });
});

describe('case 6: the BuildKit two-platform save (Docker 28, containerd store)', () => {
  const expected = loadExpected({ includePending: true });
  const sample = 'error' in expected ? undefined : expected.samples.find((s) => s.file === 'docker28c-multi.tar');

  it('--tag T: one image; both platforms edited, as Docker 28 and containerd show them', (t) => {
    const e = engines(t);
    if (!e) return;
    assert.ok(sample, 'expected.json has no docker28c-multi.tar');
    const T = `example/multi:edited-${RUN_ID}`;
    edit(MULTI, 'case6-tag.tar', ['--tag', T]);
    try {
      load(e, 'docker28c', 'case6-tag.tar');
      const cfgs = d28cConfigs(e, T);
      assert.deepEqual([...cfgs.keys()].sort(), ['linux/amd64', 'linux/arm64'], `${T}: platforms`);
      for (const [p, d] of cfgs) {
        const old = sample.images.find((i) => `${i.os}/${i.architecture}` === p)!;
        assert.notEqual(d, old.imageId, `${T} ${p}: config unchanged (platform not edited)`);
        assertEditedConfig(configOf(e, d), `${T} ${p}`);
        const i = dockerInspect(e, 'docker28c', T, p);
        assert.ok(i, `docker image inspect --platform ${p} ${T}`);
        assert.deepEqual(i.Config.Entrypoint, NEW_ENTRYPOINT, `docker inspect --platform ${p}: Entrypoint`);
        assert.equal(i.Architecture, p.split('/')[1]);
      }
    } finally {
      dockerRmi(e, 'docker28c', [T]);
    }
  });

  it('--platform linux/arm64: arm64 edited, amd64 untouched', (t) => {
    const e = engines(t);
    if (!e) return;
    assert.ok(sample, 'expected.json has no docker28c-multi.tar');
    const T = `example/multi:arm-${RUN_ID}`;
    edit(MULTI, 'case6-arm.tar', ['--platform', 'linux/arm64', '--tag', T]);
    try {
      load(e, 'docker28c', 'case6-arm.tar');
      const cfgs = d28cConfigs(e, T);
      const amd = sample.images.find((i) => i.architecture === 'amd64')!;
      assert.equal(cfgs.get('linux/amd64'), amd.imageId, 'linux/amd64 config changed though --platform linux/arm64');
      assertEditedConfig(configOf(e, cfgs.get('linux/arm64')!), `${T} linux/arm64`);
    } finally {
      dockerRmi(e, 'docker28c', [T]);
    }
  });

  for (const which of ['docker28c', 'docker28'] as const) {
    it(`--only-platform linux/amd64: loads and runs on ${which === 'docker28c' ? 'the containerd store' : 'the classic store'}`, (t) => {
      const e = engines(t);
      if (!e) return;
      const T = `example/multi:amd-${RUN_ID}`;
      const out = `case6-only-${which}.tar`;
      edit(MULTI, out, ['--only-platform', 'linux/amd64', '--tag', T]);
      const g = readGraph(join(work, out));
      try {
        const plats = g
          .allManifests()
          .filter((m) => m.platform && m.platform.os !== 'unknown')
          .map((m) => `${m.platform!.os}/${m.platform!.architecture}`);
        assert.deepEqual([...new Set(plats)], plats.length ? ['linux/amd64'] : [], `--only-platform kept ${plats.join(', ')}`);
        const arm = sample?.images.find((i) => i.architecture === 'arm64');
        if (arm) assert.equal(g.blob(arm.imageId), undefined, 'the arm64 config blob is still in the output');
      } finally {
        g.dispose();
      }
      try {
        load(e, which, out);
        const r = docker(e, which, ['run', '--rm', '--network', 'none', T]);
        assert.equal(r.status, 0, `docker run failed:\n${describeRun(r)}`);
        assert.equal(r.stdout.trim(), 'edited --serve', 'the container printed something else than the new entrypoint + the old cmd');
      } finally {
        dockerRmi(e, which, [T]);
      }
    });
  }
});

describe('--drop-absent: an index with absent platforms is trimmed to what is present', () => {
  for (const file of ['containerd21-export.tar', 'containerd-gzip-index.tar']) {
    for (const which of ['ctr', 'ctr21'] as const) {
      it(`${file}: ${which === 'ctr' ? 'ctr 1.6' : 'ctr 2.1'} images import --all-platforms accepts the output, refuses the input`, (t) => {
        const e = engines(t);
        if (!e) return;
        const ns = `copyedit-etest-${RUN_ID}-drop-${which}`;
        const clean = () => {
          const refs = ctr(e, ns, ['images', 'ls', '-q'], { which }).stdout.split('\n').filter(Boolean);
          if (refs.length) ctr(e, ns, ['images', 'rm', '--sync', ...refs], { which });
          ctr(e, ns, ['namespaces', 'rm', ns], { which });
        };
        const out = `drop-${which}-${file}`;
        edit(join(SAMPLES, file), out, ['--drop-absent']);
        try {
          const rin = ctr(e, ns, ['images', 'import', '--all-platforms', join(SAMPLES, file)], { which });
          assert.match(rin.stderr + rin.stdout, /not found/, `the unedited input was not refused for its absent blobs:\n${describeRun(rin)}`);
          clean();
          ok(ctr(e, ns, ['images', 'import', '--all-platforms', join(work, out)], { which }), `${which} import --all-platforms of the --drop-absent output`);
        } finally {
          clean();
        }
      });
    }
  }

  it('containerd21-export.tar: Docker 28 (containerd store) load --platform linux/amd64 of the output', (t) => {
    const e = engines(t);
    if (!e) return;
    const out = 'drop-d28c.tar';
    const T = `example/multi:drop-${RUN_ID}`;
    edit(join(SAMPLES, 'containerd21-export.tar'), out, ['--drop-absent', '--tag', T]);
    try {
      load(e, 'docker28c', out, ['--platform', 'linux/amd64']);
      assertEditedConfig(configOf(e, d28cConfigs(e, T).get('linux/amd64') ?? d28cConfigs(e, T).get('single')!), T);
    } finally {
      dockerRmi(e, 'docker28c', [T]);
    }
  });
});
