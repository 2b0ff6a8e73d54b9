/**
 * Issue 6: hostile and broken input. Every case of the generated corpus (test/hostile/corpus.ts) is
 * run in-process and through the CLI: a documented exit code, a one-line message naming the entry
 * and what to do, no stack trace, the input untouched, and the output absent or exactly as before.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { extractEdits } from '../../src/cli/argv.js';
import { CopyeditError, editArchive } from '../../src/index.js';
import { type HostileCase, hostileCases } from '../hostile/corpus.js';
import { dockerLegacy } from '../unit/fixtures.js';
import { STACK, fileState, leftovers, opaqueEntries, pool, problemsOf, runCli } from '../unit/hostile-util.js';

describe('hostile input (issue 6)', () => {
  let dir: string;
  let cases: HostileCase[];
  const PREVIOUS = Buffer.from('what the output file held before the run\n');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'copyedit-hostile-'));
    cases = await hostileCases();
    await mkdir(join(dir, 'in'));
    for (const c of cases) await writeFile(join(dir, 'in', c.file), c.bytes);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const argsOf = (c: HostileCase) => [...(c.args ?? ['--rm-volume', 'all'])];

  /** Checks shared by both runs: input untouched, output complete or as before, no temp file. */
  async function checkFiles(c: HostileCase, input: string, before: Awaited<ReturnType<typeof fileState>>, outDir: string, output: string, hadOutput: boolean, ok: boolean) {
    assert.deepEqual(await fileState(input), before, `${c.name}: the input changed`);
    assert.deepEqual(await leftovers(outDir), [], `${c.name}: temporary files left behind`);
    if (!ok) {
      const now = await fileState(output);
      if (hadOutput) assert.equal(now.exists ? (await readFile(output)).toString().slice(0, 200) : '(gone)', PREVIOUS.toString(), `${c.name}: the previous output was changed`);
      else assert.equal(now.exists, false, `${c.name}: an output was written for a refused input`);
    }
  }

  async function checkOutput(c: HostileCase, output: Buffer) {
    if (c.expect.exit !== 0) return;
    const before = await problemsOf(c.bytes);
    const now = await problemsOf(output);
    if (c.expect.sameProblems) {
      assert.notDeepEqual(before, [], `${c.name}: the case should be inconsistent to begin with`);
      assert.deepEqual(now, before, `${c.name}: the output is worse than the input`);
    } else assert.deepEqual(now, [], `${c.name}: output is inconsistent`);
    for (const s of c.expect.outputContains ?? []) assert.ok(output.includes(s), `${c.name}: output lost ${s.slice(0, 80)}`);
    for (const s of c.expect.notInOutput ?? []) assert.ok(!output.includes(s), `${c.name}: output holds ${s.slice(0, 80)}`);
    const layers = await opaqueEntries(c.bytes);
    const outLayers = await opaqueEntries(output);
    for (const [name, data] of layers) assert.ok(outLayers.get(name)?.equals(data), `${c.name}: entry ${name} changed or went missing`);
  }

  describe('hostile input, in-process (editArchive)', () => {
    it('each corpus case: documented exit code and message, input untouched, no output, no temp files', async () => {
      assert.ok(cases.length >= 40, `only ${cases.length} cases`);
      await pool(cases, 4, async (c, i) => {
        const input = join(dir, 'in', c.file);
        const outDir = join(dir, `lib-${i}`);
        await mkdir(outDir);
        const output = join(outDir, 'out.tar');
        const hadOutput = i % 2 === 0;
        if (hadOutput) await writeFile(output, PREVIOUS);
        const before = await fileState(input);
        const { edits } = extractEdits(['edit', input, ...argsOf(c)]);
        let failure: unknown;
        let report: Awaited<ReturnType<typeof editArchive>> | undefined;
        try {
          report = await editArchive({ input, output, edits });
        } catch (e) {
          failure = e;
        }
        if (c.expect.exit === 0) {
          assert.equal(failure, undefined, `${c.name}: ${(failure as Error)?.stack}`);
          const warnings = [...report!.warnings, ...report!.images.flatMap((im) => im.warnings)];
          for (const w of c.expect.warnings ?? [])
            assert.ok(
              warnings.some((x) => w.test(x)),
              `${c.name}: no warning ${w} in ${JSON.stringify(warnings)}`,
            );
          if (c.expect.tags)
            assert.deepEqual(
              report!.images.flatMap((im) => im.tags),
              c.expect.tags,
              `${c.name}: edited other images than manifest.json names`,
            );
          await checkOutput(c, await readFile(output));
        } else {
          assert.ok(failure instanceof CopyeditError, `${c.name}: threw ${(failure as Error)?.stack ?? String(failure)}`);
          assert.equal(failure.exitCode, c.expect.exit, `${c.name}: ${failure.message}`);
          assert.match(failure.message, c.expect.message!, c.name);
          assert.doesNotMatch(failure.message, /\n/, `${c.name}: the message is more than one line`);
        }
        await checkFiles(c, input, before, outDir, output, hadOutput, c.expect.exit === 0);
      });
    });
  });

  describe('hostile input, through the CLI', () => {
    // a process per case costs ~0.2 s: by default every fourth case (each kind of failure is covered
    // in-process above); COPYEDIT_TEST_FULL=1 runs them all
    const pick = (_c: HostileCase, i: number) => process.env.COPYEDIT_TEST_FULL === '1' || i % 4 === 0;
    it('corpus cases: same exit code, one line on stderr, no stack trace', async () => {
      await pool(cases, 4, async (c, i) => {
        if (!pick(c, i)) return;
        const input = join(dir, 'in', c.file);
        const outDir = join(dir, `cli-${i}`);
        await mkdir(outDir);
        const output = join(outDir, 'out.tar');
        const hadOutput = i % 2 === 1;
        if (hadOutput) await writeFile(output, PREVIOUS);
        const before = await fileState(input);
        const r = await runCli(['edit', input, '-o', output, '-q', ...argsOf(c)]);
        assert.equal(r.code, c.expect.exit, `${c.name}: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, STACK, `${c.name}: stack trace printed`);
        if (c.expect.exit !== 0) {
          const lines = r.stderr.trimEnd().split('\n');
          assert.equal(lines.length, 1, `${c.name}: expected one line, got ${r.stderr}`);
          assert.match(lines[0]!, /^copyedit: error: /);
          assert.match(lines[0]!, c.expect.message!, c.name);
        } else await checkOutput(c, await readFile(output));
        await checkFiles(c, input, before, outDir, output, hadOutput, c.expect.exit === 0);
      });
    });

    it('--debug adds the stack trace', async () => {
      const c = cases.find((x) => x.file === 'mj-null.tar')!;
      const r = await runCli(['edit', join(dir, 'in', c.file), '-o', join(dir, 'debug.tar'), '--debug', '--rm-volume', 'all']);
      assert.equal(r.code, 3);
      assert.match(r.stderr, STACK);
    });
  });

  describe('I/O failures around a good archive', () => {
    let good: string;
    before(async () => {
      good = join(dir, 'good.tar');
      await writeFile(good, (await dockerLegacy()).archive);
    });
    const refused = async (args: string[], code: number, message: RegExp, o: Parameters<typeof runCli>[1] = {}) => {
      const r = await runCli(args, o);
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, STACK);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      return r;
    };
    it('missing input: exit 6; a directory that is no OCI layout: exit 3', async () => {
      await refused(['edit', join(dir, 'nope.tar'), '-o', join(dir, 'x.tar'), '--rm-volume', 'all'], 6, /copyedit: error: cannot read .*nope\.tar: no such file or directory/);
      await refused(['edit', dir, '-o', join(dir, 'x.tar'), '--rm-volume', 'all'], 3, /: is a directory without oci-layout and index\.json; copyedit reads a docker save archive/);
    });
    it('output directory missing, or a file where the directory should be: exit 6, nothing written', async () => {
      await refused(['edit', good, '-o', join(dir, 'no-such-dir', 'x.tar'), '--rm-volume', 'all'], 6, /cannot write .*no-such-dir\/x\.tar: the directory .*no-such-dir does not exist; create it/);
      await refused(['edit', good, '-o', join(good, 'x.tar'), '--rm-volume', 'all'], 6, /cannot write .*good\.tar\/x\.tar: .*good\.tar is not a directory/);
    });
    it('output directory not writable: exit 6', { skip: process.getuid?.() === 0 ? 'root may write anywhere' : false }, async () => {
      const ro = join(dir, 'ro');
      await mkdir(ro);
      await chmod(ro, 0o555);
      await refused(['edit', good, '-o', join(ro, 'x.tar'), '--rm-volume', 'all'], 6, /no permission to create a file in/);
      assert.deepEqual(await leftovers(ro), []);
    });
    it('output directory missing while the input is being decompressed by a child process: no hang', async () => {
      const c = cases.find((x) => x.file.endsWith('.tar.xz'));
      if (!c) return; // no xz here
      const xz = join(dir, 'good.tar.xz');
      const { spawnSync } = await import('node:child_process');
      await writeFile(xz, spawnSync('xz', ['-c'], { input: await readFile(good) }).stdout);
      await refused(['edit', xz, '-o', join(dir, 'no-such-dir', 'x.tar'), '--rm-volume', 'all'], 6, /does not exist/, { timeoutMs: 10000 });
    });
    it('standard input closed at once: exit 3', async () => {
      await refused(['edit', '-', '-o', join(dir, 'x.tar'), '--rm-volume', 'all'], 3, /copyedit: error: standard input: is empty: expected a tar archive from docker save/);
    });
    it('an xz archive when xz is not installed: exit 3 and what to install', async () => {
      const xz = cases.find((x) => x.file === 'cut.tar.xz');
      if (!xz) return;
      await refused(
        ['edit', join(dir, 'in', xz.file), '-o', join(dir, 'x.tar'), '--rm-volume', 'all'],
        3,
        /is xz-compressed and the 'xz' program is not installed; install xz-utils or decompress the archive first/,
        {
          env: { ...process.env, PATH: join(dir, 'empty-path') },
        },
      );
    });
    it('a dry run of a broken archive fails the same way', async () => {
      await refused(['edit', join(dir, 'in', 'mj-null.tar'), '--dry-run', '--rm-volume', 'all'], 3, /manifest\.json: must hold a JSON array/);
    });
  });
});
