import { randomBytes } from 'node:crypto';
import { constants as FS, createWriteStream, fsync as fsyncCb, openSync, closeSync, unlinkSync, type WriteStream } from 'node:fs';
import { lstat, readdir, readlink, realpath, rename, stat, unlink } from 'node:fs/promises';
import { once } from 'node:events';
import { net, tty } from '../lazy.js';
import { promisify } from 'node:util';
import { basename, dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { IoError, UsageError, ioError } from '../errors.js';
import { fsyncDir, removePendingDirsSync } from './dir-target.js';
import { HOST, STALE_MS, stale } from './stale.js';
import { stdoutIsPipe } from './pipe.js';
import { WriteBehind } from './write-behind.js';

/**
 * Where the output goes. A regular file is written to a temporary name in the target's directory
 * and renamed over the target only after the last byte is on disk, so a failed or interrupted run
 * leaves the target as it was. A symbolic link is written through (as `cp` does): the temporary file
 * and the rename happen in the directory of the file the link finally names. A device, a FIFO or a
 * terminal is written into, never replaced (no rename is possible there, so that output is not
 * atomic). Standard output cannot be taken back: there the archive's closing metadata
 * (manifest.json, index.json) is written last, so a consumer such as `docker load` sees a run that
 * failed half-way as an incomplete archive and refuses it.
 */
export interface OutputSink {
  readonly stream: Writable;
  /** The open file descriptor of a file output (its temporary file), for plain write(2) calls. */
  readonly fd?: number;
  /** The path of that temporary file (a patched output is copied onto it by the kernel). */
  readonly tempPath?: string;
  /** A durable file output's background flush: whoever writes to `fd` tells it of each write. */
  readonly writeBehind?: WriteBehind;
  /**
   * Standard output when it is a pipe, or a FIFO named by -o: written with plain write(2) calls
   * (PipeTarget), `stream` (on the same descriptor) only to wait when the pipe is full.
   */
  readonly pipeFd?: number;
  readonly label: string;
  /** Flush, fsync and move into place. */
  commit(): Promise<void>;
  /** Throw the partial output away. Safe to call more than once, and after commit (no-op). */
  abort(): Promise<void>;
}

/** Temporary files not yet committed, removed by `removePendingOutputsSync` on a signal. */
const pending = new Set<string>();

export function removePendingOutputsSync(): void {
  removePendingDirsSync();
  for (const p of pending) {
    try {
      unlinkSync(p);
    } catch {
      /* already gone */
    }
  }
  pending.clear();
}

export interface OutputOptions {
  /**
   * fsync the file before renaming it into place (default true): after a crash the target then
   * holds either its old content or the whole new archive, never a torn one.
   */
  readonly fsync?: boolean;
  /** Write the archive onto a terminal (standard output or a tty device) instead of refusing. */
  readonly allowTerminal?: boolean;
}

export async function openOutput(output: string | Writable, options: OutputOptions = {}): Promise<OutputSink> {
  if (typeof output !== 'string') return streamSink(output, 'output stream');
  if (output === '-') {
    if (!options.allowTerminal && tty().isatty(1)) {
      throw new UsageError('refusing to write a binary archive to a terminal (standard output); redirect it (-o - > out.tar, -o - | docker load) or name a file with -o FILE');
    }
    const sink = streamSink(process.stdout, 'standard output');
    return stdoutIsPipe() ? { ...sink, pipeFd: 1 } : sink;
  }
  let st: import('node:fs').Stats | undefined;
  try {
    st = await stat(output); // follows links: a link to /dev/null is a device
  } catch {
    st = undefined; // missing (or a dangling link): created below, through the link
  }
  if (st?.isDirectory()) throw new IoError(`cannot write ${output}: is a directory; name the output file, e.g. -o ${join(output, 'out.tar')} (several inputs: --out-dir ${output})`);
  if (st && !st.isFile()) return specialSink(output, st, options.allowTerminal === true);
  return fileSink(output, await finalTarget(resolve(output)), options.fsync !== false);
}

const fsync = promisify(fsyncCb);

function streamSink(stream: Writable, label: string): OutputSink {
  let failure: unknown;
  stream.on('error', (e) => (failure ??= e));
  return {
    stream,
    label,
    async commit() {
      if (failure) throw ioError('write', label, failure);
      if (stream === process.stdout) {
        // never end process.stdout; wait until what we wrote has been handed to the OS
        await new Promise<void>((res, rej) => stream.write('', (e) => (e ? rej(ioError('write', label, e)) : res())));
        return;
      }
      await new Promise<void>((res, rej) => {
        stream.once('error', (e) => rej(ioError('write', label, e)));
        stream.end(() => res());
      });
    },
    async abort() {
      if (stream !== process.stdout && !stream.destroyed) stream.destroy();
    },
  };
}

/**
 * A FIFO, a character or block device: written into, in place. No open may block the event loop
 * (nor a thread-pool thread: a process with one blocked there cannot exit, so Ctrl-C would hang):
 * a FIFO is opened non-blocking, retried until a reader comes, and written as standard output's
 * pipe is (`pipeFd`: write(2), and a socket handle on the same descriptor to wait when it is full).
 */
async function specialSink(output: string, st: import('node:fs').Stats, allowTerminal: boolean): Promise<OutputSink> {
  if (st.isSocket()) throw new IoError(`cannot write ${output}: is a socket; name a file, a FIFO or a device, or use -o - and a pipe`);
  let fd: number;
  if (st.isFIFO()) {
    fd = await openFifoForWriting(output);
  } else {
    try {
      fd = openSync(output, FS.O_WRONLY | FS.O_NONBLOCK | FS.O_NOCTTY);
    } catch (e) {
      throw ioError('write', output, e);
    }
    if (tty().isatty(fd) && !allowTerminal) {
      closeSync(fd);
      throw new UsageError(`refusing to write a binary archive to the terminal ${output}; name a file with -o FILE or redirect standard output`);
    }
  }
  if (st.isFIFO()) return { ...streamSink(new (net().Socket)({ fd, readable: false, writable: true }), output), pipeFd: fd };
  const stream: Writable = tty().isatty(fd) ? new (tty().WriteStream)(fd) : createWriteStream('', { fd, highWaterMark: 8 << 20 });
  return streamSink(stream, output);
}

async function openFifoForWriting(output: string): Promise<number> {
  for (;;) {
    try {
      return openSync(output, FS.O_WRONLY | FS.O_NONBLOCK);
    } catch (e) {
      // ENXIO: no reader yet. Wait for one, the event loop free (signals still work).
      if ((e as NodeJS.ErrnoException).code !== 'ENXIO') throw ioError('write', output, e);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * The file a path finally names: symbolic links are followed, also when the last one dangles (the
 * file it names is then created, as `cp` does). Each step resolves its directory with realpath, so
 * a relative link is read from where it really is.
 */
async function finalTarget(abs: string): Promise<string> {
  let p = abs;
  for (let hops = 0; hops <= 40; hops++) {
    try {
      p = join(await realpath(dirname(p)), basename(p));
      const st = await lstat(p);
      if (!st.isSymbolicLink()) return p;
      p = resolve(dirname(p), await readlink(p));
    } catch {
      return p; // missing directory, permission...: diagnosed when the temporary file is created
    }
  }
  throw new IoError(`cannot write ${abs}: too many levels of symbolic links; name the real file with -o`);
}

/**
 * Our temporary files: `.ce-<pid>-<host>-<random>.copyedit-tmp`, at most 38 bytes whatever the
 * target's name (a 255-byte name still fits). The pid and a hash of the host name let a later run
 * tell its own stale temporaries (left by SIGKILL or a crash) from those of a run still going.
 */
const TEMP = /^\.ce-(\d{1,10})-([0-9a-f]{4})-[0-9a-f]{8}\.copyedit-tmp$/;
export { STALE_MS };

function tempName(): string {
  return `.ce-${process.pid}-${HOST}-${randomBytes(4).toString('hex')}.copyedit-tmp`;
}

/**
 * Remove the temporaries a killed run left in `dir`: only our own name pattern, only regular files
 * (a link is never followed nor removed), only from this host, owned by us, untouched for
 * STALE_MS, and whose process no longer exists. Best effort: any doubt keeps the file.
 */
export async function removeStaleTemporaries(dir: string, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = TEMP.exec(name);
    if (!m) continue;
    const p = join(dir, name);
    try {
      const st = await lstat(p);
      if (!st.isFile() || !stale(Number(m[1]), m[2]!, st, now)) continue;
      await unlink(p);
      removed.push(p);
    } catch {
      /* gone meanwhile, or not ours to touch */
    }
  }
  return removed;
}

/** Why a temporary file could not be created in `dir`, and what to do about it. */
async function cannotCreate(target: string, dir: string, e: unknown): Promise<IoError> {
  const code = (e as NodeJS.ErrnoException)?.code;
  const fix = 'or choose another output path';
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    const d = await stat(dir).catch((x: NodeJS.ErrnoException) => x);
    if (d instanceof Error && d.code === 'ENOENT') return new IoError(`cannot write ${target}: the directory ${dir} does not exist; create it (mkdir -p ${dir}) ${fix}`, { cause: e });
    if (d instanceof Error ? d.code === 'ENOTDIR' : !d.isDirectory())
      return new IoError(`cannot write ${target}: ${dir} is not a directory (a part of that path is a file); choose another output path`, { cause: e });
  }
  const why: Record<string, string> = {
    EACCES: `no permission to create a file in ${dir} (the output is written there as a temporary file, then renamed); fix the directory's permissions`,
    EPERM: `no permission to create a file in ${dir} (the output is written there as a temporary file, then renamed); fix the directory's permissions`,
    EROFS: `${dir} is on a read-only file system; remount it read-write`,
    ENOSPC: `no space left on the file system of ${dir}; free some space`,
    EDQUOT: `the disk quota on ${dir} is exhausted; free some space`,
  };
  if (code && why[code]) return new IoError(`cannot write ${target}: ${why[code]} ${fix}`, { cause: e });
  return ioError('create a temporary file in', dir, e);
}

async function fileSink(target: string, final: string, durable: boolean): Promise<OutputSink> {
  const dir = dirname(final);
  await removeStaleTemporaries(dir);
  const temp = join(dir, tempName());
  // The stream opens and owns the descriptor: an fs stream closes its fd on destroy whatever
  // autoClose says, so a descriptor also closed by us would be closed twice, and the second close
  // may hit a file opened meanwhile. autoClose is off only so the data can be fsynced first.
  pending.add(temp);
  const stream: WriteStream = createWriteStream(temp, { flags: 'wx', mode: 0o644, autoClose: false, highWaterMark: 8 << 20 });
  try {
    await once(stream, 'ready');
  } catch (e) {
    pending.delete(temp);
    throw await cannotCreate(target, dir, e);
  }
  let failure: unknown;
  stream.on('error', (e) => (failure ??= e));
  const closed = new Promise<void>((res) => stream.once('close', () => res()));
  let state: 'open' | 'committed' | 'aborted' = 'open';
  const fd = (stream as unknown as { fd: number }).fd;
  const behind = durable ? new WriteBehind(fd) : undefined;
  const sink: OutputSink = {
    stream,
    fd,
    tempPath: temp,
    ...(behind ? { writeBehind: behind } : {}),
    label: target,
    async commit() {
      if (state !== 'open') return;
      try {
        if (failure) throw failure;
        await new Promise<void>((res, rej) => {
          stream.once('error', rej);
          stream.end(() => res());
        });
        await behind?.settle();
        if (durable) await fsync(fd);
        stream.destroy();
        await closed;
        if (failure) throw failure;
        await rename(temp, final);
        state = 'committed';
        pending.delete(temp);
      } catch (e) {
        await sink.abort();
        throw ioError('write', target, e);
      }
      // the rename's own durability: without it a crash may bring back the old target. Best
      // effort, as for a directory output: the new archive is in place whatever this says.
      if (durable) {
        try {
          fsyncDir(dir);
        } catch {
          /* a directory we may write but not read, or a file system that cannot sync one */
        }
      }
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      // the descriptor is closed below: no fdatasync may still be using it (its number could be reused)
      await behind?.settle().catch(() => {});
      stream.destroy();
      await closed;
      await unlink(temp).catch(() => {});
      pending.delete(temp);
    },
  };
  return sink;
}
