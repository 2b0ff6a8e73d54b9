/** The CLI's option table (src/cli/options.ts): one place per option, typed values, batch child argv. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EDIT_OPTIONS } from '../../src/cli/commands/edit.js';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { childArgv, flagNames, readValues } from '../../src/cli/options.js';
import { commandFlags } from '../../src/cli/suggest.js';

describe('option table', () => {
  it('reads parsed values with their declared types and defaults', () => {
    const v = readValues(EDIT_OPTIONS, { inputs: ['a.tar'], tag: 'x:1', jobs: 3 });
    assert.deepEqual(v.inputs, ['a.tar']);
    assert.deepEqual(v.tag, ['x:1']);
    assert.deepEqual(v.image, []);
    assert.equal(v.jobs, 3);
    assert.equal(v.history, true);
    assert.equal(v.verify, false);
    assert.equal(v.output, undefined);
    assert.throws(() => readValues(EDIT_OPTIONS, { jobs: Number.NaN }), /--jobs takes a number/);
  });
  it('a batch child gets every option marked child, as the parent got it, and nothing else', () => {
    const parent = readValues(EDIT_OPTIONS, {
      inputs: ['a.tar', 'b.tar'],
      'out-dir': 'out',
      jobs: 2,
      fsync: false,
      gzip: true,
      image: ['app:1'],
      tag: ['new:1', 'new:2'],
      'keep-original': true,
      history: false,
      annotation: ['k=v=w'],
      'rm-annotation': ['old'],
      verify: true,
    });
    assert.deepEqual(childArgv(EDIT_OPTIONS, parent), [
      '--no-fsync',
      '--gzip',
      '--image=app:1',
      '--tag=new:1',
      '--tag=new:2',
      '--keep-original',
      '--no-history',
      '--annotation=k=v=w',
      '--rm-annotation=old',
      '--verify',
    ]);
    assert.deepEqual(childArgv(EDIT_OPTIONS, readValues(EDIT_OPTIONS, { inputs: ['a.tar'] })), []);
  });
  it('every flag a user may type is known to suggestions and completion', () => {
    assert.ok(flagNames(EDIT_OPTIONS).includes('no-history'));
    assert.ok(flagNames(EDIT_OPTIONS).includes('dryrun'));
    const edit = COMMANDS.find((c) => c.name === 'edit')!;
    for (const f of ['rm-volume', 'entrypoint-shell', 'out-dir', 'o', 'no-fsync']) assert.ok(commandFlags(edit).includes(f), f);
    const inspect = COMMANDS.find((c) => c.name === 'inspect')!;
    assert.deepEqual(commandFlags(inspect).sort(), ['f', 'format', 'no-trunc', 'trunc']);
  });
});
