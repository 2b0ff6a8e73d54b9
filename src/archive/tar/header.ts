
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

const TYPES: Record<string, Header['type'] | 'pax' | 'pax-global' | 'gnu-long-name' | 'gnu-long-link'> = {
  '0': 'file',
  '\0': 'file',
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
}

const utf8 = new TextDecoder('utf-8');

function str(b: Buffer, off: number, len: number): string {
  let end = off;
  const max = off + len;
  while (end < max && b[end] !== 0) end++;
  return utf8.decode(b.subarray(off, end));
}

/** Octal, or GNU base-256 when the high bit of the first byte is set (sizes >= 8 GiB). */
function num(b: Buffer, off: number, len: number): number {
  if (b[off]! & 0x80) {
    let v = b[off]! & 0x7f;
    for (let i = off + 1; i < off + len; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = str(b, off, len).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarFormatError(`bad octal number ${JSON.stringify(s)} in a header`);
  return parseInt(s, 8);
}

/** True for the all-zero block that ends an archive. */
export function isZeroBlock(b: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (b[i] !== 0) return false;
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
    stored = num(b, 148, 8);
  } catch {
    throw new TarFormatError('Invalid tar header: no checksum');
  }
  if (stored !== sum && stored !== signed) throw new TarFormatError('Invalid tar header: checksum mismatch');
  const flag = String.fromCharCode(b[156]!);
  const kind = TYPES[flag];
  if (!kind) throw new TarFormatError(`Invalid tar header: unknown entry type ${JSON.stringify(flag)}`);
  let name = str(b, 0, 100);
  const magic = b.toString('latin1', 257, 265);
  const ustar = magic.startsWith('ustar\0');
  // docker, podman, ctr and crane all write ustar or GNU headers; anything else here is damage
  if (!ustar && magic !== 'ustar  \0') throw new TarFormatError('Invalid tar header: unknown format');
  if (ustar && b[345] !== 0) name = `${str(b, 345, 155)}/${name}`;
  const type = kind === 'file' && name.endsWith('/') ? 'directory' : kind;
  const header: Header = {
    name,
    mode: num(b, 100, 8),
    uid: num(b, 108, 8),
    gid: num(b, 116, 8),
    size: num(b, 124, 12),
    mtime: new Date(num(b, 136, 12) * 1000),
    type: (typeof type === 'string' && !['pax', 'pax-global', 'gnu-long-name', 'gnu-long-link'].includes(type) ? type : 'file') as Header['type'],
    linkname: str(b, 157, 100),
    uname: str(b, 265, 32),
    gname: str(b, 297, 32),
    devmajor: num(b, 329, 8),
    devminor: num(b, 337, 8),
  };
  return { header, kind: type };
}

/** PAX extended header records: `<len> <key>=<value>\n`. */
export function parsePax(b: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < b.length) {
    const sp = b.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(b.toString('latin1', i, sp), 10);
    if (!(len > 0) || i + len > b.length) throw new TarFormatError('Invalid tar header: bad PAX record');
    const rec = utf8.decode(b.subarray(sp + 1, i + len - 1));
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

/** Apply PAX overrides (and GNU long names) to a decoded header. */
export function applyExtensions(h: Header, pax: Record<string, string> | undefined, longName?: string, longLink?: string): Header {
  const out: Header = { ...h };
  if (longName !== undefined) out.name = longName;
  if (longLink !== undefined) out.linkname = longLink;
  if (pax) {
    if (pax.path !== undefined) out.name = pax.path;
    if (pax.linkpath !== undefined) out.linkname = pax.linkpath;
    if (pax.size !== undefined && /^\d+$/.test(pax.size)) out.size = Number(pax.size);
    out.pax = pax;
  }
  if (out.type === 'file' && out.name.endsWith('/')) out.type = 'directory';
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

function octal(b: Buffer, off: number, len: number, v: number): void {
  b.write(`${Math.max(0, Math.floor(v)).toString(8).padStart(len - 1, '0')}\0`, off, len, 'latin1');
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

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/**
 * Header blocks for an entry we write: ustar when the name fits, else a PAX header first. The
 * input header's extra PAX records (xattrs and the like) are kept; path, linkpath and size are
 * always rewritten from `h`.
 */
export function encodeHeader(h: Header): Buffer {
  const size = h.type === 'file' || h.type === 'contiguous-file' ? (h.size ?? 0) : 0;
  const mtime = Math.floor((h.mtime?.getTime() ?? 0) / 1000);
  const fit = ustarName(h.name);
  const linkname = h.linkname ?? '';
  const linkFits = Buffer.byteLength(linkname) === linkname.length && linkname.length <= 100;
  const extra = (h.pax ?? {}) as Record<string, string>;
  const records: string[] = [];
  for (const [k, v] of Object.entries(extra)) if (k !== 'path' && k !== 'linkpath' && k !== 'size') records.push(paxRecord(k, v));
  if (!fit) records.push(paxRecord('path', h.name));
  if (!linkFits) records.push(paxRecord('linkpath', linkname));
  if (size > 0o77777777777) records.push(paxRecord('size', String(size)));
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
  const pax = Buffer.from(records.join(''), 'utf8');
  const paxHead = block({ ...base, name: `PaxHeaders/${(fit?.name ?? 'entry').slice(0, 80)}`, prefix: '', size: pax.length, flag: 'x', linkname: '' });
  return Buffer.concat([paxHead, pax, Buffer.alloc(padding(pax.length)), main]);
}

/** Zero bytes after `size` bytes of data, up to the next block. */
export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
