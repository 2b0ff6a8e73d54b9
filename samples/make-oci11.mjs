#!/usr/bin/env node
// samples/make-oci11.mjs - hand-made OCI 1.1 sample archives (deterministic: same bytes every run).
//
// No engine makes these offline, so they are written here byte by byte (plain ustar, mtime 0,
// uid/gid 0, blobs 0444), each an OCI image layout (oci-layout, index.json, blobs/sha256/*) plus a
// docker `manifest.json` for the image (as Docker 25+ saves write both), so the classic stores can
// try them too:
//   oci11-artifact.tar          image example/oci11:1.0 + an OCI 1.1 artifact manifest
//                               (artifactType application/vnd.example.notes.v1, config
//                               application/vnd.oci.empty.v1+json = `{}`) named example/oci11:notes
//   oci11-referrers.tar         image example/oci11:1.0 + an SBOM referrer (artifactType
//                               application/spdx+json, subject = the image manifest) + a signature-like
//                               referrer (artifactType application/vnd.dev.cosign.artifact.sig.v1+json,
//                               subject = the image manifest); referrers listed in index.json unnamed
//   oci11-artifact-manifest.tar image example/oci11:1.0 + a manifest of the withdrawn media type
//                               application/vnd.oci.artifact.manifest.v1+json (blobs, subject)
//   windows-foreign.tar         a windows/amd64 image whose first layer is non-distributable
//                               (application/vnd.docker.image.rootfs.foreign.diff.tar.gzip with `urls`)
//                               and ABSENT from the archive, as Windows base layers ship; manifest.json
//                               has LayerSources for it (as docker save writes)
// Usage: node samples/make-oci11.mjs [OUTDIR]   prints one JSON line per archive (for expected.json)
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const OUT = process.argv[2] ?? new URL('.', import.meta.url).pathname;
const sha = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const json = (o) => Buffer.from(JSON.stringify(o));

// ---------------------------------------------------------------- ustar
function header(name, size, type, mode) {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(`${mode.toString(8).padStart(7, '0')}\0`, 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}
function tar(entries) {
  const parts = [];
  for (const e of entries) {
    if (e.dir) {
      parts.push(header(e.name, 0, '5', 0o755));
      continue;
    }
    parts.push(header(e.name, e.data.length, '0', e.mode ?? 0o644), e.data);
    const pad = (512 - (e.data.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------- blobs
class Layout {
  blobs = new Map();
  add(data, mediaType, extra = {}) {
    const digest = sha(data);
    this.blobs.set(digest, data);
    return { mediaType, digest, size: data.length, ...extra };
  }
  archive(indexManifests, manifestJson) {
    const entries = [{ name: 'blobs/', dir: true }, { name: 'blobs/sha256/', dir: true }];
    for (const [d, data] of [...this.blobs].sort(([a], [b]) => (a < b ? -1 : 1))) {
      entries.push({ name: `blobs/sha256/${d.slice(7)}`, data, mode: 0o444 });
    }
    entries.push({ name: 'index.json', data: json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: indexManifests }) });
    if (manifestJson) entries.push({ name: 'manifest.json', data: Buffer.from(`${JSON.stringify(manifestJson)}\n`) });
    entries.push({ name: 'oci-layout', data: Buffer.from('{"imageLayoutVersion":"1.0.0"}'), mode: 0o444 });
    return tar(entries);
  }
}

const EMPTY = { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha('{}'), size: 2, data: 'e30=' };
const named = (desc, name) => ({ ...desc, annotations: { 'io.containerd.image.name': `docker.io/example/${name}`, 'org.opencontainers.image.ref.name': name.split(':')[1] } });

/** The sample image: one uncompressed layer (/hello.txt), visible config fields to edit. */
function image(L, { os = 'linux', architecture = 'amd64', extraLayers = [], osVersion } = {}) {
  const layerTar = tar([{ name: 'hello.txt', data: Buffer.from('hello from an OCI 1.1 sample\n') }]);
  const layer = L.add(layerTar, 'application/vnd.oci.image.layer.v1.tar');
  const layers = [...extraLayers.map((x) => x.desc), layer];
  const config = {
    architecture,
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'APP_MODE=prod'],
      Entrypoint: ['/bin/echo', 'app'],
      Cmd: ['--serve'],
      WorkingDir: '/',
      Labels: { 'org.example.vendor': 'Example Ünïcode' },
      ExposedPorts: { '8080/tcp': {} },
      Volumes: { '/data': {} },
    },
    created: '2023-11-14T22:13:20Z',
    history: [...extraLayers.map(() => ({ created: '2023-11-14T22:13:20Z', created_by: 'base layer' })), { created: '2023-11-14T22:13:20Z', created_by: 'COPY hello.txt /' }],
    os,
    ...(osVersion ? { 'os.version': osVersion } : {}),
    rootfs: { type: 'layers', diff_ids: [...extraLayers.map((x) => x.diffId), sha(layerTar)] },
  };
  const cfgBytes = json(config);
  const cfg = L.add(cfgBytes, 'application/vnd.oci.image.config.v1+json');
  const man = L.add(json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: cfg, layers }), 'application/vnd.oci.image.manifest.v1+json');
  return { man, cfg, cfgBytes, config, layers, layerTar };
}

const results = [];
function write(file, L, index, img, tags, notes, manifestJsonExtra = {}) {
  const mj = [{ Config: `blobs/sha256/${img.cfg.digest.slice(7)}`, RepoTags: tags, Layers: img.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`), ...manifestJsonExtra }];
  const buf = L.archive(index, mj);
  writeFileSync(join(OUT, file), buf);
  const c = img.config.config;
  results.push({
    file,
    layout: 'oci-1.1-handmade',
    producer: 'samples/make-oci11.mjs',
    command: 'node samples/make-oci11.mjs',
    sha256: sha(buf).slice(7),
    size: buf.length,
    notes,
    images: [{
      repoTags: tags,
      imageId: img.cfg.digest,
      diffIds: img.config.rootfs.diff_ids,
      architecture: img.config.architecture,
      os: img.config.os,
      entrypoint: c.Entrypoint, cmd: c.Cmd,
      volumes: Object.keys(c.Volumes), exposedPorts: Object.keys(c.ExposedPorts),
      env: c.Env, labels: c.Labels, user: '', workingDir: c.WorkingDir,
      manifestDigest: img.man.digest,
      layerDigests: img.layers.map((l) => l.digest),
    }],
  });
  return buf;
}

// 1. image + artifact
{
  const L = new Layout();
  const img = image(L);
  L.add(Buffer.from('{}'), EMPTY.mediaType);
  const notes = L.add(Buffer.from('release notes: nothing to see\n'), 'text/plain', { annotations: { 'org.opencontainers.image.title': 'notes.txt' } });
  const art = L.add(json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.example.notes.v1', config: EMPTY, layers: [notes] }), 'application/vnd.oci.image.manifest.v1+json', { artifactType: 'application/vnd.example.notes.v1' });
  write('oci11-artifact.tar', L, [named(img.man, 'oci11:1.0'), named(art, 'oci11:notes')], img, ['example/oci11:1.0'], { artifactManifests: [art.digest] });
}
// 2. image + SBOM referrer + signature-like referrer
{
  const L = new Layout();
  const img = image(L);
  L.add(Buffer.from('{}'), EMPTY.mediaType);
  const subject = { mediaType: img.man.mediaType, digest: img.man.digest, size: img.man.size };
  const spdx = L.add(json({ spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-DOCUMENT', name: 'example/oci11:1.0', dataLicense: 'CC0-1.0', packages: [] }), 'application/spdx+json');
  const sbom = L.add(
    json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/spdx+json', config: EMPTY, layers: [spdx], subject, annotations: { 'org.opencontainers.image.created': '2023-11-14T22:13:20Z' } }),
    'application/vnd.oci.image.manifest.v1+json',
    { artifactType: 'application/spdx+json' },
  );
  const payload = L.add(json({ critical: { identity: { 'docker-reference': 'example/oci11' }, image: { 'docker-manifest-digest': img.man.digest }, type: 'cosign container image signature' }, optional: null }), 'application/vnd.dev.cosign.simplesigning.v1+json', {
    annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQDhandmadeNotARealSignature==' },
  });
  const sig = L.add(
    json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json', config: EMPTY, layers: [payload], subject }),
    'application/vnd.oci.image.manifest.v1+json',
    { artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json' },
  );
  write('oci11-referrers.tar', L, [named(img.man, 'oci11:1.0'), sbom, sig], img, ['example/oci11:1.0'], { referrers: [sbom.digest], signatures: [sig.digest] });
}
// 3. image + withdrawn artifact manifest media type
{
  const L = new Layout();
  const img = image(L);
  const subject = { mediaType: img.man.mediaType, digest: img.man.digest, size: img.man.size };
  const blob = L.add(Buffer.from('an attached note\n'), 'text/plain');
  const AMT = 'application/vnd.oci.artifact.manifest.v1+json';
  const art = L.add(json({ mediaType: AMT, artifactType: 'application/vnd.example.note.v1', blobs: [blob], subject }), AMT, { artifactType: 'application/vnd.example.note.v1' });
  write('oci11-artifact-manifest.tar', L, [named(img.man, 'oci11:1.0'), art], img, ['example/oci11:1.0'], { artifactManifests: [art.digest] });
}
// 4. windows image with an absent foreign (non-distributable) base layer
{
  const L = new Layout();
  const baseTar = Buffer.from('not shipped: a Windows base layer stands here\n');
  const baseGz = Buffer.from('not shipped: the gzip of the Windows base layer\n');
  const foreign = {
    desc: {
      mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
      digest: sha(baseGz),
      size: 123456789,
      // a loopback address on the discard port: a loader that tries to fetch the layer (podman
      // does) fails at once and sends nothing off this machine (real ones name mcr.microsoft.com)
      urls: ['http://127.0.0.1:9/v2/windows/nanoserver/blobs/' + sha(baseGz)],
    },
    diffId: sha(baseTar),
  };
  const img = image(L, { os: 'windows', osVersion: '10.0.20348.2340', extraLayers: [foreign] });
  // the foreign layer's blob is NOT in the archive (image() only stored the other blobs)
  write('windows-foreign.tar', L, [named(img.man, 'win:1.0')], img, ['example/win:1.0'], { absentLayers: [foreign.desc.digest] }, {
    LayerSources: { [foreign.diffId]: foreign.desc },
  });
}

for (const r of results) console.log(JSON.stringify(r));
