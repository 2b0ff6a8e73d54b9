/**
 * A new layer made by copyedit (`--add-file`, `--add-layer`): written as an uncompressed tar into a
 * spool file while its sha256 (the DiffID) is computed; the conversion's layer plan then copies or
 * compresses it like any other layer. Files are read with lstat and never followed out of their
 * source: a symlink is kept as a link (its target verbatim), a hard link within a directory is a
 * tar hard link, sockets and devices are refused. Entry names are relative to the root and may not
 * climb out of it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type Header, encodeHeader, padding } from '../archive/tar/header.js';
import { detectCompression } from '../codec/index.js';
import { Digest } from '../digest.js';
import { ArchiveError, UsageError, ioError } from '../errors.js';
import { recodeLayer, removeSpool } from '../convert/recode.js';
import { checkLayerTar } from './check.js';
import { caLayer } from './ca.js';
import { openImageContent } from '../content/image.js';
import { mergedTarStream } from '../content/merge.js';
import { type LayerSource, openLayerTar } from '../content/layer.js';

/** One `--add-file SRC:DEST`. */
export interface AddedFile {
  /** A file or directory on this machine. */
  readonly src: string;
  /** An absolute path in the image; ending in `/` (or naming a directory SRC): SRC goes inside it. */
  readonly dest: string;
}

/** What one new layer holds: files from this machine, or a tar (plain, gzip, zstd) or directory as it is. */
export type LayerAddition =
  | {
      readonly kind: 'files';
      readonly files: readonly AddedFile[];
      /** Owner of every entry (default 0:0, as Dockerfile COPY). */
      readonly chown?: { readonly uid: number; readonly gid: number };
      /** Mode of every entry (default: the source's). */
      readonly chmod?: number;
    }
  | { readonly kind: 'layer'; readonly path: string }
  /** Whiteouts (`--rm-path ... --whiteout`): the paths hidden, as layer paths. */
  | { readonly kind: 'whiteouts'; readonly paths: readonly string[]; readonly what: string }
  /** The merged filesystem of one image (platform) of `input`, as one layer (`--flatten`). */
  | { readonly kind: 'merged'; readonly input: string; readonly image: string; readonly platform?: string; readonly what: string }
  /** A layer of another image, as its uncompressed tar (`--rebase-onto`); its DiffID must be `diffId`. */
  | { readonly kind: 'source'; readonly layer: LayerSource; readonly diffId: string; readonly what: string }
  /** One image's trust bundles with a certificate appended (`--add-ca-cert`); `chain` says which config it is for. */
  | { readonly kind: 'ca-cert'; readonly cert: string; readonly input: string; readonly image: string; readonly platform?: string; readonly chain: string; readonly what: string };

/** The layer's tar, spooled: its DiffID and size. */
export interface BuiltLayer {
  readonly path: string;
  readonly diffId: Digest;
  readonly size: number;
}

/** `--add-file` as a library value: checks DEST (absolute, no `..`) and the owner and mode. */
export function addFiles(files: readonly AddedFile[], opts: { chown?: { uid: number; gid: number }; chmod?: number } = {}): LayerAddition {
  if (files.length === 0) throw new RangeError('addFiles needs at least one file');
  for (const f of files) checkDest(f.dest);
  if (opts.chmod !== undefined && (!Number.isInteger(opts.chmod) || opts.chmod < 0 || opts.chmod > 0o7777)) throw new RangeError(`chmod must be a mode between 0 and 07777, not ${opts.chmod}`);
  if (opts.chown && ![opts.chown.uid, opts.chown.gid].every((n) => Number.isSafeInteger(n) && n >= 0)) throw new RangeError('chown needs whole, non-negative uid and gid');
  return { kind: 'files', files, ...(opts.chown ? { chown: opts.chown } : {}), ...(opts.chmod !== undefined ? { chmod: opts.chmod } : {}) };
}

/** `--add-layer` as a library value: a tar, tar.gz, tar.zst or a directory, added as one layer. */
export function addLayer(path: string): LayerAddition {
  if (!path) throw new RangeError('addLayer needs a path');
  return { kind: 'layer', path };
}

function checkDest(dest: string): void {
  if (!dest.startsWith('/')) throw new UsageError(`--add-file: the destination ${dest} must be an absolute path in the image (like /usr/local/share/x)`);
  if (dest.split('/').includes('..')) throw new UsageError(`--add-file: the destination ${dest} climbs with '..'; name the path inside the image directly`);
}

/** The history line of an addition (also the report's description). */
export function describeAddition(a: LayerAddition): string {
  if (a.kind === 'layer') return `ADD LAYER ${posix.basename(a.path)}`;
  if (a.kind === 'whiteouts' || a.kind === 'merged' || a.kind === 'ca-cert' || a.kind === 'source') return a.what;
  const own = a.chown ? ` --chown=${a.chown.uid}:${a.chown.gid}` : '';
  const mode = a.chmod !== undefined ? ` --chmod=${a.chmod.toString(8).padStart(4, '0')}` : '';
  return `ADD FILE${own}${mode} ${a.files.map((f) => `${posix.basename(f.src)} TO ${f.dest}`).join(', ')}`;
}

/** Write the layer of `a` into the spool file `path`; mtimes are `epoch` (seconds) when given. */
export async function buildLayer(a: LayerAddition, path: string, epoch: number | undefined): Promise<BuiltLayer> {
  try {
    if (a.kind === 'whiteouts') return await written(whiteouts(a.paths, epoch), path);
    if (a.kind === 'merged') return await merged(a, path, epoch);
    if (a.kind === 'source') {
      const b = await written(await openLayerTar(a.layer), path);
      if (b.diffId.toString() !== a.diffId) throw new ArchiveError(`its content hashes to ${b.diffId} but its config's rootfs.diff_ids says ${a.diffId}`, a.layer.label);
      return b;
    }
    if (a.kind === 'ca-cert') return await written(caLayer(a.input, a.image, a.platform, a.cert, epoch), path);
    if (a.kind === 'layer' && !(await lstat(a.path).catch((e) => Promise.reject(ioError('read', a.path, e)))).isDirectory()) return await fromTar(a.path, path);
    const files = a.kind === 'files' ? a.files : [{ src: `${a.path}/`, dest: '/' }];
    return await written(entries(files, a.kind === 'files' ? a : {}, epoch), path);
  } catch (e) {
    await removeSpool(path);
    throw e;
  }
}

/** The merged filesystem (src/content, as Docker's and containerd's appliers make it) as one tar. */
async function merged(a: Extract<LayerAddition, { kind: 'merged' }>, path: string, epoch: number | undefined): Promise<BuiltLayer> {
  const content = await openImageContent(a.input, { image: a.image, ...(a.platform ? { platform: a.platform } : {}) });
  try {
    return await written(mergedTarStream(content.layers, epoch !== undefined ? { sourceDateEpoch: epoch } : {}), path);
  } finally {
    content.close();
  }
}

/** A tar stream into the spool, its sha256 and size counted on the way. */
async function written(tar: AsyncIterable<Buffer>, path: string): Promise<BuiltLayer> {
  const hash = createHash('sha256');
  let size = 0;
  async function* counted(): AsyncIterable<Buffer> {
    for await (const c of tar) {
      hash.update(c);
      size += c.length;
      yield c;
    }
  }
  await pipeline(counted(), createWriteStream(path, { flags: 'wx', mode: 0o600 }));
  return { path, diffId: Digest.fromHex('sha256', hash.digest('hex')), size };
}

/** One `.wh.<name>` entry per path (none under a path already hidden), sorted; then the end blocks. */
async function* whiteouts(paths: readonly string[], epoch: number | undefined): AsyncIterable<Buffer> {
  const sorted = [...new Set(paths)].sort();
  const hidden: string[] = [];
  for (const p of sorted) {
    if (hidden.some((h) => p.startsWith(`${h}/`))) continue;
    hidden.push(p);
    const dir = posix.dirname(p);
    const name = `${dir === '.' ? '' : `${dir}/`}.wh.${posix.basename(p)}`;
    const h: Header = { name, size: 0, mode: 0o644, mtime: new Date((epoch ?? 0) * 1000), type: 'file', linkname: '', uid: 0, gid: 0, uname: '', gname: '', devmajor: 0, devminor: 0 };
    yield encodeHeader(h);
  }
  yield Buffer.alloc(1024);
}

/** A tar as it is, decompressed into the spool (its DiffID hashed on the way), its names checked. */
async function fromTar(src: string, path: string): Promise<BuiltLayer> {
  const head = await firstBytes(src);
  const from = detectCompression(head);
  const sp = await recodeLayer(createReadStream(src), { from, to: 'none', what: src }, path);
  await checkLayerTar(sp.path, src);
  return { path: sp.path, diffId: sp.digest, size: sp.size };
}

async function firstBytes(src: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of createReadStream(src, { start: 0, end: 7 })) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

interface Owner {
  readonly chown?: { readonly uid: number; readonly gid: number };
  readonly chmod?: number;
}

/** The tar stream of every source, in order (directories walked sorted by name), then the end blocks. */
async function* entries(files: readonly AddedFile[], o: Owner, epoch: number | undefined): AsyncIterable<Buffer> {
  const links = new Map<string, string>();
  for (const f of files) {
    const st = await lstat(f.src).catch((e) => Promise.reject(ioError('read', f.src, e)));
    const dest = st.isDirectory() || !f.dest.endsWith('/') ? f.dest : posix.join(f.dest, posix.basename(f.src));
    yield* walk(f.src, posix.normalize(dest).replace(/^\/+/, '').replace(/\/+$/, ''), o, epoch, links);
  }
  yield Buffer.alloc(1024);
}

async function* walk(src: string, name: string, o: Owner, epoch: number | undefined, links: Map<string, string>): AsyncIterable<Buffer> {
  const st = await lstat(src).catch((e) => Promise.reject(ioError('read', src, e)));
  const h: Header = {
    name,
    size: 0,
    mode: o.chmod ?? st.mode & 0o7777,
    mtime: new Date(epoch !== undefined ? epoch * 1000 : Math.floor(st.mtimeMs / 1000) * 1000),
    type: 'file',
    linkname: '',
    uid: o.chown?.uid ?? 0,
    gid: o.chown?.gid ?? 0,
    uname: '',
    gname: '',
    devmajor: 0,
    devminor: 0,
  };
  if (st.isDirectory()) {
    if (name !== '') yield encodeHeader({ ...h, name: `${name}/`, type: 'directory' });
    const kids = (await readdir(src).catch((e) => Promise.reject(ioError('read', src, e)))).sort();
    for (const k of kids) yield* walk(posix.join(src, k), name === '' ? k : `${name}/${k}`, o, epoch, links);
    return;
  }
  if (st.isSymbolicLink()) {
    yield encodeHeader({ ...h, type: 'symlink', linkname: await readlink(src), mode: o.chmod ?? 0o777 });
    return;
  }
  if (!st.isFile()) throw new UsageError(`${src} is not a regular file, directory or symbolic link (a socket, device or FIFO): copyedit adds only those`);
  const key = `${st.dev}:${st.ino}`;
  const first = st.nlink > 1 ? links.get(key) : undefined;
  if (first !== undefined) {
    yield encodeHeader({ ...h, type: 'link', linkname: first });
    return;
  }
  if (st.nlink > 1) links.set(key, name);
  yield encodeHeader({ ...h, size: st.size });
  let n = 0;
  for await (const c of createReadStream(src)) {
    n += (c as Buffer).length;
    if (n > st.size) throw new UsageError(`${src} grew while copyedit read it; add it again when nothing writes it`);
    yield c as Buffer;
  }
  if (n !== st.size) throw new UsageError(`${src} shrank while copyedit read it; add it again when nothing writes it`);
  const pad = padding(st.size);
  if (pad) yield Buffer.alloc(pad);
}
