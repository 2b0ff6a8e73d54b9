/**
 * The values the lossless parser makes and the printer prints (src/json/lossless.ts says why), in
 * a module of their own so that the parser (parse.ts) and lossless.ts both build on them.
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
export function noteRepeated(obj: JsonObject, k: string): void {
  const list = repeated.get(obj);
  if (!list) repeated.set(obj, [k]);
  else if (!list.includes(k)) list.push(k);
}

/** The keys that appeared more than once in an object as parsed (its value holds the last one). */
export function repeatedKeys(obj: JsonObject): readonly string[] | undefined {
  return repeated.get(obj);
}
