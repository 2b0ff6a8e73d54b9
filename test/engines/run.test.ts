/**
 * Edited images RUN: a busybox image built here on Docker 20.10 (FROM scratch + the host's static
 * busybox), saved, edited by the CLI, loaded into Docker 20.10 and Docker 26 and started with
 * `docker run`; also the stdin/stdout pipe form between two engines and the sentence form.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { type DockerName, type Engines, RUN_ID, BIN, cli, cliEdit, docker, dockerInspect, dockerRmi, loadedRefs, ok, removeDir, requireEngines, run, shq, tempDir } from './harness.js';

const BUSYBOX = '/bin/busybox';
const REPO = `copyedit-etest/busybox`;
const TAG = `${REPO}:${RUN_ID}`;

let work = '';
let built: { id: string; tar: string } | undefined;
let buildError: string | undefined;
/** Images this file put into each daemon, removed in after(). */
const created: Record<DockerName, Set<string>> = { docker20: new Set(), docker26: new Set() };

before(() => {
  work = tempDir('run');
});

let usedEngines: Engines | undefined;

after(() => {
  const e = usedEngines;
  if (e) {
    for (const which of ['docker20', 'docker26'] as const) {
      // tags first (several of ours may share an ID), then the IDs
      const tags = docker(e, which, ['images', '--format', '{{.Repository}}:{{.Tag}}', REPO])
        .stdout.split('\n')
        .filter((x) => x.endsWith(`:${RUN_ID}`) || x.includes(`${RUN_ID}-`));
      dockerRmi(e, which, [...tags, ...created[which]]);
    }
  }
  if (work) removeDir(work);
});

function engines(t: TestContext): Engines | undefined {
  const e = requireEngines(t);
  usedEngines ??= e;
  return e;
}

/** The image built in the first test; fails the caller clearly when the build did not happen. */
function image(): { id: string; tar: string } {
  assert.ok(built, `no busybox image: ${buildError ?? 'the build test did not run'}`);
  return built;
}

function dockerRun(e: Engines, which: DockerName, ref: string, args: string[] = []): string {
  const r = ok(docker(e, which, ['run', '--rm', '--network', 'none', ref, ...args], { timeout: 120_000 }), `docker run on ${which}`);
  return r.stdout;
}

/** docker load FILE into `which`; returns the loaded refs and remembers them for cleanup. */
function load(e: Engines, which: DockerName, file: string): string[] {
  const r = ok(docker(e, which, ['load', '-i', file]), `${which} docker load`);
  const refs = loadedRefs(r.stdout);
  assert.ok(refs.length > 0, `${which} docker load printed no "Loaded image" line:\n${r.stdout}`);
  for (const ref of refs) created[which].add(ref);
  return refs;
}

describe('run edited images', () => {
  it('builds a busybox image on Docker 20.10 and saves it', { timeout: 240_000 }, (t) => {
    const e = engines(t);
    if (!e) return;
    try {
      assert.ok(existsSync(BUSYBOX), `${BUSYBOX} is missing: apt-get install busybox-static (scripts/engines/install.sh)`);
      const ctx = join(work, 'ctx');
      ok(run('mkdir', ['-p', ctx]));
      copyFileSync(BUSYBOX, join(ctx, 'busybox'));
      writeFileSync(
        join(ctx, 'Dockerfile'),
        [
          'FROM scratch',
          'COPY busybox /bin/busybox',
          'RUN ["/bin/busybox","--install","-s","/bin"]',
          'VOLUME ["/data","/cache"]',
          'EXPOSE 8080 53/udp',
          'ENV COPYEDIT_TEST=1',
          'LABEL org.example.test="copyedit Ünïcode"',
          'ENTRYPOINT ["/bin/echo"]',
          'CMD ["original"]',
          '',
        ].join('\n'),
      );
      ok(docker(e, 'docker20', ['build', '-q', '-t', TAG, ctx], { env: { ...process.env, DOCKER_BUILDKIT: '0' }, timeout: 240_000 }), 'docker build');
      const id = dockerInspect(e, 'docker20', TAG)?.Id;
      assert.ok(id, `built ${TAG} but cannot inspect it`);
      created.docker20.add(id);
      const tar = join(work, 'busybox.tar');
      ok(docker(e, 'docker20', ['save', '-o', tar, TAG]), 'docker save');
      // the unedited image runs and prints its CMD: the baseline for the edited runs
      assert.equal(dockerRun(e, 'docker20', TAG), 'original\n');
      built = { id, tar };
    } catch (err) {
      buildError = (err as Error).message.split('\n').slice(0, 4).join(' / ');
      throw err;
    }
  });

  it('edit --entrypoint --cmd --rm-volume, docker load + docker run on Docker 20.10 and 26', { timeout: 240_000 }, (t) => {
    const e = engines(t);
    if (!e) return;
    const img = image();
    const out = join(work, 'edited.tar');
    const rep = cliEdit(img.tar, out, ['--entrypoint', '["/bin/echo","edited"]', '--cmd', '["from","copyedit"]', '--rm-volume', 'all']);
    assert.equal(rep.layout, 'docker-legacy');
    assert.equal(rep.images.length, 1);
    const { oldId, newId, changed, tags } = rep.images[0]!;
    assert.equal(oldId, img.id, 'report oldId is the built image');
    assert.ok(changed && newId !== oldId);
    assert.deepEqual(tags, [TAG]);
    for (const which of ['docker20', 'docker26'] as const) {
      const refs = load(e, which, out);
      assert.deepEqual(refs, [TAG], `${which}: loaded refs`);
      created[which].add(newId);
      const i = dockerInspect(e, which, TAG);
      assert.ok(i);
      assert.equal(i.Id, newId, `${which}: ${TAG} is not the new ID`);
      assert.deepEqual(i.Config.Entrypoint, ['/bin/echo', 'edited']);
      assert.deepEqual(i.Config.Cmd, ['from', 'copyedit']);
      assert.deepEqual(Object.keys(i.Config.Volumes ?? {}), []);
      assert.deepEqual(Object.keys(i.Config.ExposedPorts ?? {}).sort(), ['53/udp', '8080/tcp'], 'ports were not to be touched');
      assert.ok(i.Config.Env?.includes('COPYEDIT_TEST=1'));
      assert.equal(i.Config.Labels?.['org.example.test'], 'copyedit Ünïcode');
      assert.equal(dockerRun(e, which, newId), 'edited from copyedit\n', `${which}: docker run output`);
    }
  });

  it('pipe: docker save | copyedit edit - -o - --rm-port all | docker load, both directions', { timeout: 240_000 }, (t) => {
    const e = engines(t);
    if (!e) return;
    const img = image();
    const pairs: [DockerName, DockerName, string][] = [
      ['docker20', 'docker26', `${REPO}:${RUN_ID}-pipe20`], // Docker 20.10 saves the legacy layout
      ['docker26', 'docker20', `${REPO}:${RUN_ID}-pipe26`], // Docker 26 saves the OCI layout
    ];
    // the ORIGINAL image under a fresh tag on each source daemon (TAG now names edited copies)
    ok(docker(e, 'docker20', ['tag', img.id, pairs[0]![2]]));
    load(e, 'docker26', img.tar);
    ok(docker(e, 'docker26', ['tag', img.id, pairs[1]![2]]));
    created.docker26.add(img.id);
    for (const [from, to, ref] of pairs) {
      const src = e[from];
      const dst = e[to];
      const report = join(work, `pipe-${from}.json`);
      const script = [
        'set -o pipefail;',
        `${shq(src.bin)} -H ${shq(src.host)} save ${shq(ref)}`,
        `| ${shq(process.execPath)} ${shq(BIN)} edit - -o - --json --rm-port all 2>${shq(report)}`,
        `| ${shq(dst.bin)} -H ${shq(dst.host)} load`,
      ].join(' ');
      const r = ok(run('bash', ['-c', script], { timeout: 180_000 }), `pipe ${from} -> ${to}`);
      const refs = loadedRefs(r.stdout);
      for (const x of refs) created[to].add(x);
      const rep = JSON.parse(run('cat', [report]).stdout) as { layout: string; images: { newId: string; oldId: string; changed: boolean }[] };
      assert.equal(rep.layout, from === 'docker20' ? 'docker-legacy' : 'docker-oci', `${from} save layout`);
      assert.equal(rep.images.length, 1);
      const { newId, oldId, changed } = rep.images[0]!;
      assert.ok(changed);
      assert.equal(oldId, image().id, 'the saved config is the built one');
      created[to].add(newId);
      assert.deepEqual(refs, [ref], `${to}: loaded refs`);
      const i = dockerInspect(e, to, ref);
      assert.ok(i, `${to}: ${ref} missing after the pipe`);
      assert.equal(i.Id, newId, `${to}: ${ref} is not the new ID from the pipe report`);
      assert.deepEqual(Object.keys(i.Config.ExposedPorts ?? {}), [], 'ports left');
      assert.deepEqual(Object.keys(i.Config.Volumes ?? {}).sort(), ['/cache', '/data'], 'volumes were not to be touched');
      assert.deepEqual(i.Config.Entrypoint, ['/bin/echo']);
      assert.deepEqual(i.Config.Cmd, ['original']);
      assert.equal(dockerRun(e, to, newId), 'original\n', `${to}: the piped image runs`);
    }
  });

  it('sentence form: FROM in.tar INTO out.tar REMOVE ALL VOLUMES AND SET CMD /bin/true', { timeout: 180_000 }, (t) => {
    const e = engines(t);
    if (!e) return;
    const img = image();
    const out = join(work, 'sentence.tar');
    const r = cli(['FROM', img.tar, 'INTO', out, 'REMOVE', 'ALL', 'VOLUMES', 'AND', 'SET', 'CMD', '/bin/true', '--json']);
    ok(r, 'copyedit sentence form');
    const rep = JSON.parse(r.stdout) as { images: { newId: string; oldId: string; changed: boolean }[] };
    const { newId, oldId, changed } = rep.images[0]!;
    assert.equal(oldId, img.id);
    assert.ok(changed);
    const refs = load(e, 'docker20', out);
    assert.deepEqual(refs, [TAG]);
    created.docker20.add(newId);
    const i = dockerInspect(e, 'docker20', TAG);
    assert.ok(i);
    assert.equal(i.Id, newId);
    assert.deepEqual(i.Config.Cmd, ['/bin/true']);
    assert.deepEqual(Object.keys(i.Config.Volumes ?? {}), []);
    assert.deepEqual(i.Config.Entrypoint, ['/bin/echo'], 'entrypoint untouched');
    assert.deepEqual(Object.keys(i.Config.ExposedPorts ?? {}).sort(), ['53/udp', '8080/tcp'], 'ports untouched');
    // ENTRYPOINT ["/bin/echo"] + CMD ["/bin/true"] prints the CMD
    assert.equal(dockerRun(e, 'docker20', newId), '/bin/true\n');
  });
});
