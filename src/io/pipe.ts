import { constants as FS, closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { net } from '../lazy.js';
import type { Writable } from 'node:stream';
import { CHUNK, InputClosedError, ReusedBufferSource } from './bytes.js';
import type { ByteTarget } from './target.js';

/**
 * Standard input and output as pipes, and FIFOs named as input or `-o` (`<(docker save x)` is one),
 * copied as a file is: plain read(2) and write(2) calls on one reused buffer, no stream, no chunk
 * allocated per read. The descriptors are non-blocking (stdin is reopened so; Node makes stdout so
 * when it creates process.stdout; a FIFO is opened so), so a stalled pipe never
 * holds the event loop: when a read or write would block (EAGAIN), the wait is handed to the event
 * loop (epoll), and Ctrl-C / SIGTERM are handled meanwhile, as on the stream path. Blocking calls
 * would be cheaper (about 90 us of CPU per wait, README "Where the time goes") but a signal would
 * then wait for the pipe to move. While bytes flow, no event-loop turn is taken (but one every
 * 64 MiB, as FdSource does).
 */

/** A pipe holds 64 KiB by default: what one wake-up can bring. */
const WAKE_CHUNK = 64 << 10;

/**
 * A private, non-blocking descriptor on the pipe that is standard input, or undefined when fd 0 is
 * not a pipe (a file, a terminal, a socket from a parent's spawn) or cannot be reopened (no /proc).
 * Reopening gives a file description of our own: O_NONBLOCK there changes nothing for the writer or
 * for anyone sharing fd 0's description (a shell, process.stdin).
 */
export function openStdinPipe(): number | undefined {
  try {
    if (!fstatSync(0).isFIFO()) return undefined;
    return openSync('/proc/self/fd/0', FS.O_RDONLY | FS.O_NONBLOCK);
  } catch {
    return undefined;
  }
}

/** True when standard output is a pipe (or FIFO): `-o -` then takes PipeTarget. */
export function stdoutIsPipe(): boolean {
  try {
    return fstatSync(1).isFIFO();
  } catch {
    return false;
  }
}

const AGAIN = -1;

/**
 * read(2) or write(2) of `len` bytes at `at` on a non-blocking pipe, or AGAIN when it would block.
 * EAGAIN is routine there (thousands per GiB when the other end is the slower one) and Node reports
 * it as a thrown error; created without a stack trace it costs half as much (8 instead of 15 us,
 * measured). Other errors are rethrown with their message. No closure: this runs once per chunk.
 */
function pipeIo(op: typeof readSync | typeof writeSync, fd: number, buf: Buffer, at: number, len: number): number {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return op === readSync ? readSync(fd, buf, at, len, null) : writeSync(fd, buf, at, len);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException)?.code;
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return AGAIN;
    throw e;
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * A pipe read with read(2) into one reused buffer. The descriptor may be blocking (reads then wait
 * in the kernel, like cat's) or non-blocking (an empty pipe is waited for on the event loop).
 */
export class PipeSource extends ReusedBufferSource {
  private closed = false;
  /** Created at the first EAGAIN: a socket on the same descriptor, read only to wait for bytes. */
  private waiter: PipeWaiter | undefined;
  /** The first bytes are waited for before any read(2): see `awaitWriter`. */
  private waitFirst: boolean;

  /**
   * `awaitWriter`: the descriptor is a FIFO we opened non-blocking, maybe before any writer: read(2)
   * then says 0 (end of input) at once, where the wait (epoll) waits for a writer's first bytes,
   * or for a writer that came and went without writing (the end).
   */
  constructor(
    private readonly fd: number,
    options: { awaitWriter?: boolean } = {},
  ) {
    super();
    this.waitFirst = options.awaitWriter === true;
  }

  /**
   * Read into buf at `at` as much as the pipe holds now, up to the buffer's end; 0 at the end of
   * the input. A pipe gives at most 64 KiB per read(2): gathering them into one chunk of up to
   * 1 MiB (without waiting for more than is there) hands the tar reader and writer 16 times fewer
   * chunks when copyedit is the slower end, and each chunk costs a few promises there.
   */
  protected async readInto(at: number): Promise<number> {
    let total = 0;
    if (this.waitFirst) {
      this.waitFirst = false;
      this.waiter ??= new PipeWaiter(this.fd);
      total = await this.waiter.next(this.buf, at, CHUNK - at);
      if (total === 0) return 0;
    }
    while (at + total < CHUNK) {
      let n: number;
      if (this.waiter?.holding) n = this.waiter.take(this.buf, at + total, CHUNK - at - total);
      else {
        n = pipeIo(readSync, this.fd, this.buf, at + total, CHUNK - at - total);
        if (n === AGAIN) {
          if (total > 0) break; // what is there now: no waiting for more
          this.waiter ??= new PipeWaiter(this.fd);
          n = await this.waiter.next(this.buf, at, CHUNK - at);
        }
      }
      if (n === 0) break; // the end (read again by the next call, which then returns 0)
      total += n;
    }
    return total;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // the waiter's socket owns the descriptor once it exists: closing it there closes it once
    if (this.waiter) this.waiter.destroy();
    else closeSync(this.fd);
  }
}

/**
 * Waits on the event loop for a non-blocking pipe to have bytes, by reading them through a socket
 * handle (libuv has the only readiness wait Node offers). Reading stops after each wake-up
 * (`onread` returning false), so every later byte is again read by read(2), in order.
 */
class PipeWaiter {
  private readonly socket: Socket;
  private readonly scratch = Buffer.allocUnsafe(WAKE_CHUNK);
  /** Bytes a wake-up brought that nobody has taken yet. */
  private stash: Buffer | undefined;
  private ended = false;
  private failure: unknown;
  private waiting: (() => void) | undefined;

  constructor(fd: number) {
    this.socket = new (net().Socket)({
      fd,
      readable: true,
      writable: false,
      manualStart: true,
      onread: {
        buffer: this.scratch,
        callback: (n: number) => {
          this.landed(n);
          this.wake();
          return false; // stop reading: the next bytes go to read(2) again
        },
      },
    } as ConstructorParameters<typeof Socket>[0]);
    this.socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    this.socket.on('error', (e) => {
      this.failure ??= e;
      this.wake();
    });
  }

  /** Where the next wake-up's bytes go: the caller's buffer, so no chunk is allocated. */
  private into: { buf: Buffer; at: number; len: number; n: number } | undefined;

  private landed(n: number): void {
    const into = this.into;
    let done = 0;
    if (into && into.n === 0 && !this.stash) {
      done = this.scratch.copy(into.buf, into.at, 0, Math.min(n, into.len));
      into.n = done;
    }
    // more than the caller asked for (or nobody asked): kept, in order, for the next call
    if (done < n) {
      const rest = this.scratch.subarray(done, n);
      this.stash = this.stash ? Buffer.concat([this.stash, rest]) : Buffer.from(rest);
    }
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  /** True when a wake-up brought more than its caller took: those bytes come before any read(2). */
  get holding(): boolean {
    return this.stash !== undefined;
  }

  /** Copy up to `len` held bytes into `buf` at `at`. */
  take(buf: Buffer, at: number, len: number): number {
    if (!this.stash) return 0;
    const n = this.stash.copy(buf, at, 0, Math.min(len, this.stash.length));
    this.stash = n < this.stash.length ? this.stash.subarray(n) : undefined;
    return n;
  }

  /** Wait for bytes; copy up to `len` of them into `buf` at `at`. 0 at the end of the input. */
  async next(buf: Buffer, at: number, len: number): Promise<number> {
    const into = { buf, at, len, n: 0 };
    while (into.n === 0 && !this.stash && !this.ended && this.failure === undefined) {
      const woken = new Promise<void>((r) => (this.waiting = r));
      this.into = into;
      this.socket.resume();
      await woken;
      this.into = undefined;
    }
    if (into.n > 0) return into.n;
    if (this.stash) return this.take(buf, at, len);
    if (this.failure !== undefined) throw this.failure;
    return 0;
  }

  destroy(): void {
    this.failure ??= new InputClosedError();
    this.socket.destroy();
    this.wake();
  }
}

/**
 * A pipe written with write(2) calls. Each chunk is written (or handed to the stream and waited
 * for) before write returns, so the caller may reuse it: nothing is copied. When the pipe is full
 * (EAGAIN on a non-blocking descriptor, as Node leaves standard output) the rest goes through the
 * stream on the same descriptor, which waits on the event loop; a reader gone away is EPIPE.
 */
export class PipeTarget implements ByteTarget {
  constructor(
    private readonly fd: number,
    private readonly stream: Writable,
  ) {}

  write(b: Buffer): void | Promise<void> {
    // bytes still queued in the stream (someone wrote there first) go out before ours
    if (this.stream.writableLength > 0) return this.later(b);
    let off = 0;
    while (off < b.length) {
      const n = pipeIo(writeSync, this.fd, b, off, b.length - off);
      if (n === AGAIN) return this.later(b.subarray(off));
      off += n;
    }
  }

  private later(rest: Buffer): Promise<void> {
    return new Promise((res, rej) => {
      this.stream.write(rest, (e) => (e ? rej(e) : res()));
    });
  }
}
