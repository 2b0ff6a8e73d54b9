/** Text styling for human output: colour only on a terminal, and never when NO_COLOR is set (no-color.org). */
export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
}

const wrap = (on: boolean, open: number, close: number) => (s: string) => (on && s ? `\u001b[${open}m${s}\u001b[${close}m` : s);

export function makeStyle(color: boolean): Style {
  return { bold: wrap(color, 1, 22), dim: wrap(color, 2, 22), red: wrap(color, 31, 39), green: wrap(color, 32, 39), yellow: wrap(color, 33, 39) };
}

/** Colour for a stream: a TTY, NO_COLOR unset, and not a dumb terminal. */
export function styleFor(stream: NodeJS.WriteStream): Style {
  return makeStyle(stream.isTTY === true && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb');
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
/** Width on screen: escape codes take none. */
export function visibleWidth(s: string): number {
  return [...s.replace(ANSI, '')].length;
}

/** Rows of cells as aligned columns, two spaces apart; the last column is not padded. */
export function table(rows: readonly (readonly string[])[], indent = ''): string[] {
  const widths: number[] = [];
  for (const r of rows) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, visibleWidth(c));
    });
  }
  return rows.map(
    (r) =>
      indent +
      r
        .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - visibleWidth(c))))
        .join('  ')
        .trimEnd(),
  );
}

/** `1.5 KiB`, like docker's sizes but binary units, so they add up. */
export function humanSize(n: number | null): string {
  if (n === null) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** A digest shortened like `docker images` (12 hex digits) unless the user asked for all of it. */
export function digestText(d: string | null, full: boolean): string {
  if (d === null) return '-';
  return full ? d : d.replace(/^sha256:/, '').slice(0, 12);
}
