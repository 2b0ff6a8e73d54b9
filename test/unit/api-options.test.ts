/**
 * Issue 20: an options object with a key its entry point does not know is a TypeError naming the
 * key and the nearest valid one (src/options-check.ts), not an option silently ignored.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildGraph, type EditArchiveOptions, editArchive, removeVolumes } from '../../src/index.js';
import { checkOptions, editDistance, nearest } from '../../src/options-check.js';
import { EDIT_ARCHIVE_OPTIONS } from '../../src/run/options.js';
import { SAMPLES } from '../samples.js';

// EDIT_ARCHIVE_OPTIONS: the list editArchive checks against (compile-checked there against EditArchiveOptions)

const unknownOption = (key: string, near: string) => (e: unknown) => e instanceof TypeError && e.message.includes(`unknown option '${key}' (did you mean '${near}'?)`);

describe('unknown option keys', () => {
  it('edit distance: insertions, deletions, substitutions and swaps of neighbours count one each', () => {
    assert.equal(editDistance('platform', 'platforms'), 1);
    assert.equal(editDistance('plaftorms', 'platforms'), 1);
    assert.equal(editDistance('dryrun', 'dryRun'), 1);
    assert.equal(editDistance('', 'tags'), 4);
    assert.equal(editDistance('kitten', 'sitting'), 3);
  });

  it('names the nearest valid key, letter case aside', () => {
    assert.equal(nearest('platform', EDIT_ARCHIVE_OPTIONS), 'platforms');
    assert.equal(nearest('dryrun', EDIT_ARCHIVE_OPTIONS), 'dryRun');
    assert.equal(nearest('layer_compression', EDIT_ARCHIVE_OPTIONS), 'layerCompression');
    assert.equal(nearest('tag', EDIT_ARCHIVE_OPTIONS), 'tags');
  });

  it('checkOptions: a TypeError with the function, the key and the nearest key; valid keys and no options pass', () => {
    assert.throws(
      () => checkOptions({ input: 'a', platform: [] }, EDIT_ARCHIVE_OPTIONS, 'editArchive'),
      (e: unknown) => {
        assert.ok(e instanceof TypeError);
        assert.equal(e.message, "editArchive: unknown option 'platform' (did you mean 'platforms'?)");
        return true;
      },
    );
    checkOptions({ input: 'a', platforms: [], dryRun: undefined }, EDIT_ARCHIVE_OPTIONS, 'editArchive');
    checkOptions(undefined, EDIT_ARCHIVE_OPTIONS, 'editArchive');
  });

  it('buildGraph rejects an unknown key of its options', () => {
    const index = { entry: { index: 0, name: 'index.json', path: 'index.json', header: {} as never }, doc: { manifests: [] } };
    assert.throws(() => buildGraph(index, new Map(), { checkDigest: false } as never), unknownOption('checkDigest', 'checkDigests'));
    assert.equal(buildGraph(index, new Map(), { checkDigests: false }).nodes.size, 0);
  });

  it('editArchive rejects `platform:` (for `platforms`) before reading anything', async () => {
    const opts = { input: join(SAMPLES, 'docker20-legacy.tar'), output: '/nonexistent/out.tar', dryRun: true, edits: [removeVolumes('all')], platform: ['linux/arm64'] };
    await assert.rejects(editArchive(opts as EditArchiveOptions), unknownOption('platform', 'platforms'));
  });
});
