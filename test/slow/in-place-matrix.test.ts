/**
 * The in-place matrix (test/unit/in-place-matrix.ts) on the podman sample: 12 CLI runs, moved out
 * of the unit suite (issue 20: its time), which runs it on docker26-oci.tar.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inPlaceMatrix } from '../unit/in-place-matrix.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-in-place-slow-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('an output that is the input (generated corpus, podman sample)', () => {
  it('every spelling: refused without --in-place (input untouched), replaced atomically with it', async () => {
    await inPlaceMatrix(dir, ['podman.tar']);
  });
});
