/**
 * Issue 24, findings 1, 2 and 4 at the CLI: the IDs each kind of engine shows, labelled, in the
 * one-line report, `--json` and `inspect`; never two kinds of digest on one arrow; daemon mode says
 * which daemon it talks to and prints the ID of that daemon's store. The IDs themselves are checked
 * against Docker 28's two stores in test/engines/ids.test.ts; the figures here are those.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const ROOT = new URL('../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/copyedit.js');
const SAMPLES = join(ROOT, 'samples');
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-ids-'));
});
after(() => rm(dir, { recursive: true, force: true }));

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { maxBuffer: 1 << 26, cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env } });
  return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

type Ids = { classic: { old: string; new: string }; containerd: { old: string; new: string } };
const short = (d: string) => d.slice(7, 19);

describe('the IDs engines show (finding 1)', () => {
  it('a Docker 20.10 archive: classic = config digest, containerd = the manifest its importer writes', () => {
    const out = join(dir, 'legacy.tar');
    const r = cli(['edit', join(SAMPLES, 'docker20-legacy.tar'), '-o', out, '--label', 'x=docker20-legacy']);
    assert.equal(r.code, 0, r.stderr);
    // (what docker images --no-trunc showed on Docker 28, classic store and containerd store)
    assert.match(r.stderr, /^example\/app:1\.0, example\/app:latest: classic e78d9c8f3911 -> fb3a29def0c0, containerd 1b74a0e6b85a -> 0364e2b31c1d \(set label x=docker20-legacy\)$/m);
    const j = JSON.parse(cli(['edit', join(SAMPLES, 'docker20-legacy.tar'), '-o', out, '--label', 'x=docker20-legacy', '--json']).stdout) as { images: { ids: Ids }[] };
    assert.deepEqual(j.images[0]!.ids, {
      classic: { old: 'sha256:e78d9c8f3911879a28f1c28fdfcb4f07391a5b65da20664a2dbbe7e174d265c8', new: 'sha256:fb3a29def0c042e72d584cdf2c3efa67fea29404d423176acfc5ca8d69bc733b' },
      containerd: { old: 'sha256:1b74a0e6b85a809914daafe055ec66efda27330361c6ce6d0d8b6ce991f0fbf4', new: 'sha256:0364e2b31c1db1d00c2a68f2dac25451f924e6055b12b30334222c18dc344c50' },
    });
  });
  it('a two-platform BuildKit index: classic = the config docker load takes, containerd = the index digest', () => {
    const r = cli(['edit', join(SAMPLES, 'docker28c-multi.tar'), '-o', join(dir, 'multi.tar'), '--label', 'x=docker28c-multi', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const ids = (JSON.parse(r.stdout) as { images: { ids: Ids }[] }).images[0]!.ids;
    assert.deepEqual([ids.classic.old, ids.classic.new, ids.containerd.old, ids.containerd.new].map(short), ['795bf99924ca', 'b90cde1c443c', 'fa6c6d653d7e', 'd545919e1466']);
  });
  it('inspect names both IDs, labelled', () => {
    const r = cli(['inspect', join(SAMPLES, 'docker20-legacy.tar')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /image ID +sha256:e78d9c8f3911\S+ +\(docker images on the classic store, podman images: e78d9c8f3911\)/);
    assert.match(r.stdout, /containerd ID +sha256:1b74a0e6b85a\S+ +\(docker images on the containerd store, nerdctl, ctr: 1b74a0e6b85a\)/);
    const j = JSON.parse(cli(['inspect', '--json', join(SAMPLES, 'docker28c-multi.tar')]).stdout) as { targets: { ids: { classic: string; containerd: string } }[] };
    assert.deepEqual([short(j.targets[0]!.ids.classic), short(j.targets[0]!.ids.containerd)], ['795bf99924ca', 'fa6c6d653d7e']);
  });
});

describe('a conversion never compares two kinds of digest (finding 2)', () => {
  it('docker-legacy -> oci: the config stays; the containerd ID moves from the imported manifest to the new index', () => {
    const r = cli(['edit', join(SAMPLES, 'docker20-legacy.tar'), '-o', join(dir, 'conv.tar'), '--format', 'oci']);
    assert.equal(r.code, 0, r.stderr);
    const line = r.stderr.split('\n')[0]!;
    assert.equal(line, 'example/app:1.0, example/app:latest: config unchanged (classic store ID e78d9c8f3911); containerd store ID 1b74a0e6b85a -> f3a7bed25423');
    assert.doesNotMatch(line, /was e78d9c8f3911/);
  });
});

describe('daemon mode names its daemon and its store (finding 4)', () => {
  /** A docker CLI stand-in: `info` and `context inspect` answer as Docker 28 does, save/load use files. */
  async function fakeDocker(store: 'containerd' | 'classic'): Promise<string> {
    const bin = join(dir, `docker-${store}`);
    const status = store === 'containerd' ? '[["driver-type","io.containerd.snapshotter.v1"]]' : 'null';
    await writeFile(
      bin,
      `#!/bin/sh
case "$1" in
  info) echo '28.5.2|${status}' ;;
  context) echo 'default|unix:///run/fake-docker.sock' ;;
  save) cat '${join(SAMPLES, 'docker26-oci.tar')}' ;;
  load) cat > /dev/null; echo 'Loaded image: example/app:new' ;;
  *) exit 1 ;;
esac
`,
    );
    await chmod(bin, 0o755);
    return bin;
  }
  for (const store of ['containerd', 'classic'] as const) {
    it(`${store} store: the daemon line, and the one ID that store shows`, async () => {
      const docker = await fakeDocker(store);
      const env = { DOCKER_HOST: '' };
      const r = cli(['FROM', 'example/app:1.0', 'INTO', 'example/app:new', 'SET', 'LABEL', 'a', 'b', '--docker', docker], env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`^copyedit: daemon: unix:///run/fake-docker\\.sock \\(docker context default\\), Docker 28\\.5\\.2, ${store} image store$`, 'm'));
      const j = JSON.parse(cli(['FROM', 'example/app:1.0', 'INTO', 'example/app:new', 'SET', 'LABEL', 'a', 'b', '--docker', docker, '--json'], env).stdout) as {
        images: { ids: Ids }[];
        daemon: { store: string; endpoint: string };
      };
      assert.equal(j.daemon.store, store);
      const p = j.images[0]!.ids[store];
      assert.match(r.stderr, new RegExp(`^example/app:1\\.0, example/app:latest: ID ${short(p.old)} -> ${short(p.new)} as example/app:new`, 'm'));
    });
  }
  it('DOCKER_HOST is named as such', async () => {
    const docker = await fakeDocker('classic');
    const r = cli(['FROM', 'example/app:1.0', 'INTO', 'example/app:new', 'SET', 'LABEL', 'a', 'b', '--docker', docker], { DOCKER_HOST: 'tcp://10.0.0.1:2375' });
    assert.match(r.stderr, /^copyedit: daemon: tcp:\/\/10\.0\.0\.1:2375 \(DOCKER_HOST\), Docker 28\.5\.2, classic image store$/m);
  });
});
