/**
 * Issue 23 class 9 / issue 20: the archive-wide budget of parsed JSON values scales with the
 * metadata's bytes (src/json/parse.ts: MAX_JSON_VALUES plus one value per JSON_BYTES_PER_VALUE
 * bytes parsed). Generated: the metadata of an index of 5,000 and of 10,000 one-layer images (as
 * OciBuilder writes them) is read within one budget (the 10,000 was refused at 262,144 values);
 * dense documents are still refused, with an error that says it is copyedit's limit, not damage.
 * The CLI over the same archives: test/slow/many-images.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JSON_BYTES_PER_VALUE, JsonBudgetError, MAX_JSON_VALUES, parseJson, withJsonBudget } from '../../../src/json/lossless.js';
import { imageConfig, sha } from '../fixtures.js';
import { MT } from '../oci-builder.js';

/** The JSON documents of an index of `n` one-layer images: configs, manifests, the index. */
let cache: string[] | undefined;
function manyImages(n: number): string[] {
  cache ??= images(10000);
  const all = cache;
  const manifests = all.slice(1, 2 * n).filter((_, i) => i % 2 === 0);
  return [...all.slice(0, 2 * n), JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests: manifests.map((m) => ({ mediaType: MT.manifest, digest: `sha256:${sha(m)}`, size: m.length })) })];
}

function images(n: number): string[] {
  const diff = sha('layer');
  const layer = { mediaType: MT.layer, digest: `sha256:${diff}`, size: 2048 };
  const docs: string[] = [];
  for (let i = 0; i < n; i++) {
    const cfg = JSON.stringify(imageConfig([diff], { os: 'linux', architecture: 'amd64', config: { Labels: { image: String(i) } } }));
    const m = JSON.stringify({ schemaVersion: 2, mediaType: MT.manifest, config: { mediaType: MT.config, digest: `sha256:${sha(cfg)}`, size: cfg.length }, layers: [layer] });
    docs.push(cfg, m);
  }
  return docs;
}

const dense = (unit: string, count: number) => `{"x":[${Array(count).fill(unit).join(',')}]}`;

describe('the JSON value budget of one archive', () => {
  for (const n of [5000, 10000]) {
    it(`reads the metadata of an index of ${n} one-layer images`, () => {
      const docs = manyImages(n);
      const parsed = withJsonBudget(() => docs.map((d) => parseJson(d)));
      assert.equal(parsed.length, 2 * n + 1);
    });
  }

  it('past MAX_JSON_VALUES plus the credit of the bytes parsed, refuses dense documents: a limit, not damage', () => {
    for (const unit of ['{}', '0', '[]']) {
      // 2-3 bytes a value: the document's own bytes earn far less than it spends
      const doc = dense(unit, 400_000);
      assert.throws(
        () => withJsonBudget(() => parseJson(doc)),
        (e: unknown) => {
          assert.ok(e instanceof JsonBudgetError, String(e));
          assert.match(e.message, /more JSON values than copyedit reads \(262144 plus one per 24 bytes of metadata/);
          assert.match(e.message, /the archive is not damaged/);
          assert.equal(e.exitCode, 3);
          // a document earns nothing for itself: refused at the base budget's value, not past it
          assert.ok(e.offset <= (MAX_JSON_VALUES + 1) * (unit.length + 1) + 2, `${unit}: refused at ${e.offset}`);
          return true;
        },
      );
    }
  });

  it('credit earned by earlier documents carries over; many dense documents cannot add up', () => {
    // small real-looking documents first: their bytes earn values for what comes after
    const docs = manyImages(2000);
    const bytes = docs.reduce((s, d) => s + d.length, 0);
    const dense1 = dense('0', 200_000);
    assert.throws(() => withJsonBudget(() => [dense1, dense1].map((d) => parseJson(d))), JsonBudgetError);
    withJsonBudget(() => {
      for (const d of docs) parseJson(d);
      parseJson(dense1); // fits in the base budget plus the earlier bytes' credit
    });
    assert.ok(bytes / JSON_BYTES_PER_VALUE > 60_000, `${bytes} bytes`);
  });

  it('a document parsed on its own has its own limit', () => {
    assert.doesNotThrow(() => parseJson(dense('0', 400_000)));
  });
});
