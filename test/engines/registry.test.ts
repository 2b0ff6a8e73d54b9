/**
 * Issue 22 against real registries and clients: Debian's docker-registry (distribution 2.8),
 * started twice by scripts/engines/registry.sh (plain HTTP, and TLS with a generated CA and
 * htpasswd Basic auth). An image pushed by skopeo, an SBOM referrer attached by oras (the
 * `sha256-<hex>` fallback: distribution 2.8 has no referrers API), then:
 *   - in place: crane and skopeo read the edit, crane validate --remote passes, oras discover
 *     finds the referrer on the new digest, the registry's access log shows no layer read or sent;
 *   - across repositories: layers mounted (201 on ?mount=);
 *   - across registries, plain -> TLS+auth: --cert-dir and --creds; a wrong password and an
 *     unknown CA each exit 7 with one line, nothing pushed, no password printed;
 *   - Docker 28 (both stores) and ctr 2.1 pull the result and show the edit;
 *   - bytes and time beside `crane mutate --label` on the same image, through a counting proxy.
 * Run under the engine lock: flock /tmp/copyedit-engines.lock node --test dist/test/engines/registry.test.js
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { BIN, ROOT, RUN_ID, STATE, docker, ok, requireEngines, run } from './harness.js';

const CLIENTS = '/var/cache/copyedit-engines/clients/usr/bin';
const CRANE = join(CLIENTS, 'crane');
const ORAS = join(CLIENTS, 'oras');
const SAMPLE = join(ROOT, 'samples', 'docker28-classic.tar');

interface Regs {
  plain: string;
  plainLog: string;
  tls: string;
  certs: string;
  user: string;
  password: string;
}

function startRegistries(): Regs | string {
  if (!existsSync('/usr/bin/docker-registry')) return 'docker-registry is not installed (scripts/engines/install.sh)';
  const r = run('bash', [join(ROOT, 'scripts', 'engines', 'registry.sh'), 'start'], { env: { ...process.env, COPYEDIT_ENGINE_STATE: STATE }, timeout: 60_000 });
  if (r.status !== 0) return `registry.sh failed: ${r.stderr.slice(-300)}`;
  const env: Record<string, string> = {};
  for (const m of readFileSync(join(STATE, 'registry.env'), 'utf8').matchAll(/export (\w+)='([^']*)'/g)) env[m[1]!] = m[2]!;
  return {
    plain: env.REG_PLAIN!,
    plainLog: env.REG_PLAIN_LOG!,
    tls: env.REG_TLS!,
    certs: env.REG_TLS_CERTS!,
    user: env.REG_TLS_USER!,
    password: readFileSync(env.REG_TLS_PASSWORD_FILE!, 'utf8').trim(),
  };
}

function copyedit(args: string[], env: NodeJS.ProcessEnv = {}) {
  return run(process.execPath, [BIN, ...args], { env: { ...process.env, HOME: tmpdir(), DOCKER_CONFIG: join(tmpdir(), 'none'), ...env }, timeout: 120_000 });
}

/** A program run without blocking the event loop (the counting proxy lives in this process). */
function runAsync(bin: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { env, timeout: 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function craneConfig(ref: string): { config: { Labels?: Record<string, string> | null; Volumes?: unknown } } {
  return JSON.parse(ok(run(CRANE, ['config', '--insecure', ref]), 'crane config').stdout);
}

function craneDigest(ref: string): string {
  return ok(run(CRANE, ['digest', '--insecure', ref]), 'crane digest').stdout.trim();
}

/** A proxy in front of a registry counting body bytes each way (for copyedit and crane alike). */
async function countingProxy(target: string, o: { dieAfterFirstBlob?: boolean } = {}): Promise<{ host: string; counts: { up: number; down: number }; close: () => Promise<void> }> {
  const counts = { up: 0, down: 0 };
  const [h, p] = target.split(':');
  let dead = false;
  const server = http.createServer((req, res) => {
    if (dead) return void req.socket.destroy(); // as if the registry had stopped
    if (o.dieAfterFirstBlob && req.method === 'PUT' && /\/blobs\/uploads\//.test(req.url ?? ''))
      res.on('finish', () => {
        dead = true;
      });
    const fwd = http.request({ host: h, port: Number(p), method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.on('data', (c: Buffer) => {
        counts.down += c.length;
      });
      up.pipe(res);
    });
    req.on('data', (c: Buffer) => {
      counts.up += c.length;
    });
    req.pipe(fwd);
    fwd.on('error', () => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    counts,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('registries: edit where the image lives (issue 22)', { concurrency: false }, () => {
  let regs: Regs | string;
  const repo = `e2e${RUN_ID}`;
  before(() => {
    regs = startRegistries();
  });

  it('edits in place; crane, skopeo and oras read the edit and the re-pointed referrer; no layer moves', (t) => {
    if (typeof regs === 'string') return t.skip(regs);
    const ref = `${regs.plain}/${repo}/app:1`;
    ok(run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `docker-archive:${SAMPLE}`, `docker://${ref}`]), 'skopeo copy');
    const sbom = join(tmpdir(), `sbom-${RUN_ID}.json`);
    writeFileSync(sbom, '{"spdxVersion":"SPDX-2.3"}');
    ok(run(ORAS, ['attach', '--plain-http', '--artifact-type', 'application/spdx+json', ref, `${basename(sbom)}:application/spdx+json`], { cwd: tmpdir() }), 'oras attach');
    const before = craneDigest(ref);
    const logStart = readFileSync(regs.plainLog, 'utf8').length;
    const r = ok(copyedit(['edit', `docker://${ref}`, '-o', `docker://${ref}`, '--rm-volume', 'all', '--label', 'edited=yes', '--json']), 'copyedit edit');
    const report = JSON.parse(r.stdout) as { registry: { digest: string; bytesSent: number; bytesReceived: number } };
    const now = craneDigest(ref);
    assert.notEqual(now, before);
    assert.equal(report.registry.digest, now);
    const cfg = craneConfig(ref);
    assert.equal(cfg.config.Labels?.edited, 'yes');
    assert.ok(!cfg.config.Volumes);
    const sk = JSON.parse(ok(run('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`]), 'skopeo inspect').stdout) as { Labels: Record<string, string>; Digest: string };
    assert.equal(sk.Labels.edited, 'yes');
    assert.equal(sk.Digest, now);
    ok(run(CRANE, ['validate', '--insecure', `--remote=${ref}`]), 'crane validate --remote');
    const disc = ok(run(ORAS, ['discover', '--plain-http', '--format', 'json', ref]), 'oras discover').stdout;
    assert.match(disc, /application\/spdx\+json/, `the SBOM referrer follows the edit: ${disc}`);
    const log = readFileSync(regs.plainLog, 'utf8').slice(logStart);
    // copyedit's own reads (crane, skopeo and oras read after it, in the same log)
    const layerReads = log.split('\n').filter((l) => /"GET \/v2\/[^ ]+\/blobs\/sha256:/.test(l) && /"copyedit"$/.test(l));
    assert.ok(report.registry.bytesSent < 100_000 && report.registry.bytesReceived < 100_000, JSON.stringify(report.registry));
    assert.ok(layerReads.length <= 1, `only the config is read: ${layerReads.join('\n')}`);
  });

  it('a BuildKit two-platform index with attestations and an oras referrer, edited in place as one image', (t) => {
    if (typeof regs === 'string') return t.skip(regs);
    const ref = `${regs.plain}/${repo}/multi:1`;
    const sample = join(ROOT, 'samples', 'docker28c-multi.tar');
    // seeded byte for byte by crane (skopeo 1.9 rewrites the platform manifests, which leaves the
    // attestations naming digests that are gone, and an edit while seeding would drop them first)
    const layout = mkdtempSync(join(tmpdir(), 'multi-layout-'));
    ok(run('tar', ['-xf', sample, '-C', layout]), 'tar -x');
    const top = (JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] }).manifests[0]!.digest;
    ok(run(CRANE, ['push', '--insecure', '--index', layout, `${regs.plain}/${repo}/multi:seed`]), 'crane push --index');
    ok(run(CRANE, ['tag', '--insecure', `${regs.plain}/${repo}/multi@${top}`, '1']), 'crane tag');
    rmSync(layout, { recursive: true, force: true });
    const sbom = join(tmpdir(), `sbom-m-${RUN_ID}.json`);
    writeFileSync(sbom, '{"spdxVersion":"SPDX-2.3"}');
    ok(run(ORAS, ['attach', '--plain-http', '--artifact-type', 'application/spdx+json', ref, `${basename(sbom)}:application/spdx+json`], { cwd: tmpdir() }), 'oras attach');
    const r = ok(copyedit(['edit', `docker://${ref}`, '-o', `docker://${ref}`, '--rm-volume', 'all', '--json']), 'copyedit edit');
    const report = JSON.parse(r.stdout) as { warnings: string[]; images: { warnings: string[] }[] };
    const index = JSON.parse(ok(run(CRANE, ['manifest', '--insecure', ref]), 'crane manifest').stdout) as { manifests: { platform?: { architecture: string } }[] };
    assert.deepEqual(
      index.manifests.map((m) => m.platform?.architecture).filter((a) => a !== 'unknown'),
      ['amd64', 'arm64'],
    );
    assert.ok(
      [...report.warnings, ...report.images.flatMap((i) => i.warnings)].some((w) => /attestation/i.test(w)),
      'the attestations of the old bytes are dropped, said',
    );
    for (const p of ['linux/amd64', 'linux/arm64']) {
      const cfg = JSON.parse(ok(run(CRANE, ['config', '--insecure', '--platform', p, ref]), `crane config ${p}`).stdout) as { config: { Volumes?: unknown } };
      assert.ok(!cfg.config.Volumes, p);
    }
    const disc = ok(run(ORAS, ['discover', '--plain-http', '--format', 'json', ref]), 'oras discover').stdout;
    assert.match(disc, /application\/spdx\+json/, `the SBOM referrer follows the index: ${disc}`);
  });

  it('across repositories: layers mounted, not sent', (t) => {
    if (typeof regs === 'string') return t.skip(regs);
    const src = `${regs.plain}/${repo}/app:1`;
    const dst = `${regs.plain}/${repo}/other:2`;
    const logStart = readFileSync(regs.plainLog, 'utf8').length;
    ok(copyedit(['edit', `docker://${src}`, '-o', `docker://${dst}`, '--label', 'moved=1']), 'copyedit edit');
    assert.equal(craneConfig(dst).config.Labels?.moved, '1');
    const log = readFileSync(regs.plainLog, 'utf8').slice(logStart);
    assert.match(log, /POST \/v2\/[^ ]+\/blobs\/uploads\/\?mount=sha256/);
  });

  it('across registries into TLS + Basic auth; wrong password and unknown CA refused in one line', (t) => {
    if (typeof regs === 'string') return t.skip(regs);
    const src = `${regs.plain}/${repo}/app:1`;
    const dst = `${regs.tls}/${repo}/app:1`;
    const bad = copyedit(['edit', `docker://${src}`, '-o', `docker://${dst}`, '--label', 'x=1', '--cert-dir', regs.certs, '--creds', `${regs.user}:wrong-${regs.password}`]);
    assert.equal(bad.status, 7, bad.stderr);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    assert.ok(!(bad.stdout + bad.stderr).includes(regs.password));
    const noCa = copyedit(['edit', `docker://${src}`, '-o', `docker://${dst}`, '--label', 'x=1', '--creds', `${regs.user}:${regs.password}`]);
    assert.equal(noCa.status, 7, noCa.stderr);
    assert.match(noCa.stderr, /unknown CA|self-signed/);
    assert.ok(!(noCa.stdout + noCa.stderr).includes(regs.password));
    ok(copyedit(['edit', `docker://${src}`, '-o', `docker://${dst}`, '--label', 'x=1', '--cert-dir', regs.certs, '--creds', `${regs.user}:${regs.password}`]), 'copyedit to TLS');
    const cfg = JSON.parse(
      ok(run(CRANE, ['config', dst], { env: { ...process.env, SSL_CERT_FILE: join(regs.certs, 'ca.crt'), DOCKER_CONFIG: writeDockerConfig(regs) } }), 'crane config (TLS)').stdout,
    ) as { config: { Labels?: Record<string, string> } };
    assert.equal(cfg.config.Labels?.x, '1');
    assert.equal(cfg.config.Labels?.edited, 'yes');
  });

  it('Docker 20.10, Docker 28 (both stores) and ctr 2.1 pull the edited image and show the edit', (t) => {
    if (typeof regs === 'string') return t.skip(regs);
    const e = requireEngines(t);
    if (!e) return;
    const ref = `${regs.plain}/${repo}/app:1`;
    for (const which of ['docker20', 'docker28', 'docker28c'] as const) {
      ok(docker(e, which, ['pull', '-q', ref], { timeout: 120_000 }), `${which} pull`);
      const inspected = JSON.parse(ok(docker(e, which, ['image', 'inspect', ref]), 'inspect').stdout) as { Config: { Labels?: Record<string, string>; Volumes?: unknown } }[];
      assert.equal(inspected[0]!.Config.Labels?.edited, 'yes', which);
      assert.ok(!inspected[0]!.Config.Volumes, which);
      docker(e, which, ['rmi', ref]);
    }
    const ns = `reg${RUN_ID}`;
    ok(run(e.ctr21.bin, ['--address', e.ctr21.address, '-n', ns, 'images', 'pull', '--plain-http', ref], { timeout: 120_000 }), 'ctr 2.1 pull');
    run(e.ctr21.bin, ['--address', e.ctr21.address, '-n', ns, 'images', 'rm', ref]);
  });

  it('a push cut after the first blob (the registry gone) leaves the original tag pulling the original image', async (t) => {
    if (typeof regs === 'string') return t.skip(regs);
    const ref = `${repo}/cut:1`;
    ok(run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `docker-archive:${SAMPLE}`, `docker://${regs.plain}/${ref}`]), 'skopeo copy');
    const original = craneDigest(`${regs.plain}/${ref}`);
    const proxy = await countingProxy(regs.plain, { dieAfterFirstBlob: true });
    try {
      const r = await runAsync(process.execPath, [BIN, 'edit', `docker://${proxy.host}/${ref}`, '-o', `docker://${proxy.host}/${ref}`, '--label', 'cut=1', '--plain-http']);
      assert.equal(r.status, 7, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    } finally {
      await proxy.close();
    }
    assert.equal(craneDigest(`${regs.plain}/${ref}`), original);
    assert.ok(!craneConfig(`${regs.plain}/${ref}`).config.Labels?.cut);
  });

  it('bytes and time beside crane mutate --label on the same image (through a counting proxy)', async (t) => {
    if (typeof regs === 'string') return t.skip(regs);
    const proxy = await countingProxy(regs.plain);
    try {
      const big = `${repo}/big`;
      // a 40 MB random layer: what matters is that neither tool moves it
      const layer = join(tmpdir(), `layer-${RUN_ID}.tar`);
      ok(run('bash', ['-c', `head -c 40000000 /dev/urandom > ${layer}.bin && tar cf ${layer} -C ${tmpdir()} layer-${RUN_ID}.tar.bin`]), 'layer');
      ok(run(CRANE, ['append', '--insecure', '-f', layer, '-t', `${regs.plain}/${big}:1`]), 'crane append');
      const measure = async (argv: [string, string[]]) => {
        proxy.counts.up = 0;
        proxy.counts.down = 0;
        const t0 = process.hrtime.bigint();
        const r = await runAsync(argv[0], argv[1], { ...process.env, HOME: tmpdir() });
        const s = Number(process.hrtime.bigint() - t0) / 1e9;
        return { ok: r.status === 0, s, up: proxy.counts.up, down: proxy.counts.down, err: r.stderr };
      };
      const crane = await measure([CRANE, ['mutate', '--insecure', '--label', 'a=1', `${proxy.host}/${big}:1`, '-t', `${proxy.host}/${big}:crane`]]);
      const ce = await measure([process.execPath, [BIN, 'edit', `docker://${proxy.host}/${big}:1`, '-o', `docker://${proxy.host}/${big}:ce`, '--label', 'a=1', '--plain-http']]);
      t.diagnostic(`crane mutate --label: ${crane.s.toFixed(2)} s, ${crane.up} bytes up, ${crane.down} down`);
      t.diagnostic(`copyedit edit --label: ${ce.s.toFixed(2)} s, ${ce.up} bytes up, ${ce.down} down`);
      assert.ok(crane.ok, crane.err);
      assert.ok(ce.ok, ce.err);
      assert.ok(ce.up < 100_000 && ce.down < 100_000, `copyedit moved ${ce.up} up, ${ce.down} down`);
    } finally {
      await proxy.close();
    }
  });
});

function writeDockerConfig(regs: Regs): string {
  const dir = join(tmpdir(), `dcfg-${RUN_ID}`);
  run('mkdir', ['-p', dir]);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { [regs.tls]: { auth: Buffer.from(`${regs.user}:${regs.password}`).toString('base64') } } }));
  return dir;
}
