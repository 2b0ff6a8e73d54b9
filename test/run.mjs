#!/usr/bin/env node
// Runs the compiled tests with Node's own test runner.
//   node test/run.mjs            unit tests, the slow group, then the real-engine suite
//   node test/run.mjs --unit     unit tests only (the fast loop: the files shared out to TWO processes,
//                                one per core; UNIT_PROCESSES=1 for one)
//   node test/run.mjs --slow     the slow group only: fuzz, signals, tar differential, CLI processes,
//                                big generated archives, generated corpora, fsync-heavy output
//   node test/run.mjs --engines  real-engine suite only (flags combine: --unit --slow)
// The engine suite skips (with a message) when no engine can start here, unless CI=true, where a
// missing engine is a failure: CI must prove the output loads.
// Output is compact (test/reporter.mjs: a dot per test, failures in full); the last lines are the
// summary, one per suite, each exactly `N passed, N failed, N skipped` after a line naming it.
// --tap gives node's full TAP instead.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;
const SUITES = ['unit', 'slow', 'engines'];
const picked = SUITES.filter((s) => process.argv.includes(`--${s}`));
const want = picked.length ? picked : SUITES;
const tap = process.argv.includes('--tap');
const extra = process.argv.slice(2).filter((a) => !SUITES.some((s) => a === `--${s}`) && a !== '--tap');
const countsDir = mkdtempSync(join(tmpdir(), 'copyedit-test-counts-'));
const summary = [];

let failed = false;
for (const suite of want) {
  const dir = join(root, 'dist', 'test', suite);
  // only tests whose source still exists: an incremental build leaves moved tests' old output behind
  const src = join(root, 'test', suite);
  // the unit tree mirrors src/ (test/unit/archive, rewrite, ...): files one level down count too
  const files = existsSync(dir)
    ? readdirSync(dir, { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.test.js') && existsSync(join(src, f.replace(/\.js$/, '.ts'))))
        .sort()
        .map((f) => join(dir, f))
    : [];
  if (files.length === 0) {
    console.error(`no ${suite} tests found in ${dir}; run tsc first`);
    failed = true;
    continue;
  }
  console.log(`\n== ${suite} tests (${files.length} files) ==`);
  // engine tests share daemons: run their files one after another
  const reporter = tap ? [] : [`--test-reporter=${join(root, 'test', 'reporter.mjs')}`, '--test-reporter-destination=stdout'];
  // `node --test` runs each file in a process of its own, one at a time on 2 cores (its
  // concurrency is the core count less one): for the unit files that start-up (~0.4 s each: node,
  // the test runner, the modules every file loads again) was a third of the run. So the unit files
  // run in two processes (one per core, `runUnit`), each importing its share one after another from
  // a generated entry; the other suites keep a process per file (daemons, signals, child
  // processes, memory limits).
  const countsFile = join(countsDir, `${suite}.json`);
  const env = { ...process.env, COPYEDIT_TEST_COUNTS: countsFile };
  let status;
  if (suite === 'unit') {
    status = await runUnit(files, reporter, countsFile);
  } else {
    const args = ['--test', ...reporter, ...(suite === 'engines' ? ['--test-concurrency=1'] : []), ...extra, ...files];
    status = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root, env }).status;
  }
  if (status !== 0) failed = true;
  const c = existsSync(countsFile) ? JSON.parse(readFileSync(countsFile, 'utf8')) : undefined;
  const r = { status };
  summary.push(
    `${suite} tests (${files.length} files)${r.status !== 0 ? `, exit ${r.status}` : ''}:`,
    c ? `${c.pass} passed, ${c.fail + c.cancelled} failed, ${c.skipped + c.todo} skipped` : 'no counts (see the output above)',
  );
}
rmSync(countsDir, { recursive: true, force: true });
if (summary.length) console.log(`\n== summary ==\n${summary.join('\n')}`);
process.exit(failed ? 1 : 0);

/**
 * The unit files in UNIT_PROCESSES processes at once (one per core, at most 2: the machine of CI
 * and of the issue-20 target has 2), each importing its share one after another; shares balanced
 * by the compiled files' sizes, a rough measure of their time. Each process's output is printed
 * whole when it ends (two reporters on one terminal would interleave); the counts are summed.
 */
async function runUnit(files, reporter, countsFile) {
  const n = Math.max(1, Math.min(Number(process.env.UNIT_PROCESSES ?? 2), availableParallelism(), files.length));
  const shares = Array.from({ length: n }, () => ({ files: [], weight: 0 }));
  for (const f of [...files].sort((a, b) => statSync(b).size - statSync(a).size)) {
    const lightest = shares.reduce((a, b) => (b.weight < a.weight ? b : a));
    lightest.files.push(f);
    lightest.weight += statSync(f).size;
  }
  const runs = shares.map(
    (share, i) =>
      new Promise((resolve) => {
        const entry = join(countsDir, `unit-entry-${i}.mjs`);
        writeFileSync(
          entry,
          share.files
            .sort()
            .map((f) => `await import(${JSON.stringify(pathToFileURL(f).href)});`)
            .join('\n'),
        );
        const counts = `${countsFile}.${i}`;
        const t0 = Date.now();
        const child = spawn(process.execPath, [...reporter, ...extra, entry], { stdio: ['ignore', 'pipe', 'pipe'], cwd: root, env: { ...process.env, COPYEDIT_TEST_COUNTS: counts } });
        const out = [];
        child.stdout.on('data', (d) => out.push(d));
        child.stderr.on('data', (d) => out.push(d));
        child.on('close', (code) => {
          process.stdout.write(Buffer.concat(out));
          if (!tap) console.log(`(process ${i + 1} of ${n}: ${share.files.length} files, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
          resolve({ code, counts });
        });
      }),
  );
  const done = await Promise.all(runs);
  const sum = { pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
  for (const d of done) {
    if (!existsSync(d.counts)) continue;
    const c = JSON.parse(readFileSync(d.counts, 'utf8'));
    for (const k of Object.keys(sum)) sum[k] += c[k] ?? 0;
  }
  writeFileSync(countsFile, JSON.stringify(sum));
  return done.every((d) => d.code === 0) ? 0 : 1;
}
