/**
 * Issue 21 (read side): layers made in the test, and an oracle of the merged filesystem written
 * from the appliers' rules (moby pkg/archive UnpackLayer, containerd archive/tar.go) on a flat map
 * of path strings: an implementation independent of src/content/tree.ts (no tree, no inodes
 * other than shared objects), to compare `export` with.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { BLOCK, type Header, encodeHeader, padding } from '../../../src/archive/tar/header.js';
import { type LayerEntry, tarEntries } from '../../../src/content/tar-entries.js';
import { Readable } from 'node:stream';

export type Op =
  | { kind: 'file'; path: string; content: string; mode?: number; uid?: number; gid?: number; xattr?: Record<string, string> }
  | { kind: 'dir'; path: string; mode?: number; uid?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'hardlink'; path: string; target: string; mode?: number }
  | { kind: 'whiteout'; path: string }
  | { kind: 'opaque'; dir: string }
  | { kind: 'fifo'; path: string };

function hdr(name: string, type: Header['type'], extra: Partial<Header> = {}): Header {
  return { name, size: 0, mode: 0o644, mtime: new Date(1_700_000_000_000), type, linkname: '', uid: 0, gid: 0, uname: '', gname: '', devmajor: 0, devminor: 0, ...extra };
}

/** One layer's tar bytes for `ops`, in order (names as docker writes them: relative, directories with '/'). */
export function layerTar(ops: readonly Op[], options: { gzip?: boolean; dotSlash?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  const pre = options.dotSlash ? './' : '';
  for (const op of ops) {
    let h: Header;
    let body: Buffer | undefined;
    if (op.kind === 'file') {
      body = Buffer.from(op.content);
      const pax = op.xattr ? Object.fromEntries(Object.entries(op.xattr).map(([k, v]) => [`SCHILY.xattr.${k}`, v])) : undefined;
      h = hdr(pre + op.path, 'file', { size: body.length, mode: op.mode ?? 0o644, uid: op.uid ?? 0, gid: op.gid ?? 0, ...(pax ? { pax } : {}) });
    } else if (op.kind === 'dir') h = hdr(`${pre + op.path}/`, 'directory', { mode: op.mode ?? 0o755, uid: op.uid ?? 0 });
    else if (op.kind === 'symlink') h = hdr(pre + op.path, 'symlink', { linkname: op.target, mode: 0o777 });
    else if (op.kind === 'hardlink') h = hdr(pre + op.path, 'link', { linkname: op.target, mode: op.mode ?? 0o644 });
    else if (op.kind === 'fifo') h = hdr(pre + op.path, 'fifo', { mode: 0o600 });
    else if (op.kind === 'whiteout') {
      const i = op.path.lastIndexOf('/');
      h = hdr(`${pre}${op.path.slice(0, i + 1)}.wh.${op.path.slice(i + 1)}`, 'file', { mode: 0 });
    } else h = hdr(pre + (op.dir === '' ? '.wh..wh..opq' : `${op.dir}/.wh..wh..opq`), 'file', { mode: 0 });
    parts.push(encodeHeader(h));
    if (body) parts.push(body, Buffer.alloc(padding(body.length)));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  const tar = Buffer.concat(parts);
  return options.gzip ? gzipSync(tar) : tar;
}

/** A listing row: what `docker export` and `export` are compared on. */
export interface Row {
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  sha256: string;
  link: string;
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** The rows of a tar (a hard link reads as the file it shares, wherever that comes in the tar: crane writes links first). */
export async function tarRows(tar: Buffer | Readable, options: { skipRoot?: boolean } = {}): Promise<Row[]> {
  const rows = new Map<string, Row>();
  const links: [string, Header][] = [];
  const clean = (n: string) =>
    n
      .split('/')
      .filter((s) => s !== '' && s !== '.')
      .join('/');
  const stream = Buffer.isBuffer(tar) ? Readable.from([tar]) : tar;
  for await (const e of tarEntries(stream) as AsyncGenerator<LayerEntry>) {
    const h = e.header;
    const path = clean(h.name);
    if (path === '' && options.skipRoot !== false) continue;
    const parts: Buffer[] = [];
    for await (const c of e.body()) parts.push(Buffer.from(c));
    if (h.type === 'link') {
      links.push([path, h]);
      continue;
    }
    const content = Buffer.concat(parts);
    rows.set(path, {
      path,
      type: h.type,
      mode: h.mode & 0o7777,
      uid: h.uid,
      gid: h.gid,
      size: h.type === 'file' ? content.length : 0,
      sha256: h.type === 'file' ? sha(content) : '',
      link: h.type === 'symlink' ? h.linkname : '',
    });
  }
  for (const [path, h] of links) {
    const t = rows.get(clean(h.linkname));
    if (!t) throw new Error(`hard link ${path} to ${h.linkname}, which the tar does not hold`);
    rows.set(path, { ...t, path, mode: h.mode & 0o7777, uid: h.uid, gid: h.gid });
  }
  return [...rows.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

interface OInode {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  content: string;
  link: string;
}
interface ONode {
  inode: OInode;
  layer: number;
}

/** The oracle: apply `layers` bottom first on a flat map, as the appliers' rules say. */
export function oracle(layers: readonly (readonly Op[])[]): Row[] {
  const m = new Map<string, ONode>();
  const under = (p: string) => [...m.keys()].filter((k) => k.startsWith(`${p}/`));
  const removeAll = (p: string) => {
    m.delete(p);
    for (const k of under(p)) m.delete(k);
  };
  layers.forEach((ops, layer) => {
    const written = new Set<string>();
    for (const op of ops) {
      if (op.kind === 'whiteout') {
        removeAll(op.path);
        continue;
      }
      if (op.kind === 'opaque') {
        for (const k of op.dir === '' ? [...m.keys()] : under(op.dir)) {
          // kept only when it and every directory between it and the opaque one were written by this layer
          const rel = op.dir === '' ? k : k.slice(op.dir.length + 1);
          const segs = rel.split('/');
          const chain = segs.map((_, i) => (op.dir === '' ? '' : `${op.dir}/`) + segs.slice(0, i + 1).join('/'));
          if (!chain.every((c) => written.has(c))) m.delete(k);
        }
        continue;
      }
      const segs = op.path.split('/');
      for (let i = 1; i < segs.length; i++) {
        const p = segs.slice(0, i).join('/');
        if (!m.has(p)) m.set(p, { inode: { type: 'directory', mode: 0o755, uid: 0, gid: 0, content: '', link: '' }, layer: -1 });
      }
      written.add(op.path);
      const old = m.get(op.path);
      if (op.kind === 'dir' && old?.inode.type === 'directory') {
        old.inode = { ...old.inode, mode: op.mode ?? 0o755, uid: op.uid ?? 0 };
        continue;
      }
      let inode: OInode;
      if (op.kind === 'hardlink') {
        inode = m.get(op.target)!.inode;
        inode.mode = op.mode ?? 0o644;
        inode.uid = 0;
        inode.gid = 0;
      } else if (op.kind === 'file') inode = { type: 'file', mode: op.mode ?? 0o644, uid: op.uid ?? 0, gid: op.gid ?? 0, content: op.content, link: '' };
      else if (op.kind === 'dir') inode = { type: 'directory', mode: op.mode ?? 0o755, uid: op.uid ?? 0, gid: 0, content: '', link: '' };
      else if (op.kind === 'symlink') inode = { type: 'symlink', mode: 0o777, uid: 0, gid: 0, content: '', link: op.target };
      else inode = { type: 'fifo', mode: 0o600, uid: 0, gid: 0, content: '', link: '' };
      removeAll(op.path);
      m.set(op.path, { inode, layer });
    }
  });
  return [...m.entries()]
    .map(([path, { inode: i }]) => ({
      path,
      type: i.type,
      mode: i.mode,
      uid: i.uid,
      gid: i.gid,
      size: i.type === 'file' ? Buffer.byteLength(i.content) : 0,
      sha256: i.type === 'file' ? sha(i.content) : '',
      link: i.link,
    }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A random stack of layers over a small namespace, valid for the appliers (parents are directories, hard links name files). */
export function randomStack(rand: () => number, layers = 4, opsPerLayer = 8, options: { uniquePaths?: boolean } = {}): Op[][] {
  const names = ['a', 'b', 'c', 'a/x', 'a/y', 'b/x', 'a/x/z', 'a/x/w', 'c/d/e', 'ü', 'a/é'];
  const out: Op[][] = [];
  for (let l = 0; l < layers; l++) {
    const ops: Op[] = [];
    for (let i = 0; i < opsPerLayer; i++) {
      const path = names[Math.floor(rand() * names.length)]!;
      const r = rand();
      // as producers write layers: Docker 20.10 refuses a layer naming one path twice ("duplicates
      // of file paths not supported"), and containerd fails on one removing or replacing what it
      // wrote itself (its deferred directory times then name a missing path)
      if (options.uniquePaths && ops.some((o) => o.kind !== 'opaque' && (o.path === path || o.path.startsWith(`${path}/`)))) continue;
      const state = oracleState([...out, ops]);
      // parents must be directories or missing
      const segs = path.split('/');
      if (segs.slice(0, -1).some((_, j) => state.has(segs.slice(0, j + 1).join('/')) && state.get(segs.slice(0, j + 1).join('/')) !== 'directory')) continue;
      if (r < 0.3) ops.push({ kind: 'file', path, content: `${path}@${l}.${i}`, mode: rand() < 0.2 ? 0o4755 : 0o644, uid: Math.floor(rand() * 3) });
      else if (r < 0.5) ops.push({ kind: 'dir', path, mode: rand() < 0.3 ? 0o700 : 0o755 });
      else if (r < 0.6) ops.push({ kind: 'symlink', path, target: rand() < 0.5 ? '/a/x' : '../b' });
      else if (r < 0.72) {
        const files = [...state.entries()].filter(([p, t]) => t === 'file' && p !== path && !p.startsWith(`${path}/`)).map(([p]) => p);
        if (files.length) ops.push({ kind: 'hardlink', path, target: files[Math.floor(rand() * files.length)]! });
      } else if (r < 0.85) ops.push({ kind: 'whiteout', path });
      else if (r < 0.93) {
        const dirs = [...state.entries()].filter(([, t]) => t === 'directory').map(([p]) => p);
        const dir = dirs[Math.floor(rand() * dirs.length)];
        if (dir !== undefined && !(options.uniquePaths && ops.some((o) => o.kind === 'opaque' && o.dir === dir))) ops.push({ kind: 'opaque', dir });
      } else ops.push({ kind: 'fifo', path });
    }
    out.push(ops);
  }
  return out;
}

function oracleState(layers: readonly (readonly Op[])[]): Map<string, string> {
  return new Map(oracle(layers).map((r) => [r.path, r.type]));
}

/** An outer tar of named files (what docker save writes around the layers). */
export function outerTar(files: readonly (readonly [string, Buffer])[]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, data] of files) parts.push(encodeHeader(hdr(name, 'file', { size: data.length })), data, Buffer.alloc(padding(data.length)));
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

/** A podman-style docker-archive (`<diffid>.tar` layers, `<id>.json`, manifest.json last) of one image per `images` item. */
export function dockerArchive(images: readonly { tag: string; layers: readonly Buffer[]; arch?: string }[]): Buffer {
  const files: [string, Buffer][] = [];
  const manifest: unknown[] = [];
  for (const img of images) {
    const diffIds = img.layers.map((l) => `sha256:${sha(l)}`);
    const config = Buffer.from(JSON.stringify({ architecture: img.arch ?? 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds } }));
    for (const l of img.layers) if (!files.some(([n]) => n === `${sha(l)}.tar`)) files.push([`${sha(l)}.tar`, l]);
    files.push([`${sha(config)}.json`, config]);
    manifest.push({ Config: `${sha(config)}.json`, RepoTags: [img.tag], Layers: img.layers.map((l) => `${sha(l)}.tar`) });
  }
  files.push(['manifest.json', Buffer.from(JSON.stringify(manifest))]);
  return outerTar(files);
}

/** An OCI image layout's files (blobs by digest, index.json naming `tag`), layers stored as given. */
export function ociLayoutFiles(tag: string, layers: readonly Buffer[], uncompressed: readonly Buffer[]): [string, Buffer][] {
  const files: [string, Buffer][] = [['oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')]];
  const put = (b: Buffer) => {
    files.push([`blobs/sha256/${sha(b)}`, b]);
    return `sha256:${sha(b)}`;
  };
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: uncompressed.map((l) => `sha256:${sha(l)}`) } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: put(config), size: config.length },
      layers: layers.map((l, i) => ({ mediaType: `application/vnd.oci.image.layer.v1.tar${l === uncompressed[i] ? '' : '+gzip'}`, digest: put(l), size: l.length })),
    }),
  );
  const index = {
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: put(manifest), size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  };
  files.push(['index.json', Buffer.from(JSON.stringify(index))]);
  return files;
}
