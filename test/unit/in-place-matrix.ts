/**
 * The in-place matrix of test/unit/in-place.test.ts (one sample) and test/slow/in-place-matrix.test.ts
 * (the other): every spelling of the input as `-o`, with and without --in-place, through the CLI.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, link, lstat, mkdir, readFile, readdir, symlink } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { readArchive, verifyArchive } from '../../src/index.js';
import { SAMPLES } from '../samples.js';
import { runCli } from './hostile-util.js';

const hash = async (p: string) =>
  createHash('sha256')
    .update(await readFile(p))
    .digest('hex');

type Spelling = 'itself' | 'relative' | 'dotdot' | 'symlink' | 'symlink-chain' | 'hardlink';
const SPELLINGS: readonly Spelling[] = ['itself', 'relative', 'dotdot', 'symlink', 'symlink-chain', 'hardlink'];

/** The -o argument for `input` spelt so, made in `d`. */
async function spell(d: string, input: string, how: Spelling): Promise<string> {
  switch (how) {
    case 'itself':
      return input;
    case 'relative':
      return relative(process.cwd(), input);
    case 'dotdot':
      await mkdir(join(d, 'sub'), { recursive: true });
      return join(d, 'sub', '..', 'in.tar');
    case 'symlink':
      await symlink(input, join(d, 'link.tar'));
      return join(d, 'link.tar');
    case 'symlink-chain':
      await symlink(input, join(d, 'l1.tar'));
      await symlink(join(d, 'l1.tar'), join(d, 'l2.tar'));
      return join(d, 'l2.tar');
    case 'hardlink':
      await link(input, join(d, 'hard.tar'));
      return join(d, 'hard.tar');
  }
}

/** Run the matrix for `samples` (file names in samples/), in fresh directories under `dir`. */
export async function inPlaceMatrix(dir: string, samples: readonly string[]): Promise<void> {
  let n = 0;
  for (const sample of samples) {
    for (const how of SPELLINGS) {
      for (const inPlace of [false, true]) {
        const d = join(dir, `c${n++}`);
        await mkdir(d);
        const input = join(d, 'in.tar');
        await copyFile(join(SAMPLES, sample), input);
        const before = await hash(input);
        const out = await spell(d, input, how);
        const what = `${sample}, -o ${how}${inPlace ? ' --in-place' : ''}`;
        const r = await runCli(['edit', input, '-o', out, '--rm-volume', 'all', '--label', 'in.place=yes', '-q', ...(inPlace ? ['--in-place'] : [])]);
        if (!inPlace) {
          assert.equal(r.code, 2, `${what}: ${r.stderr}`);
          assert.match(r.stderr, /is the input .*add --in-place to replace it/, what);
          assert.equal(await hash(input), before, `${what}: input untouched`);
        } else {
          assert.equal(r.code, 0, `${what}: ${r.stderr}`);
          assert.equal((await verifyArchive(out)).ok, true, what);
          const m = (await readArchive(out)).model;
          assert.ok(m.images.length > 0, what);
          if (how === 'hardlink') assert.equal(await hash(input), before, `${what}: the other name keeps the old file`);
          else assert.notEqual(await hash(input), before, `${what}: the input is replaced`);
          if (how.startsWith('symlink')) assert.ok((await lstat(out)).isSymbolicLink(), `${what}: the link stays a link`);
        }
        assert.deepEqual(
          (await readdir(d)).filter((f) => f.includes('copyedit')),
          [],
          `${what}: no temporary left`,
        );
      }
    }
  }
}
