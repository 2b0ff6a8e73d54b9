#!/usr/bin/env node
// Runs the compiled tests with Node's own test runner.
//   node test/run.mjs            unit tests, the slow group, then the real-engine suite
//   node test/run.mjs --unit     unit tests only (the fast loop: every file in ONE process)
//   node test/run.mjs --slow     the slow group only: fuzz, signals, tar differential, CLI processes,
//                                big generated archives, generated corpora, fsync-heavy output
//   node test/run.mjs --engines  real-engine suite only (flags combine: --unit --slow)
// The engine suite skips (with a message) when no engine can start here, unless CI=true, where a
// missing engine is a failure: CI must prove the output loads.
// Output is compact (test/reporter.mjs: a dot per test, failures in full); the last lines are the
// summary, one per suite, each exactly `N passed, N failed, N skipped` after a line naming it.
// --tap gives node's full TAP instead.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
  // run in one process, imported one after another by a generated entry; the other suites keep a
  // process per file (daemons, signals, child processes, memory limits).
  let args;
  if (suite === 'unit') {
    const entry = join(countsDir, 'unit-entry.mjs');
    writeFileSync(entry, files.map((f) => `await import(${JSON.stringify(pathToFileURL(f).href)});`).join('\n'));
    args = [...reporter, ...extra, entry];
  } else {
    args = ['--test', ...reporter, ...(suite === 'engines' ? ['--test-concurrency=1'] : []), ...extra, ...files];
  }
  const countsFile = join(countsDir, `${suite}.json`);
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root, env: { ...process.env, COPYEDIT_TEST_COUNTS: countsFile } });
  if (r.status !== 0) failed = true;
  const c = existsSync(countsFile) ? JSON.parse(readFileSync(countsFile, 'utf8')) : undefined;
  summary.push(
    `${suite} tests (${files.length} files)${r.status !== 0 ? `, exit ${r.status}` : ''}:`,
    c ? `${c.pass} passed, ${c.fail + c.cancelled} failed, ${c.skipped + c.todo} skipped` : 'no counts (see the output above)',
  );
}
rmSync(countsDir, { recursive: true, force: true });
if (summary.length) console.log(`\n== summary ==\n${summary.join('\n')}`);
process.exit(failed ? 1 : 0);
