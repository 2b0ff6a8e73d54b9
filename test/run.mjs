#!/usr/bin/env node
// Runs the compiled tests with Node's own test runner.
//   node test/run.mjs            unit tests, then the real-engine suite
//   node test/run.mjs --unit     unit tests only
//   node test/run.mjs --engines  real-engine suite only
// The engine suite skips (with a message) when no engine can start here, unless CI=true, where a
// missing engine is a failure: CI must prove the output loads.
// Output is compact (test/reporter.mjs: a dot per test, failures in full); the last lines are the
// summary, one per suite, each exactly `N passed, N failed, N skipped` after a line naming it.
// --tap gives node's full TAP instead.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const want = process.argv.includes('--unit') ? ['unit'] : process.argv.includes('--engines') ? ['engines'] : ['unit', 'engines'];
const tap = process.argv.includes('--tap');
const extra = process.argv.slice(2).filter((a) => !a.startsWith('--unit') && !a.startsWith('--engines') && a !== '--tap');
const countsDir = mkdtempSync(join(tmpdir(), 'copyedit-test-counts-'));
const summary = [];

let failed = false;
for (const suite of want) {
  const dir = join(root, 'dist', 'test', suite);
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort().map((f) => join(dir, f)) : [];
  if (files.length === 0) {
    console.error(`no ${suite} tests found in ${dir}; run tsc first`);
    failed = true;
    continue;
  }
  console.log(`\n== ${suite} tests (${files.length} files) ==`);
  // engine tests share daemons: run their files one after another
  const reporter = tap ? [] : [`--test-reporter=${join(root, 'test', 'reporter.mjs')}`, '--test-reporter-destination=stdout'];
  const args = ['--test', ...reporter, ...(suite === 'engines' ? ['--test-concurrency=1'] : []), ...extra, ...files];
  const countsFile = join(countsDir, `${suite}.json`);
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root, env: { ...process.env, COPYEDIT_TEST_COUNTS: countsFile } });
  if (r.status !== 0) failed = true;
  const c = existsSync(countsFile) ? JSON.parse(readFileSync(countsFile, 'utf8')) : undefined;
  summary.push(`${suite} tests (${files.length} files)${r.status !== 0 ? `, exit ${r.status}` : ''}:`, c ? `${c.pass} passed, ${c.fail + c.cancelled} failed, ${c.skipped + c.todo} skipped` : 'no counts (see the output above)');
}
rmSync(countsDir, { recursive: true, force: true });
if (summary.length) console.log(`\n== summary ==\n${summary.join('\n')}`);
process.exit(failed ? 1 : 0);
