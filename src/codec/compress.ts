import type { Duplex, Transform, Writable } from 'node:stream';
import { childProcess, zlib as lazyZlib } from '../lazy.js';
import { IoError } from '../errors.js';
import { zstdProcess, zstdZlib } from './decompress.js';
import { parallelGzip } from './pgzip.js';

/**
 * Compression, one place for every writer: the output archive (`compressInto`) and a recompressed
 * layer (`compressor`). gzip in-process (zlib, level 6); zstd in-process where Node's zlib has it,
 * else through the `zstd` program.
 */

export type OutputCompression = 'none' | 'gzip' | 'zstd';

/** A compressing stage in front of the output: write the tar into `stream`, then `finish()`. */
export interface CompressStage {
  readonly stream: Writable;
  /** End the input and wait until every compressed byte has been handed to the output. */
  finish(): Promise<void>;
  abort(): void;
}

/** Output compression from an explicit choice, else from the file name (`.tar.gz`, `.tgz`, `.tar.zst`). */
export function outputCompression(choice: OutputCompression | undefined, output: unknown): OutputCompression {
  if (choice) return choice;
  if (typeof output !== 'string') return 'none';
  if (/\.(tar\.gz|tgz)$/i.test(output)) return 'gzip';
  if (/\.tar\.zst$/i.test(output)) return 'zstd';
  return 'none';
}

/**
 * The output archive compressed into `out`: gzip runs in-process (zlib); zstd too where this Node
 * has it, otherwise through the `zstd` program (all cores: the output's bytes need not be
 * reproducible across machines, a layer's do). Nothing is staged on disk.
 */
export function compressInto(kind: Exclude<OutputCompression, 'none'>, out: Writable): CompressStage {
  const zlib = lazyZlib();
  const z = zstdZlib();
  const outFailed = outputFailure(out);
  if (kind === 'gzip' || z.createZstdCompress) {
    const t = kind === 'gzip' ? zlib.createGzip({ level: 6, chunkSize: 256 * 1024 }) : z.createZstdCompress!();
    t.pipe(out, { end: false });
    // the output failed (disk full, closed pipe): the compressor must fail too, or the tar writer
    // waits forever for it to drain, and the process exits with nothing pending (exit 13)
    outFailed.then((e) => t.destroy(e));
    const ended = new Promise<void>((res, rej) => {
      t.once('end', res);
      t.once('error', rej);
      t.once('close', () => rej(t.errored ?? new Error('the compressor was stopped')));
    });
    ended.catch(() => {});
    return {
      stream: t,
      async finish() {
        t.end();
        await ended;
      },
      abort: () => t.destroy(),
    };
  }
  const child = childProcess().spawn('zstd', ['-q', '-c', '-T0'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.pipe(out, { end: false });
  let failed: unknown;
  outFailed.then((e) => {
    // stop zstd and fail our side of it at once: it would block on its full output pipe, and we on its input
    failed ??= e;
    child.stdin.destroy(e);
    child.kill();
  });
  const closed = new Promise<void>((res, rej) => {
    child.on('error', (e: NodeJS.ErrnoException) => rej(new IoError(e.code === 'ENOENT' ? 'zstd output needs the zstd program (install zstd) or Node 22.15+' : `zstd: ${e.message}`)));
    child.on('close', (code) => (failed ? rej(failed) : code === 0 ? res() : rej(new IoError(`zstd failed (exit ${code}): ${stderr.trim()}`))));
  });
  closed.catch(() => {});
  child.stdin.on('error', () => {}); // EPIPE when zstd stops early; its exit status (or the output's failure) tells why
  return {
    stream: child.stdin,
    async finish() {
      if (failed) throw failed;
      child.stdin.end();
      await closed;
    },
    abort: () => child.kill(),
  };
}

/**
 * Resolves with the error when `out` fails or closes before we end it (never resolves otherwise).
 * The `.then` callbacks run only on failure.
 */
function outputFailure(out: Writable): Promise<Error> {
  return new Promise((res) => {
    out.once('error', (e: Error) => res(e));
    out.once('close', () => {
      if (!out.writableFinished) res(out.errored ?? Object.assign(new Error('write EPIPE: the output was closed'), { code: 'EPIPE' }));
    });
  });
}

/** The default levels of a recompressed layer (`--compression-level`), and the ranges accepted. */
export const LAYER_LEVELS = { gzip: { default: 3, min: 1, max: 9 }, zstd: { default: 3, min: 1, max: 19 } } as const;

/**
 * A compressing stage for a recompressed layer: gzip on every core (src/codec/pgzip.ts, pigz's
 * method: the same bytes whatever the core count), zstd in-process where Node's zlib has it, else
 * through the `zstd` program. `level`: LAYER_LEVELS' default when undefined.
 */
export function compressor(kind: 'gzip' | 'zstd', what: string, children: Promise<void>[], level?: number): Duplex | Transform {
  if (kind === 'gzip') return parallelGzip(level ?? LAYER_LEVELS.gzip.default);
  const z = zstdZlib();
  const zl = level ?? LAYER_LEVELS.zstd.default;
  if (z.createZstdCompress) return z.createZstdCompress({ params: { [z.constants.ZSTD_c_compressionLevel ?? 100]: zl } });
  return zstdProcess('compress', what, children, zl);
}
