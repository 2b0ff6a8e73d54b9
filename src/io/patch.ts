/**
 * An output made by patching a copy of the input instead of streaming every byte through: the
 * input file is copied by the kernel (a reflink where the file system shares extents, xfs and
 * btrfs; copy_file_range elsewhere), each metadata entry the edit replaces or drops is overwritten
 * IN PLACE by a PAX global header of exactly its length (a `comment` record of filler: every old
 * byte is gone, and no loader extracts it: Go's archive/tar returns it as a global header, which
 * moby's and containerd's unpackers ignore, and Python's tarfile does not list it), the two end
 * blocks are cut, and the new metadata entries and new end blocks are appended.
 */
import { constants, copyFileSync, fsyncSync, ftruncateSync, openSync, closeSync, writeSync } from 'node:fs';
import { BLOCK } from '../archive/tar/header.js';

/** Go's archive/tar reads a PAX header of at most this many bytes (maxSpecialFileSize). */
export const MAX_PATCH_REGION = (1 << 20) - BLOCK;

/** One entry of the input to overwrite: its first header block and the end of its padded data. */
export interface Region {
  readonly offset: number;
  readonly length: number;
}

export interface PatchPlan {
  readonly regions: readonly Region[];
  /** Where the input's end-of-archive blocks begin. */
  readonly end: number;
  /** The tar bytes to append there: new entries, then two zero blocks. */
  readonly tail: readonly Buffer[];
}

/** `reflink`: share extents or fail; `auto`: share where the file system can, copy in the kernel otherwise. */
export type CopyKind = 'auto' | 'reflink';

/**
 * A PAX global header filling exactly `length` bytes (a multiple of 512, at least 512): the header
 * block, and for anything longer one `comment` record of filler.
 */
export function fillerEntry(length: number): Buffer {
  const head = fillerHead(length);
  const out = Buffer.alloc(length);
  head.copy(out);
  if (length > BLOCK) {
    out.fill(0x2e, head.length, length - 1);
    out[length - 1] = 0x0a;
  }
  return out;
}

/**
 * The filler entry's first bytes: the header block and, for anything longer, the record's
 * beginning: "<len> comment=" of "<len> comment=<dots>\n", where <len> counts the whole record,
 * its own digits included. The dots and the newline follow (fillerEntry, writeFiller).
 */
function fillerHead(length: number): Buffer {
  if (length < BLOCK || length % BLOCK !== 0 || length > MAX_PATCH_REGION + BLOCK) throw new RangeError(`a filler entry cannot be ${length} bytes long`);
  const size = length - BLOCK;
  const record = size > 0 ? `${size} comment=` : '';
  const out = Buffer.alloc(BLOCK + record.length);
  const h = out.subarray(0, BLOCK);
  h.write('pax_global_header', 0, 'latin1');
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write('00000000000\0', 136, 'latin1');
  h.write('g', 156, 'latin1');
  h.write('ustar\x0000', 257, 'latin1');
  h.fill(0x20, 148, 156); // the checksum field counts as blanks
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  out.write(record, BLOCK, 'latin1');
  return out;
}

/** The dots of a filler record, written from one shared buffer: a 4 MiB region costs no 4 MiB buffer. */
const DOTS = Buffer.alloc(64 * 1024, 0x2e);

/** Write fillerEntry(length) at `position`, in pieces. */
function writeFiller(fd: number, length: number, position: number): void {
  const head = fillerHead(length);
  writeAll(fd, head, position);
  if (length === BLOCK) return;
  const end = position + length - 1;
  for (let at = position + head.length; at < end; at += DOTS.length) writeAll(fd, DOTS.subarray(0, Math.min(DOTS.length, end - at)), at);
  writeAll(fd, Buffer.from('\n'), end);
}

/** Can an entry of `length` bytes be overwritten by one filler entry Go accepts? */
export function patchable(length: number): boolean {
  return length >= BLOCK && length % BLOCK === 0 && length - BLOCK <= MAX_PATCH_REGION;
}

/**
 * Copy `input` to `output` (a new file) in the kernel and apply `plan`. Throws a ReflinkError
 * (ENOTSUP/EXDEV/EOPNOTSUPP) when `kind` is `reflink` and the file system cannot share extents.
 */
export function writePatched(input: string, output: string, plan: PatchPlan, kind: CopyKind, fsync: boolean): void {
  // onto the output's temporary file, created (and so owned) by the sink: truncated, then shared or copied
  copyFileSync(input, output, kind === 'reflink' ? constants.COPYFILE_FICLONE_FORCE : constants.COPYFILE_FICLONE);
  const fd = openSync(output, 'r+');
  try {
    for (const r of plan.regions) writeFiller(fd, r.length, r.offset);
    ftruncateSync(fd, plan.end);
    let at = plan.end;
    for (const b of plan.tail) {
      writeAll(fd, b, at);
      at += b.length;
    }
    ftruncateSync(fd, at);
    if (fsync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, b: Buffer, position: number): void {
  let done = 0;
  while (done < b.length) done += writeSync(fd, b, done, b.length - done, position + done);
}
