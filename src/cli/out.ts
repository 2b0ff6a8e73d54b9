import { ioError } from '../errors.js';

/**
 * Everything the CLI prints goes through here: text from an archive (tags, entry names, config
 * values) is escaped so that no control character reaches the terminal raw (an ESC sequence or a
 * newline in a tag must not forge a line such as `copyedit: done`), and a closed standard output
 * (`copyedit inspect x.tar | head`) is an I/O error (exit 6, one line), not a crash.
 */

// C0 controls, DEL, C1 controls, and the Unicode line separators and bidi overrides that can
// disguise what a line says.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One string as a terminal may show it: control characters as `\n`, `\x1b`, `\u2028`. */
export function escapeControl(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return NAMED[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
  });
}

/** A copy of `v` with every string (values and keys) escaped: a report made safe to format. */
export function escapeDeep<T>(v: T): T {
  if (typeof v === 'string') return escapeControl(v) as T;
  if (Array.isArray(v)) return v.map((x: unknown) => escapeDeep(x)) as T;
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [escapeControl(k), escapeDeep(x)])) as T;
  }
  return v;
}

/**
 * JSON for --json: JSON.stringify escapes C0 controls already; DEL, C1 and the separators are
 * escaped too (inside a JSON string, where alone they can occur, `\uXXXX` means the same).
 */
export function jsonText(v: unknown): string {
  // eslint-disable-next-line no-control-regex
  return JSON.stringify(v, null, 2).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Write to standard output; a reader that went away (EPIPE) becomes an IoError (exit 6) with one
 * line, as `edit -o - | head` reports it.
 */
export function writeStdout(text: string): Promise<void> {
  guardStdout();
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (e) => (e ? reject(ioError('write', 'standard output', e)) : resolve()));
  });
}

let guarded = false;
/** An 'error' on stdout with no listener would crash the process; the write callback reports it. */
function guardStdout(): void {
  if (guarded) return;
  guarded = true;
  process.stdout.on('error', () => {});
}

/** Write to standard error; its reader going away is not worth a crash. */
export function writeStderr(text: string): void {
  if (!stderrGuarded) {
    stderrGuarded = true;
    process.stderr.on('error', () => {});
  }
  process.stderr.write(text);
}
let stderrGuarded = false;
