/**
 * An output that is the input (issue 23, class 10): `-o` naming the input directly, through a
 * relative spelling, a symbolic link (or a chain of them) or a hard link. Without --in-place the run
 * is refused (exit 2, as `cp` refuses) and the input is untouched; with it the replacement is atomic
 * and the result verifies. Generated: every spelling x with/without --in-place x two samples.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, link, lstat, mkdir, mkdtemp, readFile, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readArchive, verifyArchive } from '../../src/index.js';
import { SAMPLES } from '../samples.js';
import { runCli } from './hostile-util.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-in-place-'));
});
after(() => rm(dir, { recursive: true, force: true }));

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

describe('an output that is the input (generated corpus)', () => {
  it('every spelling: refused without --in-place (input untouched), replaced atomically with it', async () => {
    let n = 0;
    for (const sample of ['docker26-oci.tar', 'podman.tar']) {
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
  });
});
