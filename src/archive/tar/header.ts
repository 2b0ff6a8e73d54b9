/**
 * Tar headers: decoding (ustar, GNU and PAX extensions; what docker save, podman, ctr and crane
 * write) and encoding for the entries we write anew. Entries we pass through keep their original
 * header bytes, so nothing about them (PAX records, uid/gid names, mtimes) changes.
 */

export const BLOCK = 512;

/** A decoded tar header (the fields docker save archives use). */
export interface Header {
  name: string;
  size: number;
  mode: number;
  mtime: Date;
  type: 'file' | 'link' | 'symlink' | 'directory' | 'block-device' | 'character-device' | 'fifo' | 'contiguous-file';
  linkname: string;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** PAX records that applied to this entry, if any. */
  pax?: Record<string, string> | null;
}

export class TarFormatError extends Error {}

/** The input ended inside an entry (or its header): a truncated archive, not a malformed one. */
export class TarTruncatedError extends TarFormatError {
  constructor(message = 'Unexpected end of data') {
    super(message);
  }
}

/**
 * Largest PAX or GNU long-name block read, as Go's archive/tar (maxSpecialFileSize, what docker
 * load, containerd and podman use): a larger one is refused there, so it is refused here too.
 */
export const MAX_EXTENSION_SIZE = 1 << 20;

const TYPES: Record<string, Header['type'] | 'pax' | 'pax-global' | 'gnu-long-name' | 'gnu-long-link'> = {
  '0': 'file',
  '\0': 'file', // V7: a directory when the (final) name ends in '/', see resolveV7
  '1': 'link',
  '2': 'symlink',
  '3': 'character-device',
  '4': 'block-device',
  '5': 'directory',
  '6': 'fifo',
  '7': 'contiguous-file',
  x: 'pax',
  g: 'pax-global',
  L: 'gnu-long-name',
  K: 'gnu-long-link',
};

export interface RawHeader {
  readonly header: Header;
  readonly kind: NonNullable<(typeof TYPES)[string]>;
  /** The typeflag was the old V7 '\0': a regular file, or a directory when its name ends in '/'. */
  readonly v7: boolean;
}

const utf8 = new TextDecoder('utf-8');
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function cut(b: Buffer, off: number, len: number): Buffer {
  let end = off;
  const max = off + len;
  while (end < max && b[end] !== 0) end++;
  return b.subarray(off, end);
}

function str(b: Buffer, off: number, len: number): string {
  return utf8.decode(cut(b, off, len));
}

/** A PAX key: UTF-8 only (Go and Python read keys as text). */
export function nameString(b: Buffer, what = 'entry name'): string {
  try {
    return strictUtf8.decode(b);
  } catch {
    throw new TarFormatError(`Invalid tar header: an ${what} that is not valid UTF-8 (${JSON.stringify(b.toString('latin1', 0, Math.min(b.length, 200)))})`);
  }
}

export { decodeName, encodeName } from './name.js';
import { decodeName, encodeName } from './name.js';

/** Python's str.strip() on an ASCII string: blanks and the separators \x1c-\x1f. */
const PY_BLANK = /^[ \t\n\r\v\f\x1c-\x1f]+|[ \t\n\r\v\f\x1c-\x1f]+$/g;

/**
 * A numeric field: octal, or GNU base-256 (two's complement, big-endian) when the first byte has its
 * high bit set. Read as both Go's archive/tar (docker load) and Python's tarfile read it; a field
 * they read differently, or either refuses, is refused.
 */
function num(b: Buffer, off: number, len: number, field: string, base256 = true): number {
  const first = b[off]!;
  if (first & 0x80) {
    // Go takes any first byte with the high bit (0x40 gives the sign); Python only 0x80 and 0xff
    if (!base256 || (first !== 0x80 && first !== 0xff)) throw new TarFormatError(`Invalid tar header: the ${field} field is a base-256 number that Go and Python read differently`);
    const neg = first === 0xff;
    let x = 0n;
    for (let i = off + 1; i < off + len; i++) x = (x << 8n) | BigInt(neg ? b[i]! ^ 0xff : b[i]!);
    if (x >= 1n << 63n) throw new TarFormatError(`Invalid tar header: the ${field} field is out of range`);
    return Number(neg ? -x - 1n : x);
  }
  // Go: trim blanks and NULs at both ends, then up to the first NUL, plain octal digits
  let s = off;
  let e = off + len;
  while (s < e && (b[s] === 0x20 || b[s] === 0)) s++;
  while (e > s && (b[e - 1] === 0x20 || b[e - 1] === 0)) e--;
  const go = cut(b, s, e - s).toString('latin1');
  const goValue = go === '' ? 0 : /^[0-7]+$/.test(go) ? parseInt(go, 8) : undefined;
  // Python: up to the first NUL, ASCII, stripped, int(s, 8)
  const pyRaw = cut(b, off, len);
  const py = pyRaw.some((c) => c > 0x7f) ? undefined : pyRaw.toString('latin1').replace(PY_BLANK, '');
  const pyValue = py === undefined ? undefined : py === '' ? 0 : /^[0-7]+$/.test(py) ? parseInt(py, 8) : undefined;
  if (goValue === undefined || pyValue === undefined) {
    throw new TarFormatError(`Invalid tar header: bad octal number ${JSON.stringify(b.toString('latin1', off, off + len))} in the ${field} field`);
  }
  if (goValue !== pyValue)
    throw new TarFormatError(`Invalid tar header: the ${field} field ${JSON.stringify(b.toString('latin1', off, off + len))} reads as ${goValue} in Go and ${pyValue} in Python`);
  return goValue;
}

/** True for the all-zero block that ends an archive. */
export function isZeroBlock(b: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (b[i] !== 0) return false;
  return true;
}

function allZero(b: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

/** Decode one 512-byte header block; throws TarFormatError when it is not a tar header. */
export function decodeHeader(b: Buffer): RawHeader {
  let sum = 0;
  let signed = 0; // some old tars summed signed bytes
  for (let i = 0; i < BLOCK; i++) {
    const v = i >= 148 && i < 156 ? 32 : b[i]!;
    sum += v;
    signed += v > 127 ? v - 256 : v;
  }
  let stored: number;
  try {
    stored = num(b, 148, 8, 'checksum', false);
  } catch {
    throw new TarFormatError('Invalid tar header: no checksum');
  }
  if (stored !== sum && stored !== signed) throw new TarFormatError('Invalid tar header: checksum mismatch');
  const flag = String.fromCharCode(b[156]!);
  const kind = TYPES[flag];
  if (!kind) {
    // Go reads them as files; docker load's extraction fails on them and containerd skips them
    throw new TarFormatError(`Invalid tar header: entry type ${JSON.stringify(flag)}${flag === 'S' ? ' (a sparse file)' : ''}, which docker load refuses and containerd skips`);
  }
  const magic = b.toString('latin1', 257, 265);
  const ustar = magic.startsWith('ustar\0');
  const gnu = magic === 'ustar  \0';
  if (ustar && b.toString('latin1', 508, 512) === 'tar\0') {
    throw new TarFormatError('Invalid tar header: a star (Schily) header, whose name prefix Go and Python read differently');
  }
  // GNU keeps atime/ctime where ustar has its prefix: Python still reads a prefix from it, Go does not
  if (gnu && b[345] !== 0) throw new TarFormatError('Invalid tar header: a GNU header with access/change times, which Python reads as part of the name');
  // V7 (no magic): Go ignores the rest of the block, Python still reads a prefix (and device
  // numbers, which GNU tar --format=v7 writes: read below, where a bad one is refused)
  if (!ustar && !gnu && !allZero(b, 345, 500)) throw new TarFormatError('Invalid tar header: unknown format');
  // decoded leniently here: a PAX or GNU long name may replace it (checked in applyExtensions)
  let name = decodeName(cut(b, 0, 100));
  if (ustar && b[345] !== 0 && kind !== 'gnu-long-name' && kind !== 'gnu-long-link') name = `${decodeName(cut(b, 345, 155))}/${name}`;
  const mtime = num(b, 136, 12, 'mtime');
  const header: Header = {
    name,
    mode: num(b, 100, 8, 'mode'),
    uid: num(b, 108, 8, 'uid'),
    gid: num(b, 116, 8, 'gid'),
    size: num(b, 124, 12, 'size'),
    mtime: new Date(mtime * 1000),
    type: (kind === 'pax' || kind === 'pax-global' || kind === 'gnu-long-name' || kind === 'gnu-long-link' ? 'file' : kind) as Header['type'],
    linkname: decodeName(cut(b, 157, 100)),
    uname: str(b, 265, 32),
    gname: str(b, 297, 32),
    devmajor: num(b, 329, 8, 'devmajor'),
    devminor: num(b, 337, 8, 'devminor'),
  };
  // Go refuses a negative size where data follows (checked again once PAX records applied), as read
  // here, before extensions: a V7 '\0' entry counts as a file at this point, even one named 'x/'
  const headerOnly = kind === 'link' || kind === 'symlink' || kind === 'character-device' || kind === 'block-device' || kind === 'directory' || kind === 'fifo';
  if (header.size < 0 && !headerOnly) throw new TarFormatError('Invalid tar header: a negative size');
  if (header.size > Number.MAX_SAFE_INTEGER) throw new TarFormatError('Invalid tar header: the size field is out of range');
  return { header, kind, v7: flag === '\0' };
}

/** PAX records that change an entry, as Go's archive/tar (mergePAX) and Python's tarfile read them. */
const PAX_FIELDS = new Set(['path', 'linkpath', 'size', 'uid', 'gid', 'uname', 'gname', 'mtime', 'atime', 'ctime']);

/**
 * PAX extended header records, `<len> <key>=<value>\n`, read as strictly as Go's archive/tar does
 * (Python's tarfile silently stops at the first record it cannot read: such a header is refused).
 * Sparse-file records are refused: docker save never writes them and the readers disagree on them.
 */
export function parsePax(b: Buffer): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let i = 0;
  while (i < b.length) {
    const sp = b.indexOf(0x20, i);
    const lenText = sp < 0 ? '' : b.toString('latin1', i, sp);
    // Go takes a sign; Python's tarfile ignores such a record and every one after it
    if (/^[+-][0-9]+$/.test(lenText)) throw new TarFormatError(`Invalid tar header: a signed PAX record length ${JSON.stringify(lenText)}, which Go reads and Python skips`);
    const len = /^[0-9]{1,9}$/.test(lenText) ? parseInt(lenText, 10) : NaN;
    // at least "<n> k=\n", within the block, ending in a newline
    if (!(len >= 5) || i + len > b.length || sp + 1 >= i + len || b[i + len - 1] !== 0x0a) throw new TarFormatError(`Invalid tar header: bad PAX record at offset ${i}`);
    const rec = b.subarray(sp + 1, i + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) throw new TarFormatError(`Invalid tar header: bad PAX record at offset ${i}`);
    const key = nameString(rec.subarray(0, eq), 'PAX key');
    const raw = rec.subarray(eq + 1);
    if (key.includes('\0') || ((key === 'path' || key === 'linkpath' || key === 'uname' || key === 'gname') && raw.includes(0))) {
      throw new TarFormatError(`Invalid tar header: a NUL byte in the PAX record ${JSON.stringify(key)}`);
    }
    if (key.startsWith('GNU.sparse.')) throw new TarFormatError('Invalid tar header: a PAX sparse-file record; docker save never writes sparse files');
    out[key] = key === 'path' || key === 'linkpath' ? decodeName(raw) : utf8.decode(raw);
    i += len;
  }
  return out;
}

/** Records of a global PAX header that Python applies to every later entry and Go ignores. */
export function checkGlobalPax(pax: Record<string, string>): void {
  for (const k of Object.keys(pax)) {
    if (PAX_FIELDS.has(k) || k === 'hdrcharset' || k.startsWith('SCHILY.')) {
      throw new TarFormatError(`Invalid tar header: a global PAX header sets ${JSON.stringify(k)}, which Go ignores and Python applies to every later entry`);
    }
  }
}

const INT = /^[+-]?[0-9]+$/;
const TIME = /^[+-]?[0-9]+(\.[0-9]*)?$/;

function paxInt(v: string, key: string): number {
  // Go: strconv.ParseInt (an optional sign, digits); Python: int(), which also takes blanks and '_'
  if (!INT.test(v)) throw new TarFormatError(`Invalid tar header: PAX ${key}=${JSON.stringify(v.slice(0, 40))} is not a number`);
  const n = BigInt(v);
  if (n >= 1n << 63n || n < -(1n << 63n)) throw new TarFormatError(`Invalid tar header: PAX ${key} is out of range`);
  return Number(n);
}

/**
 * Apply PAX records and GNU long names to a decoded header, as Go's archive/tar does: PAX first,
 * then the GNU long name/link over it. Where Go and Python's tarfile would read the entry
 * differently (both a PAX path and a GNU long name, an empty value, a V7 entry whose name gains or
 * loses its trailing '/'), refuse.
 */
export function applyExtensions(raw: RawHeader, pax: Record<string, string> | undefined, longName?: string, longLink?: string): Header {
  const out: Header = { ...raw.header };
  if (longName !== undefined && pax?.path !== undefined) throw new TarFormatError('Invalid tar header: both a GNU long name and a PAX path; Go and Python take different ones');
  if (longLink !== undefined && pax?.linkpath !== undefined) throw new TarFormatError('Invalid tar header: both a GNU long link and a PAX linkpath; Go and Python take different ones');
  if (pax) {
    for (const [k, v] of Object.entries(pax)) {
      // Go keeps the header's value for an empty record; Python empties the field
      if (v === '' && PAX_FIELDS.has(k)) throw new TarFormatError(`Invalid tar header: an empty PAX ${k} record, which Go and Python read differently`);
      if (k === 'size') {
        out.size = paxInt(v, k);
        if (out.size > Number.MAX_SAFE_INTEGER) throw new TarFormatError('Invalid tar header: PAX size is out of range');
      } else if (k === 'uid' || k === 'gid') out[k] = paxInt(v, k);
      else if (k === 'mtime' || k === 'atime' || k === 'ctime') {
        // Go: whole seconds as strconv.ParseInt (64 bits), then digits
        if (!TIME.test(v)) throw new TarFormatError(`Invalid tar header: PAX ${k}=${JSON.stringify(v.slice(0, 40))} is not a time`);
        paxInt(v.split('.')[0]!, k);
        if (k === 'mtime') out.mtime = new Date(Number(v) * 1000);
      } else if (k === 'path') out.name = v;
      else if (k === 'linkpath') out.linkname = v;
      else if (k === 'uname') out.uname = v;
      else if (k === 'gname') out.gname = v;
    }
    out.pax = pax;
  }
  if (longName !== undefined) out.name = longName;
  if (longLink !== undefined) out.linkname = longLink;
  if (raw.v7) {
    // Go looks at the final name, Python at the name in the header block
    const dir = out.name.endsWith('/');
    if (dir !== raw.header.name.endsWith('/'))
      throw new TarFormatError("Invalid tar header: a V7 entry whose extended name and header name disagree on a trailing '/'; Go and Python read it differently");
    if (dir) out.type = 'directory';
  }
  if (out.size < 0) {
    // Go refuses it only where data follows; a directory, link or device has none
    if (out.type === 'file' || out.type === 'contiguous-file') throw new TarFormatError(`Invalid tar header: a negative ${pax?.size !== undefined ? 'PAX ' : ''}size`);
    out.size = 0;
  }
  return out;
}

const FLAG: Record<string, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  'character-device': '3',
  'block-device': '4',
  directory: '5',
  fifo: '6',
  'contiguous-file': '7',
};

/** Whether `v` fits an octal field of `len` bytes (len - 1 digits and a NUL). */
function fitsOctal(v: number, len: number): boolean {
  return Number.isSafeInteger(v) && v >= 0 && v < 8 ** (len - 1);
}

/** An octal field; a value that does not fit (or is not a number) is written as 0, never as text like NaN. */
function octal(b: Buffer, off: number, len: number, v: number): void {
  const n = fitsOctal(v, len) ? v : 0;
  b.write(`${n.toString(8).padStart(len - 1, '0')}\0`, off, len, 'latin1');
}

function block(h: { name: string; mode: number; uid: number; gid: number; size: number; mtime: number; flag: string; linkname: string; uname: string; gname: string; prefix: string }): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(h.name, 0, 100, 'utf8');
  octal(b, 100, 8, h.mode & 0o7777);
  octal(b, 108, 8, h.uid);
  octal(b, 116, 8, h.gid);
  octal(b, 124, 12, h.size);
  octal(b, 136, 12, h.mtime);
  b.write(h.flag, 156, 1, 'latin1');
  b.write(h.linkname, 157, 100, 'utf8');
  b.write('ustar\u000000', 257, 8, 'latin1');
  b.write(h.uname, 265, 32, 'utf8');
  b.write(h.gname, 297, 32, 'utf8');
  b.write(h.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : b[i]!;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return b;
}

/** Split a name into ustar prefix/name, or undefined when it needs PAX. */
function ustarName(name: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(name) !== name.length) return undefined; // non-ASCII: PAX keeps it exact
  if (name.length <= 100) return { prefix: '', name };
  for (let i = name.indexOf('/'); i >= 0 && i <= 155; i = name.indexOf('/', i + 1)) {
    if (name.length - i - 1 <= 100 && i <= 155) return { prefix: name.slice(0, i), name: name.slice(i + 1) };
  }
  return undefined;
}

/** One PAX record; a path or link target with escaped bytes (`decodeName`) is written as those bytes. */
function paxRecord(key: string, value: string): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), key === 'path' || key === 'linkpath' ? encodeName(value) : Buffer.from(value, 'utf8'), Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

/**
 * Header blocks for an entry we write: ustar when the name fits, else a PAX header first. The
 * input header's extra PAX records (xattrs and the like) are kept; path, linkpath and size are
 * always rewritten from `h`.
 */
export function encodeHeader(h: Header): Buffer {
  const size = h.type === 'file' || h.type === 'contiguous-file' ? (h.size ?? 0) : 0;
  const ms = h.mtime?.getTime() ?? 0;
  const mtime = Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
  const fit = ustarName(h.name);
  const linkname = h.linkname ?? '';
  const linkFits = Buffer.byteLength(linkname) === linkname.length && linkname.length <= 100;
  const extra = (h.pax ?? {}) as Record<string, string>;
  const records: Buffer[] = [];
  for (const [k, v] of Object.entries(extra)) if (k !== 'path' && k !== 'linkpath' && k !== 'size') records.push(paxRecord(k, v));
  if (!fit) records.push(paxRecord('path', h.name));
  if (!linkFits) records.push(paxRecord('linkpath', linkname));
  if (size > 0o77777777777) records.push(paxRecord('size', String(size)));
  // what ustar cannot hold (a negative mtime, ids past 2097151) goes in PAX, as Go's writer does
  if (!fitsOctal(mtime, 12) && extra.mtime === undefined) records.push(paxRecord('mtime', String(mtime)));
  if (!fitsOctal(h.uid ?? 0, 8) && extra.uid === undefined) records.push(paxRecord('uid', String(h.uid)));
  if (!fitsOctal(h.gid ?? 0, 8) && extra.gid === undefined) records.push(paxRecord('gid', String(h.gid)));
  const base = {
    mode: h.mode ?? (h.type === 'directory' ? 0o755 : 0o644),
    uid: h.uid ?? 0,
    gid: h.gid ?? 0,
    mtime,
    uname: h.uname ?? '',
    gname: h.gname ?? '',
  };
  const main = block({
    ...base,
    name: fit ? fit.name : h.name.replace(/[^\x20-\x7e]/g, '_').slice(-100),
    prefix: fit ? fit.prefix : '',
    size: size > 0o77777777777 ? 0 : size,
    flag: FLAG[h.type ?? 'file'] ?? '0',
    linkname: linkFits ? linkname : '',
  });
  if (records.length === 0) return main;
  const pax = Buffer.concat(records);
  const paxHead = block({ ...base, name: `PaxHeaders/${(fit?.name ?? 'entry').slice(0, 80)}`, prefix: '', size: pax.length, flag: 'x', linkname: '' });
  return Buffer.concat([paxHead, pax, Buffer.alloc(padding(pax.length)), main]);
}

/** Zero bytes after `size` bytes of data, up to the next block. */
export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
