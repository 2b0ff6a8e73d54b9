/**
 * The lossless JSON parser (src/json/lossless.ts says why it exists): Go's encoding/json grammar,
 * numbers kept as their text, key order kept. One `Parser` per document; its methods share the
 * text and the position, as the closures of one function did before it was split.
 */
import { ArchiveError } from '../errors.js';
import { type Json, JsonNumber, JsonSyntaxError, jsonObject, noteRepeated } from './value.js';

const MAX_DEPTH = 512;

/**
 * JSON values one archive's metadata may hold, parsed (issue 23, class 9), before the credit its
 * bytes earn. A parsed value costs up to about 100 bytes (an empty object in an array; a number 40,
 * a short string 30), so a 16 MiB config of 5 million `{}` took 600 MiB: past the budget copyedit
 * refuses instead. Real metadata spends 20-40 bytes of JSON per value (22.6 in an index of 10,000
 * one-layer images: 510,015 values in 11.5 MB), dense attacks 2-3 bytes: so every
 * JSON_BYTES_PER_VALUE bytes parsed earn one more value. The credit is earned by the documents
 * parsed before (a dense document cannot pay for itself: alone, `[{},{},...]` stops at 262,144).
 */
export const MAX_JSON_VALUES = 1 << 18;
/**
 * Bytes of parsed metadata that earn one more JSON value (see MAX_JSON_VALUES). At 24, metadata at
 * 22.6 bytes a value passes up to the 64 MiB cap of kept metadata (2.97 million values, 3.06 million
 * allowed), and a 16 MiB config of `[12345.5,...]` (8 bytes a value, 40-byte numbers) stops at
 * 393,000 values, under the 150 MiB of the dense cases (at 16 it took 157 MiB).
 */
export const JSON_BYTES_PER_VALUE = 24;
/** One document parsed on its own (a library caller's, `verify`'s re-read), outside an archive's budget. */
export const MAX_JSON_VALUES_ALONE = 1 << 20;

/**
 * Past the parsed-value budget (src/json/parse.ts): copyedit's memory limit, not damage. An
 * ArchiveError (exit 3), whose entry the archive reader names (src/archive/layout.ts `entryJson`).
 */
export class JsonBudgetError extends ArchiveError {
  constructor(
    readonly limit: number,
    /** Bytes of JSON parsed (the archive's metadata before this document, and this one so far). */
    readonly parsed: number,
    readonly offset: number,
  ) {
    super(
      limit === MAX_JSON_VALUES_ALONE
        ? `holds more than ${limit} JSON values (copyedit's limit for one document, to bound its memory)`
        : `holds more JSON values than copyedit reads (${limit} plus one per ${JSON_BYTES_PER_VALUE} bytes of metadata; reached after ${parsed} bytes), a limit that bounds its memory: the archive is not damaged, but its metadata is denser than any image's (real images spend 20-40 bytes of JSON per value); if it is real, edit fewer images per archive`,
    );
  }
}

/** The budget of the documents parsed within `withJsonBudget` (one model): values left, bytes parsed so far. */
interface Budget {
  left: number;
  /** Bytes (UTF-16 units) parsed in earlier documents, and the part of them already turned into credit. */
  parsed: number;
  credited: number;
}
let budget: Budget | undefined;

/**
 * Run `fn` (synchronous: no other parse can interleave) with one budget for every document it
 * parses, so many documents near the limit cannot add up: MAX_JSON_VALUES plus one value per
 * JSON_BYTES_PER_VALUE bytes parsed.
 */
export function withJsonBudget<T>(fn: () => T): T {
  const outer = budget;
  budget = outer ?? { left: MAX_JSON_VALUES, parsed: 0, credited: 0 };
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

/** Arrays longer than this get their own growing array; shorter ones are cut to size from a shared stack. */
const SHORT_ARRAY = 256;

/** The one-character escapes after a backslash, and what they stand for. */
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * Parse JSON as Go's encoding/json reads it: any number the grammar allows (its text kept), `\u`
 * escapes of unpaired surrogates read as U+FFFD in keys and kept in values (printed back as the
 * same escape), a repeated key's last value kept (at the first key's place). Whether a repeated or case-folded key is acceptable depends on what the object
 * is decoded into: see `checkGoAmbiguity` (src/json/schemas.ts).
 *
 * Memory: about 2-3x the text for typical metadata, at worst ~20x for dense nests of empty arrays.
 */
export function parseJson(input: string | Uint8Array): Json {
  const p = new Parser(typeof input === 'string' ? input : decodeUtf8Json(input), budget);
  const v = p.value(0);
  p.ws();
  if (p.i !== p.n) p.fail('unexpected data after the JSON value');
  if (budget) {
    budget.left = p.left;
    budget.parsed += p.n;
  }
  return v;
}

class Parser {
  i = 0;
  readonly n: number;
  /** Where short arrays are collected before they are cut to size (see `array`). */
  private readonly stack: Json[] = [];

  /** Values this document may still hold (the archive's budget, or its own). */
  left: number;

  constructor(
    private readonly text: string,
    private readonly shared: Budget | undefined,
  ) {
    this.n = text.length;
    this.left = shared ? shared.left : MAX_JSON_VALUES_ALONE;
  }

  /** Within an archive's budget: turn earlier documents' bytes not yet credited into values; whether any are left now. */
  private earn(): boolean {
    const shared = this.shared;
    if (!shared) return false;
    // only earlier documents' bytes: a document cannot pay for its own values (a dense one would
    // earn a third more: [12345.5,...] reached 393,000 values, 165 MiB on Node 24)
    const values = Math.floor((shared.parsed - shared.credited) / JSON_BYTES_PER_VALUE);
    shared.credited += values * JSON_BYTES_PER_VALUE;
    this.left += values;
    return this.left >= 0;
  }

  fail(what: string): never {
    let line = 1;
    for (let p = this.text.indexOf('\n'); p !== -1 && p < this.i; p = this.text.indexOf('\n', p + 1)) line++;
    throw new JsonSyntaxError(`${what} at line ${line}, offset ${this.i}`, this.i);
  }

  ws(): void {
    for (;;) {
      const c = this.text.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else return;
    }
  }

  value(depth: number): Json {
    if (depth > MAX_DEPTH) this.fail(`nested more than ${MAX_DEPTH} levels deep (copyedit's limit; Go reads up to 10000, no image needs more than a few)`);
    if (--this.left < 0 && !this.earn()) {
      throw new JsonBudgetError(this.shared ? MAX_JSON_VALUES : MAX_JSON_VALUES_ALONE, this.shared ? this.shared.parsed + this.i : this.i, this.i);
    }
    this.ws();
    const { text, i } = this;
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */) return this.object(depth);
    if (c === 0x5b /* [ */) return this.array(depth);
    if (c === 0x22) return this.str(true);
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.num();
    if (text.startsWith('true', i)) {
      this.i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      this.i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      this.i += 4;
      return null;
    }
    return this.fail(i >= this.n ? 'unexpected end of input' : `unexpected character ${JSON.stringify(text[i])}`);
  }

  private object(depth: number): Json {
    const text = this.text;
    this.i++;
    const obj = jsonObject();
    this.ws();
    if (text.charCodeAt(this.i) === 0x7d) {
      this.i++;
      return obj;
    }
    for (;;) {
      this.ws();
      if (text.charCodeAt(this.i) !== 0x22) this.fail('expected a string key');
      const k = this.str();
      this.ws();
      if (text.charCodeAt(this.i) !== 0x3a) this.fail("expected ':'");
      this.i++;
      if (obj[k] !== undefined) noteRepeated(obj, k); // nothing is inherited, so this is an own key
      obj[k] = this.value(depth + 1); // a repeated key: the last value wins, as in Go's maps
      this.ws();
      const d = text.charCodeAt(this.i);
      if (d === 0x2c) {
        this.i++;
        continue;
      }
      if (d === 0x7d) {
        this.i++;
        return obj;
      }
      this.fail("expected ',' or '}'");
    }
  }

  private array(depth: number): Json {
    const { text, stack } = this;
    this.i++;
    this.ws();
    if (text.charCodeAt(this.i) === 0x5d) {
      this.i++;
      return [];
    }
    // short arrays are collected on the shared stack and cut to size; V8 would give a pushed-to
    // array 17 slots for 1 element
    const base = stack.length;
    let own: Json[] | undefined;
    for (;;) {
      const v = this.value(depth + 1);
      if (own) own.push(v);
      else if (stack.length - base < SHORT_ARRAY) stack.push(v);
      else {
        own = stack.slice(base);
        stack.length = base;
        own.push(v);
      }
      this.ws();
      const d = text.charCodeAt(this.i);
      if (d === 0x2c) {
        this.i++;
        continue;
      }
      if (d === 0x5d) {
        this.i++;
        if (own) return own;
        const arr = stack.slice(base);
        stack.length = base;
        return arr;
      }
      this.fail("expected ',' or ']'");
    }
  }

  private hex4(at: number): number {
    let v = 0;
    for (let k = at; k < at + 4; k++) {
      const c = this.text.charCodeAt(k);
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  }

  /** `value`: a string value, whose lone surrogate escapes are kept (see `escape`); a key reads them as Go does. */
  private str(value = false): string {
    const text = this.text;
    this.i++; // opening quote
    let out = '';
    let start = this.i;
    for (;;) {
      if (this.i >= this.n) this.fail('unterminated string');
      const c = text.charCodeAt(this.i);
      if (c === 0x22) {
        out += text.slice(start, this.i);
        this.i++;
        return out;
      }
      if (c < 0x20) this.fail('control character in string');
      if (c !== 0x5c) {
        this.i++;
        continue;
      }
      out += text.slice(start, this.i);
      out += this.escape(value);
      start = this.i;
    }
  }

  /** The escape at the position (a backslash), decoded; the position moves past it. */
  private escape(value: boolean): string {
    const e = this.text[this.i + 1];
    this.i += 2;
    const simple = e === undefined ? undefined : SIMPLE_ESCAPES[e];
    if (simple !== undefined) return simple;
    if (e !== 'u') {
      this.i -= 2;
      this.fail('bad escape');
    }
    const u = this.hex4(this.i);
    if (u < 0) this.fail('bad \\u escape');
    this.i += 4;
    if (u < 0xd800 || u > 0xdfff) return String.fromCharCode(u);
    // Go: a high surrogate followed by an escaped low one is a pair; any other surrogate is U+FFFD
    const lo = u <= 0xdbff && this.text.charCodeAt(this.i) === 0x5c && this.text.charCodeAt(this.i + 1) === 0x75 ? this.hex4(this.i + 2) : -1;
    if (lo >= 0xdc00 && lo <= 0xdfff) {
      this.i += 6;
      return String.fromCharCode(u, lo);
    }
    // a value keeps the lone surrogate, so the printer writes the escape back as it was (Go would
    // print U+FFFD in its place: an untouched string must not change); no name lookup can match
    // it (tar names with lone surrogates are left out of the index)
    return value ? String.fromCharCode(u) : '\ufffd';
  }

  private digits(): number {
    const s = this.i;
    while (this.i < this.n) {
      const c = this.text.charCodeAt(this.i);
      if (c < 0x30 || c > 0x39) break;
      this.i++;
    }
    return this.i - s;
  }

  private num(): Json {
    const text = this.text;
    const s = this.i;
    const neg = text.charCodeAt(this.i) === 0x2d;
    if (neg) this.i++;
    const c0 = text.charCodeAt(this.i);
    if (c0 === 0x30) this.i++;
    else if (c0 >= 0x31 && c0 <= 0x39) this.digits();
    else this.fail('bad number');
    const intEnd = this.i;
    if (text.charCodeAt(this.i) === 0x2e) {
      this.i++;
      if (this.digits() === 0) this.fail('bad number');
    }
    const e = text.charCodeAt(this.i);
    if (e === 0x65 || e === 0x45) {
      this.i++;
      const sign = text.charCodeAt(this.i);
      if (sign === 0x2b || sign === 0x2d) this.i++;
      if (this.digits() === 0) this.fail('bad number');
    }
    // an integer of at most 15 digits is exact as a JS number, and needs no string (nor garbage);
    // "-0" keeps its text, since 0 would print as "0"
    const nd = intEnd - s - (neg ? 1 : 0);
    if (this.i === intEnd && nd <= 15 && !(neg && c0 === 0x30)) {
      let v = 0;
      for (let k = intEnd - nd; k < intEnd; k++) v = v * 10 + (text.charCodeAt(k) - 0x30);
      return neg ? -v : v;
    }
    return new JsonNumber(text.slice(s, this.i));
  }
}
