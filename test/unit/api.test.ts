/**
 * Issue 10: the library takes typed values and never throws a UsageError (that is the command
 * line's job); a malformed argument is a RangeError. The typed edits give the same configs and
 * descriptions as the command line's spellings of them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseEdit } from '../../src/cli/edit-specs.js';
import { UsageError, addPort, addVolume, applyEdits, removeEnv, removeLabels, removePorts, removeVolumes, setCmd, setCreated, setEntrypoint, setEnv, setShell } from '../../src/index.js';
import { type JsonObject, parseJson, stringifyJson } from '../../src/json/lossless.js';
import { imageConfig } from './fixtures.js';

const config = () => parseJson(JSON.stringify(imageConfig(['a'.repeat(64)]))) as JsonObject;

describe('the typed library edits', () => {
  it('refuse malformed values with a RangeError, never a UsageError', () => {
    const bad = [() => addVolume('relative'), () => addPort(70000), () => addPort(0), () => setEnv('A B', 'x'), () => setCreated('yesterday'), () => setShell([])];
    for (const f of bad) {
      assert.throws(f, (e: unknown) => e instanceof RangeError && !(e instanceof UsageError));
    }
  });
  it('give what the command line spellings give: configs and descriptions', () => {
    const pairs: [ReturnType<typeof parseEdit>, ReturnType<typeof parseEdit>][] = [
      [removeVolumes('all'), parseEdit('rm-volume', 'all')],
      [removeVolumes(['/data']), parseEdit('rm-volume', '/data')],
      [removePorts(['8080/tcp'], '8080'), parseEdit('rm-port', '8080')],
      [removePorts(/^9090\//, '9090/*'), parseEdit('rm-port', '9090/*')],
      [setEntrypoint(['/bin/echo', 'x']), parseEdit('entrypoint', '["/bin/echo","x"]')],
      [setCmd(null), parseEdit('no-cmd')],
      [addPort(53, 'udp'), parseEdit('add-port', '53/udp')],
      [removeEnv(['APP_MODE']), parseEdit('rm-env', 'APP_MODE')],
      [removeLabels('all'), parseEdit('rm-label', 'all')],
    ];
    for (const [typed, cli] of pairs) {
      assert.equal(typed.description, cli.description);
      assert.equal(stringifyJson(applyEdits(config(), [typed]).config), stringifyJson(applyEdits(config(), [cli]).config), typed.description);
    }
  });
});
