/**
 * Seeded random tar archives, valid and malformed, for the differential test of the tar reader
 * (test/unit/tar-differential.test.ts) and the tar classes of the hostile corpus. Headers are built
 * byte by byte here, independently of copyedit's encoder: ustar, GNU and V7 blocks, PAX and GNU
 * long names, base-256 numbers, trailing-slash files, PAX sizes, odd typeflags, truncations and
 * garbage.
 *
 *   node dist/test/hostile/tar-gen.js SEED [COUNT] DIR    writes archives SEED..SEED+COUNT-1 to DIR
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng } from '../unit/rng.js';

export { rng };

export type NumStyle = 'octal' | 'octal-space' | 'base256' | 'lead-nul' | 'plus' | 'tab' | 'garbage' | 'blank';

export interface BlockSpec {
  name: string | Buffer;
  prefix?: string;
  flag: string;
  size: number;
  sizeStyle?: NumStyle;
  mtime?: number;
  mtimeStyle?: NumStyle;
  uid?: number;
  linkname?: string;
  format?: 'ustar' | 'gnu' | 'v7';
  /** Bytes written at 345.. (a GNU atime, or a prefix in the wrong format). */
  atime?: boolean;
  checksum?: 'ok' | 'signed' | 'bad' | 'base256';
  /** V7 only: device numbers written anyway, as GNU tar --format=v7 does. */
  v7devs?: boolean;
}

function writeNum(b: Buffer, off: number, len: number, v: number, style: NumStyle = 'octal'): void {
  const digits = len - 1;
  switch (style) {
    case 'base256': {
      let x = BigInt(v);
      const neg = x < 0n;
      if (neg) x = (1n << BigInt(8 * len)) + x;
      for (let i = len - 1; i >= 0; i--) {
        b[off + i] = Number(x & 0xffn);
        x >>= 8n;
      }
      b[off] = neg ? 0xff : 0x80;
      return;
    }
    case 'octal-space':
      b.write(
        `${Math.max(0, v)
          .toString(8)
          .padStart(digits - 1, ' ')} \0`.slice(-len),
        off,
        len,
        'latin1',
      );
      return;
    case 'lead-nul':
      b.fill(0, off, off + len);
      b.write(Math.max(0, v).toString(8), off + 2, len - 3, 'latin1');
      return;
    case 'plus':
      b.write(`+${Math.max(0, v).toString(8)}\0`, off, len, 'latin1');
      return;
    case 'tab':
      b.write(`\t${Math.max(0, v).toString(8)}\0`, off, len, 'latin1');
      return;
    case 'garbage':
      b.write('12x4\0', off, len, 'latin1');
      return;
    case 'blank':
      b.fill(0x20, off, off + len);
      return;
    default:
      b.write(`${Math.max(0, v).toString(8).padStart(digits, '0')}\0`, off, len, 'latin1');
  }
}

export function checksum(b: Buffer, signed = false): number {
  let sum = 0;
  for (let i = 0; i < 512; i++) {
    const v = i >= 148 && i < 156 ? 32 : b[i]!;
    sum += signed && v > 127 ? v - 256 : v;
  }
  return sum;
}

export function fixChecksum(b: Buffer, style: BlockSpec['checksum'] = 'ok'): void {
  if (style === 'base256') {
    b.fill(0, 148, 156);
    b[148] = 0x80;
    b.writeUInt32BE(checksum(b), 152);
    return;
  }
  const sum = style === 'signed' ? checksum(b, true) : checksum(b);
  b.write(`${(style === 'bad' ? sum + 1 : sum).toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
}

export function block(s: BlockSpec): Buffer {
  const b = Buffer.alloc(512);
  if (typeof s.name === 'string') b.write(s.name, 0, 100, 'utf8');
  else s.name.copy(b, 0, 0, Math.min(100, s.name.length));
  writeNum(b, 100, 8, 0o644);
  writeNum(b, 108, 8, s.uid ?? 0);
  writeNum(b, 116, 8, 0);
  writeNum(b, 124, 12, s.size, s.sizeStyle);
  writeNum(b, 136, 12, s.mtime ?? 0, s.mtimeStyle);
  b.write(s.flag, 156, 1, 'latin1');
  if (s.linkname) b.write(s.linkname, 157, 100, 'utf8');
  const format = s.format ?? 'ustar';
  if (format === 'ustar') b.write('ustar\u000000', 257, 8, 'latin1');
  if (format === 'gnu') b.write('ustar  \0', 257, 8, 'latin1');
  if (format !== 'v7') {
    b.write('root', 265, 32, 'latin1');
    b.write('root', 297, 32, 'latin1');
    writeNum(b, 329, 8, 0);
    writeNum(b, 337, 8, 0);
  }
  if (format === 'v7' && s.v7devs) {
    writeNum(b, 329, 8, 0);
    writeNum(b, 337, 8, 0);
  }
  if (s.prefix) b.write(s.prefix, 345, 155, 'utf8');
  if (s.atime) writeNum(b, 345, 12, 1700000000);
  fixChecksum(b, s.checksum);
  return b;
}

export function pad(data: Buffer): Buffer {
  const n = (512 - (data.length % 512)) % 512;
  return n ? Buffer.concat([data, Buffer.alloc(n)]) : data;
}

export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/** An extension entry: 'x', 'g', 'L' or 'K' with its data. */
export function extension(flag: 'x' | 'g' | 'L' | 'K', data: Buffer | string, o: Partial<BlockSpec> = {}): Buffer {
  const d = typeof data === 'string' ? Buffer.from(data) : data;
  const gnu = flag === 'L' || flag === 'K';
  return Buffer.concat([block({ name: gnu ? '././@LongLink' : 'PaxHeaders/x', flag, size: d.length, format: gnu ? 'gnu' : 'ustar', ...o }), pad(d)]);
}

/** A plain entry: header and padded content. */
export function entry(s: BlockSpec, data: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([block(s), pad(data)]);
}

export const END = Buffer.alloc(1024);

const NAMES = [
  'manifest.json',
  'index.json',
  'repositories',
  'oci-layout',
  'a.txt',
  'abc/layer.tar',
  'blobs/sha256/0123abcd',
  'x.json',
  'dir/',
  './manifest.json',
  '.\\manifest.json',
  'caf\u00e9.json',
  'sub/dir/file',
  'a\\b',
];

/**
 * One random archive for `seed`. `features`, when given, receives what it holds (for the test to
 * check that the archives read alike cover each class).
 */
export function randomArchive(seed: number, features?: Set<string>): Buffer {
  const r = rng(seed);
  const has = (f: string) => features?.add(f);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const chance = (p: number) => r() < p;
  const bytes = (n: number) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
    return b;
  };
  const longName = () => `${'d'.repeat(40 + Math.floor(r() * 80))}/${'n'.repeat(60 + Math.floor(r() * 90))}${pick(['', '.json', '/'])}`;
  const content = (): Buffer => {
    const k = r();
    if (k < 0.35) return bytes(Math.floor(r() * 1500));
    if (k < 0.6) return Buffer.from(JSON.stringify({ a: seed, b: 'x'.repeat(Math.floor(r() * 600)) }));
    if (k < 0.7) {
      // a tar inside: what a smuggling trailing-slash file or a wrong size would expose
      return Buffer.concat([entry({ name: 'manifest.json', flag: '0', size: 10 }, Buffer.from('[{"x":1}]\n')), END]);
    }
    return Buffer.alloc(Math.floor(r() * 3) * 100, 0x41);
  };
  const parts: Buffer[] = [];
  const headerOffsets: number[] = [];
  let at = 0;
  const push = (b: Buffer, header = true) => {
    if (header) headerOffsets.push(at);
    parts.push(b);
    at += b.length;
  };
  const n = 1 + Math.floor(r() * 5);
  for (let i = 0; i < n; i++) {
    const format = chance(0.7) ? 'ustar' : chance(0.8) ? 'gnu' : 'v7';
    let name = chance(0.2) ? longName() : pick(NAMES);
    if (chance(0.05)) name = pick(['../evil', '/etc/passwd', 'a/../../b']);
    let flag = pick(['0', '0', '0', '\0', '5', '2', '1', '7', '0']);
    if (chance(0.05)) flag = pick(['A', 'S', 'V', 'M', 'D', 'N', '8']);
    if (flag === '0' && chance(0.15) && !name.endsWith('/')) name += '/'; // a file named like a directory
    if (flag === '\0' && chance(0.4) && !name.endsWith('/')) name += '/';
    let data = flag === '0' || flag === '\0' || flag === '7' || flag.match(/[A-Z8]/) ? content() : Buffer.alloc(0);
    if (flag === '\0' && name.endsWith('/') && chance(0.7)) data = Buffer.alloc(0);
    if (flag === '0' && name.endsWith('/') && data.length) has("a '0' file named like a directory, with content");
    if (flag === '\0' && name.endsWith('/')) has("a V7 '\\0' directory");
    if (flag === '\0' && !name.endsWith('/')) has("a V7 '\\0' file");
    if (name.includes('\\')) has('a backslash in a name');
    const spec: BlockSpec = { name, flag, size: data.length, format, mtime: Math.floor(r() * 2e9), v7devs: chance(0.5) };
    if (format === 'v7') has('a V7 header');
    if (flag === '1' || flag === '2') spec.linkname = chance(0.1) ? longName() : pick(NAMES);
    if (chance(0.1)) spec.sizeStyle = pick(['base256', 'octal-space', 'lead-nul', 'plus', 'tab', 'garbage', 'blank'] as const);
    if (spec.sizeStyle === 'base256') has('a base-256 size');
    if (chance(0.15)) {
      spec.mtime = pick([-1, -1e9, 2 ** 40, 0]);
      spec.mtimeStyle = 'base256';
      if (spec.mtime < 0) has('a negative base-256 mtime');
    }
    if (chance(0.03)) spec.checksum = pick(['signed', 'bad', 'base256'] as const);
    if (chance(0.03)) spec.atime = true;
    if (chance(0.03)) spec.uid = 2 ** 21 + 5;
    if (spec.uid && spec.uid > 2 ** 21) spec.uid = chance(0.5) ? 7 : spec.uid; // octal overflow is written truncated: a garbage-like field
    // how the name is stored
    const nameBytes = Buffer.byteLength(name);
    const pax: string[] = [];
    let gnuLong: string | undefined;
    if (nameBytes > 100 || chance(0.1)) {
      const how = format === 'gnu' ? pick(['L', 'pax', 'L']) : pick(['prefix', 'pax', 'L', 'cut']);
      const slash = name.lastIndexOf('/', name.length - 2);
      if (how === 'prefix' && slash > 0 && slash <= 155 && nameBytes - slash - 1 <= 100 && format === 'ustar') {
        spec.prefix = name.slice(0, slash);
        has('a ustar prefix');
        spec.name = name.slice(slash + 1);
      } else if (how === 'pax') {
        pax.push(paxRecord('path', name));
        has('a PAX path');
        spec.name = chance(0.5) ? name.slice(0, 100) : 'short';
      } else if (how === 'L') {
        gnuLong = name;
        has('a GNU long name');
        spec.name = name.slice(0, 99);
      } else spec.name = name.slice(0, 100);
    }
    if (nameBytes > 100 && typeof spec.name === 'string' && Buffer.byteLength(spec.name) > 100) spec.name = Buffer.from(spec.name).subarray(0, 100);
    if (spec.linkname && Buffer.byteLength(spec.linkname) > 100) {
      if (chance(0.5)) pax.push(paxRecord('linkpath', spec.linkname));
      else push(extension('K', `${spec.linkname}\0`));
      spec.linkname = spec.linkname.slice(0, 100);
    }
    // PAX records
    if (chance(0.15)) {
      // the PAX size wins over the header's
      const sign = chance(0.2) ? '+' : '';
      pax.push(paxRecord('size', `${sign}${data.length}`));
      has(sign ? 'a PAX size=+N' : 'a PAX size');
      spec.size = pick([0, data.length, data.length + 512, 3]);
    }
    if (chance(0.05)) pax.push(paxRecord(pick(['size', 'uid', 'mtime', 'gid', 'path']), pick(['', '-1', 'abc', '1_0', ' 5', '1.5', '99999999999999999999', '12'])));
    if (chance(0.06)) {
      pax.push(paxRecord('mtime', pick(['-1', '1700000000.123', '-1.5', '1e5'])));
      has('a PAX mtime');
    }
    if (chance(0.05)) pax.push(paxRecord('SCHILY.xattr.user.x', 'v'));
    if (chance(0.03)) pax.push(paxRecord('comment', 'x'.repeat(Math.floor(r() * 2000))));
    if (chance(0.04)) pax.push(pick(['5 a=\n', '10 path=x', '+9 a=bcd\n', '3 a=\n', '12 nokey\n   ', '06 a=b\n', '0 a=b\n', '9 \u00e9=b\n', '7 =abc\n', '10 path=\0\n', 'garbage']));
    if (chance(0.04)) pax.push(paxRecord('GNU.sparse.size', '10'));
    if (chance(0.05)) push(extension('g', chance(0.6) ? paxRecord('comment', 'made by git') : paxRecord(pick(['path', 'size', 'mtime']), '7')));
    if (pax.length) {
      const body = Buffer.from(pax.join(''));
      push(extension('x', body, chance(0.05) ? { size: body.length + pick([1, -1, 600]) } : {}));
      if (chance(0.05)) push(extension('x', paxRecord('path', 'second')));
    }
    if (gnuLong !== undefined) {
      push(extension('L', chance(0.1) ? `${gnuLong}\0junk` : chance(0.05) ? '' : `${gnuLong}\0`));
      if (chance(0.05)) push(extension('L', 'other\0'));
    }
    if (chance(0.02)) push(extension(pick(['x', 'L'] as const), Buffer.alloc((1 << 20) + 1 + Math.floor(r() * 100), 0x61)));
    push(Buffer.concat([block(spec), pad(data)]));
    if (chance(0.02)) push(Buffer.alloc(512), false); // a lone zero block in the middle
  }
  const end = r();
  if (end < 0.6) push(END, false);
  else if (end < 0.7) push(Buffer.alloc(512), false);
  else if (end < 0.75)
    push(Buffer.concat([END, bytes(700)]), false); // junk after the end is ignored
  else if (end < 0.8) push(Buffer.concat([Buffer.alloc(512), bytes(100)]), false);
  let tar = Buffer.concat(parts);
  // damage
  const d = r();
  if (d < 0.08) tar = tar.subarray(0, Math.floor(r() * tar.length));
  else if (d < 0.16) {
    const flips = 1 + Math.floor(r() * 3);
    for (let i = 0; i < flips; i++) tar[Math.floor(r() * tar.length)] = Math.floor(r() * 256);
    // mostly into a header with its checksum fixed, so the damage reaches the field parsers
    if (chance(0.8) && headerOffsets.length) {
      const h = pick(headerOffsets);
      const off = h + Math.floor(r() * 512);
      if (off < 148 + h || off >= 156 + h) tar[off] = pick([0, 0x20, 0x2f, 0x5c, 0x80, 0xff, 0x30, 0x37, 0x78, Math.floor(r() * 256)]);
      const blk = tar.subarray(h, h + 512);
      if (blk.length === 512) fixChecksum(blk);
    }
  } else if (d < 0.2) {
    const at2 = Math.floor(r() * (tar.length / 512)) * 512;
    tar = Buffer.concat([tar.subarray(0, at2), bytes(512), tar.subarray(at2)]);
  }
  return tar;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const [seed, count, dir] = process.argv.length > 4 ? process.argv.slice(2) : [process.argv[2], '1', process.argv[3]];
  if (!seed || !dir) {
    console.error('usage: node dist/test/hostile/tar-gen.js SEED [COUNT] DIR');
    process.exit(2);
  }
  mkdirSync(dir, { recursive: true });
  for (let s = Number(seed); s < Number(seed) + Number(count); s++) writeFileSync(join(dir, `${s}.tar`), randomArchive(s));
}
