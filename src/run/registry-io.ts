/**
 * Between a registry and an archive. A pull (`docker://` -> file or OCI directory): the registry
 * image as an OCI layout tar stream (src/registry/pull.ts) into the ordinary archive edit. A push
 * (archive -> `docker://`): the ordinary edit into a temporary OCI layout directory (layers that
 * are uncompressed in the archive gzip-compressed, as `docker push` and `skopeo copy` do, unless
 * `layerCompression: 'none'`), then that directory pushed like a registry edit's result: each
 * blob HEADed first, children before parents, the tag last.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Digest } from '../digest.js';
import { RegistryError, UsageError } from '../errors.js';
import { type JsonObject, field, parseJson } from '../json/lossless.js';
import { MediaType } from '../media-types.js';
import { MAX_MANIFEST_BYTES, RegistryClient } from '../registry/client.js';
import { layoutStream } from '../registry/pull.js';
import { type BlobSource, Pusher, type RegistryReport, mediaTypeOf } from '../registry/push.js';
import { redact } from '../registry/redact.js';
import { parseRegistryRef, refString } from '../registry/ref.js';
import { readRegistryImage, descriptor } from '../registry/source.js';
import type { EditArchiveOptions, EditArchiveReport } from './options.js';
import { Transports } from './transports.js';

type Edit = (opts: EditArchiveOptions) => Promise<EditArchiveReport>;

function traffic(t: Transports): Pick<RegistryReport, 'bytesReceived' | 'bytesSent' | 'requests'> {
  const x = t.traffic();
  return { bytesReceived: x.received, bytesSent: x.sent, requests: x.requests };
}

/** `docker://` -> an archive file or OCI directory, through the archive edit. */
export async function pullEdit(opts: EditArchiveOptions, edit: Edit): Promise<EditArchiveReport> {
  const src = parseRegistryRef(opts.input as string);
  const transports = new Transports(opts.registry ?? {});
  transports.get(src.registry).addScope(src.repository, 'pull');
  const client = new RegistryClient(transports.get(src.registry));
  try {
    const image = await readRegistryImage(client, src);
    const { registry: _r, ...rest } = opts;
    const layout = layoutStream(client, image);
    const report = await edit({ ...rest, input: layout.stream }).catch((e: unknown) => {
      throw layout.failure() ?? e; // the registry's reason, not the truncated stream it left
    });
    return {
      ...report,
      registry: { source: refString(src), target: typeof opts.output === 'string' ? opts.output : 'stream', digest: image.root.digest, steps: [], skipped: false, ...traffic(transports) },
    };
  } catch (e) {
    if (e instanceof Error) e.message = redact(e.message);
    throw e;
  }
}

/** An archive -> `docker://`, through the archive edit into a temporary OCI layout directory. */
export async function pushEdit(opts: EditArchiveOptions, edit: Edit): Promise<EditArchiveReport> {
  const dst = parseRegistryRef(opts.output as string);
  if (!dst.tag) throw new UsageError(`${opts.output}: an output reference needs a tag (docker://host/repo:tag)`);
  const transports = new Transports(opts.registry ?? {});
  transports.get(dst.registry).addScope(dst.repository, opts.dryRun ? 'pull' : 'pull,push');
  const client = new RegistryClient(transports.get(dst.registry));
  const dir = await mkdtemp(join(tmpdir(), 'copyedit-push-'));
  try {
    const { registry: _r, ...rest } = opts;
    const layerCompression = opts.layerCompression === 'none' ? undefined : (opts.layerCompression ?? 'gzip');
    const out = join(dir, 'layout');
    const report = await edit({ ...rest, dryRun: false, output: { dir: out }, format: opts.format ?? 'oci', ...(layerCompression ? { layerCompression } : {}) });
    const index = parseJson(await readFile(join(out, 'index.json'))) as JsonObject;
    // one descriptor per name: an image with two tags is listed twice under one digest
    const roots = [
      ...new Map(
        (field(index, 'manifests') as unknown[])
          .map(descriptor)
          .filter((d) => d !== undefined)
          .map((d) => [d.digest.toString(), d]),
      ).values(),
    ];
    const images = [];
    for (const d of roots) if (!field(parseJson(await readFile(blobFile(out, d.digest))) as JsonObject, 'subject')) images.push(d);
    if (images.length !== 1) throw new UsageError(`${opts.input}: holds ${images.length} images; a push takes one: choose it with --image`);
    const root = images[0]!;
    const source = await dirSource(
      out,
      roots.map((d) => d.digest),
    );
    const pusher = new Pusher({ client, repository: dst.repository, tag: dst.tag }, source, opts.dryRun === true);
    await pusher.pushImage(root.digest, root.mediaType ?? mediaTypeOf(parseJson(source.data(root.digest)!) as JsonObject) ?? MediaType.ociManifest);
    const refs = roots.filter((d) => d !== root).map((d) => ({ d, doc: parseJson(source.data(d.digest)!) as JsonObject }));
    for (const r of refs) await pusher.pushManifestTree(r.d.digest, r.d.mediaType ?? MediaType.ociManifest);
    if (refs.length && !(await client.referrers(dst.repository, root.digest))) {
      await pusher.fallbackIndexes(
        refs.map((r) => ({
          digest: r.d.digest,
          mediaType: r.d.mediaType ?? MediaType.ociManifest,
          subject: descriptor(field(r.doc, 'subject'))!.digest,
          doc: r.doc,
          size: source.size(r.d.digest) ?? 0,
        })),
      );
    }
    return { ...report, registry: { source: String(opts.input), target: refString(dst), digest: root.digest, steps: pusher.steps, skipped: false, ...traffic(transports) } };
  } catch (e) {
    if (e instanceof Error) e.message = redact(e.message);
    throw e;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function blobFile(dir: string, d: Digest): string {
  return join(dir, 'blobs', d.algorithm, d.hex);
}

/** The blobs of an OCI layout directory: manifests and configs in memory, layers streamed. */
async function dirSource(dir: string, roots: readonly Digest[]): Promise<BlobSource> {
  const small = new Map<string, Buffer>();
  const sizes = new Map<string, number>();
  const visit = async (d: Digest): Promise<void> => {
    if (small.has(d.toString())) return;
    const bytes = await readFile(blobFile(dir, d));
    small.set(d.toString(), bytes);
    const doc = parseJson(bytes) as JsonObject;
    for (const c of (field(doc, 'manifests') as unknown[] | undefined) ?? []) {
      const x = descriptor(c);
      if (x) await visit(x.digest);
    }
    const cfg = descriptor(field(doc, 'config'));
    if (cfg && cfg.size !== undefined && cfg.size <= MAX_MANIFEST_BYTES) small.set(cfg.digest.toString(), await readFile(blobFile(dir, cfg.digest)));
    for (const l of [...((field(doc, 'layers') as unknown[] | undefined) ?? []), field(doc, 'config')]) {
      const x = descriptor(l);
      if (x) sizes.set(x.digest.toString(), (await stat(blobFile(dir, x.digest))).size);
    }
  };
  for (const r of roots) await visit(r);
  return {
    data: (d) => small.get(d.toString()),
    size: (d) => sizes.get(d.toString()) ?? small.get(d.toString())?.length,
    open: async (d) => {
      const f = blobFile(dir, d);
      await stat(f).catch(() => {
        throw new RegistryError(`blob ${d} is not in the edited layout; this is a bug`);
      });
      return createReadStream(f);
    },
  };
}
