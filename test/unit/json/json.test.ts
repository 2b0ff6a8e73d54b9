import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonNumber, parseJson, stringifyJson } from '../../../src/index.js';
import { cloneJson, jsonEqual } from '../../../src/json/lossless.js';

describe('lossless JSON', () => {
  it('keeps integers beyond 2^53 and exponent forms byte-exact', () => {
    const src = '{"a":9007199254740993,"b":1e+23,"c":-0.10,"d":[18446744073709551615]}';
    const v = parseJson(src);
    assert.equal(stringifyJson(v), src);
    assert.ok((v as any).a instanceof JsonNumber);
    assert.equal((v as any).a.raw, '9007199254740993');
  });
  it('keeps key order and prints compactly', () => {
    assert.equal(stringifyJson(parseJson('{ "z": 1,\n "a": {"y": null, "b": true} }')), '{"z":1,"a":{"y":null,"b":true}}');
  });
  it('escapes like Go (HTML-safe) and keeps non-ASCII as UTF-8', () => {
    assert.equal(stringifyJson('<a&b> Ünï\u2028'), '"\\u003ca\\u0026b\\u003e Ünï\\u2028"');
    assert.equal(parseJson('"\\u00dc\\n\\"x\\""'), 'Ü\n"x"');
  });
  it('a key named __proto__ is plain data', () => {
    const v = parseJson('{"__proto__":{"x":1}}') as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(Object.getPrototypeOf(v)), null); // inherits nothing
    assert.ok(!('toString' in v) && !('hasOwnProperty' in v));
    assert.deepEqual(Object.keys(v), ['__proto__']);
    assert.equal(stringifyJson(v as any), '{"__proto__":{"x":1}}');
  });
  it('rejects a byte-order mark and invalid UTF-8, as Docker does', () => {
    assert.throws(() => parseJson(Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d])), /byte-order mark/);
    assert.throws(() => parseJson(Buffer.from([0x22, 0xff, 0x22])), /UTF-8/);
  });
  it('rejects malformed JSON with a position', () => {
    for (const bad of ['{', '{"a":}', '[1,]', '{"a":1} x', "{'a':1}", '01', '"\t"']) {
      assert.throws(() => parseJson(bad), /at line \d+, offset \d+/, bad);
    }
  });
  it('refuses to print a JS number it cannot hold exactly', () => {
    assert.throws(() => stringifyJson(2 ** 60), /cannot hold exactly/);
    assert.equal(stringifyJson(42), '42');
  });
  it('compares numbers by their text and clones deeply', () => {
    const a = parseJson('{"n":[1,{"m":2}]}');
    const b = cloneJson(a);
    assert.ok(jsonEqual(a, b));
    (b as any).n[1].m = 3;
    assert.ok(!jsonEqual(a, b));
    assert.equal(stringifyJson(a), '{"n":[1,{"m":2}]}');
  });
});
