/**
 * OCI image layout directories with the daemonless tools that make and read them: skopeo
 * (`oci:DIR`) and umoci. Inputs are made by those tools from the samples; outputs are read back by
 * them; failures and interrupts leave nothing behind. Skipped where skopeo or umoci is missing.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTar, sha } from '../unit/fixtures.js';
import { BIN, STACK, runCli } from '../unit/hostile-util.js';
import { OciBuilder, named } from '../unit/oci-builder.js';

const SAMPLES = new URL('../../../samples/', import.meta.url).pathname;
const have = (cmd: string) => spawnSync(cmd, ['--version']).status === 0;
const TOOLS = have('skopeo') && have('umoci');

function run(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...(cwd ? { cwd } : {}), maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** The directory holds oci-layout, index.json and blobs/sha256/<hex> named by their content, nothing else. */
function assertPureLayout(dir: string): void {
  const names = readdirSync(dir, { recursive: true }).map(String).sort();
  for (const n of names) {
    if (n === 'oci-layout' || n === 'index.json' || n === 'blobs' || n === 'blobs/sha256') continue;
    const m = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(n);
    assert.ok(m, `${dir}: ${n} does not belong in an OCI layout`);
    assert.equal(sha(readFileSync(join(dir, n))), m[1], `${n}: content does not match its name`);
  }
}

const temporaries = (parent: string) => readdirSync(parent).filter((n) => n.includes('.copyedit-'));

describe('OCI layout directories with skopeo and umoci (issue 13)', { skip: TOOLS ? false : 'skopeo or umoci is not installed' }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'copyedit-ocidir-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const sample of ['docker26-oci.tar', 'docker28c-amd64.tar']) {
    it(`${sample} -> skopeo oci:DIR -> copyedit -> DIR2/ -> skopeo docker-archive and umoci see the edit`, async () => {
      const base = join(dir, sample.replace('.tar', ''));
      await mkdir(base);
      const input = join(base, 'in');
      run('skopeo', ['copy', '-q', `docker-archive:${join(SAMPLES, sample)}`, `oci:${input}:app`]);
      const out = join(base, 'out');
      const r = await runCli(['edit', input, '-o', `${out}/`, '--label', 'org.example.edited=yes', '--rm-volume', 'all', '--entrypoint', '/bin/edited']);
      assert.equal(r.code, 0, r.stderr);
      assertPureLayout(out);
      assert.deepEqual(temporaries(base), []);
      // skopeo reads the directory and writes an archive docker load takes
      const back = join(base, 'back.tar');
      run('skopeo', ['copy', '-q', `oci:${out}:app`, `docker-archive:${back}:example/edited:1`]);
      const cfg = JSON.parse(run('skopeo', ['inspect', '--config', `docker-archive:${back}`])) as { config: { Labels?: Record<string, string>; Entrypoint?: string[]; Volumes?: unknown } };
      assert.equal(cfg.config.Labels?.['org.example.edited'], 'yes');
      assert.deepEqual(cfg.config.Entrypoint, ['/bin/edited']);
      assert.equal(cfg.config.Volumes, undefined);
      // umoci: stat shows our history entry, unpack gives a bundle whose config carries the edit
      const stat = JSON.parse(run('umoci', ['stat', '--image', `${out}:app`, '--json'])) as { history: { created_by?: string }[] };
      assert.ok(
        stat.history.some((h) => h.created_by?.startsWith('copyedit: ')),
        JSON.stringify(stat.history),
      );
      const bundle = join(base, 'bundle');
      run('umoci', ['unpack', '--image', `${out}:app`, bundle]);
      const runtime = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { process: { args: string[] } };
      assert.equal(runtime.process.args[0], '/bin/edited');
      // and our own reader agrees with skopeo's copy
      const v = await runCli(['verify', out]);
      assert.equal(v.code, 0, v.stderr);
      const i = await runCli(['inspect', out, '--json']);
      assert.equal(i.code, 0, i.stderr);
      assert.match(i.stdout.toString(), /org\.example\.edited/);
    });
  }

  it('a Docker <= 24 archive with --format oci-dir (or --format oci -o DIR/) becomes an OCI layout directory that skopeo and umoci read; docker-legacy into a directory: exit 2', async () => {
    const base = join(dir, 'legacy-convert');
    await mkdir(base);
    for (const [i, args] of [
      ['--format', 'oci-dir', '-o', join(base, 'a')],
      ['--format', 'oci', '-o', `${join(base, 'b')}/`],
    ].entries()) {
      const out = args[3]!.replace(/\/$/, '');
      const r = await runCli(['edit', join(SAMPLES, 'docker20-legacy.tar'), ...args, '--rm-volume', 'all', '--entrypoint', '/bin/edited']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout.toString() + r.stderr, /docker-legacy -> oci/);
      assertPureLayout(out);
      const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { manifests: { mediaType: string; annotations?: Record<string, string> }[] };
      assert.ok(index.manifests.every((m) => m.mediaType === 'application/vnd.oci.image.manifest.v1+json'));
      const back = join(base, `back${i}.tar`);
      run('skopeo', ['copy', '-q', `oci:${out}:example/app:1.0`, `docker-archive:${back}:example/edited:1`]);
      const cfg = JSON.parse(run('skopeo', ['inspect', '--config', `docker-archive:${back}`])) as { config: { Entrypoint?: string[]; Volumes?: unknown } };
      assert.deepEqual(cfg.config.Entrypoint, ['/bin/edited']);
      assert.equal(cfg.config.Volumes, undefined);
      const stat = JSON.parse(run('umoci', ['stat', '--image', `${out}:example/app:1.0`, '--json'])) as { history: { created_by?: string }[] };
      assert.ok(stat.history.some((h) => h.created_by?.startsWith('copyedit: ')));
    }
    const r = await runCli(['edit', join(SAMPLES, 'docker26-oci.tar'), '--format', 'docker-legacy', '-o', `${join(base, 'c')}/`, '--label', 'a=b']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot hold the docker-legacy layout/);
    assert.equal(existsSync(join(base, 'c')), false);
    assert.deepEqual(temporaries(base), []);
  });

  it('a layout umoci made (unreferenced blobs of earlier steps and all) is edited; umoci and skopeo read the result', async () => {
    const base = join(dir, 'umoci');
    await mkdir(base);
    const u = join(base, 'u');
    run('umoci', ['init', '--layout', u]);
    run('umoci', ['new', '--image', `${u}:t`]);
    await writeFile(join(base, 'f.txt'), 'hello\n');
    run('umoci', ['insert', '--image', `${u}:t`, join(base, 'f.txt'), '/f.txt']);
    run('umoci', ['config', '--image', `${u}:t`, '--config.env', 'SECRET=1', '--config.volume', '/data', '--config.label', 'keep=me']);
    const out = join(base, 'out');
    const r = await runCli(['edit', u, '--format', 'oci-dir', '-o', out, '--rm-env', 'SECRET', '--rm-volume', 'all']);
    assert.equal(r.code, 0, r.stderr);
    assertPureLayout(out);
    const stat = JSON.parse(run('umoci', ['stat', '--image', `${out}:t`, '--json'])) as { history: unknown[] };
    assert.ok(stat.history.length >= 2);
    const back = join(base, 'back.tar');
    run('skopeo', ['copy', '-q', `oci:${out}:t`, `docker-archive:${back}:example/u:1`]);
    const cfg = JSON.parse(run('skopeo', ['inspect', '--config', `docker-archive:${back}`])) as { config: { Env?: string[]; Labels?: Record<string, string>; Volumes?: unknown } };
    assert.ok(!(cfg.config.Env ?? []).some((e) => e.startsWith('SECRET=')), JSON.stringify(cfg.config.Env));
    assert.equal(cfg.config.Labels?.keep, 'me');
    assert.equal(cfg.config.Volumes, undefined);
  });

  it('round trip: dir -> tar -> dir gives the same layout, byte for byte, as dir -> dir; skopeo reads it', async () => {
    const base = join(dir, 'rt');
    await mkdir(base);
    const input = join(base, 'in');
    run('skopeo', ['copy', '-q', `docker-archive:${join(SAMPLES, 'docker26-oci.tar')}`, `oci:${input}:app`]);
    const direct = join(base, 'direct');
    let r = await runCli(['edit', input, '-o', `${direct}/`, '--label', 'rt=1']);
    assert.equal(r.code, 0, r.stderr);
    const tar = join(base, 'mid.tar');
    r = await runCli(['edit', input, '-o', tar, '--label', 'rt=1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await runCli(['verify', tar])).code, 0);
    // the second edit finds the label set already: nothing changes, and the layout comes back whole
    const back = join(base, 'back');
    r = await runCli(['edit', tar, '-o', `${back}/`, '--label', 'rt=1']);
    assert.equal(r.code, 0, r.stderr);
    const files = (d: string) =>
      new Map(
        readdirSync(d, { recursive: true })
          .map(String)
          .sort()
          .filter((n) => n.startsWith('blobs/sha256/') || !n.startsWith('blobs'))
          .map((n) => [n, readFileSync(join(d, n))]),
      );
    assert.deepEqual(files(back), files(direct));
    run('skopeo', ['copy', '-q', `oci:${back}:app`, `docker-archive:${join(base, 'x.tar')}:a/b:c`]);
    const d = await runCli(['diff', input, back, '--json']);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout.toString(), /rt/);
  });

  describe('refusals leave nothing behind', () => {
    it('a non-empty target: exit 2, its files untouched', async () => {
      const base = join(dir, 'nonempty');
      await mkdir(join(base, 'target'), { recursive: true });
      await writeFile(join(base, 'target', 'mine'), 'x');
      const r = await runCli(['edit', join(SAMPLES, 'docker26-oci.tar'), '-o', join(base, 'target/'), '--label', 'a=b']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /the directory is not empty \(1 entry\);.* remove it or name another/);
      assert.doesNotMatch(r.stderr, STACK);
      assert.deepEqual(readdirSync(join(base, 'target')), ['mine']);
      assert.deepEqual(temporaries(base), []);
    });

    it('exit 2: a Docker <= 24 archive (no index.json) naming --format oci; --gzip, -o - or a batch with a directory output', async () => {
      const base = join(dir, 'legacy');
      await mkdir(base);
      let r = await runCli(['edit', join(SAMPLES, 'docker20-legacy.tar'), '-o', join(base, 'out/'), '--label', 'a=b']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /no index\.json .*--format oci/);
      r = await runCli(['edit', join(SAMPLES, 'docker26-oci.tar'), '-o', join(base, 'out/'), '--gzip', '--label', 'a=b']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--gzip compresses an archive file; an OCI image layout directory/);
      r = await runCli(['edit', join(SAMPLES, 'docker26-oci.tar'), '--format', 'oci-dir', '-o', '-', '--label', 'a=b']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--format oci-dir writes a directory, not standard output/);
      r = await runCli(['edit', join(SAMPLES, 'docker26-oci.tar'), join(SAMPLES, 'docker28c-amd64.tar'), '--format', 'oci-dir', '--out-dir', join(base, 'b'), '--label', 'a=b']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--format oci-dir writes one directory: edit one archive at a time/);
      assert.deepEqual(readdirSync(base), []);
    });

    it("a blob name that is a link in the archive: exit 3; a symbolic link among an input directory's blobs: exit 3", async () => {
      const base = join(dir, 'badname');
      await mkdir(base);
      const b = new OciBuilder();
      const img = await b.image('linux', 'amd64');
      const tar = await makeTar([
        ...[...b.blobs].map(([hex, data]) => ({ name: `blobs/sha256/${hex}`, data })),
        { name: `blobs/sha256/${'a'.repeat(64)}`, type: 'symlink' as const, linkname: '../../../../etc/passwd' },
        { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
        { name: 'index.json', data: JSON.stringify({ schemaVersion: 2, manifests: [named(img.desc, 'x/y:1')] }) },
      ]);
      await writeFile(join(base, 'in.tar'), tar);
      let r = await runCli(['edit', join(base, 'in.tar'), '-o', join(base, 'out/'), '--label', 'a=b']);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /is a symbolic link; an OCI layout directory holds each of its files as a regular file/);
      assert.deepEqual(readdirSync(base), ['in.tar']);
      const layout = join(base, 'layout');
      run('skopeo', ['copy', '-q', `docker-archive:${join(SAMPLES, 'docker26-oci.tar')}`, `oci:${layout}:app`]);
      await symlink('/etc/passwd', join(layout, 'blobs', 'sha256', 'b'.repeat(64)));
      r = await runCli(['inspect', layout]);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /blobs\/sha256\/b{64}: is a symbolic link in an OCI layout directory; a blob must be a regular file/);
    });

    for (const [signal, code] of [
      ['SIGTERM', 143],
      ['SIGINT', 130],
    ] as const) {
      it(`${signal} while the layout is being written: exit ${code}, no directory, no temporary`, async () => {
        const base = join(dir, `sig-${signal}`);
        await mkdir(base);
        const b = new OciBuilder();
        const layerBytes = await makeTar([{ name: 'big.bin', data: randomBytes(24 << 20) }]);
        const l = b.blob(layerBytes, 'application/vnd.oci.image.layer.v1.tar');
        const cfg = b.blob({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [l.digest] } }, 'application/vnd.oci.image.config.v1+json');
        const m = b.blob({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: cfg, layers: [l] }, 'application/vnd.oci.image.manifest.v1+json');
        const input = await b.archive([named(m, 'example/big:1')]);
        const out = join(base, 'out');
        const child = spawn(process.execPath, [BIN, 'edit', '-', '-o', `${out}/`, '-q', '--label', 'a=b'], { stdio: ['pipe', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.stdin.on('error', () => {});
        const exited = new Promise<number | null>((res) => child.on('close', (c) => res(c)));
        // half the input and the pipe left open: the run waits mid-layer, its temporary directory made
        child.stdin.write(input.subarray(0, input.length >> 1));
        const end = Date.now() + 10000;
        while (!(await readdir(base)).some((n) => n.includes('.copyedit-') && existsSync(join(base, n, 'blobs')))) {
          if (Date.now() > end) throw new Error(`no temporary directory: ${stderr}`);
          await new Promise((r) => setTimeout(r, 10));
        }
        child.kill(signal);
        assert.equal(await exited, code, stderr);
        child.stdin.destroy();
        assert.equal(stderr.trim(), `copyedit: interrupted by ${signal}; no output was written`);
        assert.deepEqual(await readdir(base), []);
      });
    }
  });
});
