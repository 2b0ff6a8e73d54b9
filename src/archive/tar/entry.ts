import type { Header } from './header.js';
import { ArchiveError } from '../../errors.js';

/** One tar entry as read: its header, its position, and its bytes when it is metadata we keep. */
export interface EntryRecord {
  /** Position in the input archive (0-based), used to keep a stable output order. */
  readonly index: number;
  /** The entry name as stored, which is also the name we write back. */
  readonly name: string;
  /** Name normalised for lookups: no leading `./`, no trailing `/`. */
  readonly path: string;
  readonly header: Header;
  /** The whole content, for small JSON-like entries; undefined for entries streamed through. */
  readonly data?: Buffer;
  /**
   * The header blocks exactly as read (with any PAX/GNU extension blocks), to pass through
   * unchanged. Kept for metadata; a streamed entry has it only while its handler writes it.
   */
  readonly raw?: Buffer;
}

/**
 * Normalise a tar entry name for lookups, as docker load does when it extracts the archive
 * (filepath.Join on Linux): no leading `./`, no empty or `.` segments, no trailing `/`. A backslash
 * is an ordinary character there, so it is one here: `.\\manifest.json` is not manifest.json.
 * Names that escape the archive root are refused.
 */
export function normalizeEntryPath(name: string): string {
  let p = name;
  if (p.startsWith('/')) {
    throw new ArchiveError('absolute entry name; a docker save archive only holds relative names. Recreate the archive with docker save', name);
  }
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      throw new ArchiveError("entry name escapes the archive root ('..'); refusing to read a possibly malicious archive", name);
    }
    parts.push(seg);
  }
  p = parts.join('/');
  return p;
}

/** Resolve a path relative to the directory of `from` (for symlink targets and manifest paths). */
export function resolveRelative(from: string, target: string): string | undefined {
  if (target.startsWith('/')) return undefined;
  const base = from.split('/').slice(0, -1);
  for (const seg of target.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (base.length === 0) return undefined;
      base.pop();
    } else base.push(seg);
  }
  return base.join('/');
}

/** A header for writing: the input's header with a new name/size and stale PAX overrides removed. */
export function derivedHeader(h: Header, name: string, size?: number): Header {
  const out: Header = { ...h, name };
  if (size !== undefined) out.size = size;
  const pax = h.pax;
  if (pax) {
    // the encoder writes path/linkpath from name/linkname and size from the header
    const { path: _p, linkpath: _l, size: _s, ...rest } = pax;
    if (Object.keys(rest).length) out.pax = rest;
    else delete out.pax;
  }
  return out;
}
