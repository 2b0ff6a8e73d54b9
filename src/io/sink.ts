import { randomBytes } from 'node:crypto';
import { createWriteStream, fsync as fsyncCb, unlinkSync, type WriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { basename, dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { ioError } from '../errors.js';

/**
 * Where the output goes. A file is written to a temporary name in the target directory and renamed
 * over the target only after the last byte is on disk, so a failed or interrupted run leaves the
 * target as it was. Standard output cannot be taken back: there the archive's closing metadata
 * (manifest.json, index.json) is written last, so a consumer such as `docker load` sees a run that
 * failed half-way as an incomplete archive and refuses it.
 */
export interface OutputSink {
  readonly stream: Writable;
  /** The open file descriptor of a file output (its temporary file), for plain write(2) calls. */
  readonly fd?: number;
  readonly label: string;
  /** Flush, fsync and move into place. */
  commit(): Promise<void>;
  /** Throw the partial output away. Safe to call more than once, and after commit (no-op). */
  abort(): Promise<void>;
}

/** Temporary files not yet committed, removed by `removePendingOutputsSync` on a signal. */
const pending = new Set<string>();

export function removePendingOutputsSync(): void {
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
}

export async function openOutput(output: string | Writable, options: OutputOptions = {}): Promise<OutputSink> {
  if (typeof output !== 'string') return streamSink(output, 'output stream');
  if (output === '-') return streamSink(process.stdout, 'standard output');
  return fileSink(output, options.fsync !== false);
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

async function fileSink(target: string, durable: boolean): Promise<OutputSink> {
  const abs = resolve(target);
  const temp = join(dirname(abs), `.${basename(abs)}.${randomBytes(6).toString('hex')}.copyedit-tmp`);
  // The stream opens and owns the descriptor: an fs stream closes its fd on destroy whatever
  // autoClose says, so a descriptor also closed by us would be closed twice, and the second close
  // may hit a file opened meanwhile. autoClose is off only so the data can be fsynced first.
  pending.add(temp);
  const stream: WriteStream = createWriteStream(temp, { flags: 'wx', mode: 0o644, autoClose: false, highWaterMark: 8 << 20 });
  try {
    await once(stream, 'ready');
  } catch (e) {
    pending.delete(temp);
    throw ioError('create a temporary file next to', target, e);
  }
  let failure: unknown;
  stream.on('error', (e) => (failure ??= e));
  const closed = new Promise<void>((res) => stream.once('close', () => res()));
  let state: 'open' | 'committed' | 'aborted' = 'open';
  const sink: OutputSink = {
    stream,
    fd: (stream as unknown as { fd: number }).fd,
    label: target,
    async commit() {
      if (state !== 'open') return;
      try {
        if (failure) throw failure;
        await new Promise<void>((res, rej) => {
          stream.once('error', rej);
          stream.end(() => res());
        });
        if (durable) await fsync((stream as unknown as { fd: number }).fd);
        stream.destroy();
        await closed;
        if (failure) throw failure;
        await rename(temp, abs);
        state = 'committed';
        pending.delete(temp);
      } catch (e) {
        await sink.abort();
        throw ioError('write', target, e);
      }
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      stream.destroy();
      await closed;
      await unlink(temp).catch(() => {});
      pending.delete(temp);
    },
  };
  return sink;
}
