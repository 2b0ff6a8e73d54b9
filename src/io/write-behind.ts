import fs from 'node:fs';

/**
 * Start the disk writing while the copy goes on. Linux keeps a file's written pages dirty in memory
 * until far more of them than one archive exist (dirty_background_ratio is a share of RAM), so a
 * durable output would otherwise start writing its whole size only in the final fsync, after the
 * copy. After the first 8 MiB, then every `every` bytes written, one fdatasync(2) is started on
 * the thread pool (never two at a time): the kernel writes the pages behind us while the copy goes
 * on in the main thread, and the final fsync before the rename, still the guarantee, finds little
 * left to write. On 1.4 GiB the disk then works from the first 8 MiB to the end without a pause.
 *
 * A background fdatasync that fails (EIO, ENOSPC) has reported the error for this file once and for
 * all (Linux does not report it to a later fsync of the same descriptor), so its failure is kept and
 * thrown by the next `wrote` or by `settle`: the run then fails, and the temporary file is removed.
 */
export class WriteBehind {
  private pending: number;
  private flushing = false;
  /** The last flush started (settled once it ended). */
  private last: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;
  private sinceYield = 0;

  constructor(
    private readonly fd: number,
    private readonly every = WRITE_BEHIND_EVERY,
    // looked up at call time, so a test can replace fs.fdatasync
    private readonly fdatasync: (fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => void = (fd, cb) => fs.fdatasync(fd, cb),
    first = Math.min(every, FIRST_FLUSH_AFTER),
  ) {
    this.pending = every - first;
  }

  /**
   * Count `n` more bytes written; start a background fdatasync when due and none is running. While
   * one runs, a promise every YIELD_WHILE_FLUSHING bytes: the writer awaits it, and that turn of the
   * event loop is where the flush's end is seen (the copy itself is synchronous), so the next one
   * starts within a few milliseconds and the disk does not wait for the copy's next pause.
   */
  wrote(n: number): void | Promise<void> {
    if (this.failure) throw this.failure.error;
    this.pending += n;
    if (this.flushing) {
      this.sinceYield += n;
      if (this.sinceYield < YIELD_WHILE_FLUSHING) return;
      this.sinceYield = 0;
      return new Promise((r) => setImmediate(r));
    }
    if (this.pending < this.every) return;
    this.pending = 0;
    this.sinceYield = 0;
    this.flushing = true;
    this.last = new Promise<void>((res) =>
      this.fdatasync(this.fd, (e) => {
        if (e) this.failure ??= { error: e };
        this.flushing = false;
        res();
      }),
    );
  }

  /** Wait for the fdatasync in flight (the descriptor must stay open until then); throw a failure. */
  async settle(): Promise<void> {
    await this.last;
    if (this.failure) throw this.failure.error;
  }
}

/**
 * The most written between the starts of two background flushes when the disk keeps up: at most
 * one flush (a journal commit) per 64 MiB, and the final fsync has at most that much left. When the
 * copy outruns the disk, a flush is still running when this much more is written: the next then
 * starts as soon as it ends, and covers everything written meanwhile (the disk is never idle).
 */
export const WRITE_BEHIND_EVERY = 64 << 20;

/** The first flush comes sooner: the disk has nothing to do until then. */
const FIRST_FLUSH_AFTER = 8 << 20;

/** Bytes written between two looks at the flush in flight: ~5 ms of copy, ~200 cheap turns per GiB. */
const YIELD_WHILE_FLUSHING = 8 << 20;
