#!/usr/bin/env node
// Runs the compiled tests with Node's own test runner.
//   node test/run.mjs            unit tests, then the real-engine suite
//   node test/run.mjs --unit     unit tests only
//   node test/run.mjs --engines  real-engine suite only
// The engine suite skips (with a message) when no engine can start here, unless CI=true, where a
// missing engine is a failure: CI must prove the output loads.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const want = process.argv.includes('--unit') ? ['unit'] : process.argv.includes('--engines') ? ['engines'] : ['unit', 'engines'];
const extra = process.argv.slice(2).filter((a) => !a.startsWith('--unit') && !a.startsWith('--engines'));

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
  const args = ['--test', ...(suite === 'engines' ? ['--test-concurrency=1'] : []), ...extra, ...files];
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root, env: process.env });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
