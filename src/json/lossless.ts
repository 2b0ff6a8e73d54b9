/**
 * A JSON parser and printer that never changes a value it did not edit.
 *
 * `JSON.parse` rounds integers above 2^53 and rewrites `1e+23`; image configs in the wild carry such
 * numbers (sizes, uids, vendor labels are strings, but vendor extensions are not). Here every number
 * keeps its source text in a `JsonNumber`, and objects keep their key order, so a config that is
 * parsed and printed again differs only where an edit touched it.
 */

export class JsonNumber {
  constructor(readonly raw: string) {}
  /** The value as a JS number; may round, so use only for display or small integers. */
  valueOf(): number {
    return Number(this.raw);
  }
  toString(): string {
    return this.raw;
  }
}

export type Json = null | boolean | string | number | JsonNumber | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const MAX_DEPTH = 512;

/**
 * JSON values one archive's metadata may hold, parsed (issue 23, class 9). A parsed value costs up
 * to about 100 bytes (an empty object in an array; a number 40, a short string 30), so a 16 MiB
 * config of 5 million `{}` took 600 MiB: past this budget copyedit refuses instead. Real configs
 * hold hundreds to a few thousand values; a thousand-image archive's metadata a few hundred thousand.
 */
export const MAX_JSON_VALUES = 1 << 18;
/** One document parsed on its own (a library caller's, `verify`'s re-read), outside an archive's budget. */
export const MAX_JSON_VALUES_ALONE = 1 << 20;

/** The values left to the documents parsed within `withJsonBudget` (one model), else per document. */
let budget: { left: number } | undefined;

/**
 * Run `fn` (synchronous: no other parse can interleave) with one budget of MAX_JSON_VALUES for
 * every document it parses, so many documents near the limit cannot add up.
 */
export function withJsonBudget<T>(fn: () => T): T {
  const outer = budget;
  budget = outer ?? { left: MAX_JSON_VALUES };
  try {
    return fn();
  } finally {
    budget = outer;
  }
}
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decode UTF-8 strictly: invalid sequences and a byte-order mark are errors, as they are for Go. */
export function decodeUtf8Json(bytes: Uint8Array): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw new JsonSyntaxError('starts with a UTF-8 byte-order mark, which Docker and containerd reject', 0);
  }
  try {
    return utf8.decode(bytes);
  } catch {
    throw new JsonSyntaxError('is not valid UTF-8', 0);
  }
}

/** Objects are made by this constructor: a null-prototype chain (`__proto__` is plain data) and, unlike `Object.create(null)`, fast V8 objects (24 bytes, not 184, for an empty one). */
const JsonObjectCtor = function JsonObject(this: unknown) {} as unknown as new () => JsonObject;
JsonObjectCtor.prototype = Object.freeze(Object.create(null));

/** A fresh object that inherits nothing, so keys like `__proto__` or `toString` are plain data. */
export function jsonObject(): JsonObject {
  return new JsonObjectCtor();
}

export function isJsonObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber);
}

/** Objects in which the parser saw a key twice; consulted by `checkGoAmbiguity`. */
const repeated = new WeakMap<JsonObject, string[]>();
function noteRepeated(obj: JsonObject, k: string): void {
  const list = repeated.get(obj);
  if (!list) repeated.set(obj, [k]);
  else if (!list.includes(k)) list.push(k);
}

/** Arrays longer than this get their own growing array; shorter ones are cut to size from a shared stack. */
const SHORT_ARRAY = 256;

/**
 * Parse JSON as Go's encoding/json reads it: any number the grammar allows (its text kept), `\u`
 * escapes of unpaired surrogates read as U+FFFD in keys and kept in values (printed back as the
 * same escape), a repeated key's last value kept (at the first
 * key's place). Whether a repeated or case-folded key is acceptable depends on what the object
 * is decoded into: see `checkGoAmbiguity` (src/json/schemas.ts).
 *
 * Memory: about 2-3x the text for typical metadata, at worst ~20x for dense nests of empty arrays.
 */
export function parseJson(input: string | Uint8Array): Json {
  const text = typeof input === 'string' ? input : decodeUtf8Json(input);
  const n = text.length;
  let i = 0;
  const shared = budget;
  let left = shared ? shared.left : MAX_JSON_VALUES_ALONE;
  const stack: Json[] = [];

  const fail = (what: string): never => {
    let line = 1;
    for (let p = text.indexOf('\n'); p !== -1 && p < i; p = text.indexOf('\n', p + 1)) line++;
    throw new JsonSyntaxError(`${what} at line ${line}, offset ${i}`, i);
  };
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else return;
    }
  };
  const hex4 = (at: number): number => {
    let v = 0;
    for (let k = at; k < at + 4; k++) {
      const c = text.charCodeAt(k);
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  };
  /** `value`: a string value, whose lone surrogate escapes are kept (see below); a key reads them as Go does. */
  const str = (value = false): string => {
    i++; // opening quote
    let out = '';
    let start = i;
    for (;;) {
      if (i >= n) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) fail('control character in string');
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      i += 2;
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const u = hex4(i);
          if (u < 0) fail('bad \\u escape');
          i += 4;
          if (u >= 0xd800 && u <= 0xdfff) {
            // Go: a high surrogate followed by an escaped low one is a pair; any other surrogate is U+FFFD
            const lo = u <= 0xdbff && text.charCodeAt(i) === 0x5c && text.charCodeAt(i + 1) === 0x75 ? hex4(i + 2) : -1;
            if (lo >= 0xdc00 && lo <= 0xdfff) {
              out += String.fromCharCode(u, lo);
              i += 6;
            } else if (value) {
              // kept as the lone surrogate, so the printer writes the escape back as it was (Go
              // would print U+FFFD in its place: an untouched string must not change); no name
              // lookup can match it (tar names with lone surrogates are left out of the index)
              out += String.fromCharCode(u);
            } else out += '\ufffd';
          } else out += String.fromCharCode(u);
          break;
        }
        default:
          i -= 2;
          fail('bad escape');
      }
      start = i;
    }
  };
  const digits = (): number => {
    const s = i;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      i++;
    }
    return i - s;
  };
  const num = (): Json => {
    const s = i;
    const neg = text.charCodeAt(i) === 0x2d;
    if (neg) i++;
    const c0 = text.charCodeAt(i);
    if (c0 === 0x30) i++;
    else if (c0 >= 0x31 && c0 <= 0x39) digits();
    else fail('bad number');
    const intEnd = i;
    if (text.charCodeAt(i) === 0x2e) {
      i++;
      if (digits() === 0) fail('bad number');
    }
    const e = text.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      i++;
      const sign = text.charCodeAt(i);
      if (sign === 0x2b || sign === 0x2d) i++;
      if (digits() === 0) fail('bad number');
    }
    // an integer of at most 15 digits is exact as a JS number, and needs no string (nor garbage);
    // "-0" keeps its text, since 0 would print as "0"
    const nd = intEnd - s - (neg ? 1 : 0);
    if (i === intEnd && nd <= 15 && !(neg && c0 === 0x30)) {
      let v = 0;
      for (let k = intEnd - nd; k < intEnd; k++) v = v * 10 + (text.charCodeAt(k) - 0x30);
      return neg ? -v : v;
    }
    return new JsonNumber(text.slice(s, i));
  };
  const value = (depth: number): Json => {
    if (depth > MAX_DEPTH) fail(`nested more than ${MAX_DEPTH} levels deep (copyedit's limit; Go reads up to 10000, no image needs more than a few)`);
    if (--left < 0) {
      fail(
        `holds more than ${shared ? `${MAX_JSON_VALUES} JSON values with the archive's other metadata` : `${MAX_JSON_VALUES_ALONE} JSON values`} (copyedit's limit, to bound its memory; no image's metadata needs so many)`,
      );
    }
    ws();
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */) {
      i++;
      const obj = jsonObject();
      ws();
      if (text.charCodeAt(i) === 0x7d) {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text.charCodeAt(i) !== 0x22) fail('expected a string key');
        const k = str();
        ws();
        if (text.charCodeAt(i) !== 0x3a) fail("expected ':'");
        i++;
        if (obj[k] !== undefined) noteRepeated(obj, k); // nothing is inherited, so this is an own key
        obj[k] = value(depth + 1); // a repeated key: the last value wins, as in Go's maps
        ws();
        const d = text.charCodeAt(i);
        if (d === 0x2c) {
          i++;
          continue;
        }
        if (d === 0x7d) {
          i++;
          return obj;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === 0x5b /* [ */) {
      i++;
      ws();
      if (text.charCodeAt(i) === 0x5d) {
        i++;
        return [];
      }
      // short arrays are collected on the shared stack and cut to size; V8 would give a pushed-to
      // array 17 slots for 1 element
      const base = stack.length;
      let own: Json[] | undefined;
      for (;;) {
        const v = value(depth + 1);
        if (own) own.push(v);
        else if (stack.length - base < SHORT_ARRAY) stack.push(v);
        else {
          own = stack.slice(base);
          stack.length = base;
          own.push(v);
        }
        ws();
        const d = text.charCodeAt(i);
        if (d === 0x2c) {
          i++;
          continue;
        }
        if (d === 0x5d) {
          i++;
          if (own) return own;
          const arr = stack.slice(base);
          stack.length = base;
          return arr;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === 0x22) return str(true);
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return num();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    return fail(i >= n ? 'unexpected end of input' : `unexpected character ${JSON.stringify(text[i])}`);
  };

  const v = value(0);
  ws();
  if (i !== n) fail('unexpected data after the JSON value');
  if (shared) shared.left = left;
  return v;
}

/** Escape a string the way Go's encoding/json does (HTML-safe), so edited configs look like Docker's. */
function quote(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Characters a string must not hold to be written between quotes as it is. */
const NEEDS_ESCAPE = /[\u0000-\u001f"\\<>&\u2028\u2029\ud800-\udfff]/;

const CHUNK = 64 * 1024;

/** Writes into 64 KiB chunks, so printing costs the output's size and no tree of partial strings. */
class Printer {
  private readonly chunks: Buffer[] = [];
  private buf = Buffer.allocUnsafe(CHUNK);
  private pos = 0;

  text(s: string): void {
    // a JS character is at most 3 bytes of UTF-8 (a surrogate pair, 2 characters, is 4)
    if (s.length * 3 > this.buf.length - this.pos) {
      this.flush();
      if (s.length * 3 > this.buf.length) {
        this.chunks.push(Buffer.from(s, 'utf8'));
        return;
      }
    }
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  byte(c: number): void {
    if (this.pos === this.buf.length) this.flush();
    this.buf[this.pos++] = c;
  }

  private flush(): void {
    if (this.pos === 0) return;
    this.chunks.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(CHUNK);
    this.pos = 0;
  }

  done(): Buffer {
    if (this.chunks.length === 0) return Buffer.from(this.buf.subarray(0, this.pos));
    this.flush();
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
  }

  value(v: Json): void {
    if (v === null) this.text('null');
    else if (typeof v === 'boolean') this.text(v ? 'true' : 'false');
    else if (typeof v === 'string') {
      if (NEEDS_ESCAPE.test(v)) this.text(quote(v));
      else {
        this.byte(0x22);
        this.text(v);
        this.byte(0x22);
      }
    } else if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new TypeError(`refusing to print a number that JSON cannot hold exactly: ${v}`);
      this.text(String(v));
    } else if (v instanceof JsonNumber) this.text(v.raw);
    else if (Array.isArray(v)) {
      this.byte(0x5b);
      for (let k = 0; k < v.length; k++) {
        if (k) this.byte(0x2c);
        this.value(v[k]!);
      }
      this.byte(0x5d);
    } else {
      this.byte(0x7b);
      let first = true;
      for (const k in v) {
        const val = v[k];
        if (val === undefined) continue;
        if (!first) this.byte(0x2c);
        first = false;
        this.value(k);
        this.byte(0x3a);
        this.value(val);
      }
      this.byte(0x7d);
    }
  }
}

/** Compact JSON as UTF-8 bytes, key order kept, numbers printed from their source text. */
export function printJson(v: Json): Buffer {
  const p = new Printer();
  p.value(v);
  return p.done();
}

/** Compact JSON, key order kept, numbers printed from their source text. */
export function stringifyJson(v: Json): string {
  return printJson(v).toString('utf8');
}

/** Structural equality; numbers compare by their source text. */
export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (a instanceof JsonNumber || b instanceof JsonNumber || typeof a === 'number' || typeof b === 'number') {
    return String(a) === String(b);
  }
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => jsonEqual(x, b[i]));
  }
  const ka = Object.keys(a).filter((k) => a[k] !== undefined);
  const kb = Object.keys(b).filter((k) => b[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => jsonEqual(a[k], b[k]));
}

/** Deep copy, so edits can stay pure. */
export function cloneJson<T extends Json>(v: T): T {
  if (v === null || typeof v !== 'object' || v instanceof JsonNumber) return v;
  if (Array.isArray(v)) return v.map(cloneJson) as T;
  const o = jsonObject();
  for (const k of Object.keys(v)) o[k] = cloneJson(v[k] as Json);
  return o as T;
}

/**
 * Go's encoding/json matches an object key to a struct field case-insensitively (an exact match is
 * preferred). `fieldKey` finds the key of `obj` that Go would decode into the field `name`.
 * Objects where two keys fold to one field are refused when parsed metadata is checked, so at most
 * one key can match here.
 */
export function fieldKey(obj: JsonObject, name: string): string | undefined {
  if (Object.hasOwn(obj, name)) return name;
  const want = foldKey(name);
  for (const k of Object.keys(obj)) if (foldKey(k) === want) return k;
  return undefined;
}

/** The value Go would decode into the struct field `name` of `obj`. */
export function field(obj: JsonObject, name: string): Json | undefined {
  const k = fieldKey(obj, name);
  return k === undefined ? undefined : obj[k];
}

/**
 * Go's case folding of a key, for matching it to a struct field. Go (1.21+, `foldName`) upper-cases
 * ASCII and maps every other rune to the smallest rune of its Unicode simple-fold orbit; earlier Go
 * used `bytes.EqualFold`, the same relation. Every field name in the image, manifest and index
 * structs is ASCII, and the only non-ASCII runes whose orbit holds an ASCII letter are the long s
 * (U+017F, with s/S) and the Kelvin sign (U+212A, with k/K). So folding ASCII case and those two
 * runes, and leaving every other character as it is, gives equal results exactly for the keys Go
 * would decode into the same (ASCII-named) field. Two keys that Go folds together but that hold
 * another non-ASCII letter (`é`/`É`) match no field at all, so Go ignores both.
 */
export function foldKey(k: string): string {
  let out = '';
  let start = 0;
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i);
    let to = -1;
    if (c >= 0x41 && c <= 0x5a) to = c + 0x20;
    else if (c === 0x17f)
      to = 0x73; // ſ -> s
    else if (c === 0x212a) to = 0x6b; // Kelvin sign -> k
    if (to < 0) continue;
    out += k.slice(start, i) + String.fromCharCode(to);
    start = i + 1;
  }
  return start === 0 ? k : out + k.slice(start);
}

/** The keys that appeared more than once in an object as parsed (its value holds the last one). */
export function repeatedKeys(obj: JsonObject): readonly string[] | undefined {
  return repeated.get(obj);
}
