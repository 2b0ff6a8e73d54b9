/**
 * The merged filesystem of a stack of layers, as metadata only: the applier of Docker's
 * `pkg/archive` (UnpackLayer, createTarFile) and containerd's `archive/tar.go` run on a tree of
 * nodes instead of a disk. Bottom layer first, each layer's entries in tar order:
 *
 * - `.wh.<name>` removes `<name>` (and all under it) from what is below; `.wh..wh..opq` empties its
 *   directory of everything not written by an entry of the same layer (Docker's `unpackedPaths`):
 *   a subdirectory the layer wrote is kept and emptied the same way, one it did not write goes.
 * - An entry over an existing path replaces it unless both are directories (then the directory's
 *   metadata is replaced and its children stay): a file replaced by a directory and back works.
 * - A hard link shares its target's inode, so it keeps the content when the target is removed or
 *   replaced later; its own header's mode and owner are applied to the inode, as Docker's chmod and
 *   lchown of the link path do. A hard link to a missing path or to a directory is refused, as
 *   Docker's applier fails on it.
 * - Symbolic links are kept as links, never followed, except as a parent component of a later
 *   entry's path, which is resolved inside the root (containerd's `fs.RootPath`; an absolute
 *   target or `..` past the root stays in the root). A missing parent is created as containerd
 *   does (mode 0755, owner 0, mtime 0), and listed like any directory; Docker's classic store
 *   (moby's UnpackLayer) makes it 0600 (test/engines/content.test.ts shows both).
 * - Whiteout files themselves never appear in the merged tree.
 *
 * Memory: one node per path of the merged tree (its header fields and xattr records), never file
 * bytes. A regular file's content is named by (layer, ordinal): where to read it again.
 */
import { ArchiveError, PathError } from '../errors.js';
import type { Header } from '../archive/tar/header.js';
import { cleanLayerPath } from './tar-entries.js';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

/** What several paths share when hard-linked: the content's place and the file's metadata. */
export interface Inode {
  readonly header: Header;
  /** The layer (0 = bottom) and entry ordinal whose bytes are this file's content. */
  readonly layer: number;
  readonly ordinal: number;
}

/** One path of the merged tree. */
export interface TreeNode {
  readonly name: string;
  parent: TreeNode | undefined;
  /** A directory's metadata (for other types, the inode's header is the metadata). */
  header: Header;
  /** Children by name, for a directory. */
  children: Map<string, TreeNode> | undefined;
  /** The file (any non-directory); shared between hard links. */
  inode: Inode | undefined;
  /** The last layer whose own entry wrote this path (-1: created as a missing parent). */
  writtenIn: number;
}

const MAX_SYMLINK_HOPS = 255;

function dirHeader(name: string, mode = 0o755): Header {
  return { name, size: 0, mode, mtime: new Date(0), type: 'directory', linkname: '', uid: 0, gid: 0, uname: '', gname: '', devmajor: 0, devminor: 0 };
}

/**
 * Keep only what the merged tree needs of a header (the xattrs and other file records, no PAX
 * path, size or times), in place: the header is the reader's fresh object, owned by the tree
 * from here (one object per path is what the tree costs).
 */
export function slimHeader(h: Header): Header {
  if (h.pax) {
    let any = false;
    const kept: Record<string, string> = {};
    for (const [k, v] of Object.entries(h.pax)) {
      if (KEEP_PAX(k)) {
        kept[k] = v;
        any = true;
      }
    }
    if (any) h.pax = kept;
    else delete h.pax;
  }
  return h;
}

/** PAX records that describe the file rather than the tar entry: xattrs (SCHILY, LIBARCHIVE) and ACLs. */
function KEEP_PAX(key: string): boolean {
  return key.startsWith('SCHILY.xattr.') || key.startsWith('LIBARCHIVE.xattr.') || key.startsWith('SCHILY.acl.');
}

export class MergedTree {
  readonly root: TreeNode = { name: '', parent: undefined, header: dirHeader(''), children: new Map(), inode: undefined, writtenIn: -1 };
  /** Paths in the tree (the root excepted). */
  size = 0;

  /** Apply one entry of layer `layer` (bottom = 0), as the appliers do. */
  apply(header: Header, layer: number, ordinal: number, label: string): void {
    // a contiguous file (type '7') is a regular file with content, as tar readers extract it
    if (header.type === 'contiguous-file') header.type = 'file';
    const path = cleanLayerPath(header.name);
    if (path === '') {
      if (header.type === 'directory') this.root.header = slimHeader(header);
      return;
    }
    const slash = path.lastIndexOf('/');
    const base = path.slice(slash + 1);
    const parentPath = slash < 0 ? '' : path.slice(0, slash);
    if (base.startsWith(WHITEOUT_PREFIX)) {
      const dir = this.lookup(parentPath, { follow: true });
      if (!dir?.children) return;
      if (base === OPAQUE_MARKER) this.opaque(dir, layer);
      else this.remove(dir, base.slice(WHITEOUT_PREFIX.length));
      return;
    }
    const parent = this.parentDir(parentPath, label, header.name);
    const existing = parent.children!.get(base);
    if (existing?.children && header.type === 'directory') {
      existing.header = slimHeader(header);
      existing.writtenIn = layer;
      return;
    }
    // Docker removes what is there first, then links: a link into the replaced subtree fails
    if (existing) this.remove(parent, base);
    const inode = header.type === 'link' ? this.linkTarget(header, label) : { header: slimHeader(header), layer, ordinal };
    // a directory's metadata is its own; a file's is its inode's (shared with its hard links)
    const dir = header.type === 'directory';
    const node: TreeNode = { name: base, parent, header: dir ? slimHeader(header) : inode.header, children: undefined, inode: undefined, writtenIn: layer };
    if (dir) node.children = new Map();
    else node.inode = inode;
    parent.children!.set(base, node);
    this.size++;
  }

  /** A hard link's inode: its target's, which must exist and not be a directory; the link's mode and owner applied. */
  private linkTarget(header: Header, label: string): Inode {
    const target = this.lookup(cleanLayerPath(header.linkname), { follow: false });
    if (!target?.inode) {
      const why = target ? 'is a directory' : 'does not exist in the layers below or earlier in this layer';
      throw new ArchiveError(`layer ${label}: hard link ${JSON.stringify(header.name)} points at ${JSON.stringify(header.linkname)}, which ${why}; Docker and containerd refuse to apply this layer`);
    }
    const inode = target.inode;
    Object.assign(inode.header, { mode: header.mode, uid: header.uid, gid: header.gid, uname: header.uname, gname: header.gname });
    return inode;
  }

  /** Everything under `dir` that this layer's own entries did not write goes (a written subdirectory is emptied the same way). */
  private opaque(dir: TreeNode, layer: number): void {
    for (const [name, child] of [...dir.children!]) {
      if (child.writtenIn !== layer) this.remove(dir, name);
      else if (child.children) this.opaque(child, layer);
    }
  }

  private remove(dir: TreeNode, name: string): void {
    const node = dir.children!.get(name);
    if (!node) return;
    dir.children!.delete(name);
    this.size -= countNodes(node);
  }

  /** The directory an entry goes into: created (0755, root) where missing, symlinks resolved inside the root. */
  private parentDir(path: string, label: string, entry: string): TreeNode {
    let dir = this.root;
    if (path === '') return dir;
    for (const seg of path.split('/')) {
      let next = dir.children!.get(seg);
      if (next?.inode?.header.type === 'symlink') next = this.resolve(next) ?? next;
      if (!next) {
        next = { name: seg, parent: dir, header: dirHeader(seg), children: new Map(), inode: undefined, writtenIn: -1 };
        dir.children!.set(seg, next);
        this.size++;
      }
      if (!next.children) {
        throw new ArchiveError(
          `layer ${label}: entry ${JSON.stringify(entry)} goes under ${JSON.stringify(pathOf(next))}, which is not a directory in the layers below; Docker refuses to apply this layer`,
        );
      }
      dir = next;
    }
    return dir;
  }

  /**
   * The node at `path` (relative, cleaned). `follow`: resolve symbolic links in every component
   * including the last, inside the root, as a process chrooted into the image would; else only
   * the parent components are resolved. `strict`: a `..` above the root (in the path or a link's
   * target) throws instead of staying at the root. Undefined when missing or a link loops.
   */
  lookup(path: string, opts: LookupOptions): TreeNode | undefined {
    const hops = opts.hops ?? { n: 0 };
    let node = this.root;
    const segs = path === '' ? [] : path.split('/');
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i]!;
      if (seg === '..') {
        if (!node.parent && opts.strict) throw new PathError(`${JSON.stringify(opts.asked ?? path)} leads out of the image's root ('..' above /); copyedit reads only inside the image`);
        node = node.parent ?? this.root;
        continue;
      }
      if (!node.children) return undefined;
      const child = node.children.get(seg);
      if (!child) return undefined;
      const last = i === segs.length - 1;
      if (child.inode?.header.type === 'symlink' && (!last || opts.follow)) {
        const r = this.resolve(child, { ...opts, hops, follow: true });
        if (!r) return undefined;
        node = r;
      } else node = child;
    }
    return node;
  }

  /** Where a symbolic link leads, inside the root; undefined for a dangling link or a loop. */
  resolve(link: TreeNode, opts: LookupOptions = { follow: true }): TreeNode | undefined {
    const hops = opts.hops ?? { n: 0 };
    if (++hops.n > MAX_SYMLINK_HOPS) return undefined;
    const target = link.inode!.header.linkname;
    const base = target.startsWith('/') ? '' : pathOf(link.parent!);
    return this.lookup(cleanKeepingDots(base === '' ? target : `${base}/${target}`), { ...opts, hops, follow: true });
  }
}

/** How `MergedTree.lookup` resolves a path. */
export interface LookupOptions {
  readonly follow: boolean;
  readonly strict?: boolean;
  /** The path as the user gave it, for messages. */
  readonly asked?: string;
  readonly hops?: { n: number };
}

/** A path's segments without empty and `.` ones, keeping `..` for the lookup to apply (it stops at the root). */
function cleanKeepingDots(p: string): string {
  return p
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');
}

function countNodes(node: TreeNode): number {
  let n = 1;
  if (node.children) for (const c of node.children.values()) n += countNodes(c);
  return n;
}

/** A node's path from the root, relative (`etc/passwd`); '' for the root. */
export function pathOf(node: TreeNode): string {
  const parts: string[] = [];
  for (let n: TreeNode | undefined = node; n?.parent; n = n.parent) parts.push(n.name);
  return parts.reverse().join('/');
}
