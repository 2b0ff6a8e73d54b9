import fs from 'node:fs';

/**
 * Start the disk writing while the copy goes on. Linux keeps a file's written pages dirty in memory
 * until far more of them than one archive exist (dirty_background_ratio is a share of RAM), so a
 * durable output would otherwise start writing its whole size only in the final fsync, after the
 * copy. Every `every` bytes written, one fdatasync(2) is started on the thread pool (never two at a
 * time): the kernel writes the pages behind us while the copy continues on the main thread, and the
 * final fsync before the rename, still the guarantee, finds little left to write.
 *
 * A background fdatasync that fails (EIO, ENOSPC) has reported the error for this file once and for
 * all (Linux does not report it to a later fsync of the same descriptor), so its failure is kept and
 * thrown by the next `wrote` or by `settle`: the run then fails, and the temporary file is removed.
 */
export class WriteBehind {
  private pending = 0;
  private inFlight: Promise<void> | undefined;
  private failure: { error: unknown } | undefined;
  /** fdatasync calls started, for tests. */
  started = 0;

  constructor(
    private readonly fd: number,
    private readonly every = WRITE_BEHIND_EVERY,
    // looked up at call time, so a test can replace fs.fdatasync
    private readonly fdatasync: (fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => void = (fd, cb) => fs.fdatasync(fd, cb),
  ) {}

  /** Count `n` more bytes written; start a background fdatasync when due and none is running. */
  wrote(n: number): void {
    if (this.failure) throw this.failure.error;
    this.pending += n;
    if (this.pending < this.every || this.inFlight) return;
    this.pending = 0;
    this.started++;
    this.inFlight = new Promise<void>((res) =>
      this.fdatasync(this.fd, (e) => {
        if (e) this.failure ??= { error: e };
        this.inFlight = undefined;
        res();
      }),
    );
  }

  /** Wait for the fdatasync in flight (the descriptor must stay open until then); throw a failure. */
  async settle(): Promise<void> {
    await this.inFlight;
    if (this.failure) throw this.failure.error;
  }
}

/**
 * Bytes written between background flushes. Only the first flush waits this long: with one in
 * flight, the next starts as soon as the copy sees the last one done (the input yields to the event
 * loop every 64 MiB), so each covers everything written meanwhile. 64 MiB: the disk starts within
 * ~50 ms of the first write, and a fast disk still costs at most one flush (a journal commit) per 64 MiB.
 */
export const WRITE_BEHIND_EVERY = 64 << 20;
