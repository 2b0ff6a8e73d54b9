/**
 * The select-only matrix of test/unit/select-only.test.ts (some samples) and
 * test/slow/select-only-matrix.test.ts (the others), through the CLI.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readArchive, verifyArchive } from '../../src/index.js';
import { SAMPLES } from '../samples.js';
import { runCli } from './hostile-util.js';

const plat = (p: { os: string; architecture: string; variant?: string }) => [p.os, p.architecture, ...(p.variant ? [p.variant] : [])].join('/');

/** Run the matrix over `samples` (file names in samples/), outputs under `dir`. */
export async function selectOnlyMatrix(dir: string, samples: readonly string[]): Promise<void> {
  {
    let n = 0;
    for (const f of samples) {
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
  }
}
