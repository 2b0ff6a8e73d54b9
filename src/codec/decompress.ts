import { Duplex, PassThrough, type Readable, Transform } from 'node:stream';
import { childProcess, zlib as lazyZlib } from '../lazy.js';
import { ArchiveError, IoError, ioError } from '../errors.js';
import { type Compression, ZSTD_MAX_WINDOW, ZstdFrameCheck } from './detect.js';

/**
 * Decompression, one place for every reader: the outer compression of an input archive
 * (`decompressStream`), a layer being recompressed (`decompressor`), a layer hashed for its DiffID
 * (`inflater`). gzip runs in-process (zlib); zstd through the `zstd` program where it is
 * installed, else in-process where this Node's zlib has it (22.15+); xz and bzip2 always through
 * their programs. Nothing is written to disk.
 *
 * The program first: the same bytes whichever Node runs copyedit (Node bundles a libzstd of its
 * own, whose output differs from the system's), and Node's decoder (22, 24) ends a stream at its
 * first frame when that is a skippable one (pzstd's output), where the program reads them all.
 */

type ZstdZlib = {
  createZstdDecompress?: (o?: { params?: Record<number, number> }) => Transform;
  createZstdCompress?: (o?: { params?: Record<number, number> }) => Transform;
  constants: { ZSTD_d_windowLogMax?: number; ZSTD_c_compressionLevel?: number };
};

let program: boolean | undefined;

/** Is the `zstd` program installed (asked once)? */
function zstdProgram(): boolean {
  program ??= childProcess().spawnSync('zstd', ['-V'], { stdio: 'ignore' }).status === 0;
  return program;
}

/** Node's zlib, with its zstd only where the `zstd` program is not installed (see above). */
export function zstdZlib(): ZstdZlib {
  const z = lazyZlib() as unknown as ZstdZlib;
  return zstdProgram() ? { constants: z.constants } : z;
}

/** Node >= 22.15 has zstd in zlib; older Nodes cannot decompress zstd in-process. */
export function canDecompressZstd(): boolean {
  return typeof zstdZlib().createZstdDecompress === 'function';
}

export const TOOLS: Record<Exclude<Compression, 'none' | 'gzip'>, { cmd: string; pkg: string }> = {
  zstd: { cmd: 'zstd', pkg: 'zstd' },
  xz: { cmd: 'xz', pkg: 'xz-utils' },
  bzip2: { cmd: 'bzip2', pkg: 'bzip2' },
};

const READ_CHUNK = 1 << 20;

/**
 * An input archive's outer compression undone, as a stream: errors name `label` (the input) and
 * are ArchiveErrors for corrupt data, IoErrors for the input or the tool. Destroying the result
 * stops the decompressor and the input.
 */
export function decompressStream(raw: Readable, kind: Exclude<Compression, 'none'>, label: string): Readable {
  const zlib = lazyZlib();
  const z = zstdZlib();
  if (kind === 'gzip' || (kind === 'zstd' && z.createZstdDecompress)) {
    const t = kind === 'gzip' ? zlib.createGunzip({ chunkSize: 256 * 1024 }) : zstdDecoder();
    const out = new PassThrough({ highWaterMark: READ_CHUNK });
    raw.on('error', (e) => out.destroy(ioError('read', label, e)));
    t.on('error', (e) => out.destroy(new ArchiveError(`${kind} data is corrupt or truncated (${e.message}); download or save the archive again`, label)));
    const from = kind === 'zstd' ? guarded(raw, label, out) : raw;
    from.pipe(t).pipe(out);
    // the reader gave up (bad archive, failed output): stop reading the input as well
    out.on('close', () => {
      t.destroy();
      raw.destroy();
    });
    return out;
  }
  const tool = TOOLS[kind];
  const out = new PassThrough({ highWaterMark: READ_CHUNK });
  const child = childProcess().spawn(tool.cmd, kind === 'zstd' ? ['-dc', ZSTD_MEMORY] : ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 2000) stderr += d.toString();
  });
  child.on('error', (e: NodeJS.ErrnoException) => {
    out.destroy(
      e.code === 'ENOENT'
        ? new ArchiveError(`is ${kind}-compressed and the '${tool.cmd}' program is not installed; install ${tool.pkg} or decompress the archive first`, label)
        : ioError(`run ${tool.cmd} on`, label, e),
    );
  });
  child.stdin.on('error', () => {}); // EPIPE when the tool stops early; its exit status tells why
  raw.on('error', (e) => {
    out.destroy(ioError('read', label, e));
    child.kill();
  });
  (kind === 'zstd' ? guarded(raw, label, out) : raw).pipe(child.stdin);
  child.stdout.pipe(out, { end: false });
  child.on('close', (code, signal) => {
    if (code === 0) out.end();
    else if (out.destroyed) return;
    else if (signal) out.destroy(new IoError(`${tool.cmd} was stopped by ${signal} while decompressing ${label}`));
    else {
      out.destroy(new ArchiveError(`${kind} data is corrupt or truncated (${tool.cmd}: ${firstLine(stderr, tool.cmd) || `exit ${code}`}); download or save the archive again`, label));
    }
  });
  child.stdout.on('error', (e) => out.destroy(ioError(`read the output of ${tool.cmd} for`, label, e)));
  out.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
    raw.unpipe(child.stdin);
    raw.destroy();
  });
  return out;
}

/**
 * The `zstd` program's window limit set to Go's (klauspost/compress `MaxWindowSize`): the program's
 * own default (128 MiB, `--long=27`) would refuse frames that Docker and containerd read; larger
 * ones are refused before they reach it (`ZstdFrameCheck`).
 */
const ZSTD_MEMORY = `--memory=${ZSTD_MAX_WINDOW / (1 << 20)}MB`;

/** Node's in-process zstd decoder, with Go's window limit instead of libzstd's default 128 MiB. */
function zstdDecoder(): Transform {
  const z = zstdZlib();
  const param = z.constants.ZSTD_d_windowLogMax;
  return z.createZstdDecompress!(param !== undefined ? { params: { [param]: Math.log2(ZSTD_MAX_WINDOW) } } : {});
}

/**
 * A stage that passes zstd bytes on while walking their frames, and fails with an ArchiveError
 * naming `what` at the first frame whose window Go's decoder (so Docker and containerd) refuses:
 * before a decoder allocates that window, and with a message instead of the decoder's.
 */
export function zstdGuard(what: string): Transform {
  const check = new ZstdFrameCheck();
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      const problem = check.update(chunk);
      if (problem) done(new ArchiveError(problem, what));
      else done(null, chunk);
    },
  });
}

/** `raw` through a zstdGuard; its refusal destroys `out` (the stream the reader holds). */
function guarded(raw: Readable, label: string, out: PassThrough): Readable {
  const guard = zstdGuard(label);
  guard.on('error', (e) => out.destroy(e));
  out.on('close', () => guard.destroy());
  return raw.pipe(guard);
}

/** The tool's first complaint, without its own name in front ("xz: (stdin): Unexpected end of input"). */
function firstLine(stderr: string, cmd: string): string {
  const line = stderr.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.replace(new RegExp(`^${cmd}: `), '').trim();
}

/**
 * A decompressing stage for a layer being recompressed (a pipeline stage). Errors name `what` (the
 * layer); a child process's exit is awaited through `children`. Only gzip and zstd: no image
 * loader accepts xz or bzip2 layers, and copyedit does not recompress them.
 */
export function decompressor(kind: Compression, what: string, children: Promise<void>[]): (Duplex | Transform)[] {
  if (kind === 'gzip') return [lazyZlib().createGunzip()];
  const z = zstdZlib();
  if (kind !== 'zstd') throw new ArchiveError(`is ${kind}-compressed, which no image loader accepts; copyedit does not recompress it`, what);
  return [zstdGuard(what), z.createZstdDecompress ? zstdDecoder() : zstdProcess('decompress', what, children)];
}

/**
 * The `zstd` program as a pipeline stage (Meta's reference implementation), single-threaded so the
 * bytes do not depend on the machine's core count.
 */
export function zstdProcess(dir: 'compress' | 'decompress', what: string, children: Promise<void>[], level = 3): Duplex {
  const child = childProcess().spawn('zstd', dir === 'compress' ? ['-q', '-c', `-${level}`] : ['-q', '-d', '-c', ZSTD_MEMORY], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 2000) stderr += d.toString();
  });
  child.stdin.on('error', () => {}); // EPIPE when zstd stops early; its exit status says why
  const d = Duplex.from({ writable: child.stdin, readable: child.stdout });
  const done = new Promise<void>((res, rej) => {
    child.on('error', (e: NodeJS.ErrnoException) => {
      const err = new IoError(e.code === 'ENOENT' ? 'zstd layers need the zstd program (install zstd) or Node 22.15+' : `zstd: ${e.message}`);
      d.destroy(err);
      rej(err);
    });
    child.on('close', (code, signal) => {
      if (code === 0) return res();
      const err =
        dir === 'decompress' && code !== null
          ? new ArchiveError(`zstd data is corrupt or truncated (${stderr.trim() || `exit ${code}`}); save or download the archive again`, what)
          : new IoError(`zstd ${dir === 'compress' ? '' : '-d '}failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`);
      d.destroy(err);
      rej(err);
    });
  });
  done.catch(() => {});
  // a failed pipeline (bad input, full disk) stops zstd too; a finished one lets it exit by itself
  d.on('error', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  });
  children.push(done);
  return d;
}

/**
 * An in-process decompressor for hashing a layer's content (its DiffID) as it streams past, or
 * undefined where this Node has none for `kind` (the hash is then not checked, and said so).
 */
export function inflater(kind: Compression): Transform | undefined {
  if (kind === 'gzip') return lazyZlib().createGunzip({ chunkSize: 256 * 1024 });
  if (kind === 'zstd' && canDecompressZstd()) return zstdDecoder();
  return undefined;
}
