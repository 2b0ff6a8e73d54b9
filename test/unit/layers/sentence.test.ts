/**
 * The sentence form of the layer steps (docker-copyedit's grammar, where it has a natural verb):
 * ADD FILE <src> TO <dest> (all in one layer), ADD LAYER <tar|dir>, REMOVE PATH <path|glob>,
 * FLATTEN; each becomes the same library option as its flag.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSentence } from '../../../src/cli/sentence.js';

describe('sentence form: layers', () => {
  it('ADD FILE ... TO ..., ADD LAYER, REMOVE PATH, FLATTEN', () => {
    const s = parseSentence([
      'FROM',
      'in.tar',
      'INTO',
      'out.tar',
      'ADD',
      'FILE',
      './ca.pem',
      'TO',
      '/usr/local/share/ca.pem',
      'AND',
      'add',
      'file',
      'conf/',
      'to',
      '/etc/app',
      'AND',
      'ADD',
      'LAYER',
      'x.tar',
      'AND',
      'REMOVE',
      'PATH',
      '/app/.env',
      'AND',
      'REMOVE',
      'PATH',
      '/root/*.npmrc',
    ]);
    assert.deepEqual(s.options.addLayers, [
      { kind: 'layer', path: 'x.tar' },
      {
        kind: 'files',
        files: [
          { src: './ca.pem', dest: '/usr/local/share/ca.pem' },
          { src: 'conf/', dest: '/etc/app' },
        ],
      },
    ]);
    assert.deepEqual(s.options.removePaths, { paths: ['/app/.env', '/root/*.npmrc'] });
    assert.deepEqual(s.edits, []);
    assert.equal(parseSentence(['FROM', 'a', 'INTO', 'b', 'FLATTEN']).options.flatten, true);
  });

  it('refuses a relative destination or path, and ADD FILE without TO', () => {
    assert.throws(() => parseSentence(['FROM', 'a', 'INTO', 'b', 'ADD', 'FILE', 'x', 'TO', 'etc/x']), /absolute path/);
    assert.throws(() => parseSentence(['FROM', 'a', 'INTO', 'b', 'REMOVE', 'PATH', 'app/.env']), /absolute path/);
    assert.throws(() => parseSentence(['FROM', 'a', 'INTO', 'b', 'ADD', 'FILE', 'x', 'INTO', '/x']), /not a command copyedit understands/);
  });
});
