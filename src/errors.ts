/**
 * Typed errors. Every error a user can cause carries an exit code and a message that says what was
 * wrong, where (entry or image), and what to do. The CLI prints `message` alone unless --debug.
 */

/** Documented process exit codes (README "Exit codes"). */
export const ExitCode = {
  OK: 0,
  /** A bug in copyedit: please report it with --debug output. */
  INTERNAL: 1,
  /** Bad command line: unknown flag, malformed edit value. */
  USAGE: 2,
  /** The input is not a readable image archive (corrupt, truncated, unsupported layout). */
  ARCHIVE: 3,
  /** The edits could not be applied (no image matched --image, invalid value for the image). */
  EDIT: 4,
  /** Verification of digests failed. */
  VERIFY: 5,
  /** Reading the input or writing the output failed at the OS level. */
  IO: 6,
  /** A path asked of an image's filesystem (cat, ls) is not there, is not what was asked, or leads out of its root. */
  PATH: 7,
  /** Interrupted by SIGINT (128+2). */
  SIGINT: 130,
  /** Terminated by SIGTERM (128+15). */
  SIGTERM: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export abstract class CopyeditError extends Error {
  abstract readonly exitCode: ExitCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Wrong command-line usage. */
export class UsageError extends CopyeditError {
  readonly exitCode = ExitCode.USAGE;
}

/** The archive is malformed, truncated, or in a layout we cannot read. `entry` names the tar entry. */
export class ArchiveError extends CopyeditError {
  readonly exitCode = ExitCode.ARCHIVE;
  constructor(
    message: string,
    readonly entry?: string,
    options?: { cause?: unknown },
  ) {
    super(entry !== undefined ? `${entry}: ${message}` : message, options);
  }
}

/** An edit could not be applied. `image` names the image (tag or ID). */
export class EditError extends CopyeditError {
  readonly exitCode = ExitCode.EDIT;
  constructor(
    message: string,
    readonly image?: string,
    options?: { cause?: unknown },
  ) {
    super(image !== undefined ? `${image}: ${message}` : message, options);
  }
}

/** A digest, size or DiffID does not match the content it describes. */
export class VerifyError extends CopyeditError {
  readonly exitCode = ExitCode.VERIFY;
}

/** The OS refused a read or a write (missing file, permission, disk full, closed pipe). */
export class IoError extends CopyeditError {
  readonly exitCode = ExitCode.IO;
}

/** A path of an image's merged filesystem (cat, ls, export) is missing, of the wrong type, or escapes the root. */
export class PathError extends CopyeditError {
  readonly exitCode = ExitCode.PATH;
}

/** The run was interrupted by a signal; any partial output has been removed. */
export class InterruptedError extends CopyeditError {
  readonly exitCode: ExitCode;
  constructor(readonly signal: 'SIGINT' | 'SIGTERM') {
    super(`interrupted by ${signal}; no output was written`);
    this.exitCode = signal === 'SIGINT' ? ExitCode.SIGINT : ExitCode.SIGTERM;
  }
}

/** Wrap an OS error (ENOENT, EACCES, ENOSPC, EPIPE...) into an IoError with a useful message. */
export function ioError(action: string, path: string, err: unknown): IoError {
  const e = err as NodeJS.ErrnoException;
  const hint: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOSPC: 'no space left on device; free some space or write the output to another file system',
    EDQUOT: 'disk quota exceeded; free some space or write the output elsewhere',
    EFBIG: 'the file is larger than this file system allows; write the output to another file system',
    ENXIO: 'no such device, or a FIFO/socket that cannot be opened',
    ELOOP: 'too many levels of symbolic links',
    ENAMETOOLONG: 'the name is too long for this file system',
    EISDIR: 'is a directory',
    ENOTDIR: 'a part of the path is not a directory',
    EXDEV: 'the temporary file and the target are on different file systems',
    EPIPE: 'the reading end of the pipe was closed',
    EROFS: 'read-only file system',
  };
  const why = (e?.code && hint[e.code]) ?? e?.message ?? String(err);
  return new IoError(`cannot ${action} ${path}: ${why}`, { cause: err });
}
