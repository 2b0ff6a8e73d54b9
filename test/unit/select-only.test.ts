/**
 * Options that only select or trim (issue 23, class 7): `--drop-absent` and `--only-platform`, alone
 * or together, with no edit, run on every sample (they were refused with "no edits given", though
 * the README gives --drop-absent as the fix for `ctr import`). Generated: every sample x every
 * combination of the selecting options, with each of the sample's own platforms.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readArchive, verifyArchive } from '../../src/index.js';
import { SAMPLES } from '../samples.js';
import { runCli } from './hostile-util.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-select-only-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SAMPLE_FILES = ['docker28c-multi.tar', 'docker26-multi.tar', 'docker26-oci.tar', 'containerd-export.tar', 'podman.tar', 'docker20-legacy.tar'];

const plat = (p: { os: string; architecture: string; variant?: string }) => [p.os, p.architecture, ...(p.variant ? [p.variant] : [])].join('/');

describe('options that only select run on their own (generated corpus)', () => {
  it('every sample x --drop-absent / --only-platform P / both: exit 0, a verified output holding only P', async () => {
    let n = 0;
    for (const f of SAMPLE_FILES) {
      const input = join(SAMPLES, f);
      const { model } = await readArchive(input);
      const platforms = [...new Set(model.images.map((i) => (i.platform ? plat(i.platform) : 'linux/amd64')))];
      const combos: string[][] = [['--drop-absent']];
      for (const p of platforms) combos.push(['--only-platform', p], ['--drop-absent', '--only-platform', p]);
      for (const args of combos) {
        const output = join(dir, `out-${n++}.tar`);
        const r = await runCli(['edit', input, '-o', output, '-q', ...args]);
        const what = `${f} ${args.join(' ')}`;
        assert.doesNotMatch(r.stderr, /no edits given/, what);
        assert.equal(r.code, 0, `${what}: ${r.stderr}`);
        assert.equal((await verifyArchive(output)).ok, true, `${what}: verify`);
        const only = args.indexOf('--only-platform');
        if (only >= 0) {
          const out = await readArchive(output);
          for (const i of out.model.images) if (i.platform) assert.equal(plat(i.platform), args[only + 1], what);
        }
      }
    }
  });
});
