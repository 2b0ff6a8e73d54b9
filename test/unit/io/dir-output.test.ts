/**
 * Directory outputs treat the user's directory as the user's (issue 23, class 1). Generated: every
 * pre-existing state of the target (missing; empty with mode 0700, 0755 or 2775, owned by us or by
 * another uid; `.` as the target; holding a dotfile; holding or beside a killed run's leftover, stale
 * or still fresh; a symbolic link to an empty directory) x two inputs. Each outcome: written into
 * the directory, whose inode, mode and owner stay as they were, with nothing of ours left over;
 * or refused (exit 2) with the directory exactly as it was.
 */
import assert from 'node:assert/strict';
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UsageError, editArchive, setLabel, verifyArchive } from '../../../src/index.js';
import { HOST, STALE_MS } from '../../../src/io/stale.js';
import { SAMPLES } from '../../samples.js';

let tmp: string;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'copyedit-dir-output-'));
});
after(() => rm(tmp, { recursive: true, force: true }));

/** A pid no process has (the kernel's default pid_max is 4194304). */
const DEAD = 4194301;
const old = () => (Date.now() - STALE_MS - 60_000) / 1000;

type State =
  | { kind: 'missing' }
  | { kind: 'empty'; mode: number; uid: number; dot?: boolean }
  | { kind: 'dotfile' }
  | { kind: 'leftover-inside'; fresh: boolean }
  | { kind: 'leftover-beside'; fresh: boolean }
  | { kind: 'symlink' };

const STATES: State[] = [
  { kind: 'missing' },
  ...[0o700, 0o755, 0o2775].flatMap((mode) => [0, 1234].map((uid) => ({ kind: 'empty' as const, mode, uid }))),
  { kind: 'empty', mode: 0o750, uid: 1234, dot: true },
  { kind: 'dotfile' },
  { kind: 'leftover-inside', fresh: false },
  { kind: 'leftover-inside', fresh: true },
  { kind: 'leftover-beside', fresh: false },
  { kind: 'leftover-beside', fresh: true },
  { kind: 'symlink' },
];

async function leftover(dir: string, name: string, fresh: boolean): Promise<string> {
  const p = join(dir, name);
  await mkdir(join(p, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(p, 'blobs', 'sha256', 'partial'), 'half a layer');
  if (!fresh) {
    await utimes(join(p, 'blobs', 'sha256'), old(), old());
    await utimes(join(p, 'blobs'), old(), old());
    await utimes(p, old(), old());
  }
  return p;
}

const kept = (names: string[]) => names.filter((n) => !['oci-layout', 'index.json', 'blobs'].includes(n));

describe('directory outputs (generated corpus)', () => {
  it('every state x input: written inside (inode, mode, owner kept; nothing left over) or refused untouched', async () => {
    let n = 0;
    const cwd = process.cwd();
    for (const input of ['docker26-oci.tar', 'containerd-export.tar']) {
      for (const s of STATES) {
        const parent = join(tmp, `p${n++}`);
        await mkdir(parent);
        const target = join(parent, 'out');
        const what = `${input}, ${JSON.stringify(s)}`;
        let expect: 'written' | 'refused' = 'written';
        let staleLeft: string | undefined;
        let freshLeft: string | undefined;
        let output: string = target;
        if (s.kind !== 'missing' && s.kind !== 'symlink' && s.kind !== 'leftover-beside') await mkdir(target);
        if (s.kind === 'empty') {
          await chmod(target, s.mode);
          await chown(target, s.uid, s.uid);
          output = s.dot ? '.' : target;
        } else if (s.kind === 'dotfile') {
          await writeFile(join(target, '.keep'), 'mine');
          expect = 'refused';
        } else if (s.kind === 'leftover-inside') {
          const l = await leftover(target, `.copyedit-${DEAD}-${HOST}-0badc0de`, s.fresh);
          if (s.fresh) {
            expect = 'refused';
            freshLeft = l;
          } else staleLeft = l;
        } else if (s.kind === 'leftover-beside') {
          const l = await leftover(parent, `.out.copyedit-${DEAD}-${HOST}-0badc0de`, s.fresh);
          if (s.fresh) freshLeft = l;
          else staleLeft = l;
        } else if (s.kind === 'symlink') {
          await mkdir(join(parent, 'real'));
          await symlink(join(parent, 'real'), target);
          expect = 'refused';
        }
        const before = s.kind === 'missing' || s.kind === 'leftover-beside' ? undefined : await lstat(target);
        const names = before ? await readdir(target) : [];
        if (output === '.') process.chdir(target);
        try {
          const run = editArchive({ input: join(SAMPLES, input), output: output === '.' ? '.' : { dir: output }, edits: [setLabel('dir.output', 'yes')] });
          if (expect === 'refused') {
            await assert.rejects(run, (e: unknown) => e instanceof UsageError && e.exitCode === 2, what);
            assert.deepEqual(await readdir(target), names, `${what}: untouched`);
          } else {
            await run.catch((e: unknown) => assert.fail(`${what}: ${e}`));
            assert.deepEqual((await readdir(target)).sort(), ['blobs', 'index.json', 'oci-layout'], what);
            assert.equal((await verifyArchive(target)).ok, true, what);
          }
        } finally {
          if (output === '.') {
            // the shell's directory is still there: the same inode, now holding the layout
            assert.equal((await stat('.')).ino, before!.ino, `${what}: cwd`);
            process.chdir(cwd);
          }
        }
        if (before) {
          const now = await lstat(target);
          assert.equal(now.ino, before.ino, `${what}: inode`);
          assert.equal(now.mode, before.mode, `${what}: mode`);
          assert.equal(now.uid, before.uid, `${what}: owner`);
          assert.equal(now.gid, before.gid, `${what}: group`);
        }
        if (expect === 'written') assert.deepEqual(kept(await readdir(target)), [], `${what}: nothing of ours inside`);
        const beside = (await readdir(parent)).filter((f) => f.includes('.copyedit-'));
        if (staleLeft) assert.ok(!(await exists(staleLeft)), `${what}: the stale leftover is removed`);
        if (freshLeft) assert.ok(await exists(freshLeft), `${what}: a fresh leftover (maybe a run still going) is kept`);
        assert.deepEqual(beside, freshLeft?.startsWith(`${parent}/.out`) ? [freshLeft.slice(parent.length + 1)] : [], `${what}: beside`);
      }
    }
  });
});

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}
