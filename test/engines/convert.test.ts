/**
 * Issue 13 items 1-2 on real engines: the Docker 20.10 sample converted with `--format oci` is read
 * by `skopeo copy oci-archive: docker-archive:` and imported by containerd 1.6 and 2.1 (`ctr images
 * import`, which unpacks: DiffIDs checked); converted back with `--format docker-legacy` it loads
 * into Docker 20.10 and `docker inspect` shows the edit; a `--layer-compression zstd --format oci`
 * archive loads into Docker 28's containerd store and containerd 2.1 with unchanged DiffIDs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type Engines, RUN_ID, SAMPLES, cli, ctr, docker, dockerInspect, dockerRmi, loadedRefs, ok, removeDir, requireEngines, skopeo, tempDir } from './harness.js';

const work = tempDir('convert');
const SAMPLE = join(SAMPLES, 'docker20-legacy.tar');
const TAG = `copyedit-etest/convert:${RUN_ID}`;
const ENTRYPOINT = ['/bin/echo', 'converted'];
const cleanups: (() => void)[] = [];

after(() => {
  for (const c of cleanups.reverse()) {
    try {
      c();
    } catch {
      /* cleanup only */
    }
  }
  removeDir(work);
});

/** The sample's DiffIDs, from its own config (the engines must report the same). */
function sampleDiffIds(): string[] {
  const rootfs = JSON.parse(ok(cli(['inspect', '--format', '{{json .RootFS}}', SAMPLE])).stdout) as { Layers: string[] };
  return rootfs.Layers;
}

interface Edited {
  file: string;
  report: { images: { newId: string; newDigest: string; platforms: { newId: string }[] }[]; conversion?: { to: string; layersRecompressed: number } };
}

function convert(input: string, name: string, flags: string[]): Edited {
  const file = join(work, name);
  const r = ok(cli(['edit', input, '-o', file, '--json', ...flags]), `copyedit edit ${flags.join(' ')}`);
  return { file, report: JSON.parse(r.stdout) as Edited['report'] };
}

/** Import into containerd (a private namespace), check the image's target and its unpacked DiffIDs. */
function ctrImport(e: Engines, which: 'ctr' | 'ctr21', file: string, name: string, digest: string, diffIds: readonly string[]): void {
  const ns = `copyedit-etest-${RUN_ID}-${which}-${digest.slice(7, 15)}`;
  cleanups.push(() => {
    const refs = ctr(e, ns, ['images', 'ls', '-q'], { which }).stdout.split('\n').filter(Boolean);
    if (refs.length) ctr(e, ns, ['images', 'rm', '--sync', ...refs], { which });
    ctr(e, ns, ['namespaces', 'rm', ns], { which });
  });
  ok(ctr(e, ns, ['images', 'import', file], { which }), `${which} images import`); // unpacks: DiffIDs checked
  const ls = ok(ctr(e, ns, ['images', 'ls'], { which }))
    .stdout.trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(/\s+/));
  const row = ls.find((f) => f[0] === name);
  assert.ok(row, `${which}: no image ${name} after import (have ${ls.map((f) => f[0]).join(', ')})`);
  assert.equal(row[2], digest, `${which}: ${name} points at ${row[2]}, not the converted manifest ${digest}`);
  const man = JSON.parse(ok(ctr(e, ns, ['content', 'get', digest], { which })).stdout) as { config: { digest: string } };
  const cfg = JSON.parse(ok(ctr(e, ns, ['content', 'get', man.config.digest], { which })).stdout) as { rootfs: { diff_ids: string[] }; config: { Entrypoint?: string[] } };
  assert.deepEqual(cfg.rootfs.diff_ids, diffIds);
  assert.deepEqual(cfg.config.Entrypoint, ENTRYPOINT);
}

describe('layout conversion on real engines', () => {
  it('docker-legacy -> --format oci: skopeo copy oci-archive: docker-archive:, ctr import on containerd 1.6 and 2.1; back with --format docker-legacy into Docker 20.10', { timeout: 300_000 }, (t) => {
    const e = requireEngines(t);
    if (!e) return;
    const diffIds = sampleDiffIds();
    assert.equal(diffIds.length, 4);
    const oci = convert(SAMPLE, 'oci.tar', ['--format', 'oci', '--entrypoint', JSON.stringify(ENTRYPOINT), '--tag', TAG]);
    assert.equal(oci.report.conversion?.to, 'oci');
    const { newId, newDigest } = oci.report.images[0]!;
    // no manifest.json: an OCI image layout only
    assert.ok(!readFileSync(oci.file).includes('manifest.json'), 'an oci archive has no manifest.json');

    // skopeo (containers/image) reads it as an OCI archive and writes a docker-archive of the same config
    const viaSkopeo = join(work, 'skopeo-docker-archive.tar');
    ok(skopeo(e, ['--insecure-policy', 'copy', `oci-archive:${oci.file}:${TAG}`, `docker-archive:${viaSkopeo}:${TAG}`]), 'skopeo copy oci-archive: docker-archive:');
    const cfg = ok(skopeo(e, ['inspect', '--config', '--raw', `docker-archive:${viaSkopeo}`])).stdout;
    const parsed = JSON.parse(cfg) as { rootfs: { diff_ids: string[] }; config: { Entrypoint: string[] } };
    assert.deepEqual(parsed.rootfs.diff_ids, diffIds);
    assert.deepEqual(parsed.config.Entrypoint, ENTRYPOINT);

    // containerd 1.6 and 2.1 import it by its io.containerd.image.name, at the converted manifest
    for (const which of ['ctr', 'ctr21'] as const) ctrImport(e, which, oci.file, `docker.io/${TAG}`, newDigest, diffIds);

    // and back: the docker-legacy layout loads into Docker 20.10 with the edit
    const legacy = convert(oci.file, 'legacy.tar', ['--format', 'docker-legacy', '--label', `converted=${RUN_ID}`]);
    assert.equal(legacy.report.conversion?.to, 'docker-legacy');
    cleanups.push(() => dockerRmi(e, 'docker20', [TAG]));
    const loaded = loadedRefs(ok(docker(e, 'docker20', ['load', '-i', legacy.file]), 'docker 20.10 load').stdout);
    assert.ok(loaded.includes(TAG), `docker 20.10 loaded ${loaded.join(', ')}`);
    const i = dockerInspect(e, 'docker20', TAG);
    assert.ok(i);
    assert.equal(i.Id, legacy.report.images[0]!.newId);
    assert.notEqual(i.Id, newId, 'the label edit made a new config');
    assert.deepEqual(i.Config.Entrypoint, ENTRYPOINT);
    assert.equal(i.Config.Labels?.converted, RUN_ID);
    assert.deepEqual(i.RootFS.Layers, diffIds);
  });

  it('--format docker (podman sample, gzip layers) loads into Docker 20.10, Docker 28 classic and its containerd store; --format docker-legacy of a BuildKit index with --only-platform into Docker 20.10', {
    timeout: 300_000,
  }, (t) => {
    const e = requireEngines(t);
    if (!e) return;
    const diffIds = sampleDiffIds(); // the podman sample holds the same image
    const tag = `${TAG}-docker`;
    const d = convert(join(SAMPLES, 'podman.tar'), 'docker.tar', ['--format', 'docker', '--layer-compression', 'gzip', '--entrypoint', JSON.stringify(ENTRYPOINT), '--tag', tag]);
    assert.equal(d.report.conversion?.to, 'docker');
    for (const which of ['docker20', 'docker28', 'docker28c'] as const) {
      cleanups.push(() => dockerRmi(e, which, [tag]));
      ok(docker(e, which, ['load', '-i', d.file]), `${which} load`);
      const i = dockerInspect(e, which, tag);
      assert.ok(i, `${which} has no ${tag}`);
      assert.deepEqual(i.RootFS.Layers, diffIds, which);
      assert.deepEqual(i.Config.Entrypoint, ENTRYPOINT, which);
      if (which !== 'docker28c') assert.equal(i.Id, d.report.images[0]!.newId, which);
    }
    const multiTag = `${TAG}-arm64`;
    const l = convert(join(SAMPLES, 'docker28c-multi.tar'), 'multi-legacy.tar', ['--format', 'docker-legacy', '--only-platform', 'linux/arm64', '--tag', multiTag, '--label', `arm=${RUN_ID}`]);
    cleanups.push(() => dockerRmi(e, 'docker20', [multiTag]));
    ok(docker(e, 'docker20', ['load', '-i', l.file]), 'docker 20.10 load');
    const i = dockerInspect(e, 'docker20', multiTag);
    assert.ok(i);
    assert.equal(i.Architecture, 'arm64');
    assert.equal(i.Config.Labels?.arm, RUN_ID);
    assert.equal(i.Id, l.report.images[0]!.platforms[0]!.newId);
  });

  it('--layer-compression zstd --format oci loads into Docker 28 (containerd store) and containerd 2.1 with unchanged DiffIDs', { timeout: 300_000 }, (t) => {
    const e = requireEngines(t);
    if (!e) return;
    const diffIds = sampleDiffIds();
    const tag = `${TAG}-zstd`;
    const z = convert(SAMPLE, 'zstd.tar', ['--format', 'oci', '--layer-compression', 'zstd', '--entrypoint', JSON.stringify(ENTRYPOINT), '--tag', tag]);
    assert.equal(z.report.conversion?.layersRecompressed, 3);
    ctrImport(e, 'ctr21', z.file, `docker.io/${tag}`, z.report.images[0]!.newDigest, diffIds);
    cleanups.push(() => dockerRmi(e, 'docker28c', [tag]));
    ok(docker(e, 'docker28c', ['load', '-i', z.file]), 'docker 28 (containerd store) load');
    const i = dockerInspect(e, 'docker28c', tag);
    assert.ok(i, `docker 28 (containerd store) has no ${tag}`);
    assert.deepEqual(i.RootFS.Layers, diffIds);
    assert.deepEqual(i.Config.Entrypoint, ENTRYPOINT);
  });

  it('--layer-compression gzip (parallel gzip, issue 25) of uncompressed layers loads into containerd 2.1 and Docker 28 (--format oci), Docker 20.10 (--format docker)', { timeout: 300_000 }, (t) => {
    const e = requireEngines(t);
    if (!e) return;
    const diffIds = sampleDiffIds();
    const tag = `${TAG}-pgzip`;
    const z = convert(SAMPLE, 'pgzip.tar', ['--format', 'oci', '--layer-compression', 'gzip', '--compression-level', '6', '--entrypoint', JSON.stringify(ENTRYPOINT), '--tag', tag]);
    assert.equal(z.report.conversion?.layersRecompressed, 3);
    ctrImport(e, 'ctr21', z.file, `docker.io/${tag}`, z.report.images[0]!.newDigest, diffIds);
    const d = convert(SAMPLE, 'pgzip-docker.tar', ['--format', 'docker', '--layer-compression', 'gzip', '--entrypoint', JSON.stringify(ENTRYPOINT), '--tag', tag]);
    for (const [which, file] of [
      ['docker28c', z.file],
      ['docker20', d.file],
    ] as const) {
      cleanups.push(() => dockerRmi(e, which, [tag]));
      ok(docker(e, which, ['load', '-i', file]), `${which} load`);
      const i = dockerInspect(e, which, tag);
      assert.ok(i, `${which} has no ${tag}`);
      assert.deepEqual(i.RootFS.Layers, diffIds, which);
      assert.deepEqual(i.Config.Entrypoint, ENTRYPOINT, which);
    }
  });
});
