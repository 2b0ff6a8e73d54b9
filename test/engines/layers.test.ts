/**
 * Issue 21, the write side of layer content, on real engines: a busybox image built on Docker
 * 20.10 (FROM scratch + the host's static busybox), `--add-file` and `--add-layer` by the CLI,
 * loaded and RUN on Docker 20.10 and on Docker 28's containerd image store (the docker-legacy save
 * of 20.10, and the OCI save of Docker 28's containerd store edited in its own layout); and a
 * differential against `crane append` (go-containerregistry 0.20.7): the DiffID of an appended
 * uncompressed tar is the same.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { type AnyDocker, type Engines, RUN_ID, cli, docker, dockerInspect, dockerRmi, loadedRefs, ok, removeDir, requireEngines, run, tempDir, tarFile } from './harness.js';

const BUSYBOX = '/bin/busybox';
const CRANE = '/var/cache/copyedit-engines/clients/usr/bin/crane';
const REPO = 'copyedit-etest/layers';
const TAG = `${REPO}:${RUN_ID}`;

let work = '';
let built: string | undefined;
let usedEngines: Engines | undefined;
const created: Partial<Record<AnyDocker, Set<string>>> = {};

before(() => {
  work = tempDir('layers');
});

after(() => {
  const e = usedEngines;
  if (e) {
    for (const [which, ids] of Object.entries(created) as [AnyDocker, Set<string>][]) {
      const tags = docker(e, which, ['images', '--format', '{{.Repository}}:{{.Tag}}', REPO])
        .stdout.split('\n')
        .filter((x) => x.includes(RUN_ID));
      dockerRmi(e, which, [...tags, ...ids]);
    }
  }
  if (work) removeDir(work);
});

function engines(t: TestContext): Engines | undefined {
  const e = requireEngines(t);
  usedEngines ??= e;
  return e;
}

function remember(which: AnyDocker, ref: string): void {
  created[which] ??= new Set();
  created[which].add(ref);
}

function load(e: Engines, which: AnyDocker, file: string): string[] {
  const refs = loadedRefs(ok(docker(e, which, ['load', '-i', file], { timeout: 180_000 }), `${which} docker load`).stdout);
  assert.ok(refs.length > 0, `${which}: docker load printed no "Loaded image" line`);
  for (const r of refs) remember(which, r);
  return refs;
}

/** `cat` of files in the image, through busybox. */
function cat(e: Engines, which: AnyDocker, ref: string, ...paths: string[]): string {
  return ok(docker(e, which, ['run', '--rm', '--network', 'none', '--entrypoint', '/bin/cat', ref, ...paths], { timeout: 120_000 }), `docker run on ${which}`).stdout;
}

function image(): string {
  assert.ok(built, 'the busybox image was not built (see the first test)');
  return built;
}

/** The files added: a file, a directory with a nested file and a relative symlink, and a tar layer. */
function sources(): { file: string; dir: string; tar: string } {
  const file = join(work, 'hello.txt');
  writeFileSync(file, `added by copyedit ${RUN_ID}\n`);
  const dir = join(work, 'tree');
  mkdirSync(join(dir, 'conf'), { recursive: true });
  writeFileSync(join(dir, 'conf', 'app.conf'), 'mode=added\n');
  if (!existsSync(join(dir, 'link.conf'))) symlinkSync('conf/app.conf', join(dir, 'link.conf'));
  const src = join(work, 'tarsrc');
  mkdirSync(join(src, 'etc'), { recursive: true });
  writeFileSync(join(src, 'etc', 'motd'), 'from a tar layer\n');
  const tar = join(work, 'extra.tar');
  ok(run('tar', ['--format=posix', '-C', src, '-cf', tar, 'etc/motd']), 'tar');
  return { file, dir, tar };
}

const ADD = (s: ReturnType<typeof sources>) => ['--add-file', `${s.file}:/etc/added/`, '--add-file', `${s.dir}:/opt/tree`, '--add-layer', s.tar, '--source-date-epoch', '1700000000'];
const EXPECT = (s: ReturnType<typeof sources>) => `${readFileSync(s.file, 'utf8')}mode=added\nmode=added\nfrom a tar layer\n`;
const PATHS = ['/etc/added/hello.txt', '/opt/tree/conf/app.conf', '/opt/tree/link.conf', '/etc/motd'];

describe('layers added by copyedit run on real engines', () => {
  it('builds a busybox image on Docker 20.10 and saves it', { timeout: 240_000 }, (t) => {
    const e = engines(t);
    if (!e) return;
    assert.ok(existsSync(BUSYBOX), `${BUSYBOX} is missing: apt-get install busybox-static`);
    const ctx = join(work, 'ctx');
    mkdirSync(ctx, { recursive: true });
    copyFileSync(BUSYBOX, join(ctx, 'busybox'));
    writeFileSync(join(ctx, 'Dockerfile'), ['FROM scratch', 'COPY busybox /bin/busybox', 'RUN ["/bin/busybox","--install","-s","/bin"]', 'CMD ["/bin/true"]', ''].join('\n'));
    ok(docker(e, 'docker20', ['build', '-q', '-t', TAG, ctx], { env: { ...process.env, DOCKER_BUILDKIT: '0' }, timeout: 240_000 }), 'docker build');
    remember('docker20', TAG);
    const tar = join(work, 'busybox.tar');
    ok(docker(e, 'docker20', ['save', '-o', tar, TAG]), 'docker save');
    built = tar;
  });

  it('--add-file and --add-layer on the docker-legacy save: docker run sees the files on Docker 20.10 and Docker 28 (containerd store)', { timeout: 300_000 }, (t) => {
    const e = engines(t);
    if (!e) return;
    const s = sources();
    const out = join(work, 'added-legacy.tar');
    const r = ok(cli(['edit', image(), '-o', out, '--json', ...ADD(s)]), 'copyedit --add-file');
    const rep = JSON.parse(r.stdout) as { layout: string; images: { newId: string }[] };
    assert.equal(rep.layout, 'docker-legacy');
    for (const which of ['docker20', 'docker28c'] as const) {
      const refs = load(e, which, out);
      assert.deepEqual(refs, [TAG], `${which}: loaded refs`);
      assert.equal(cat(e, which, TAG, ...PATHS), EXPECT(s), `${which}: docker run sees the added files`);
      const i = dockerInspect(e, which, TAG);
      assert.equal(i?.RootFS?.Layers?.length, 4, `${which}: 2 layers of the build + 2 added`);
    }
  });

  it("--add-file on Docker 28 containerd store's own OCI save, written in its layout, runs there", { timeout: 300_000 }, (t) => {
    const e = engines(t);
    if (!e) return;
    const s = sources();
    const ref = `${REPO}:${RUN_ID}-c`;
    load(e, 'docker28c', image());
    ok(docker(e, 'docker28c', ['tag', TAG, ref]));
    remember('docker28c', ref);
    const saved = join(work, 'd28c.tar');
    ok(docker(e, 'docker28c', ['save', '-o', saved, ref]), 'docker28c save');
    const out = join(work, 'added-d28c.tar');
    const rep = JSON.parse(ok(cli(['edit', saved, '-o', out, '--json', ...ADD(s)]), 'copyedit').stdout) as { layout: string; conversion: { to: string } };
    assert.equal(rep.conversion.to, 'docker', 'written in the layout it was read in');
    const refs = load(e, 'docker28c', out);
    assert.ok(refs.includes(ref), `docker28c loaded ${refs.join(', ')}`);
    assert.equal(cat(e, 'docker28c', ref, ...PATHS), EXPECT(s));
  });
});

/** A shell command run in the image through busybox. */
function sh(e: Engines, which: AnyDocker, ref: string, script: string): string {
  return ok(docker(e, which, ['run', '--rm', '--network', 'none', '--entrypoint', '/bin/sh', ref, '-c', script], { timeout: 120_000 }), `docker run on ${which}`).stdout;
}

const SECRET = `copyedit-secret-${RUN_ID}-0123456789abcdef`;
/** Every mode, owner, type and link target under / on the image's own file system. */
const LISTING = 'find / -xdev | sort | while read -r p; do stat -c "%n %a %u %g %F" "$p"; if [ -L "$p" ]; then echo "-> $(readlink "$p")"; fi; done';

describe('--rm-path and --flatten on real engines', () => {
  it('--rm-path: the file is gone in docker run (Docker 20.10, Docker 28 containerd store) and its bytes are in no layer', { timeout: 300_000 }, (t) => {
    const e = engines(t);
    if (!e) return;
    const secret = join(work, 'id.key');
    writeFileSync(secret, SECRET);
    const withSecret = join(work, 'with-secret.tar');
    ok(cli(['edit', image(), '-o', withSecret, '--add-file', `${secret}:/etc/keys/`, '--add-file', `${join(work, 'hello.txt')}:/etc/keep.txt`]), 'add the secret');
    assert.ok(readFileSync(withSecret).includes(SECRET), 'the secret is in the input');
    const out = join(work, 'purged.tar');
    const rep = JSON.parse(ok(cli(['edit', withSecret, '-o', out, '--json', '--rm-path', '/etc/keys']), 'copyedit --rm-path').stdout) as { conversion: { layers: { removed?: string[] }[] } };
    assert.deepEqual(
      rep.conversion.layers.filter((l) => l.removed).map((l) => l.removed),
      [['etc/keys/id.key']], // --add-file writes no parent directory entries (the appliers make them)
    );
    // docker-legacy layers are plain tars: the bytes are searched in the whole output as it is
    assert.equal(readFileSync(out).includes(SECRET), false, 'the secret bytes are still in the output');
    for (const which of ['docker20', 'docker28c'] as const) {
      load(e, which, out);
      assert.equal(sh(e, which, TAG, 'test ! -e /etc/keys && cat /etc/keep.txt'), readFileSync(join(work, 'hello.txt'), 'utf8'), `${which}: /etc/keys gone, the rest there`);
    }
  });

  it('--flatten: the find / -xdev listing (modes, owners, link targets) equals the original; the image runs', { timeout: 300_000 }, (t) => {
    const e = engines(t);
    if (!e) return;
    // every directory as an entry of its own: a parent missing from the layers is made by the
    // engine's applier, with mode 0600 on Docker 20.10 (moby pkg/archive), 0755 in the merged tree
    const tree = join(work, 'flat-tree');
    mkdirSync(join(tree, 'etc/added'), { recursive: true });
    mkdirSync(join(tree, 'opt/tree/conf'), { recursive: true });
    writeFileSync(join(tree, 'etc/added/hello.txt'), 'hello\n');
    writeFileSync(join(tree, 'opt/tree/conf/app.conf'), 'mode=added\n');
    if (!existsSync(join(tree, 'opt/tree/link.conf'))) symlinkSync('conf/app.conf', join(tree, 'opt/tree/link.conf'));
    const layered = join(work, 'layered.tar');
    ok(cli(['edit', image(), '-o', layered, '--add-layer', tree]), 'add a layer');
    const ref = `${REPO}:${RUN_ID}-flat`;
    ok(cli(['edit', layered, '-o', join(work, 'layered-tagged.tar'), '--tag', ref]), 'tag');
    load(e, 'docker20', join(work, 'layered-tagged.tar'));
    const before = sh(e, 'docker20', ref, LISTING);
    const flat = join(work, 'flat.tar');
    ok(cli(['edit', join(work, 'layered-tagged.tar'), '-o', flat, '--flatten']), 'copyedit --flatten');
    load(e, 'docker20', flat);
    const i = dockerInspect(e, 'docker20', ref);
    assert.equal(i?.RootFS?.Layers?.length, 1, 'one layer');
    const after = sh(e, 'docker20', ref, LISTING);
    assert.ok(before.split('\n').length > 200, `busybox and its links are listed (${before.split('\n').length} lines: ${before.slice(0, 300)})`);
    assert.equal(after, before);
    assert.equal(cat(e, 'docker20', ref, '/etc/added/hello.txt', '/opt/tree/link.conf'), 'hello\nmode=added\n');
  });
});

describe('--add-ca-cert on real engines', () => {
  it('a Debian-shaped image (bundle and certificate directory): docker run sees the certificate in the bundle, on Docker 20.10 and Docker 28 (containerd store)', { timeout: 300_000 }, (t) => {
    const e = engines(t);
    if (!e) return;
    const old = '-----BEGIN CERTIFICATE-----\nMIIBdistro\n-----END CERTIFICATE-----\n';
    const cert = '-----BEGIN CERTIFICATE-----\nMIIBcopyedit\n-----END CERTIFICATE-----\n';
    const tree = join(work, 'debian-shape');
    mkdirSync(join(tree, 'etc/ssl/certs'), { recursive: true });
    mkdirSync(join(tree, 'usr/local/share/ca-certificates'), { recursive: true });
    writeFileSync(join(tree, 'etc/ssl/certs/ca-certificates.crt'), old);
    writeFileSync(join(work, 'corp.pem'), cert);
    const debian = join(work, 'debian.tar');
    const ref = `${REPO}:${RUN_ID}-ca`;
    ok(cli(['edit', image(), '-o', debian, '--add-layer', tree, '--tag', ref]), 'a Debian-shaped image');
    const out = join(work, 'debian-ca.tar');
    ok(cli(['edit', debian, '-o', out, '--add-ca-cert', join(work, 'corp.pem')]), 'copyedit --add-ca-cert');
    for (const which of ['docker20', 'docker28c'] as const) {
      load(e, which, out);
      assert.equal(cat(e, which, ref, '/etc/ssl/certs/ca-certificates.crt', '/usr/local/share/ca-certificates/corp.crt'), old + cert + cert, `${which}: the bundle and the single file`);
    }
  });
});

describe('--rebase-from/--rebase-onto on a real engine', () => {
  it('an image made on the busybox base, rebased onto a patched base, runs on Docker 20.10 and sees both', { timeout: 300_000 }, (t) => {
    const e = engines(t);
    if (!e) return;
    writeFileSync(join(work, 'app-file.txt'), 'the app\n');
    writeFileSync(join(work, 'patch-file.txt'), 'the patch\n');
    const app = join(work, 'app-on-old.tar');
    const patched = join(work, 'patched-base.tar');
    const ref = `${REPO}:${RUN_ID}-rebased`;
    ok(cli(['edit', image(), '-o', app, '--add-file', `${join(work, 'app-file.txt')}:/app.txt`, '--tag', ref]), 'the app image');
    ok(cli(['edit', image(), '-o', patched, '--add-file', `${join(work, 'patch-file.txt')}:/patch.txt`]), 'the patched base');
    const out = join(work, 'rebased.tar');
    ok(cli(['edit', app, '-o', out, '--rebase-from', image(), '--rebase-onto', patched]), 'copyedit --rebase-*');
    load(e, 'docker20', out);
    assert.equal(cat(e, 'docker20', ref, '/patch.txt', '/app.txt'), 'the patch\nthe app\n');
  });
});

describe('differential: crane append', () => {
  it('the DiffID of an appended uncompressed tar is the one crane append gives it (and its sha256)', { timeout: 120_000 }, (t) => {
    if (!existsSync(CRANE)) {
      if (process.env.CI === 'true') assert.fail(`${CRANE} is missing (scripts/engines/install.sh installs it)`);
      t.skip(`${CRANE} is missing`);
      return;
    }
    const s = sources();
    const craneOut = join(work, 'crane-append.tar');
    ok(run(CRANE, ['append', '-f', s.tar, '-t', 'example/crane:1', '-o', craneOut]), 'crane append');
    const manifest = JSON.parse(tarFile(craneOut, 'manifest.json')) as { Config: string }[];
    const config = JSON.parse(tarFile(craneOut, manifest[0]!.Config)) as { rootfs: { diff_ids: string[] } };
    const craneDiff = config.rootfs.diff_ids.at(-1);
    // copyedit appends the same tar to crane's own output (a crane tarball in, the same layout out)
    const out = join(work, 'copyedit-append.tar');
    const rep = JSON.parse(ok(cli(['edit', craneOut, '-o', out, '--json', '--add-layer', s.tar]), 'copyedit --add-layer').stdout) as {
      conversion: { layers: { diffId: string; added?: boolean }[] };
    };
    const added = rep.conversion.layers.filter((l) => l.added);
    assert.equal(added.length, 1);
    assert.equal(added[0]!.diffId, craneDiff, 'same DiffID as crane append');
  });
});
