/**
 * docker-copyedit compatibility on a real daemon: the examples of docker-copyedit's README, run
 * word for word in DAEMON mode (`docker save image1 | edit | docker load` as image2) against
 * Docker 20.10, checked with `docker inspect image2`; the same sentences against an archive
 * (FROM image1.tar INTO out.tar) and the flag form (`copyedit edit ... --flag`) must give the
 * same image ID. Also `--docker <wrapper>` and a failing `docker save` (exit 6, docker's message,
 * nothing created, nothing left running).
 *
 * docs/COMPAT.md is the table of these commands and what docker inspect showed.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { type CliReport, type Engines, BIN, RUN_ID, cli, cliEdit, describeRun, docker, ok, removeDir, requireEngines, run, shq, tempDir } from './harness.js';
import { ABSENT, type FullInspect, Made, type Patch, buildImage, mustInspect, patched, inspectImage } from './e2e.js';

const REPO = `copyedit-e2e-${RUN_ID}/compat`;
const IMAGE1 = `${REPO}:image1`;

const DOCKERFILE = [
  'FROM scratch',
  'COPY hello.txt /hello.txt',
  'ENV JIRA_HOME=/var/atlassian/jira-data',
  'LABEL org.example.app="jira-like"',
  'VOLUME ["/var/atlassian/jira-data", "/opt/atlassian/logs"]',
  'EXPOSE 4444 389 636 8080',
  'WORKDIR /opt/atlassian',
  'USER jira',
  'ENTRYPOINT ["/sbin/tini","--"]',
  'CMD ["/entrypoint.py","-fg"]',
];

interface Example {
  /** docker-copyedit's README line, `image1`/`image2` as placeholders. */
  line: string;
  /** Our flag form of the same edits. */
  flags: string[];
  /** What `docker inspect image2` must show in Config, relative to image1. */
  config: Patch;
}

const EXAMPLES: Example[] = [
  { line: 'FROM image1 INTO image2 REMOVE ALL VOLUMES', flags: ['--rm-volume', 'all'], config: { Volumes: null } },
  { line: 'into image2 from image1 set user null', flags: ['--user', ''], config: { User: '' } },
  { line: 'set user null and set cmd null from image1 into image2', flags: ['--user', '', '--no-cmd'], config: { User: '', Cmd: null } },
  { line: 'FROM image1 INTO image2 set user null + set cmd null + rm all volumes', flags: ['--user', '', '--no-cmd', '--rm-volume', 'all'], config: { User: '', Cmd: null, Volumes: null } },
  { line: 'FROM image1 INTO image2 -vv REMOVE VOLUME /var/atlassian/jira-data', flags: ['--rm-volume', '/var/atlassian/jira-data'], config: { Volumes: { '/opt/atlassian/logs': {} } } },
  { line: 'FROM image1 INTO image2 -vv set entrypoint null and set cmd /entrypoint.sh', flags: ['--no-entrypoint', '--cmd', '/entrypoint.sh'], config: { Entrypoint: null, Cmd: ['/entrypoint.sh'] } },
  { line: 'FROM image1 INTO image2 -vv REMOVE PORT 4444', flags: ['--rm-port', '4444'], config: { ExposedPorts: { '389/tcp': {}, '636/tcp': {}, '8080/tcp': {} } } },
  { line: 'FROM image1 INTO image2 -vv remove port ldap and rm port ldaps', flags: ['--rm-port', 'ldap', '--rm-port', 'ldaps'], config: { ExposedPorts: { '4444/tcp': {}, '8080/tcp': {} } } },
  { line: 'FROM image1 INTO image2 -vv remove all ports', flags: ['--rm-port', 'all'], config: { ExposedPorts: ABSENT } },
];

let work = '';
let usedEngines: Engines | undefined;
const made = new Made();
let image1: { inspect: FullInspect; tar: string } | undefined;
let buildError: string | undefined;

before(() => {
  work = tempDir('compat');
});

after(() => {
  if (usedEngines) made.cleanup(usedEngines, [REPO]);
  if (work) removeDir(work);
});

function engines(t: TestContext): Engines | undefined {
  const e = requireEngines(t);
  usedEngines ??= e;
  return e;
}

function theImage(): NonNullable<typeof image1> {
  assert.ok(image1, `no image1: ${buildError ?? 'the build test did not run'}`);
  return image1;
}

/**
 * The environment of a docker-copyedit user on this machine: `docker` on PATH is the 20.10
 * client (a private bin dir first on PATH), DOCKER_HOST is our Docker 20.10 daemon.
 */
function daemonEnv(e: Engines): NodeJS.ProcessEnv {
  const bin = join(work, 'bin');
  try {
    mkdirSync(bin);
    symlinkSync(e.docker20.bin, join(bin, 'docker'));
  } catch {
    /* made by an earlier test */
  }
  return { ...process.env, DOCKER_HOST: e.docker20.host, PATH: `${bin}:${process.env.PATH ?? ''}` };
}

/** The README line as a shell splits it, with our image names. */
function words(line: string, from: string, into: string): string[] {
  return line.split(' ').map((w) => (w === 'image1' ? from : w === 'image2' ? into : w));
}

/** Compact JSON of the fields an example touches, for the log (docs/COMPAT.md is filled from it). */
function shown(i: FullInspect, keys: readonly string[]): string {
  return keys.map((k) => `${k}=${JSON.stringify(i.Config[k] ?? (k in i.Config ? i.Config[k] : '(absent)'))}`).join(' ');
}

describe('docker-copyedit README examples on Docker 20.10 (daemon mode) and on archives', () => {
  it('builds image1 on Docker 20.10 (VOLUME jira-data + logs, EXPOSE 4444 389 636 8080, USER, ENTRYPOINT, CMD)', { timeout: 300_000 }, (t) => {
    const e = engines(t);
    if (!e) return;
    try {
      const i = buildImage(e, 'docker20', join(work, 'ctx'), IMAGE1, DOCKERFILE, made);
      assert.deepEqual(i.Config.Volumes, { '/var/atlassian/jira-data': {}, '/opt/atlassian/logs': {} });
      assert.deepEqual(i.Config.ExposedPorts, { '4444/tcp': {}, '389/tcp': {}, '636/tcp': {}, '8080/tcp': {} });
      assert.equal(i.Config.User, 'jira');
      assert.deepEqual(i.Config.Entrypoint, ['/sbin/tini', '--']);
      assert.deepEqual(i.Config.Cmd, ['/entrypoint.py', '-fg']);
      const tar = join(work, 'image1.tar');
      ok(docker(e, 'docker20', ['save', '-o', tar, IMAGE1]), 'docker save image1');
      image1 = { inspect: i, tar };
    } catch (err) {
      buildError = (err as Error).message.split('\n').slice(0, 4).join(' / ');
      throw err;
    }
  });

  for (const [n, ex] of EXAMPLES.entries()) {
    it(`copyedit ${ex.line}`, { timeout: 180_000 }, (t) => {
      const e = engines(t);
      if (!e) return;
      const img = theImage();
      const orig = img.inspect;
      const image2 = `${REPO}:image2-ex${n + 1}`;
      made.add('docker20', image2);
      // 1. daemon mode, the README words unchanged (docker save image1 | edit | docker load)
      const r = run(process.execPath, [BIN, ...words(ex.line, IMAGE1, image2)], { env: daemonEnv(e), timeout: 120_000 });
      assert.ok(r.status === 0 && !r.error, `daemon mode failed:\n${describeRun(r)}`);
      assert.match(r.stderr, new RegExp(`Loaded image: ${image2.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`), 'docker load output is shown');
      const got = mustInspect(e, 'docker20', image2);
      made.add('docker20', got.Id);
      assert.notEqual(got.Id, orig.Id, 'image2 is a new image');
      assert.deepEqual(got.RepoTags, [image2], 'image2 has only its own tag');
      assert.deepEqual(got.Config, patched(orig.Config, ex.config), `docker inspect ${image2} Config`);
      assert.deepEqual(got.RootFS, orig.RootFS, 'RootFS.Layers unchanged');
      // 2. the same sentence on archives: the same image
      const out = join(work, `ex${n + 1}.tar`);
      const a = ok(cli([...words(ex.line, img.tar, out), '--json']), 'sentence form on an archive');
      const rep = JSON.parse(a.stdout) as CliReport;
      assert.equal(rep.images[0]?.newId, got.Id, 'archive mode gives the image ID daemon mode loaded');
      // 3. our flag form: the same image again
      const f = cliEdit(img.tar, join(work, `ex${n + 1}-flags.tar`), ex.flags);
      assert.equal(f.images[0]?.newId, got.Id, `copyedit edit ${ex.flags.map(shq).join(' ')} gives the same image ID`);
      // image1 itself untouched
      const now = mustInspect(e, 'docker20', IMAGE1);
      assert.equal(now.Id, orig.Id, 'image1 moved');
      assert.deepEqual(now.Config, orig.Config);
      t.diagnostic(`${ex.line} -> ${got.Id.slice(7, 19)} ${shown(got, Object.keys(ex.config))}`);
    });
  }

  it('--docker <wrapper script> is the CLI daemon mode runs', { timeout: 120_000 }, (t) => {
    const e = engines(t);
    if (!e) return;
    const img = theImage();
    const log = join(work, 'wrapper.log');
    const wrapper = join(work, 'docker-wrapper.sh');
    writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> ${shq(log)}\nexec ${shq(e.docker20.bin)} -H ${shq(e.docker20.host)} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const image2 = `${REPO}:image2-wrapper`;
    made.add('docker20', image2);
    const env = { ...process.env };
    delete env.DOCKER_HOST; // only the wrapper knows where the daemon is
    const r = run(process.execPath, [BIN, 'FROM', IMAGE1, 'INTO', image2, 'REMOVE', 'ALL', 'PORTS', '--docker', wrapper], { env, timeout: 120_000 });
    assert.ok(r.status === 0 && !r.error, `--docker wrapper failed:\n${describeRun(r)}`);
    // daemon mode first asks which daemon and which image store (docker context inspect, docker info)
    assert.deepEqual(
      readFileSync(log, 'utf8').split('\n').filter(Boolean).sort(),
      ['context inspect --format {{.Name}}|{{.Endpoints.docker.Host}}', 'info --format {{.ServerVersion}}|{{json .DriverStatus}}', 'load', `save ${IMAGE1}`],
      'the wrapper ran docker context inspect, docker info, docker save and docker load',
    );
    assert.match(r.stderr, new RegExp(`^copyedit: daemon: ${e.docker20.host.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(docker context default\\), Docker 20\\.10\\.\\S+, classic image store$`, 'm'));
    const got = mustInspect(e, 'docker20', image2);
    made.add('docker20', got.Id);
    assert.deepEqual(got.Config, patched(img.inspect.Config, { ExposedPorts: ABSENT }));
  });

  it("daemon mode, FROM a missing image: exit 6 with docker's message, nothing loaded, nothing left running", { timeout: 120_000 }, (t) => {
    const e = engines(t);
    if (!e) return;
    theImage();
    const missing = `${REPO}:does-not-exist`;
    const image2 = `${REPO}:image2-never`;
    made.add('docker20', image2);
    const direct = docker(e, 'docker20', ['save', missing]);
    assert.notEqual(direct.status, 0);
    const dockerSays = direct.stderr.trim().split('\n').pop()!;
    assert.match(dockerSays, /reference does not exist|No such image/);
    const started = Date.now();
    // a marker in the environment: every process of this run (docker save, docker load) inherits it
    const mark = `COPYEDIT_E2E_MARK=${RUN_ID}-fail`;
    const env = { ...daemonEnv(e), COPYEDIT_E2E_MARK: `${RUN_ID}-fail` };
    const r = run(process.execPath, [BIN, 'FROM', missing, 'INTO', image2, 'REMOVE', 'ALL', 'VOLUMES'], { env, timeout: 60_000 });
    assert.equal(r.error, undefined, `copyedit did not finish within 60 s (hangs?): ${describeRun(r)}`);
    assert.equal(r.signal, null);
    assert.equal(r.status, 6, `exit code: ${describeRun(r)}`);
    assert.ok(r.stderr.includes(dockerSays), `docker's message "${dockerSays}" is not shown:\n${r.stderr}`);
    assert.match(r.stderr, /^copyedit: error: .*docker save/m);
    assert.ok(Date.now() - started < 30_000, 'the failure took over 30 s');
    assert.equal(inspectImage(e, 'docker20', image2), undefined, 'image2 was created');
    // neither `docker save` nor `docker load` of that run is still alive
    const alive = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').includes(mark);
        } catch {
          return false;
        }
      })
      .map((p) => `${p}: ${readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
    assert.deepEqual(alive, [], 'processes left running');
  });
});
