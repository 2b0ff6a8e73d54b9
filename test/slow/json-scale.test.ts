/**
 * Go's struct-key matching (issue 9, class 2) at scale: the check of test/unit/json/json-ambiguity.test.ts
 * on a document of 400,000 keys stays linear. In the slow group: some 2.5 s on 2 cores.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJson } from '../../src/json/lossless.js';
import { IMAGE_CONFIG, findGoAmbiguity } from '../../src/json/schemas.js';

describe('Go struct-key ambiguity at scale', () => {
  it('scales: a struct with 200,000 keys and a map of 200,000 labels are checked in linear time', () => {
    const labels = Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`l${i}`, 'v']));
    const unknown = Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`x${i}`, i]));
    const t = Date.now();
    assert.equal(findGoAmbiguity(parseJson(JSON.stringify({ ...unknown, config: { Labels: labels } })), IMAGE_CONFIG), undefined);
    assert.ok(Date.now() - t < 5000);
  });
});
