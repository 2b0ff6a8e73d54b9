/**
 * Start-up (issue 11): a common command loads one bundled file (scripts/bundle.mjs) and no yargs
 * (src/cli/fast-argv.ts). Checked by running the CLI from a copy of the package that holds only
 * bin/, package.json and the bundle with its data files: no dist/src module, no node_modules. A
 * command line that needs yargs must then fail to find it, which shows the copy really lacks it.
 */
import assert from 'node:assert/strict';
import Module from 'node:module';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dockerLegacy } from '../unit/fixtures.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
let dir: string;
let pkg: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'copyedit-startup-'));
  pkg = join(dir, 'pkg');
  mkdirSync(join(pkg, 'dist/src/cli'), { recursive: true });
  cpSync(join(ROOT, 'bin'), join(pkg, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  for (const f of ['copyedit.cjs', 'copyedit.cache', 'help.json', 'fast-help.js', 'help-text.js']) cpSync(join(ROOT, 'dist/src/cli', f), join(pkg, 'dist/src/cli', f));
  writeFileSync(join(dir, 'in.tar'), (await dockerLegacy({ config: { Volumes: { '/data': {} } } })).archive);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) => spawnSync(process.execPath, [join(pkg, 'bin/copyedit.js'), ...args], { cwd: dir, encoding: 'utf8' });

/** What became of the code cache when `root`'s bin/load-cli.cjs loaded the bundle, in a fresh process. */
function codeCache(root: string): string {
  const r = spawnSync(process.execPath, ['-e', `process.stdout.write(require(${JSON.stringify(join(root, 'bin/load-cli.cjs'))}).loadCli(() => import('yargs')).codeCache)`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('start-up loads only what the command needs', () => {
  it('an edit, inspect and verify run from the bundle alone, without yargs', () => {
    const e = run('edit', 'in.tar', '-o', 'out.tar', '--rm-volume', 'all', '--entrypoint', '["/app"]', '--no-fsync', '--json');
    assert.equal(e.status, 0, e.stderr);
    assert.equal((JSON.parse(e.stdout) as { images: unknown[] }).images.length, 1);
    const i = run('inspect', 'out.tar', '-f', '{{json .Config.Entrypoint}} {{json .Config.Volumes}}');
    assert.equal(i.status, 0, i.stderr);
    assert.equal(i.stdout.trim(), '["/app"] null');
    assert.equal(run('verify', 'out.tar', '-q').status, 0);
    assert.equal(run('--version').status, 0);
    assert.equal(run('edit', '--help').status, 0);
  });
  it('a command line the fast parser leaves to yargs does need it (the copy has no yargs)', () => {
    const r = run('edit', 'in.tar', '-o', 'out.tar', '--rm-volumes', 'all');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /yargs/);
  });

  it('the bundle is strict code, as the ES modules it is made of: "use strict" is its first statement', () => {
    const head = readFileSync(join(ROOT, 'dist/src/cli/copyedit.cjs'), 'utf8').split('\n', 1)[0];
    assert.equal(head, '"use strict";');
  });

  it('a cache made from another bundle of the same length is not used (V8 checks only the length)', () => {
    const bundle = join(pkg, 'dist/src/cli/copyedit.cjs');
    const original = readFileSync(bundle, 'utf8');
    const changed = original.replace('interrupted by', 'INTERRUPTED BY');
    assert.notEqual(changed, original);
    assert.equal(changed.length, original.length);
    writeFileSync(bundle, changed);
    try {
      assert.equal(codeCache(pkg), 'stale');
      const e = run('edit', 'in.tar', '-o', 'out3.tar', '--rm-volume', 'all', '--no-fsync', '-q');
      assert.equal(e.status, 0, e.stderr);
    } finally {
      writeFileSync(bundle, original);
    }
    assert.equal(codeCache(pkg), 'accepted');
  });

  it('the bundle loads with the code cache made at build time, and runs without it when V8 refuses it', () => {
    assert.equal(codeCache(ROOT), 'accepted', 'npm run build made dist/src/cli/copyedit.cache for this Node');
    // the right key (the bundle's sha256), then bytes that are not a cache V8 accepts
    const key = createHash('sha256')
      .update(readFileSync(join(pkg, 'dist/src/cli/copyedit.cjs')))
      .digest();
    const v8 = createHash('sha256').update(process.versions.v8).digest();
    writeFileSync(join(pkg, 'dist/src/cli/copyedit.cache'), Buffer.concat([key, v8, Buffer.alloc(4096, 7)]));
    try {
      assert.equal(codeCache(pkg), 'rejected');
      const e = run('edit', 'in.tar', '-o', 'out2.tar', '--rm-volume', 'all', '--no-fsync', '-q');
      assert.equal(e.status, 0, e.stderr);
      assert.equal(e.stderr, '');
    } finally {
      cpSync(join(ROOT, 'dist/src/cli/copyedit.cache'), join(pkg, 'dist/src/cli/copyedit.cache'));
    }
  });

  it('a cache made by another Node (another V8) is not tried; Node 22.1+ uses its own compile cache instead', () => {
    const other = createHash('sha256').update('another V8').digest();
    const made = readFileSync(join(pkg, 'dist/src/cli/copyedit.cache'));
    writeFileSync(join(pkg, 'dist/src/cli/copyedit.cache'), Buffer.concat([made.subarray(0, 32), other, made.subarray(64)]));
    try {
      const hasCompileCache = typeof (Module as { enableCompileCache?: unknown }).enableCompileCache === 'function';
      assert.equal(codeCache(pkg), hasCompileCache ? 'node' : 'rejected');
      const e = run('edit', 'in.tar', '-o', 'out4.tar', '--rm-volume', 'all', '--no-fsync', '-q');
      assert.equal(e.status, 0, e.stderr);
      assert.equal(e.stderr, '');
    } finally {
      writeFileSync(join(pkg, 'dist/src/cli/copyedit.cache'), made);
    }
  });
});
