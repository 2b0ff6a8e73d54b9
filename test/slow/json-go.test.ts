/**
 * JSON as Go's encoding/json reads it (issue 9, class 2 and the JSON memory of class 3): numbers of
 * any length, unpaired surrogates, and memory proportional to the input. Generated, seeded corpora.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type JsonNumber, parseJson, printJson, stringifyJson } from '../../src/json/lossless.js';
import { rng } from '../unit/rng.js';

/** A random number in JSON's grammar: sign, int part up to `maxDigits`, fraction, exponent. */
function randomNumber(r: () => number, maxDigits: number): string {
  const digits = (n: number) => Array.from({ length: n }, () => String(Math.floor(r() * 10))).join('');
  const len = 1 + Math.floor(r() * maxDigits);
  let s = r() < 0.3 ? '-' : '';
  s += len === 1 ? digits(1) : String(1 + Math.floor(r() * 9)) + digits(len - 1);
  if (r() < 0.3) s += `.${digits(1 + Math.floor(r() * maxDigits))}`;
  if (r() < 0.3) s += `${r() < 0.5 ? 'e' : 'E'}${['', '+', '-'][Math.floor(r() * 3)]}${digits(1 + Math.floor(r() * 4))}`;
  return s;
}

describe('JSON numbers as Go reads them', () => {
  it('accepts every number of the JSON grammar, however long, and prints its text unchanged (seeded corpus)', () => {
    const r = rng(9002);
    for (let n = 0; n < 400; n++) {
      const nums = Array.from({ length: 1 + Math.floor(r() * 5) }, () => randomNumber(r, n % 4 === 0 ? 600 : 30));
      const src = `{"architecture":"amd64","x-vendor":[${nums.join(',')}],"n":${nums[0]}}`;
      const v = parseJson(Buffer.from(src));
      assert.equal(stringifyJson(v), src, `seed 9002 case ${n}`);
      assert.ok(printJson(v).equals(Buffer.from(src)));
    }
  });
  it('a 500-digit number in an unknown key is kept byte for byte', () => {
    const big = `1${'0'.repeat(499)}`;
    const v = parseJson(`{"x":${big},"y":-${big}.5e-7}`) as Record<string, JsonNumber>;
    assert.equal(v.x!.raw, big);
    assert.equal(stringifyJson(v), `{"x":${big},"y":-${big}.5e-7}`);
  });
  it('still refuses what is not in the grammar', () => {
    for (const bad of ['01', '-', '1.', '.5', '1e', '1e+', '+1', '0x10', '1.e5', '-.5', 'NaN', 'Infinity', '--1']) {
      assert.throws(() => parseJson(`[${bad}]`), /at line \d+, offset \d+/, bad);
    }
  });
});

describe('JSON nesting', () => {
  it('refuses more than 512 levels with a message that says it is a limit, not damage', () => {
    assert.doesNotThrow(() => parseJson(`${'['.repeat(512)}${']'.repeat(512)}`));
    assert.throws(() => parseJson(`{"x":${'['.repeat(600)}${']'.repeat(600)}}`), /nested more than 512 levels deep \(copyedit's limit; Go reads up to 10000/);
  });
});

describe('JSON strings as Go reads them', () => {
  it('an escaped unpaired surrogate: kept in a value (printed back as written, issue 23), U+FFFD in a key as Go reads it; a pair is one character', () => {
    assert.equal(parseJson('"\\ud83d\\ude00"'), '\u{1f600}');
    assert.equal(parseJson('"a\\ud800b"'), 'a\ud800b');
    assert.equal(stringifyJson(parseJson('"a\\ud800b"')), '"a\\ud800b"');
    assert.equal(parseJson('"\\udc00\\ud800"'), '\udc00\ud800');
    assert.equal(parseJson('"\\ud800\\u0041"'), '\ud800A');
    // Go: {"\ud800":1,"\ufffd":2} is one map key
    assert.equal(stringifyJson(parseJson('{"\\ud800":1,"\\ufffd":2}')), '{"\ufffd":2}');
  });
  it('prints strings Go-escaped, whatever their length (seeded corpus)', () => {
    const r = rng(77);
    const alphabet = ['a', 'Z', '<', '>', '&', '"', '\\', '\n', '\u0001', '\u2028', 'é', '\u{1f600}', '/', ' '];
    for (let n = 0; n < 200; n++) {
      const s = Array.from({ length: Math.floor(r() * (n % 10 === 0 ? 100000 : 40)) }, () => alphabet[Math.floor(r() * alphabet.length)]).join('');
      const printed = stringifyJson(s);
      assert.equal(JSON.parse(printed), s);
      assert.ok(!/[<>&\u2028]/.test(printed));
      assert.equal(parseJson(printed), s);
    }
  });
});

/** A garbage collection on demand, without --expose-gc on the command line. */
function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('JSON memory', () => {
  it('a syntax error after 15 MiB of newlines is found without splitting the text into lines', () => {
    const b = Buffer.concat([Buffer.alloc(15 << 20, 10), Buffer.from('garbage')]);
    const before = process.memoryUsage().rss;
    assert.throws(() => parseJson(b), /unexpected character "g" at line 15728641/);
    // splitting 15 M lines took about 180 MiB more; counting them takes nothing but the text
    assert.ok(process.memoryUsage().rss - before < 100 * 1024 * 1024, `rss grew by ${(process.memoryUsage().rss - before) >> 20} MiB`);
  });
  it('dense documents cost a bounded multiple of their size', () => {
    for (const elem of ['{}', '[]', '1', '"a"', '{"a":1}', '[[[[1]]]]']) {
      const src = `[${Array(200_000).fill(elem).join(',')}]`;
      // what the parsed value keeps, garbage collected on both sides (V8 12 on Node 24 collects
      // the source's construction later than Node 20's did, which counted it otherwise)
      gc();
      const h0 = process.memoryUsage().heapUsed;
      const v = parseJson(src);
      gc();
      const used = process.memoryUsage().heapUsed - h0;
      // objects were 184 bytes each (Object.create(null)), one-element arrays 152: 60x to 100x
      assert.ok(used < 40 * src.length, `${elem}: ${used} bytes for ${src.length} bytes of JSON`);
      assert.equal(stringifyJson(v), src);
    }
  });
});

describe('JSON diff at scale', () => {
  it('400,000 changed labels are listed without overflowing the stack, in key order', async () => {
    const { diffJson } = await import('../../src/json/diff.js');
    const a: Record<string, string> = {};
    const b: Record<string, string> = {};
    for (let i = 0; i < 400_000; i++) {
      a[`k${i}`] = 'v';
      if (i % 3) b[`k${i}`] = 'w';
    }
    b.added = 'x';
    const changes = diffJson(parseJson(JSON.stringify({ config: { Labels: a } })), parseJson(JSON.stringify({ config: { Labels: b } })));
    assert.equal(changes.length, 400_001);
    assert.deepEqual(changes[0], { path: 'config.Labels.k0', before: '"v"' });
    assert.deepEqual(changes[1], { path: 'config.Labels.k1', before: '"v"', after: '"w"' });
    assert.deepEqual(changes.at(-1), { path: 'config.Labels.added', after: '"x"' });
  });
});
