/**
 * Small synthetic archives in each layout of FORMATS.md, built in memory, for unit tests. They mimic
 * what the engines write (names, order, links); the engine suite covers the real thing.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';

export type Entry = { name: string; data?: Buffer | string; type?: 'file' | 'symlink' | 'directory' | 'link'; linkname?: string };

export function sha(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

export async function makeTar(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  })();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const data = typeof e.data === 'string' ? Buffer.from(e.data) : (e.data ?? Buffer.alloc(0));
    await new Promise<void>((res, rej) =>
      type === 'file'
        ? pack.entry({ name: e.name, type, mtime: new Date(0), mode: 0o644 }, data, (err) => (err ? rej(err) : res()))
        : (
            pack.entry({ name: e.name, type, mtime: new Date(0), mode: type === 'directory' ? 0o755 : 0o777, ...(e.linkname ? { linkname: e.linkname } : {}) }, (err) =>
              err ? rej(err) : res(),
            ) as unknown as { end(): void }
          ).end(),
    );
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export async function readTar(buf: Buffer): Promise<Map<string, { header: tar.Header; data: Buffer }>> {
  const ex = tar.extract();
  const out = new Map<string, { header: tar.Header; data: Buffer }>();
  const done = (async () => {
    for await (const entry of ex) {
      const parts: Buffer[] = [];
      for await (const c of entry as AsyncIterable<Buffer>) parts.push(c);
      out.set(entry.header.name, { header: entry.header, data: Buffer.concat(parts) });
    }
  })();
  ex.end(buf);
  await done;
  return out;
}

/** A layer tar holding one file. */
export async function layer(file: string, content: string): Promise<Buffer> {
  return makeTar([{ name: file, data: content }]);
}

export function imageConfig(diffIds: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  const rc = {
    Env: ['PATH=/usr/bin:/bin', 'APP_MODE=prod'],
    Entrypoint: ['/app/run'],
    Cmd: ['--serve'],
    Volumes: { '/data': {}, '/var/log/app': {} },
    ExposedPorts: { '8080/tcp': {}, '9090/udp': {} },
    WorkingDir: '/srv',
    User: '1000',
    Labels: { 'org.example.vendor': 'Example Ünïcode' },
  };
  return {
    architecture: 'amd64',
    config: rc,
    container_config: { ...rc, Cmd: ['/bin/sh', '-c', '#(nop) CMD ["--serve"]'] },
    created: '2026-11-01T00:00:00Z',
    history: diffIds.map((_, i) => ({ created: '2026-11-01T00:00:00Z', created_by: `step ${i}` })),
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: diffIds.map((d) => `sha256:${d}`) },
    ...extra,
  };
}

export interface Fixture {
  archive: Buffer;
  layers: Buffer[];
  config: Buffer;
}

async function twoLayers(): Promise<Buffer[]> {
  return [await layer('hello.txt', 'hello\n'), await layer('etc/app/app.conf', 'mode=prod\n')];
}

/** Docker <= 24: <v1id>/layer.tar, <id>.json, manifest.json and repositories (sorted names). */
export async function dockerLegacy(configExtra: Record<string, unknown> = {}): Promise<Fixture> {
  const layers = await twoLayers();
  const config = Buffer.from(JSON.stringify(imageConfig(layers.map(sha), configExtra)));
  const id = sha(config);
  const v1 = [sha('v1-a'), sha('v1-b')];
  const manifest = [{ Config: `${id}.json`, RepoTags: ['example/app:1.0'], Layers: v1.map((v) => `${v}/layer.tar`) }];
  const entries: Entry[] = [];
  v1.forEach((v, i) => {
    entries.push({ name: `${v}/`, type: 'directory' }, { name: `${v}/VERSION`, data: '1.0' }, { name: `${v}/json`, data: `{"id":"${v}"}` }, { name: `${v}/layer.tar`, data: layers[i]! });
  });
  entries.push({ name: `${id}.json`, data: config }, { name: 'manifest.json', data: JSON.stringify(manifest) }, { name: 'repositories', data: JSON.stringify({ 'example/app': { '1.0': v1[1] } }) });
  return { archive: await makeTar(entries.sort((a, b) => a.name.localeCompare(b.name))), layers, config };
}

/** podman/skopeo docker-archive: <diffid>.tar at the root, config, manifest.json last, v1 symlinks. */
export async function podmanArchive(): Promise<Fixture> {
  const layers = await twoLayers();
  const config = Buffer.from(JSON.stringify(imageConfig(layers.map(sha))));
  const id = sha(config);
  const entries: Entry[] = [];
  for (const l of layers) entries.push({ name: `${sha(l)}.tar`, data: l });
  entries.push({ name: `${id}.json`, data: config });
  const v1 = sha('v1-top');
  entries.push({ name: `${v1}/`, type: 'directory' }, { name: `${v1}/layer.tar`, type: 'symlink', linkname: `../${sha(layers[1]!)}.tar` });
  entries.push({ name: 'manifest.json', data: JSON.stringify([{ Config: `${id}.json`, RepoTags: ['docker.io/example/app:1.0'], Layers: layers.map((l) => `${sha(l)}.tar`) }]) });
  return { archive: await makeTar(entries), layers, config };
}

/** go-containerregistry tarball: `sha256:<hex>` config, `<digest>.tar.gz` layers, manifest.json last. */
export async function craneTarball(): Promise<Fixture> {
  const layers = await twoLayers();
  const gz = layers.map((l) => gzipSync(l));
  const config = Buffer.from(JSON.stringify(imageConfig(layers.map(sha))));
  const id = sha(config);
  const entries: Entry[] = [{ name: `sha256:${id}`, data: config }];
  for (const g of gz) entries.push({ name: `${sha(g)}.tar.gz`, data: g });
  entries.push({ name: 'manifest.json', data: JSON.stringify([{ Config: `sha256:${id}`, RepoTags: ['example/app:1.0'], Layers: gz.map((g) => `${sha(g)}.tar.gz`) }]) });
  return { archive: await makeTar(entries), layers: gz, config };
}

export interface OciOptions {
  /** Docker 25+: LayerSources in manifest.json and a repositories file. */
  docker?: boolean;
  /** Layers stored gzip-compressed (containerd from a registry). */
  gzip?: boolean;
  /** Put the manifest under a multi-platform index whose arm64 blobs are absent, plus an attestation. */
  multiPlatform?: boolean;
  /** Leave out manifest.json (a pure OCI layout). */
  noManifestJson?: boolean;
}

/** Docker 25+ / containerd export / OCI layout. */
export async function ociLayout(o: OciOptions = {}): Promise<Fixture & { manifest: Buffer }> {
  const raw = await twoLayers();
  const layers = o.gzip ? raw.map((l) => gzipSync(l)) : raw;
  const config = Buffer.from(JSON.stringify(imageConfig(raw.map(sha))));
  const blobs = new Map<string, Buffer>();
  const put = (b: Buffer) => {
    blobs.set(sha(b), b);
    return `sha256:${sha(b)}`;
  };
  const layerMt = o.gzip ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar';
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: put(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: layerMt, digest: put(l), size: l.length })),
    }),
  );
  const mDigest = put(manifest);
  let top = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: mDigest, size: manifest.length } as Record<string, unknown>;
  if (o.multiPlatform) {
    const attestation = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: put(Buffer.from('{}')), size: 2 },
        layers: [],
      }),
    );
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          { ...top, platform: { architecture: 'amd64', os: 'linux' } },
          { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha('absent arm64 manifest')}`, size: 1234, platform: { architecture: 'arm64', os: 'linux' } },
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: put(attestation),
            size: attestation.length,
            annotations: { 'vnd.docker.reference.digest': mDigest, 'vnd.docker.reference.type': 'attestation-manifest' },
            platform: { architecture: 'unknown', os: 'unknown' },
          },
        ],
      }),
    );
    top = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: put(index), size: index.length };
  }
  const indexJson = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ ...top, annotations: { 'io.containerd.image.name': 'docker.io/example/app:1.0', 'org.opencontainers.image.ref.name': '1.0' } }],
  };
  const entries: Entry[] = [
    { name: 'blobs/', type: 'directory' },
    { name: 'blobs/sha256/', type: 'directory' },
  ];
  for (const [hex, b] of [...blobs].sort()) entries.push({ name: `blobs/sha256/${hex}`, data: b });
  entries.push({ name: 'index.json', data: JSON.stringify(indexJson) });
  if (!o.noManifestJson) {
    const item: Record<string, unknown> = { Config: `blobs/sha256/${sha(config)}`, RepoTags: ['example/app:1.0'], Layers: layers.map((l) => `blobs/sha256/${sha(l)}`) };
    if (o.docker) item.LayerSources = Object.fromEntries(layers.map((l) => [`sha256:${sha(l)}`, { mediaType: layerMt, size: l.length, digest: `sha256:${sha(l)}` }]));
    entries.push({ name: 'manifest.json', data: JSON.stringify([item]) });
  }
  entries.push({ name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' });
  if (o.docker) entries.push({ name: 'repositories', data: JSON.stringify({ 'example/app': { '1.0': sha(raw[1]!) } }) });
  return { archive: await makeTar(entries), layers, config, manifest };
}
