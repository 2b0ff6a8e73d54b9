import { constants as FS, closeSync, fsyncSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, rename, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { EntryRecord } from '../archive/tar/entry.js';
import { normalizeEntryPath } from '../archive/tar/entry.js';
import type { Header } from '../archive/tar/header.js';
import { ArchiveError, IoError, UsageError, ioError } from '../errors.js';
import { HOST, stale } from './stale.js';
import { WriteBehind } from './write-behind.js';

/**
 * The output as an OCI image layout DIRECTORY (`oci-layout`, `index.json`, `blobs/<alg>/<encoded>`,
 * nothing else), as `skopeo copy ... oci:DIR` and umoci read it. The layout is built in a fresh
 * temporary directory, every file and directory fsynced, and put in place only when complete: a
 * new target is that directory renamed (atomic, like the file output); an existing empty directory
 * receives its entries (it is the user's: never replaced, its mode and owner kept). copyedit never
 * merges into, nor deletes, a directory of the user's.
 */

/** The library's way to ask for a directory output: `editArchive({ output: { dir: 'out' } })`. */
export interface DirOutput {
  readonly dir: string;
}

/** What the pipeline writes entries through: a tar writer, or the layout directory's writer. */
export interface ArchiveWriter {
  writeStream(entry: EntryRecord, body: AsyncIterable<Buffer>): Promise<void>;
  writeBuffer(header: Header, data: Buffer, raw?: Buffer): Promise<void>;
  finish(): Promise<void>;
}

export interface DirSink {
  readonly label: string;
  readonly writer: ArchiveWriter;
  /** Entries of the archive an OCI layout does not have (manifest.json, repositories, legacy files), not written. */
  readonly leftOut: readonly string[];
  /** What the user should know about the written layout. */
  readonly notes: readonly string[];
  commit(): Promise<void>;
  abort(): Promise<void>;
}

const ALGORITHM = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*$/;
const ENCODED = /^[a-zA-Z0-9=_-]+$/;
const OCI_LAYOUT = Buffer.from('{"imageLayoutVersion":"1.0.0"}');

/** Temporary layout directories not yet committed, removed by `removePendingDirsSync` on a signal. */
const pending = new Set<string>();

export function removePendingDirsSync(): void {
  for (const p of pending) rmSync(p, { recursive: true, force: true });
  pending.clear();
}

/**
 * The directory an output names, or undefined for an archive file: `{ dir }`, a path ending in `/`,
 * or an existing directory (which openDirOutput accepts only when empty).
 */
export async function dirOutputPath(output: string | Writable | DirOutput): Promise<string | undefined> {
  if (typeof output === 'object' && output !== null && 'dir' in output && typeof output.dir === 'string') return output.dir;
  if (typeof output !== 'string' || output === '-' || output === '') return undefined;
  if (output.endsWith('/')) return output;
  const st = await stat(output).catch(() => undefined);
  return st?.isDirectory() ? output : undefined;
}

/**
 * Our temporary directories: `.NAME.copyedit-<pid>-<host>-<random>` beside a new target, and
 * `.copyedit-<pid>-<host>-<random>` inside an existing empty one. The pid and host let a later run
 * remove what a killed run left (src/io/stale.ts), as file outputs' temporaries are removed.
 */
const TEMP_DIR = /^\.(?:.+\.)?copyedit-(\d{1,10})-([0-9a-f]{4})-[0-9a-f]{8}$/;

function tempDirName(prefix: string): string {
  return `${prefix}copyedit-${process.pid}-${HOST}-${randomBytes(4).toString('hex')}`;
}

/**
 * Remove the temporary directories a killed run left in `dir`: our name pattern only, real
 * directories only (a link is never followed nor removed), from this host, owned by us, untouched
 * for STALE_MS, whose process is gone. Best effort: any doubt keeps the directory.
 */
export async function removeStaleDirs(dir: string, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const m = TEMP_DIR.exec(name);
    if (!m) continue;
    const p = join(dir, name);
    try {
      const st = await lstat(p);
      if (!st.isDirectory() || !stale(Number(m[1]), m[2]!, st, now)) continue;
      rmSync(p, { recursive: true, force: true });
      removed.push(p);
    } catch {
      /* gone meanwhile, or not ours to touch */
    }
  }
  return removed;
}

/**
 * Where the layout will go, checked, and a fresh temporary directory made for it: beside a target
 * that does not exist (renamed onto it when complete), or inside an existing empty directory (its
 * entries moved into it when complete, `index.json` last). An existing directory is never replaced:
 * its inode, mode and owner stay as they were, and `-o .` leaves the shell's directory in place.
 */
export async function openDirOutput(path: string, options: { readonly fsync?: boolean; readonly inputLabel?: string } = {}): Promise<DirSink> {
  const label = path;
  const target = resolve(path);
  if (target === '/' || path === '') throw new UsageError(`cannot write an OCI layout directory to ${path || 'an empty name'}; name a new directory, e.g. -o ./image-oci/`);
  const parent = dirname(target);
  await removeStaleDirs(parent);
  const into = await checkTarget(label, target);
  const base = into ? target : parent;
  let temp: string;
  try {
    // the name stays under 255 bytes whatever the target's
    temp = join(base, tempDirName(into ? '.' : `.${basename(target).slice(0, 200)}.`));
    await mkdir(temp, { mode: 0o700 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new IoError(`cannot write ${label}: the directory ${parent} does not exist; create it (mkdir -p ${parent}) or choose another output path`, { cause: e });
    throw ioError('create a temporary directory in', base, e);
  }
  pending.add(temp);
  const writer = new DirWriter(temp, options.fsync !== false, label, options.inputLabel);
  let state: 'open' | 'committed' | 'aborted' = 'open';
  const sink: DirSink = {
    label,
    writer,
    leftOut: writer.leftOut,
    notes: writer.notes,
    async commit() {
      if (state !== 'open') return;
      try {
        if (into) await moveInto(temp, target, label);
        else {
          await chmod(temp, 0o755); // made 0700 while it is being written
          // onto a missing name only: a directory someone made meanwhile is not replaced
          if (
            await lstat(target).then(
              () => true,
              () => false,
            )
          )
            throw Object.assign(new Error('exists'), { code: 'EEXIST' });
          await rename(temp, target);
        }
        state = 'committed';
        pending.delete(temp);
      } catch (e) {
        await sink.abort();
        if (e instanceof UsageError) throw e;
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') {
          throw new UsageError(`cannot write ${label}: something created it (or wrote into it) while copyedit was working; remove it or name another directory`, { cause: e });
        }
        throw ioError('write', label, e);
      }
      // the renames' own durability; best effort: the layout is in place whatever this says
      if (options.fsync !== false) {
        try {
          fsyncDir(into ? target : parent);
        } catch {
          /* a directory we may write but not read: nothing more to do */
        }
      }
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      await writer.close();
      rmSync(temp, { recursive: true, force: true });
      pending.delete(temp);
    },
  };
  return sink;
}

/**
 * The finished layout's entries moved from `temp` (inside `target`) into `target`: `blobs` first,
 * `index.json` last, so a reader never sees an index naming blobs not there yet; then `temp` goes.
 * The target must still hold nothing but `temp`: someone writing into it meanwhile is not overwritten.
 */
async function moveInto(temp: string, target: string, label: string): Promise<void> {
  const others = (await readdir(target)).filter((n) => join(target, n) !== temp);
  if (others.length > 0) throw new UsageError(`cannot write ${label}: something wrote into it while copyedit was working (${others.slice(0, 3).join(', ')}); remove it or name another directory`);
  const names = await readdir(temp);
  const order = (n: string) => (n === 'index.json' ? 2 : n === 'oci-layout' ? 1 : 0);
  for (const n of names.sort((x, y) => order(x) - order(y))) await rename(join(temp, n), join(target, n));
  await rmdir(temp);
}

/**
 * The target may be missing (false: make it) or an empty directory (true: write into it); anything
 * else belongs to the user and is refused, untouched.
 */
async function checkTarget(label: string, target: string): Promise<boolean> {
  let st: import('node:fs').Stats;
  try {
    st = await lstat(target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw ioError('write', label, e);
  }
  const fix = 'an OCI layout directory is written only as a new directory or into an empty one, never merged into one; remove it or name another';
  if (st.isSymbolicLink()) throw new UsageError(`cannot write ${label}: it is a symbolic link; ${fix}`);
  if (!st.isDirectory()) throw new UsageError(`cannot write ${label}: it exists and is not a directory; ${fix}`);
  await removeStaleDirs(target);
  const names = await readdir(target).catch((e: unknown) => {
    throw ioError('read', label, e);
  });
  if (names.length > 0) {
    throw new UsageError(
      `cannot write ${label}: the directory is not empty (${names.length} entr${names.length === 1 ? 'y' : 'ies'}); ${fix} (or name an archive file, e.g. -o ${join(label, 'out.tar')})`,
    );
  }
  return true;
}

/**
 * Writes the archive's entries as files of the layout: `oci-layout`, `index.json` and
 * `blobs/<alg>/<encoded>` regular files. Directory entries are made as needed; links are never made
 * (a blob that is a link in the archive is refused); every other entry is left out and listed.
 */
class DirWriter implements ArchiveWriter {
  readonly leftOut: string[] = [];
  readonly notes: string[] = [];
  private readonly dirs = new Set<string>();
  private readonly written = new Set<string>();
  private fd: number | undefined;
  /** The open blob's background flush (durable only): a large blob's fsync then finds little left. */
  private behind: WriteBehind | undefined;

  constructor(
    private readonly root: string,
    private readonly durable: boolean,
    private readonly label: string,
    private readonly inputLabel: string | undefined,
  ) {
    this.dirs.add('');
  }

  async writeStream(entry: EntryRecord, body: AsyncIterable<Buffer>): Promise<void> {
    const h = entry.header;
    const path = this.route(entry.name, h);
    if (path === undefined) {
      for await (const _ of body) void _;
      return;
    }
    this.create(path);
    let n = 0;
    for await (const chunk of body) {
      n += chunk.length;
      if (n > h.size) throw new Error(`${entry.name}: more data than its header's ${h.size} bytes`);
      const pause = this.put(chunk); // written before any pause: the chunk may be a reused buffer
      if (pause) await pause;
    }
    if (n !== h.size) throw new Error(`${entry.name}: ${n} of ${h.size} bytes`);
    await this.done();
  }

  async writeBuffer(header: Header, data: Buffer): Promise<void> {
    const path = this.route(header.name, header);
    if (path === undefined) return;
    this.create(path);
    await this.put(data);
    await this.done();
  }

  async finish(): Promise<void> {
    if (!this.written.has('index.json')) {
      throw new UsageError(
        `cannot write ${this.label}: the archive has no index.json (a Docker <= 24, podman or skopeo docker-archive layout): it has no OCI layout to write as a directory; add --format oci to convert it into one (copyedit edit IN --format oci -o DIR/), or write an archive file`,
      );
    }
    if (!this.written.has('oci-layout')) {
      this.create('oci-layout');
      await this.put(OCI_LAYOUT);
      await this.done();
      this.notes.push('the archive had no oci-layout file; the directory gets the standard one ({"imageLayoutVersion":"1.0.0"})');
    }
    if (this.durable) for (const d of [...this.dirs].sort().reverse()) fsyncDir(join(this.root, d));
  }

  /** An entry named as the reader's errors name it: `in.tar: blobs/sha256/...`. */
  private where(name: string): string {
    return this.inputLabel === undefined ? name : `${this.inputLabel}: ${name}`;
  }

  /** Close the open blob, if any, once no background flush uses its descriptor (its number could be reused). */
  async close(): Promise<void> {
    await this.behind?.settle().catch(() => {});
    this.behind = undefined;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** The layout path an entry becomes, or undefined when it has no place in an OCI layout (listed). */
  private route(name: string, h: Header): string | undefined {
    const path = normalizeEntryPath(name);
    const parts = path.split('/');
    const layoutFile = path === 'oci-layout' || path === 'index.json' || (parts.length === 3 && parts[0] === 'blobs' && ALGORITHM.test(parts[1]!) && ENCODED.test(parts[2]!));
    if (h.type === 'directory') {
      const structural = path === 'blobs' || (parts.length === 2 && parts[0] === 'blobs' && ALGORITHM.test(parts[1]!));
      if (!structural) this.leftOut.push(name);
      return undefined;
    }
    if (layoutFile && (h.type === 'file' || h.type === 'contiguous-file')) return path;
    if (layoutFile) {
      throw new ArchiveError(
        `is a ${h.type === 'symlink' ? 'symbolic' : h.type === 'link' ? 'hard' : h.type} ${h.type === 'symlink' || h.type === 'link' ? 'link' : 'entry'}; an OCI layout directory holds each of its files as a regular file, and copyedit makes no links; write an archive file instead`,
        this.where(name),
      );
    }
    this.leftOut.push(name);
    return undefined;
  }

  private create(path: string): void {
    if (this.written.has(path)) throw new ArchiveError('appears twice in the archive; an OCI layout directory can hold it once', this.where(path));
    const dir = dirname(path) === '.' ? '' : dirname(path);
    const chain: string[] = [];
    for (let d = dir; d !== '' && !this.dirs.has(d); d = dirname(d) === '.' ? '' : dirname(d)) chain.unshift(d);
    for (const d of chain) {
      mkdirSyncExclusive(join(this.root, d));
      this.dirs.add(d);
    }
    this.fd = openSync(join(this.root, path), FS.O_WRONLY | FS.O_CREAT | FS.O_EXCL | FS.O_NOFOLLOW, 0o644);
    this.behind = this.durable ? new WriteBehind(this.fd) : undefined;
    this.written.add(path);
  }

  private put(b: Buffer): void | Promise<void> {
    let off = 0;
    while (off < b.length) off += writeSync(this.fd!, b, off, b.length - off);
    return this.behind?.wrote(b.length);
  }

  private async done(): Promise<void> {
    await this.behind?.settle();
    this.behind = undefined;
    if (this.durable) fsyncSync(this.fd!);
    closeSync(this.fd!);
    this.fd = undefined;
  }
}

/** In our own fresh directory: a plain mkdir fails if the name is there already. */
function mkdirSyncExclusive(p: string): void {
  mkdirSync(p, { mode: 0o755 });
}

/** fsync a directory: makes a rename (or a new name) in it durable. */
export function fsyncDir(p: string): void {
  const fd = openSync(p, FS.O_RDONLY | FS.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
