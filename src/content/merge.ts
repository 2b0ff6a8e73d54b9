/**
 * The merged filesystem of an image, read from its layers without unpacking anything.
 *
 *     const fs = await mergeLayers(layers);            // pass 1: every layer's headers, bottom first
 *     fs.entries();                                     // the tree: MergedEntry[], sorted by path
 *     fs.stat('/etc/os-release'), fs.readdir('/etc')   // one path, one directory
 *     await fs.readFile('/etc/ssl/certs/ca-certificates.crt')   // one file's bytes (links followed inside the root)
 *     fs.tarStream({ sourceDateEpoch })                 // pass 2: the tree as ONE layer's tar, streamed
 *
 * The one-call forms: `mergedEntries(layers)`, `readMergedFile(layers, path)`,
 * `mergedTarStream(layers, options)` and `writeMergedTar(layers, out, options)`.
 *
 * Semantics: those of Docker's and containerd's appliers (see `tree.ts`), not those of
 * go-containerregistry's `mutate.Extract` (`crane export`/`crane flatten`), which differ where
 * crane is wrong: crane reads the layers top-down with a seen-set, so it ignores opaque directories
 * (`.wh..wh..opq` hides nothing there, lower files reappear), drops a hard link's content when its
 * target was removed in a later layer (it writes a link to a path it never writes), and takes the FIRST entry of a
 * path repeated in one layer where the appliers take the last; nor does it write the parent
 * directories a layer does not hold (Docker creates them, 0755). On images without those shapes
 * the trees are the same (test/engines/content.test.ts).
 *
 * The tar stream (deterministic: the same layers and options give the same bytes):
 * - directories first, in path order (a parent before its children); then symbolic links,
 *   devices, FIFOs and empty files, in path order; then files with content, in the order of the
 *   layer entries holding it (bottom layer first), so each layer is read once, front to back.
 * - A file with several paths (hard links) is written once under its first path in the tree's
 *   order (names sorted bytewise, a directory before its children); its other paths follow it as
 *   hard links.
 * - Names are relative (`etc/passwd`, directories with a trailing `/`); the root is not an entry
 *   (as `docker export`). Mode, owner ids and names, device numbers and xattrs (PAX
 *   `SCHILY.xattr.*`) are kept; access and change times are dropped, mtimes are whole seconds,
 *   clamped to `sourceDateEpoch` when given (BuildKit's rewrite-timestamp).
 *
 * Memory: the tree's metadata (a few hundred bytes per path), one chunk of content at a time.
 */
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BLOCK, type Header, encodeHeader, padding } from '../archive/tar/header.js';
import { PathError } from '../errors.js';
import { drained } from '../io/streams.js';
import { type LayerSource, layerEntries } from './layer.js';
import { type Inode, MergedTree, type TreeNode, pathOf } from './tree.js';

export { type LayerSource, bufferLayer, fileLayer } from './layer.js';

/** One path of the merged filesystem. */
export interface MergedEntry {
  /** Relative to the root, no leading or trailing `/`: `etc/passwd`. */
  readonly path: string;
  /** `link` for the second and later paths of a hard-linked file (then `linkname` is its first path). */
  readonly type: Header['type'];
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly uname: string;
  readonly gname: string;
  /** Content bytes (regular files; 0 otherwise). */
  readonly size: number;
  readonly mtime: Date;
  /** A symbolic link's target as stored, or a hard link's first path. */
  readonly linkname: string;
  readonly devmajor: number;
  readonly devminor: number;
  /** Extended attributes by name (`security.capability`), values as the PAX records hold them. */
  readonly xattrs: Readonly<Record<string, string>>;
  /** The layer (0 = bottom) whose entry holds this path's content or metadata; -1 for a parent Docker creates. */
  readonly layer: number;
}

/** Options of the merged tar stream. */
export interface MergedTarOptions {
  /** Clamp every mtime to this time (seconds since the epoch), as SOURCE_DATE_EPOCH asks. */
  readonly sourceDateEpoch?: number;
}

/** What a merged tar stream held. */
export interface MergedTarSummary {
  readonly entries: number;
  readonly contentBytes: number;
}

/** Options of `stat`/`readFile`: follow a symbolic link in the last component too (the default for files). */
export interface PathOptions {
  readonly follow?: boolean;
}

/** The merged filesystem of a stack of layers (bottom first): metadata in memory, content read from the layers on demand. */
export class MergedFilesystem {
  private constructor(
    readonly layers: readonly LayerSource[],
    private readonly tree: MergedTree,
  ) {}

  /** Read every layer's headers, bottom first, and apply them (pass 1). */
  static async read(layers: readonly LayerSource[]): Promise<MergedFilesystem> {
    const tree = new MergedTree();
    for (let i = 0; i < layers.length; i++) {
      for await (const e of layerEntries(layers[i]!)) tree.apply(e.header, i, e.ordinal, layers[i]!.label);
    }
    return new MergedFilesystem(layers, tree);
  }

  /** Paths in the tree (the root not counted). */
  get size(): number {
    return this.tree.size;
  }

  /** Every path, sorted by path (byte order of the names, parents before children). */
  entries(): MergedEntry[] {
    const out: MergedEntry[] = [];
    const firstPaths = this.firstPaths();
    walk(this.tree.root, (node) => out.push(toEntry(node, firstPaths)));
    return out;
  }

  /** The entry at `path` (absolute or relative); undefined when missing. Throws PathError for a path leading out of the root. */
  stat(path: string, options: PathOptions = {}): MergedEntry | undefined {
    const node = this.node(path, options.follow ?? false);
    return node && node !== this.tree.root ? toEntry(node, this.firstPaths()) : undefined;
  }

  /** The entries of a directory (links followed to it), sorted by name. Throws PathError when missing or not a directory. */
  readdir(path: string): MergedEntry[] {
    const node = this.node(path, true);
    if (!node) throw new PathError(`${shown(path)}: no such file or directory in the image`);
    if (!node.children) throw new PathError(`${shown(path)}: not a directory in the image`);
    const firstPaths = this.firstPaths();
    return sortedChildren(node).map((c) => toEntry(c, firstPaths));
  }

  /** A regular file's bytes as a stream (links followed inside the root). Throws PathError when missing or not a regular file. */
  async openFile(path: string): Promise<Readable> {
    const inode = this.fileInode(path);
    return Readable.from(contentOf(this.layers, inode), { objectMode: false });
  }

  /** A regular file's bytes, whole (links followed inside the root); at most `maxBytes` (64 MiB by default). */
  async readFile(path: string, maxBytes = 64 << 20): Promise<Buffer> {
    const inode = this.fileInode(path);
    if (inode.header.size > maxBytes) throw new PathError(`${shown(path)}: ${inode.header.size} bytes, more than the ${maxBytes} asked for at most; stream it with openFile`);
    const parts: Buffer[] = [];
    for await (const c of contentOf(this.layers, inode)) parts.push(c);
    return Buffer.concat(parts);
  }

  /** The tree as one layer's tar (pass 2: each layer that holds content read once, bottom first). */
  tarStream(options: MergedTarOptions = {}): Readable {
    return Readable.from(copies(this.tarChunks(options, { entries: 0, contentBytes: 0 })), { objectMode: false });
  }

  /** Write the tree's tar to `out` (ended when done, unless `end` is false); what it held. */
  async writeTar(out: Writable, options: MergedTarOptions = {}, end = true): Promise<MergedTarSummary> {
    const summary = { entries: 0, contentBytes: 0 };
    if (end) await pipeline(Readable.from(copies(this.tarChunks(options, summary)), { objectMode: false }), out);
    else for await (const c of this.tarChunks(options, summary)) if (!out.write(Buffer.from(c))) await drained(out);
    return summary;
  }

  /**
   * Write the tree's tar to a target that is done with each chunk when `write` returns (or its
   * promise settles): a file descriptor written with write(2). Chunks are not copied.
   */
  async writeTarTo(target: { write(b: Buffer): void | Promise<void> }, options: MergedTarOptions = {}): Promise<MergedTarSummary> {
    const summary = { entries: 0, contentBytes: 0 };
    // headers, small files and padding gathered into one buffer: a write per MiB, not per piece
    const pending = Buffer.allocUnsafe(COALESCE);
    let used = 0;
    for await (const c of this.tarChunks(options, summary)) {
      const large = c.length >= COALESCE / 4;
      // what is gathered goes first, in order
      if (used > 0 && (large || used + c.length > COALESCE)) {
        await target.write(pending.subarray(0, used));
        used = 0;
      }
      if (large) await target.write(c);
      else used += c.copy(pending, used);
    }
    if (used > 0) await target.write(pending.subarray(0, used));
    return summary;
  }

  private async *tarChunks(options: MergedTarOptions, summary: { entries: number; contentBytes: number }): AsyncGenerator<Buffer> {
    const plan = planTar(this.tree);
    const clamp = options.sourceDateEpoch;
    const head = (node: TreeNode, h: Header, linkTo?: string): Buffer => {
      summary.entries++;
      return encodeHeader(outHeader(node, h, clamp, linkTo));
    };
    for (const d of plan.dirs) yield head(d, d.header);
    for (const group of plan.early) yield* groupHeaders(group, head);
    for (const [layer, groups] of plan.byLayer) {
      let left = groups.size;
      for await (const e of layerEntries(this.layers[layer]!)) {
        const group = groups.get(e.ordinal);
        if (!group) continue;
        const [first, ...rest] = group.paths;
        yield head(first!, group.inode.header);
        for await (const c of e.body()) {
          summary.contentBytes += c.length;
          yield c;
        }
        const pad = padding(group.inode.header.size);
        if (pad) yield ZEROS.subarray(0, pad);
        for (const r of rest) yield head(r, group.inode.header, pathOf(first!));
        if (--left === 0) break;
      }
      if (left > 0) throw new Error(`layer ${this.layers[layer]!.label} changed between its two reads: ${left} entries missing`);
    }
    yield Buffer.alloc(2 * BLOCK);
  }

  private node(path: string, follow: boolean): TreeNode | undefined {
    const rel = path
      .split('/')
      .filter((s) => s !== '' && s !== '.')
      .join('/');
    return this.tree.lookup(rel, { follow, strict: true, asked: path });
  }

  private fileInode(path: string): Inode {
    const node = this.node(path, true);
    if (!node) throw new PathError(`${shown(path)}: no such file in the image (symbolic links followed inside the image's root)`);
    const h = node.inode?.header;
    if (h?.type !== 'file') throw new PathError(`${shown(path)}: not a regular file in the image (${node.children ? 'a directory' : (h?.type ?? 'unknown')}); ls lists a directory`);
    return node.inode!;
  }

  /** For every hard-linked inode, the path written first (the first in the tree's order). */
  private firstPaths(): Map<Inode, string> {
    const seen = new Map<Inode, string>();
    const shared = new Map<Inode, string>();
    walk(this.tree.root, (node) => {
      if (!node.inode) return;
      const p = pathOf(node);
      const prev = seen.get(node.inode);
      if (prev === undefined) seen.set(node.inode, p);
      else if (!shared.has(node.inode)) shared.set(node.inode, prev);
    });
    return shared;
  }
}

/** Pass 1 over `layers` (bottom first): the merged filesystem. */
export function mergeLayers(layers: readonly LayerSource[]): Promise<MergedFilesystem> {
  return MergedFilesystem.read(layers);
}

/** Every path of the merged filesystem, sorted. */
export async function mergedEntries(layers: readonly LayerSource[]): Promise<MergedEntry[]> {
  return (await mergeLayers(layers)).entries();
}

/** One file's bytes from the merged filesystem, or undefined when it has no such path (links followed inside the root). */
export async function readMergedFile(layers: readonly LayerSource[], path: string, maxBytes?: number): Promise<Buffer | undefined> {
  const fs = await mergeLayers(layers);
  if (!fs.stat(path, { follow: true })) return undefined;
  return fs.readFile(path, maxBytes);
}

/** The merged filesystem as one layer's tar stream (both passes). */
export function mergedTarStream(layers: readonly LayerSource[], options: MergedTarOptions = {}): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    yield* (await mergeLayers(layers)).tarStream(options);
  }
  return Readable.from(chunks(), { objectMode: false });
}

/** Write the merged filesystem's tar to `out` (ended when done). */
export async function writeMergedTar(layers: readonly LayerSource[], out: Writable, options: MergedTarOptions = {}): Promise<MergedTarSummary> {
  return (await mergeLayers(layers)).writeTar(out, options);
}

/** Writes gathered up to this size (see writeTarTo). */
const COALESCE = 1 << 20;

/** Tar padding, never written into: handed out as views. */
const ZEROS = Buffer.alloc(BLOCK);

/** Paths sharing one inode: written together, the first with the content. */
interface Group {
  readonly inode: Inode;
  readonly paths: TreeNode[];
}

interface TarPlan {
  readonly dirs: TreeNode[];
  /** Groups needing no content read (links, devices, empty files), by first path. */
  readonly early: Group[];
  /** Groups with content, by layer (ascending), then entry ordinal. */
  readonly byLayer: Map<number, Map<number, Group>>;
}

function planTar(tree: MergedTree): TarPlan {
  const dirs: TreeNode[] = [];
  const groups = new Map<Inode, Group>();
  walk(tree.root, (node) => {
    if (node.children) dirs.push(node);
    else if (node.inode) {
      const g = groups.get(node.inode);
      if (g) g.paths.push(node);
      else groups.set(node.inode, { inode: node.inode, paths: [node] });
    }
  });
  const early: Group[] = [];
  const content: Group[] = [];
  for (const g of groups.values()) (g.inode.header.type === 'file' && g.inode.header.size > 0 ? content : early).push(g);
  content.sort((a, b) => a.inode.layer - b.inode.layer || a.inode.ordinal - b.inode.ordinal);
  const byLayer = new Map<number, Map<number, Group>>();
  for (const g of content) {
    const m = byLayer.get(g.inode.layer) ?? new Map<number, Group>();
    byLayer.set(g.inode.layer, m);
    m.set(g.inode.ordinal, g);
  }
  return { dirs, early, byLayer };
}

function* groupHeaders(group: Group, head: (node: TreeNode, h: Header, linkTo?: string) => Buffer): Generator<Buffer> {
  const [first, ...rest] = group.paths;
  yield head(first!, group.inode.header);
  for (const r of rest) yield head(r, group.inode.header, pathOf(first!));
}

/** The header written for `node`: the inode's metadata under the node's path; a hard link to `linkTo` when given. */
function outHeader(node: TreeNode, h: Header, clamp: number | undefined, linkTo?: string): Header {
  const path = pathOf(node);
  const secs = Math.floor(h.mtime.getTime() / 1000);
  const mtime = clamp !== undefined && secs > clamp ? new Date(clamp * 1000) : new Date(secs * 1000);
  const out: Header = { ...h, name: h.type === 'directory' ? `${path}/` : path, mtime };
  if (linkTo !== undefined) {
    out.type = 'link';
    out.linkname = linkTo;
    out.size = 0;
  }
  if (out.type !== 'file' && out.type !== 'contiguous-file') out.size = 0;
  return out;
}

/** Pre-order walk, children sorted by name (byte order), the root itself not visited. */
function walk(dir: TreeNode, visit: (node: TreeNode) => void): void {
  for (const c of sortedChildren(dir)) {
    visit(c);
    if (c.children) walk(c, visit);
  }
}

function sortedChildren(dir: TreeNode): TreeNode[] {
  return [...dir.children!.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function toEntry(node: TreeNode, firstPaths: Map<Inode, string>): MergedEntry {
  const h = node.inode?.header ?? node.header;
  const path = pathOf(node);
  const first = node.inode ? firstPaths.get(node.inode) : undefined;
  const linked = first !== undefined && first !== path;
  const xattrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(h.pax ?? {})) if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice('SCHILY.xattr.'.length)] = v;
  return {
    path,
    type: linked ? 'link' : h.type,
    mode: h.mode,
    uid: h.uid,
    gid: h.gid,
    uname: h.uname,
    gname: h.gname,
    size: linked || h.type !== 'file' ? 0 : h.size,
    mtime: h.mtime,
    linkname: linked ? first : h.type === 'symlink' ? h.linkname : '',
    devmajor: h.devmajor,
    devminor: h.devminor,
    xattrs,
    layer: node.inode?.layer ?? node.writtenIn,
  };
}

/** Each chunk copied: the layer reader may reuse one buffer, a stream keeps what it is given. */
async function* copies(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const c of chunks) yield Buffer.from(c);
}

/** A regular file's content (copies): its layer read up to its entry. */
async function* contentOf(layers: readonly LayerSource[], inode: Inode): AsyncGenerator<Buffer> {
  for await (const e of layerEntries(layers[inode.layer]!)) {
    if (e.ordinal !== inode.ordinal) continue;
    yield* copies(e.body());
    return;
  }
  throw new Error(`layer ${layers[inode.layer]!.label} changed between its two reads`);
}

function shown(p: string): string {
  return JSON.stringify(p.length > 200 ? `${p.slice(0, 200)}...` : p);
}
