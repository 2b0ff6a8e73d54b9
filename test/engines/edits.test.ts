/**
 * Issue 3 on real engines: EVERY edit of `copyedit edit`, applied to an image built here on Docker
 * 20.10 (FROM scratch, every Dockerfile instruction an edit can touch), loaded back with
 * `docker load` and checked with `docker inspect`: the edited field has exactly the expected value
 * and the whole rest of `Config`, `RootFS` and the top-level fields are what they were.
 *
 * Each batch of edits is also written in the docker-copyedit sentence form
 * (`copyedit FROM in.tar INTO out.tar ...`); both forms must give the same image ID and a
 * byte-identical archive (the output is deterministic). A representative subset is loaded into
 * Docker 26 too.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { type CliReport, type DockerName, type Engines, RUN_ID, SAMPLES, cli, cliEdit, ctr, docker, ok, removeDir, requireEngines, run, sha256, skopeo, tarFile, tempDir } from './harness.js';
import { ABSENT, type FullInspect, Made, type Patch, buildImage, history, inspectImage, loadInto, mustInspect, patched } from './e2e.js';

const REPO = `copyedit-e2e-${RUN_ID}/edits`;
const BASE = `${REPO}:base`;
const NS = `copyedit-e2e-${RUN_ID}`;

const DOCKERFILE = [
  'FROM scratch',
  'COPY hello.txt /hello.txt',
  'ENV KEEP=1 EXISTING=old OLD=gone GLOB_A=a GLOB_B=b',
  'LABEL keep.label="kept" old.label="old" glob.one="1" glob.two="2"',
  'VOLUME ["/data","/cache","/var/lib/a","/var/log/b"]',
  'EXPOSE 8080 53/udp 389 9000 9001/tcp',
  'WORKDIR /work',
  'USER app',
  'STOPSIGNAL SIGTERM',
  'HEALTHCHECK --interval=30s CMD ["/bin/true"]',
  'ONBUILD RUN echo onbuild',
  'SHELL ["/bin/sh","-c"]',
  'ENTRYPOINT ["/bin/echo"]',
  'CMD ["original"]',
];
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

let work = '';
let usedEngines: Engines | undefined;
const made = new Made();
let base: { id: string; tar: string; inspect: Record<DockerName, FullInspect | undefined>; historyLen: number } | undefined;
let baseError: string | undefined;

before(() => {
  work = tempDir('edits');
});

after(() => {
  if (usedEngines) {
    made.cleanup(usedEngines, [REPO]);
    const refs = ctr(usedEngines, NS, ['images', 'ls', '-q']).stdout.split('\n').filter(Boolean);
    if (refs.length) ctr(usedEngines, NS, ['images', 'rm', '--sync', ...refs]);
    ctr(usedEngines, NS, ['namespaces', 'rm', NS]);
  }
  if (work) removeDir(work);
});

function engines(t: TestContext): Engines | undefined {
  const e = requireEngines(t);
  usedEngines ??= e;
  return e;
}

function theBase(): NonNullable<typeof base> {
  assert.ok(base, `no test image: ${baseError ?? 'the build test did not run'}`);
  return base;
}

/** Base inspect on `which`, loading the base archive there first if needed. */
function baseOn(e: Engines, which: DockerName): FullInspect {
  const b = theBase();
  if (!b.inspect[which]) {
    loadInto(e, which, b.tar, made);
    made.add(which, b.id); // later loads move the tag away from it: remove it by ID
    b.inspect[which] = mustInspect(e, which, b.id);
  }
  return b.inspect[which]!;
}

interface Batch {
  name: string;
  flags: string[];
  /** The same edits in the sentence form (the words between INTO out.tar and the end). */
  sentence: string[];
  /** What docker inspect's Config must show, relative to the base image (ABSENT: no such key). */
  config: Patch;
  /** Top-level inspect fields (Architecture, Variant, Author, ...), relative to the base image. */
  top?: Patch;
  /** The report's list of edits (= the history entry's created_by after "copyedit: "). */
  edits: string[];
  docker26?: boolean;
}

const BATCHES: Batch[] = [
  {
    name: 'volumes and ports by path, glob, name; add',
    flags: [
      '--rm-volume',
      '/data',
      '--rm-volume',
      '/var/*',
      '--add-volume',
      '/new',
      '--rm-port',
      '8080',
      '--rm-port',
      '53/udp',
      '--rm-port',
      'ldap',
      '--rm-port',
      '900*',
      '--add-port',
      '7777',
      '--add-port',
      '5353/udp',
    ],
    sentence: [
      'REMOVE',
      'VOLUME',
      '/data',
      'AND',
      'rm',
      'volumes',
      '/var/*',
      'AND',
      'ADD',
      'VOLUME',
      '/new',
      'AND',
      'REMOVE',
      'PORT',
      '8080',
      'and',
      'RM',
      'PORT',
      '53/udp',
      'AND',
      'remove',
      'port',
      'ldap',
      'AND',
      'REMOVE',
      'PORTS',
      '900*',
      'AND',
      'ADD',
      'PORT',
      '7777',
      'AND',
      'APPEND',
      'PORT',
      '5353/udp',
    ],
    config: { Volumes: { '/cache': {}, '/new': {} }, ExposedPorts: { '7777/tcp': {}, '5353/udp': {} } },
    edits: [
      'remove volume /data',
      'remove volume /var/*',
      'add volume /new',
      'remove port 8080',
      'remove port 53/udp',
      'remove port ldap',
      'remove port 900*',
      'add port 7777/tcp',
      'add port 5353/udp',
    ],
    docker26: true,
  },
  {
    name: 'remove all volumes, ports, envs, labels',
    flags: ['--rm-volume', 'all', '--rm-port', 'all', '--rm-env', 'all', '--rm-label', 'all'],
    sentence: ['REMOVE', 'ALL', 'VOLUMES', '+', 'RM', 'ALL', 'PORTS', ',', 'REMOVE', 'ALL', 'ENVS', '/', 'remove', 'all', 'labels'],
    config: { Volumes: null, ExposedPorts: ABSENT, Env: [], Labels: null },
    edits: ['remove all volumes', 'remove all ports', 'remove all env', 'remove all labels'],
  },
  {
    name: '--entrypoint JSON, --cmd plain string',
    flags: ['--entrypoint', '["/bin/echo","hi there"]', '--cmd', '/start.sh'],
    sentence: ['SET', 'ENTRYPOINT', '["/bin/echo","hi there"]', 'AND', 'OVERRIDE', 'CMD', '/start.sh'],
    config: { Entrypoint: ['/bin/echo', 'hi there'], Cmd: ['/start.sh'] },
    edits: ['set entrypoint ["/bin/echo","hi there"]', 'set cmd ["/start.sh"]'],
    docker26: true,
  },
  {
    name: '--entrypoint plain string, --cmd JSON',
    flags: ['--entrypoint', '/entry.sh', '--cmd', '["a","b c"]'],
    sentence: ['set', 'entrypoint', '/entry.sh', 'and', 'set', 'cmd', '["a","b c"]'],
    config: { Entrypoint: ['/entry.sh'], Cmd: ['a', 'b c'] },
    edits: ['set entrypoint ["/entry.sh"]', 'set cmd ["a","b c"]'],
  },
  {
    name: '--entrypoint-shell, --cmd-shell',
    flags: ['--entrypoint-shell', 'exec app', '--cmd-shell', 'echo $HOME'],
    sentence: ['SET', 'SHELL', 'ENTRYPOINT', 'exec app', 'AND', 'SET', 'SHELL', 'CMD', 'echo $HOME'],
    config: { Entrypoint: ['/bin/sh', '-c', 'exec app'], Cmd: ['/bin/sh', '-c', 'echo $HOME'] },
    edits: ['set entrypoint ["/bin/sh","-c","exec app"]', 'set cmd ["/bin/sh","-c","echo $HOME"]'],
  },
  {
    name: '--no-entrypoint, --no-cmd',
    flags: ['--no-entrypoint', '--no-cmd'],
    sentence: ['SET', 'ENTRYPOINT', 'NULL', 'AND', 'SET', 'NO', 'CMD'],
    config: { Entrypoint: null, Cmd: null },
    edits: ['clear entrypoint', 'clear cmd'],
  },
  {
    name: '--env, --rm-env name/glob, --label (unicode), --rm-label name/glob',
    flags: ['--env', 'NEW=1', '--env', 'EXISTING=changed', '--rm-env', 'OLD', '--rm-env', 'GLOB_*', '--label', 'k.unicode=Ünïcödé ✓ 😀 "q"', '--rm-label', 'old.label', '--rm-label', 'glob.*'],
    sentence: [
      'SET',
      'ENV',
      'NEW',
      '1',
      'AND',
      'SET',
      'VAR',
      'EXISTING',
      'changed',
      'AND',
      'REMOVE',
      'ENV',
      'OLD',
      'AND',
      'REMOVE',
      'ENVS',
      'GLOB_*',
      'AND',
      'SET',
      'LABEL',
      'k.unicode',
      'Ünïcödé ✓ 😀 "q"',
      'AND',
      'REMOVE',
      'LABEL',
      'old.label',
      'AND',
      'REMOVE',
      'LABELS',
      'glob.*',
    ],
    config: { Env: [PATH_ENV, 'KEEP=1', 'EXISTING=changed', 'NEW=1'], Labels: { 'keep.label': 'kept', 'k.unicode': 'Ünïcödé ✓ 😀 "q"' } },
    edits: ['set env NEW=1', 'set env EXISTING=changed', 'remove env OLD', 'remove env GLOB_*', 'set label k.unicode=Ünïcödé ✓ 😀 "q"', 'remove label old.label', 'remove label glob.*'],
    docker26: true,
  },
  {
    name: '--user, --workdir, --stop-signal, --hostname, --domainname, --rm-healthcheck, --rm-onbuild',
    flags: ['--user', 'nobody:nogroup', '--workdir', '/srv/app', '--stop-signal', 'SIGKILL', '--hostname', 'h1', '--domainname', 'example.org', '--rm-healthcheck', '--rm-onbuild'],
    sentence: [
      'SET',
      'USER',
      'nobody:nogroup',
      'AND',
      'SET',
      'WORKINGDIR',
      '/srv/app',
      'AND',
      'SET',
      'STOPSIGNAL',
      'SIGKILL',
      'AND',
      'SET',
      'HOSTNAME',
      'h1',
      'AND',
      'SET',
      'DOMAINNAME',
      'example.org',
      'AND',
      'REMOVE',
      'HEALTHCHECK',
      'AND',
      'REMOVE',
      'ONBUILD',
    ],
    config: { User: 'nobody:nogroup', WorkingDir: '/srv/app', StopSignal: 'SIGKILL', Hostname: 'h1', Domainname: 'example.org', Healthcheck: ABSENT, OnBuild: null },
    edits: ['set user nobody:nogroup', 'set workdir /srv/app', 'set stop-signal SIGKILL', 'set hostname h1', 'set domainname example.org', 'remove healthcheck', 'remove onbuild triggers'],
    docker26: true,
  },
  {
    name: '--user "" and --workdir "" (SET USER NULL)',
    flags: ['--user', '', '--workdir', ''],
    sentence: ['SET', 'USER', 'NULL', 'AND', 'SET', 'NULL', 'WORKDIR'],
    config: { User: '', WorkingDir: '' },
    edits: ['clear user', 'clear workdir'],
  },
  {
    name: '--author, --arch, --variant',
    flags: ['--author', 'Zoë Example <zoe@example.org>', '--arch', 'arm64', '--variant', 'v8'],
    sentence: ['SET', 'AUTHOR', 'Zoë Example <zoe@example.org>', 'AND', 'SET', 'ARCHITECTURE', 'arm64', 'AND', 'SET', 'VARIANT', 'v8'],
    config: {},
    top: { Author: 'Zoë Example <zoe@example.org>', Architecture: 'arm64', Variant: 'v8' },
    edits: ['set author Zoë Example <zoe@example.org>', 'set arch arm64', 'set variant v8'],
    docker26: true,
  },
];

/** The top-level inspect fields an edit may touch, compared as a whole. */
const TOP = ['Author', 'Architecture', 'Variant', 'Os', 'Created'] as const;
function topOf(i: FullInspect): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of TOP) if (i[k] !== undefined && i[k] !== '') out[k] = i[k];
  return out;
}

/** Run the flag form and the sentence form of a batch; both must give the same archive. */
function editBoth(b: Batch, slug: string): { out: string; img: CliReport['images'][number] } {
  const bs = theBase();
  const out = join(work, `${slug}-flag.tar`);
  const rep = cliEdit(bs.tar, out, b.flags);
  assert.equal(rep.images.length, 1);
  const img = rep.images[0]!;
  assert.equal(img.oldId, bs.id, 'report oldId is the built image');
  assert.ok(img.changed && img.newId !== bs.id, 'the edit changed the image');
  assert.deepEqual(img.edits, b.edits, 'edits reported (= history entry)');
  assert.deepEqual(img.warnings, [], 'no edit warned');
  const sOut = join(work, `${slug}-sentence.tar`);
  const r = ok(cli(['FROM', bs.tar, 'INTO', sOut, ...b.sentence, '--json']), 'copyedit sentence form');
  const srep = JSON.parse(r.stdout) as CliReport;
  assert.equal(srep.images[0]?.newId, img.newId, `sentence form (${b.sentence.join(' ')}) gives another image ID than the flag form`);
  assert.equal(sha256(readFileSync(sOut)), sha256(readFileSync(out)), 'sentence and flag form archives are not byte-identical');
  return { out, img };
}

describe('copyedit edit: every edit, docker load + docker inspect', () => {
  it('builds the test image on Docker 20.10 (VOLUME, EXPOSE, ENV, LABEL, USER, WORKDIR, HEALTHCHECK, ONBUILD, SHELL, ...)', { timeout: 300_000 }, (t) => {
    const e = engines(t);
    if (!e) return;
    try {
      const i = buildImage(e, 'docker20', join(work, 'ctx'), BASE, DOCKERFILE, made);
      // the baseline every batch is compared against: make sure it is what the Dockerfile says
      assert.deepEqual(Object.keys(i.Config.Volumes as object).sort(), ['/cache', '/data', '/var/lib/a', '/var/log/b']);
      assert.deepEqual(Object.keys(i.Config.ExposedPorts as object).sort(), ['389/tcp', '53/udp', '8080/tcp', '9000/tcp', '9001/tcp']);
      assert.deepEqual(i.Config.Env, [PATH_ENV, 'KEEP=1', 'EXISTING=old', 'OLD=gone', 'GLOB_A=a', 'GLOB_B=b']);
      assert.deepEqual(i.Config.Labels, { 'keep.label': 'kept', 'old.label': 'old', 'glob.one': '1', 'glob.two': '2' });
      assert.equal(i.Config.User, 'app');
      assert.equal(i.Config.WorkingDir, '/work');
      assert.equal(i.Config.StopSignal, 'SIGTERM');
      assert.deepEqual(i.Config.Healthcheck, { Test: ['CMD', '/bin/true'], Interval: 30_000_000_000 });
      assert.deepEqual(i.Config.OnBuild, ['RUN echo onbuild']);
      assert.deepEqual(i.Config.Shell, ['/bin/sh', '-c']);
      assert.deepEqual(i.Config.Entrypoint, ['/bin/echo']);
      assert.deepEqual(i.Config.Cmd, ['original']);
      assert.equal(i.Architecture, 'amd64');
      assert.equal(i.Os, 'linux');
      const tar = join(work, 'base.tar');
      ok(docker(e, 'docker20', ['save', '-o', tar, BASE]), 'docker save');
      base = { id: i.Id, tar, inspect: { docker20: i, docker26: undefined }, historyLen: history(e, 'docker20', i.Id).length };
    } catch (err) {
      baseError = (err as Error).message.split('\n').slice(0, 4).join(' / ');
      throw err;
    }
  });

  for (const [n, b] of BATCHES.entries()) {
    it(`${b.name}: flag form = sentence form; docker inspect on Docker 20.10${b.docker26 ? ' and 26' : ''}`, { timeout: 180_000 }, (t) => {
      const e = engines(t);
      if (!e) return;
      const { out, img } = editBoth(b, `b${n}`);
      for (const which of b.docker26 ? (['docker20', 'docker26'] as const) : (['docker20'] as const)) {
        const orig = baseOn(e, which);
        const refs = loadInto(e, which, out, made);
        made.add(which, img.newId);
        assert.deepEqual(refs, [BASE], `${which}: loaded refs`);
        const got = mustInspect(e, which, img.newId);
        assert.equal(got.Id, img.newId);
        // the whole Config: edited fields exactly as expected, every other field unchanged
        assert.deepEqual(got.Config, patched(orig.Config, b.config), `${which}: Config after ${b.flags.join(' ')}`);
        assert.deepEqual(got.RootFS, orig.RootFS, `${which}: RootFS.Layers changed`);
        assert.deepEqual(topOf(got), topOf({ ...orig, ...(b.top as object) } as FullInspect), `${which}: top-level fields`);
        // Docker 20.10 still shows container_config: docker-copyedit edits it too, so do we
        if (which === 'docker20') {
          for (const [k, v] of Object.entries(b.config)) {
            if (v === ABSENT) assert.ok(!(k in (got.ContainerConfig ?? {})), `ContainerConfig.${k} still there`);
            else assert.deepEqual(got.ContainerConfig?.[k], v, `ContainerConfig.${k}`);
          }
          // the history entry: one more, on top, naming the edits
          const h = history(e, which, img.newId);
          assert.equal(h.length, theBase().historyLen + 1, 'one history entry added');
          assert.deepEqual(h[0], { createdBy: `copyedit: ${img.edits.join('; ')}`, comment: 'image-copyedit' });
        }
      }
    });
  }

  it('SET ENVS <pattern> <value> (sentence only) = --env for each matching variable', { timeout: 120_000 }, (t) => {
    const e = engines(t);
    if (!e) return;
    const bs = theBase();
    const sOut = join(work, 'envs-sentence.tar');
    const srep = JSON.parse(ok(cli(['FROM', bs.tar, 'INTO', sOut, 'SET', 'ENVS', 'GLOB_*', 'z', '--json']), 'sentence SET ENVS').stdout) as CliReport;
    const fOut = join(work, 'envs-flag.tar');
    const frep = cliEdit(bs.tar, fOut, ['--env', 'GLOB_A=z', '--env', 'GLOB_B=z']);
    loadInto(e, 'docker20', sOut, made);
    loadInto(e, 'docker20', fOut, made);
    made.add('docker20', srep.images[0]!.newId, frep.images[0]!.newId);
    const s = mustInspect(e, 'docker20', srep.images[0]!.newId);
    const f = mustInspect(e, 'docker20', frep.images[0]!.newId);
    const want = patched(bs.inspect.docker20!.Config, { Env: [PATH_ENV, 'KEEP=1', 'EXISTING=old', 'OLD=gone', 'GLOB_A=z', 'GLOB_B=z'] });
    assert.deepEqual(s.Config, want, 'SET ENVS GLOB_* z');
    assert.deepEqual(f.Config, want, '--env GLOB_A=z --env GLOB_B=z');
    assert.deepEqual(s.RootFS, f.RootFS);
  });

  it('--os (and SET OS): skopeo reads os=freebsd, Docker 26 refuses to load it on linux', { timeout: 120_000 }, (t) => {
    const e = engines(t);
    if (!e) return;
    // Not loaded into Docker 20.10: its `docker load` of a non-linux image PANICS in the daemon
    // (nil pointer in tarexport/load.go:110; the HTTP handler recovers, the client sees EOF).
    const { out, img } = editBoth({ name: 'os', flags: ['--os', 'freebsd'], sentence: ['SET', 'OS', 'freebsd'], config: {}, edits: ['set os freebsd'] }, 'os');
    const cfg = JSON.parse(ok(skopeo(e, ['inspect', '--config', `docker-archive:${out}`]), 'skopeo inspect --config').stdout) as { os: string; architecture: string; config: Record<string, unknown> };
    assert.equal(cfg.os, 'freebsd');
    assert.equal(cfg.architecture, 'amd64');
    const manifest = JSON.parse(tarFile(out, 'manifest.json')) as { Config: string }[];
    assert.equal(sha256(tarFile(out, manifest[0]!.Config)), img.newId, 'config file hashes to the new ID');
    const r = docker(e, 'docker26', ['load', '-i', out]);
    assert.notEqual(r.status, 0, 'Docker 26 loaded a freebsd image on linux?');
    assert.match(r.stderr, /cannot load freebsd image on linux/);
    assert.equal(inspectImage(e, 'docker26', img.newId), undefined, 'a refused image is not in Docker 26');
  });

  it('--shell, --created, --tag + --keep-original', { timeout: 120_000 }, (t) => {
    const e = engines(t);
    if (!e) return;
    const bs = theBase();
    const out = join(work, 'retag.tar');
    const NEW = `${REPO}:retagged`;
    const rep = cliEdit(bs.tar, out, ['--shell', '["/bin/bash","-c"]', '--created', '2001-02-03T04:05:06Z', '--tag', NEW, '--keep-original']);
    const img = rep.images.find((i) => i.changed)!;
    assert.ok(img, 'an edited image in the report');
    for (const which of ['docker20', 'docker26'] as const) {
      const orig = baseOn(e, which);
      const refs = loadInto(e, which, out, made);
      made.add(which, img.newId);
      assert.deepEqual([...refs].sort(), [BASE, NEW].sort(), `${which}: loaded refs (original kept + new tag)`);
      const got = mustInspect(e, which, NEW);
      assert.equal(got.Id, img.newId);
      assert.deepEqual(got.Config, patched(orig.Config, { Shell: ['/bin/bash', '-c'] }));
      assert.equal(got.Created, '2001-02-03T04:05:06Z');
      assert.deepEqual(got.RootFS, orig.RootFS);
      assert.deepEqual(got.RepoTags, [NEW], `${which}: the new tag only`);
      // --keep-original: the base tag still names the unedited image
      const kept = mustInspect(e, which, BASE);
      assert.equal(kept.Id, bs.id, `${which}: ${BASE} no longer names the original`);
      assert.deepEqual(kept.Config, orig.Config);
      if (which === 'docker20') {
        const h = history(e, which, NEW);
        assert.deepEqual(h[0], { createdBy: 'copyedit: set shell ["/bin/bash","-c"]; set created 2001-02-03T04:05:06Z', comment: 'image-copyedit' });
      }
    }
  });

  it('--no-history leaves docker history as it was', { timeout: 120_000 }, (t) => {
    const e = engines(t);
    if (!e) return;
    const bs = theBase();
    const withOut = join(work, 'hist-with.tar');
    const noOut = join(work, 'hist-no.tar');
    const w = cliEdit(bs.tar, withOut, ['--user', 'hist', '--tag', `${REPO}:hist-with`]).images[0]!;
    const n = cliEdit(bs.tar, noOut, ['--user', 'hist', '--tag', `${REPO}:hist-no`, '--no-history']).images[0]!;
    assert.notEqual(w.newId, n.newId, 'history is part of the config: the IDs differ');
    loadInto(e, 'docker20', withOut, made);
    loadInto(e, 'docker20', noOut, made);
    made.add('docker20', w.newId, n.newId);
    const before = history(e, 'docker20', bs.id);
    const hn = history(e, 'docker20', n.newId);
    const hw = history(e, 'docker20', w.newId);
    assert.deepEqual(hn, before, '--no-history: docker history unchanged');
    assert.deepEqual(hw.slice(1), before);
    assert.deepEqual(hw[0], { createdBy: 'copyedit: set user hist', comment: 'image-copyedit' });
    assert.equal(mustInspect(e, 'docker20', n.newId).Config.User, 'hist');
  });

  it('--annotation on an OCI layout (samples/docker26-oci.tar): skopeo oci-archive, ctr content, Docker 26 load', { timeout: 180_000 }, (t) => {
    const e = engines(t);
    if (!e) return;
    const src = join(SAMPLES, 'docker26-oci.tar');
    const out = join(work, 'annotated.tar');
    const TAG = `${REPO}:oci`;
    const rep = cliEdit(src, out, ['--annotation', 'org.example.note=Ünï ✓', '--annotation', 'org.opencontainers.image.title=copyedit-e2e', '--label', 'e2e=1', '--tag', TAG]);
    assert.equal(rep.layout, 'docker-oci');
    const img = rep.images[0]!;
    // the archive's own manifest, as skopeo reads an OCI archive
    const raw = ok(skopeo(e, ['inspect', '--raw', `oci-archive:${out}`]), 'skopeo inspect --raw oci-archive').stdout;
    const m = JSON.parse(raw) as { config: { digest: string }; annotations?: Record<string, string>; layers: { digest: string }[] };
    assert.equal(m.config.digest, img.newId, 'manifest points at the new config');
    assert.equal(m.annotations?.['org.example.note'], 'Ünï ✓');
    assert.equal(m.annotations?.['org.opencontainers.image.title'], 'copyedit-e2e');
    const index = JSON.parse(tarFile(out, 'index.json')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
    assert.equal(index.manifests.length, 1);
    assert.equal(index.manifests[0]!.digest, sha256(raw), 'index.json points at the annotated manifest');
    // containerd imports it and stores that manifest
    ok(ctr(e, NS, ['images', 'import', out]), 'ctr images import');
    const ls = ok(ctr(e, NS, ['images', 'ls']), 'ctr images ls').stdout;
    assert.ok(ls.includes(sha256(raw)), `ctr: the image does not target the annotated manifest:\n${ls}`);
    const stored = JSON.parse(ok(ctr(e, NS, ['content', 'get', sha256(raw)]), 'ctr content get').stdout) as typeof m;
    assert.equal(stored.annotations?.['org.example.note'], 'Ünï ✓');
    // Docker 26 loads it under the new tag
    const refs = loadInto(e, 'docker26', out, made);
    made.add('docker26', img.newId);
    assert.deepEqual(refs, [TAG]);
    const got = mustInspect(e, 'docker26', TAG);
    assert.equal(got.Id, img.newId);
    assert.equal((got.Config.Labels as Record<string, string>).e2e, '1');
    // the sample's other digests untouched
    const before = JSON.parse(ok(run('tar', ['-xOf', src, 'index.json'])).stdout) as { manifests: { digest: string }[] };
    const origManifest = JSON.parse(tarFile(src, `blobs/sha256/${before.manifests[0]!.digest.slice(7)}`)) as typeof m;
    assert.deepEqual(
      m.layers.map((l) => l.digest),
      origManifest.layers.map((l) => l.digest),
      'layer blobs unchanged',
    );
    assert.equal(origManifest.annotations?.['org.example.note'], undefined, 'the sample had no such annotation');
  });
});
