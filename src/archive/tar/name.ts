/**
 * Tar entry names as bytes: Go's archive/tar takes any bytes, Python's tarfile reads the invalid
 * UTF-8 ones with "surrogateescape"; copyedit does as Python does, and writes the bytes back.
 */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * An entry name or link target as bytes (Go's archive/tar takes any bytes): UTF-8 where it is, and
 * each byte of an invalid sequence as the lone surrogate U+DC80..U+DCFF, as Python's tarfile reads
 * it ("surrogateescape"). Distinct bytes give distinct names, `encodeName` gives the bytes back,
 * and no JSON string (read as Go reads JSON: a lone surrogate becomes U+FFFD) can equal such a
 * name: nothing in the metadata can name the entry, as for Docker, whose JSON is UTF-8.
 */
export function decodeName(b: Buffer): string {
  try {
    return strictUtf8.decode(b);
  } catch {
    let out = '';
    let i = 0;
    while (i < b.length) {
      const n = utf8Length(b, i);
      if (n > 0) {
        out += b.toString('utf8', i, i + n);
        i += n;
      } else out += String.fromCharCode(0xdc00 + b[i++]!);
    }
    return out;
  }
}

/** The length of the well-formed UTF-8 sequence at `i` (RFC 3629: no overlong form, no surrogate), or 0. */
function utf8Length(b: Buffer, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const lo = c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/** The bytes of a name from `decodeName` (its escaped bytes restored); plain UTF-8 otherwise. */
export function encodeName(name: string): Buffer {
  if (!/[\udc80-\udcff]/.test(name)) return Buffer.from(name, 'utf8');
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const paired = i > 0 && name.charCodeAt(i - 1) >= 0xd800 && name.charCodeAt(i - 1) <= 0xdbff;
    if (c < 0xdc80 || c > 0xdcff || paired) continue;
    parts.push(Buffer.from(name.slice(start, i), 'utf8'), Buffer.from([c - 0xdc00]));
    start = i + 1;
  }
  parts.push(Buffer.from(name.slice(start), 'utf8'));
  return Buffer.concat(parts);
}
