/**
 * Options that only select or trim (issue 23, class 7): `--drop-absent` and `--only-platform`, alone
 * or together, with no edit, run on every sample (they were refused with "no edits given", though
 * the README gives --drop-absent as the fix for `ctr import`). Generated: every sample x every
 * combination of the selecting options, with each of the sample's own platforms.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { selectOnlyMatrix } from './select-only-matrix.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-select-only-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The samples of the unit suite: one per layout family; the rest in test/slow/select-only-matrix.test.ts (issue 20: time). */
const UNIT_SAMPLES = ['docker28c-multi.tar', 'podman.tar', 'docker20-legacy.tar'];

describe('options that only select run on their own (generated corpus)', () => {
  it('every sample x --drop-absent / --only-platform P / both: exit 0, a verified output holding only P', () => selectOnlyMatrix(dir, UNIT_SAMPLES));
});
