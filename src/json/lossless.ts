/**
 * A JSON parser and printer that never changes a value it did not edit.
 *
 * `JSON.parse` rounds integers above 2^53 and rewrites `1e+23`; image configs in the wild carry such
 * numbers (sizes, uids, vendor labels are strings, but vendor extensions are not). Here every number
 * keeps its source text in a `JsonNumber`, and objects keep their key order, so a config that is
 * parsed and printed again differs only where an edit touched it.
 */

export { type Json, JsonNumber, type JsonObject, JsonSyntaxError, isJsonObject, jsonObject, repeatedKeys } from './value.js';
export { JSON_BYTES_PER_VALUE, JsonBudgetError, MAX_JSON_VALUES, MAX_JSON_VALUES_ALONE, decodeUtf8Json, parseJson, withJsonBudget } from './parse.js';

import { type Json, JsonNumber, type JsonObject, jsonObject } from './value.js';

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
