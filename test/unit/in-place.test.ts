/**
 * An output that is the input (issue 23, class 10): `-o` naming the input directly, through a
 * relative spelling, a symbolic link (or a chain of them) or a hard link. Without --in-place the run
 * is refused (exit 2, as `cp` refuses) and the input is untouched; with it the replacement is atomic
 * and the result verifies. Generated: every spelling x with/without --in-place x one sample
 * here (the other: test/slow/in-place-matrix.test.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inPlaceMatrix } from './in-place-matrix.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-in-place-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('an output that is the input (generated corpus)', () => {
  it('every spelling: refused without --in-place (input untouched), replaced atomically with it', async () => {
    // the podman sample: test/slow/in-place-matrix.test.ts (24 CLI runs were 4.3 s of the unit suite)
    await inPlaceMatrix(dir, ['docker26-oci.tar']);
  });
});
