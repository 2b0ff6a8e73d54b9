import { constants as FS, closeSync, fstatSync, lstatSync, openSync, readSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { BLOCK, encodeHeader, padding } from '../archive/tar/header.js';
import { ArchiveError, ioError } from '../errors.js';
import type { ByteSource } from './bytes.js';

/**
 * An OCI image layout DIRECTORY (`skopeo copy ... oci:DIR`, umoci, `regctl`) read as if it were the
 * tar archive `skopeo copy ... oci-archive:` would make of it: `oci-layout`, `index.json`, then every
 * `blobs/<alg>/<encoded>` file in name order. The scanner, graph, verify and rewrite then work
 * unchanged, and memory stays flat: each blob is read from disk with read(2) into one reused
 * buffer while the tar reader asks for it, never held.
 *
 * The directory is a snapshot the reader cannot take: it is listed once, and a file that vanishes,
 * is replaced, or changes size afterwards stops the run (ArchiveError) rather than give a torn
 * archive. Links are never followed (a blob that is a symbolic link could name any file of the
 * system), and nothing but regular files is read.
 */

/** OCI image-spec descriptor grammar: `algorithm` and `encoded` parts of a digest. */
const ALGORITHM = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*$/;
const ENCODED = /^[a-zA-Z0-9=_-]+$/;
const CHUNK = 1 << 20;
const YIELD_EVERY = 64 << 20;
const LAYOUT_FILES = ['oci-layout', 'index.json'] as const;

/** One file of the layout as listed: what must still be there, the same, when it is read. */
interface Listed {
  /** The tar entry name (`blobs/sha256/<hex>`). */
  readonly name: string;
  readonly path: string;
  readonly size: number;
  readonly dev: number;
  readonly ino: number;
  /** Status change time: a file replaced under the same inode number (reused) or rewritten in place has a new one. */
  readonly ctimeMs: number;
}

export interface DirectoryListing {
  readonly files: readonly Listed[];
  /** Names outside the layout (not `oci-layout`, `index.json` or `blobs/<alg>/<encoded>`), for a warning. */
  readonly extra: readonly string[];
  /** Bytes of all the files together. */
  readonly size: number;
}

/**
 * List an OCI layout directory, or refuse it (ArchiveError naming the path) when it is not one or
 * holds what the reader will not read: a link or a non-regular file among the layout's files.
 */
export function listLayout(dir: string): DirectoryListing {
  const files: Listed[] = [];
  const extra: string[] = [];
  const missing = LAYOUT_FILES.filter((f) => lstatOrUndefined(join(dir, f)) === undefined);
  if (missing.length > 0) {
    throw new ArchiveError(
      `is a directory without ${missing.join(' and ')}; copyedit reads a docker save archive (a file) or an OCI image layout directory (oci-layout, index.json, blobs/ as skopeo copy ... oci:DIR writes it)`,
      dir,
    );
  }
  for (const f of LAYOUT_FILES) files.push(listed(dir, f));
  const top = readNames(dir);
  for (const n of top) if (n !== 'blobs' && !(LAYOUT_FILES as readonly string[]).includes(n)) extra.push(n);
  if (top.includes('blobs')) {
    const blobs = join(dir, 'blobs');
    const st = lstatListed(blobs);
    if (!st.isDirectory()) refuseKind(dir, 'blobs', st);
    for (const alg of readNames(blobs)) {
      const rel = `blobs/${alg}`;
      const st = lstatListed(join(blobs, alg));
      if (!ALGORITHM.test(alg) || !st.isDirectory()) {
        if (st.isSymbolicLink() || !st.isDirectory()) refuseKind(dir, rel, st);
        extra.push(`${rel}/`);
        continue;
      }
      for (const enc of readNames(join(blobs, alg))) {
        if (!ENCODED.test(enc)) {
          const st2 = lstatListed(join(blobs, alg, enc));
          if (!st2.isFile()) refuseKind(dir, `${rel}/${enc}`, st2);
          extra.push(`${rel}/${enc}`);
          continue;
        }
        files.push(listed(dir, `${rel}/${enc}`));
      }
    }
  }
  return { files, extra, size: files.reduce((a, f) => a + f.size, 0) };
}

/** Names in `dir`, sorted as bytes (a fixed order whatever the file system returns). */
function readNames(dir: string): string[] {
  try {
    return readdirSync(dir).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  } catch (e) {
    throw ioError('read', dir, e);
  }
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('read', p, e);
  }
}

/** lstat of a name just read from its directory: gone meanwhile is the writer's doing, not ours. */
function lstatListed(p: string): Stats {
  const st = lstatOrUndefined(p);
  if (!st) throw new ArchiveError('vanished while the directory was listed; run again when nothing else writes the directory', p);
  return st;
}

function listed(dir: string, rel: string): Listed {
  const path = join(dir, rel);
  const st = lstatListed(path);
  if (!st.isFile()) refuseKind(dir, rel, st);
  return { name: rel, path, size: st.size, dev: st.dev, ino: st.ino, ctimeMs: st.ctimeMs };
}

function refuseKind(dir: string, rel: string, st: Stats): never {
  const kind = st.isSymbolicLink() ? 'a symbolic link' : st.isDirectory() ? 'a directory' : 'not a regular file';
  const what =
    rel.startsWith('blobs/') && rel.split('/').length === 3 ? 'a blob must be a regular file' : `${rel} must be a ${rel === 'blobs' || rel.split('/').length === 2 ? 'directory' : 'regular file'}`;
  throw new ArchiveError(
    `is ${kind} in an OCI layout directory; ${what}, and copyedit never follows links out of the directory: replace it with a copy of the file it stands for, or remove it if index.json does not need it`,
    join(dir, rel),
  );
}

/** What `openInput` returns for a directory: the layout as a tar stream, and what was left out of it. */
export function openDirectory(dir: string): { source: DirSource; size: number; warnings: string[] } {
  const listing = listLayout(dir);
  const warnings: string[] = [];
  if (listing.extra.length > 0) {
    const shown = listing.extra.slice(0, 10).join(', ') + (listing.extra.length > 10 ? `, and ${listing.extra.length - 10} more` : '');
    warnings.push(`${dir}: ${listing.extra.length} name${listing.extra.length === 1 ? '' : 's'} outside the OCI layout (not oci-layout, index.json or blobs/<alg>/<encoded>) not read: ${shown}`);
  }
  return { source: new DirSource(dir, listing), size: listing.size, warnings };
}

type Part = { readonly kind: 'bytes'; readonly data: Buffer } | { readonly kind: 'file'; readonly file: Listed };

/**
 * The directory as a tar stream. Headers are written anew (mode 0644, owner 0, time 0), so the same
 * layout gives the same bytes whatever the files' times and owners: an archive made from it is
 * reproducible.
 */
export class DirSource implements ByteSource {
  readonly reusesBuffers = true;
  bytesRead = 0;
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private readonly parts: Part[] = [];
  private at = 0;
  /** The open file being read, its offset, and the unread part of `buf`. */
  private fd: number | undefined;
  private offset = 0;
  private start = 0;
  private end = 0;
  private sinceYield = 0;
  private closed = false;

  constructor(
    readonly dir: string,
    listing: DirectoryListing,
  ) {
    for (const f of listing.files) {
      const header = encodeHeader({ name: f.name, size: f.size, mode: 0o644, mtime: new Date(0), type: 'file', linkname: '', uid: 0, gid: 0, uname: '', gname: '', devmajor: 0, devminor: 0 });
      this.parts.push({ kind: 'bytes', data: header }, { kind: 'file', file: f });
      const pad = padding(f.size);
      if (pad) this.parts.push({ kind: 'bytes', data: Buffer.alloc(pad) });
    }
    this.parts.push({ kind: 'bytes', data: Buffer.alloc(2 * BLOCK) });
  }

  async read(max: number): Promise<Buffer> {
    for (;;) {
      if (this.closed) return this.buf.subarray(0, 0);
      const part = this.parts[this.at];
      if (!part) return this.buf.subarray(0, 0);
      if (part.kind === 'bytes') {
        // header and padding blocks are small and fresh; hand them out once, whole or in pieces
        const out = part.data.subarray(this.start, this.start + max);
        this.start += out.length;
        if (this.start >= part.data.length) this.next();
        return out;
      }
      if (this.start < this.end) {
        const n = Math.min(max, this.end - this.start);
        const out = this.buf.subarray(this.start, this.start + n);
        this.start += n;
        return out;
      }
      if (this.fd === undefined) this.open(part.file);
      if (this.offset === part.file.size) {
        this.finishFile(part.file);
        continue;
      }
      if (this.sinceYield >= YIELD_EVERY) {
        this.sinceYield = 0;
        await new Promise((r) => setImmediate(r)); // let signal handlers and timers run
        if (this.closed) continue;
      }
      const want = Math.min(CHUNK, part.file.size - this.offset);
      let n: number;
      try {
        n = readSync(this.fd!, this.buf, 0, want, this.offset);
      } catch (e) {
        throw ioError('read', part.file.path, e);
      }
      if (n === 0) throw changed(part.file, `shrank to ${this.offset} bytes while it was read (listed with ${part.file.size})`);
      this.offset += n;
      this.bytesRead += n;
      this.sinceYield += n;
      this.start = 0;
      this.end = n;
    }
  }

  /** Open without following a link, and check it is still the file that was listed. */
  private open(f: Listed): void {
    let fd: number;
    try {
      fd = openSync(f.path, FS.O_RDONLY | FS.O_NOFOLLOW | FS.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw changed(f, 'vanished after the directory was listed');
      if (code === 'ELOOP') throw changed(f, 'was replaced by a symbolic link after the directory was listed');
      throw ioError('read', f.path, e);
    }
    this.fd = fd;
    this.offset = 0;
    const st = fstatSync(fd);
    if (!st.isFile() || st.ino !== f.ino || st.dev !== f.dev) throw changed(f, 'was replaced by another file after the directory was listed');
    if (st.size !== f.size) throw changed(f, `changed size from ${f.size} to ${st.size} bytes after the directory was listed`);
    if (st.ctimeMs !== f.ctimeMs) throw changed(f, 'was replaced or rewritten after the directory was listed (its status change time moved)');
  }

  /** All its listed bytes are read: it may not have grown meanwhile. */
  private finishFile(f: Listed): void {
    const st = fstatSync(this.fd!);
    if (st.size !== f.size) throw changed(f, `changed size from ${f.size} to ${st.size} bytes while it was read`);
    closeSync(this.fd!);
    this.fd = undefined;
    this.next();
  }

  private next(): void {
    this.at++;
    this.start = 0;
    this.end = 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function changed(f: Listed, what: string): ArchiveError {
  // the tar reader puts the directory's name in front, as for an entry of an archive
  return new ArchiveError(`${what}; something else is writing the OCI layout directory: run again when it is done`, f.name);
}
