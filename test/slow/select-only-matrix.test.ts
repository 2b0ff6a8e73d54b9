/**
 * The select-only matrix (test/unit/select-only-matrix.ts) on the samples the unit suite leaves out
 * (issue 20: its time): the Docker 26 index and OCI samples and the containerd export.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { selectOnlyMatrix } from '../unit/select-only-matrix.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-select-only-slow-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('options that only select run on their own (generated corpus, more samples)', () => {
  it('every sample x --drop-absent / --only-platform P / both: exit 0, a verified output holding only P', () =>
    selectOnlyMatrix(dir, ['docker26-multi.tar', 'docker26-oci.tar', 'containerd-export.tar']));
});
