/**
 * `edit docker://a -o docker://b`: the image read from the registry as an archive model
 * (source.ts), edited by the one fold (`planRewrite`, the same request as an archive's edit), and
 * rendered as uploads (push.ts): only new configs, manifests and indexes are sent; layers are
 * HEADed, mounted across repositories of one registry, streamed across registries.
 */
import { Digest } from '../digest.js';
import { RegistryError, UsageError } from '../errors.js';
import { type JsonObject, field, parseJson } from '../json/lossless.js';
import { MediaType } from '../media-types.js';
import { planRewrite } from '../rewrite/inplace.js';
import type { EditArchiveOptions, EditArchiveReport } from './options.js';
import { checkTags, editModel, editSettings, inPlaceReports, legacyJsonEdit } from './request.js';
import { RegistryClient } from '../registry/client.js';
import { type BlobSource, Pusher, type RegistryReport, mediaTypeOf } from '../registry/push.js';
import { redact } from '../registry/redact.js';
import { type RegistryRef, isRegistryRef, parseRegistryRef, refString } from '../registry/ref.js';
import { type RegistryImage, readRegistryImage, descriptor } from '../registry/source.js';
import type { RegistryOptions } from '../registry/transport.js';
import { pullEdit, pushEdit } from './registry-io.js';
import { Transports } from './transports.js';

export type RegistryEditReport = EditArchiveReport & { readonly registry: RegistryReport };

/** Is the input or the output a `docker://` reference? */
export function touchesRegistry(opts: EditArchiveOptions): boolean {
  return isRegistryRef(opts.input) || isRegistryRef(opts.output);
}

/** `editArchive` with a `docker://` input or output: registry to registry, a pull, or a push. */
export async function registryEdit(opts: EditArchiveOptions, edit: (o: EditArchiveOptions) => Promise<EditArchiveReport>): Promise<EditArchiveReport> {
  if (isRegistryRef(opts.input) && isRegistryRef(opts.output)) return editRegistry(opts);
  if (opts.dryRun && isRegistryRef(opts.input) && opts.output === '') return editRegistry({ ...opts, output: opts.input });
  if (isRegistryRef(opts.input)) return pullEdit(opts, edit);
  return pushEdit(opts, edit);
}

/** Edit the image at `opts.input` (docker://) into `opts.output` (docker://). */
export async function editRegistry(opts: EditArchiveOptions): Promise<RegistryEditReport> {
  const ro: RegistryOptions = opts.registry ?? {};
  if (!isRegistryRef(opts.input) || !isRegistryRef(opts.output)) throw new UsageError('editRegistry needs docker:// references as input and output');
  if (opts.format !== undefined || opts.layerCompression !== undefined || opts.compress !== undefined) {
    throw new UsageError('--format, --layer-compression and --compress are not supported from a registry to a registry yet: pull to an archive, convert, and push it');
  }
  const src = parseRegistryRef(opts.input);
  const dst = parseRegistryRef(opts.output);
  if (!dst.tag) throw new UsageError(`${opts.output}: an output reference needs a tag (docker://host/repo:tag)`);
  const transports = new Transports(ro);
  const sameRegistry = src.registry === dst.registry;
  transports.get(src.registry).addScope(src.repository, 'pull');
  transports.get(dst.registry).addScope(dst.repository, opts.dryRun ? 'pull' : 'pull,push');
  try {
    return await run(opts, src, dst, sameRegistry, transports);
  } catch (e) {
    if (e instanceof Error) e.message = redact(e.message);
    throw e;
  }
}

async function run(opts: EditArchiveOptions, src: RegistryRef, dst: RegistryRef, sameRegistry: boolean, transports: Transports): Promise<RegistryEditReport> {
  const srcClient = new RegistryClient(transports.get(src.registry));
  const dstClient = sameRegistry ? srcClient : new RegistryClient(transports.get(dst.registry));
  const image = await readRegistryImage(srcClient, src);
  const { model } = image;
  const { edits, editOpts } = editSettings(opts, checkTags(opts.tags));
  const { request, reports } = editModel(model, edits, editOpts);
  const plan = planRewrite(model, { ...request, ...legacyJsonEdit(edits) });
  const fresh = new Map<string, Buffer>();
  let indexDoc = model.ociIndex!.doc;
  for (const e of plan.entries) {
    const d = Digest.fromEntryPath(e.header.name);
    if (d && !image.blobs.has(d.toString())) fresh.set(d.toString(), e.data);
    if (e.header.name === 'index.json') indexDoc = parseJson(e.data) as JsonObject;
  }
  const target = model.targets[0]!;
  const root = plan.targets.get(target)?.digest ?? image.root.digest;
  const rootData = fresh.get(root.toString()) ?? image.blobs.get(root.toString())?.data;
  if (!rootData) throw new RegistryError('the edit left no image to push (every platform dropped?)', refString(src));
  const rootMt = mediaTypeOf(parseJson(rootData) as JsonObject) ?? image.root.mediaType ?? MediaType.ociManifest;
  const source: BlobSource = {
    data: (d) => fresh.get(d.toString()) ?? image.blobs.get(d.toString())?.data,
    size: (d) => image.blobs.get(d.toString())?.size ?? fresh.get(d.toString())?.length,
    open: (d) => srcClient.getBlob(src.repository, d),
    ...(sameRegistry ? { mountFrom: src.repository } : {}),
  };
  const pusher = new Pusher({ client: dstClient, repository: dst.repository, tag: dst.tag }, source, opts.dryRun === true);
  const current = await dstClient.headManifest(dst.repository, dst.tag!);
  const skipped = current?.equals(root) === true && !(await referrersMissing(indexDoc, root, source, dstClient, dst));
  if (!skipped) {
    await pusher.pushImage(root, rootMt);
    await pushReferrers(pusher, image, indexDoc, root, source);
  }
  const traffic = transports.traffic();
  return {
    layout: model.layout,
    compression: 'none',
    outputCompression: 'none',
    images: inPlaceReports(model, request, reports, plan),
    warnings: [...model.notes, ...plan.warnings],
    droppedEntries: [],
    registry: {
      source: refString(src),
      target: refString(dst),
      digest: root,
      steps: pusher.steps,
      bytesReceived: traffic.received,
      bytesSent: traffic.sent,
      requests: traffic.requests,
      skipped,
    },
  };
}

/** The referrers index.json names after the fold (each following its subject), with their new subjects. */
function referrersOf(indexDoc: JsonObject, root: Digest, source: Pick<BlobSource, 'data'>): { digest: Digest; mediaType: string; subject: Digest; doc: JsonObject; size: number }[] {
  const list = field(indexDoc, 'manifests');
  const out: { digest: Digest; mediaType: string; subject: Digest; doc: JsonObject; size: number }[] = [];
  for (const raw of Array.isArray(list) ? list : []) {
    const d = descriptor(raw);
    if (!d || d.digest.equals(root)) continue;
    const bytes = source.data(d.digest);
    if (!bytes) continue;
    const doc = parseJson(bytes) as JsonObject;
    const subject = descriptor(field(doc, 'subject'));
    if (!subject) continue;
    out.push({ digest: d.digest, mediaType: mediaTypeOf(doc) ?? d.mediaType ?? MediaType.ociManifest, subject: subject.digest, doc, size: bytes.length });
  }
  return out;
}

async function pushReferrers(pusher: Pusher, image: RegistryImage, indexDoc: JsonObject, root: Digest, source: BlobSource): Promise<void> {
  const refs = referrersOf(indexDoc, root, source);
  for (const r of refs) await pusher.pushManifestTree(r.digest, r.mediaType);
  if (!image.referrersApi) await pusher.fallbackIndexes(refs);
}

/** When the tag already names the edited digest, a referrer the target lacks still makes it a push. */
async function referrersMissing(indexDoc: JsonObject, root: Digest, source: BlobSource, client: RegistryClient, dst: RegistryRef): Promise<boolean> {
  for (const r of referrersOf(indexDoc, root, source)) {
    if (!(await client.headManifest(dst.repository, r.digest.toString()))) return true;
  }
  return false;
}
