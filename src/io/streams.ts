import type { Readable } from 'node:stream';

/** Minimal view of a writable (Node or streamx) for back-pressure-aware writing. */
export interface ChunkSink {
  write(chunk: Buffer): boolean;
  once(event: string, fn: (...a: unknown[]) => void): unknown;
  removeListener(event: string, fn: (...a: unknown[]) => void): unknown;
  destroyed?: boolean;
  errored?: unknown;
}

/** Resolve when `sink` can take more data; reject if it closes or fails first. */
export function drained(sink: ChunkSink): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err?: unknown) => {
      if (settled) return;
      settled = true;
      sink.removeListener('drain', onDrain);
      sink.removeListener('error', onError);
      sink.removeListener('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onError = (e: unknown) => done(e ?? new Error('stream failed'));
    // A failed stream closes too, and a socket (a pipe on stdout) may close before its 'error'
    // (EPIPE) is emitted: give the cause a moment to arrive, since it tells the user more.
    // Without a cause, a writable closed under us is a broken pipe.
    const onClose = () => setImmediate(() => done(sink.errored ?? Object.assign(new Error('write EPIPE: the output was closed'), { code: 'EPIPE' })));
    sink.once('drain', onDrain);
    sink.once('error', onError);
    sink.once('close', onClose);
    // already gone (its 'close' came before we listened): no event will ever come
    if (sink.destroyed) onClose();
  });
}

/**
 * Read the first `n` bytes of a stream without consuming them (they are unshifted back).
 * Returns fewer bytes when the stream is shorter.
 */
export async function peek(stream: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let len = 0;
  while (len < n) {
    const c = stream.read() as Buffer | null;
    if (c !== null) {
      chunks.push(c);
      len += c.length;
      continue;
    }
    if (stream.readableEnded || stream.destroyed) break;
    const more = await new Promise<boolean>((resolve, reject) => {
      const cleanup = () => {
        stream.removeListener('readable', onReadable);
        stream.removeListener('end', onEnd);
        stream.removeListener('error', onError);
      };
      const onReadable = () => {
        cleanup();
        resolve(true);
      };
      const onEnd = () => {
        cleanup();
        resolve(false);
      };
      const onError = (e: unknown) => {
        cleanup();
        reject(e);
      };
      stream.once('readable', onReadable);
      stream.once('end', onEnd);
      stream.once('error', onError);
    });
    if (!more) break;
  }
  const head = Buffer.concat(chunks);
  if (head.length) stream.unshift(head);
  return head.subarray(0, n);
}
