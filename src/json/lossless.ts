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

/** A fresh object with no prototype, so keys like `__proto__` are plain data. */
export function jsonObject(): JsonObject {
  return Object.create(null) as JsonObject;
}

export function isJsonObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber);
}

export function parseJson(input: string | Uint8Array): Json {
  const text = typeof input === 'string' ? input : decodeUtf8Json(input);
  let i = 0;

  const fail = (what: string): never => {
    const line = text.slice(0, i).split('\n').length;
    throw new JsonSyntaxError(`${what} at line ${line}, offset ${i}`, i);
  };
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else return;
    }
  };
  const str = (): string => {
    i++; // opening quote
    let out = '';
    let start = i;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
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
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const h = text.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(h, 16));
          i += 4;
          break;
        }
        default:
          i -= 2;
          fail('bad escape');
      }
      start = i;
    }
  };
  const num = (): JsonNumber => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '' || m[0] === '-') fail('bad number');
    i += m![0].length;
    return new JsonNumber(m![0]);
  };
  const value = (depth: number): Json => {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj = jsonObject();
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a string key');
        const k = str();
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        obj[k] = value(depth + 1); // a repeated key: the last one wins, as in Go
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr: Json[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return num();
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
    return fail(i >= text.length ? 'unexpected end of input' : `unexpected character ${JSON.stringify(c)}`);
  };

  const v = value(0);
  ws();
  if (i !== text.length) fail('unexpected data after the JSON value');
  return v;
}

/** Escape a string the way Go's encoding/json does (HTML-safe), so edited configs look like Docker's. */
function quote(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Compact JSON, key order kept, numbers printed from their source text. */
export function stringifyJson(v: Json): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new TypeError(`refusing to print a number that JSON cannot hold exactly: ${v}`);
    return String(v);
  }
  if (v instanceof JsonNumber) return v.raw;
  if (Array.isArray(v)) return `[${v.map(stringifyJson).join(',')}]`;
  const parts: string[] = [];
  for (const k of Object.keys(v)) {
    const val = v[k];
    if (val === undefined) continue;
    parts.push(`${quote(k)}:${stringifyJson(val)}`);
  }
  return `{${parts.join(',')}}`;
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
  if (Object.prototype.hasOwnProperty.call(obj, name)) return name;
  const want = foldKey(name);
  for (const k of Object.keys(obj)) if (foldKey(k) === want) return k;
  return undefined;
}

/** The value Go would decode into the struct field `name` of `obj`. */
export function field(obj: JsonObject, name: string): Json | undefined {
  const k = fieldKey(obj, name);
  return k === undefined ? undefined : obj[k];
}

/** Case folding as Go's encoding/json applies to field names (ASCII, plus the Kelvin sign and long s). */
export function foldKey(k: string): string {
  return k.toLowerCase().replace(/\u212a/g, 'k').replace(/\u017f/g, 's');
}
