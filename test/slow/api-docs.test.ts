/**
 * Issue 10: every example of docs/API.md and the README's library example is compiled with the
 * project's tsc (strict, against the package's own types, imported as 'image-copyedit') and run on
 * samples/docker20-legacy.tar. An example that no longer compiles or throws fails here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = new URL('../../../', import.meta.url).pathname;

function examples(): { name: string; code: string }[] {
  const api = readFileSync(join(ROOT, 'docs/API.md'), 'utf8');
  const blocks = [...api.matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => ({ name: `api-${i + 1}`, code: m[1]! }));
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const lib = readme.slice(readme.indexOf('## Library'));
  const indented = lib.split('\n').slice(1);
  const start = indented.findIndex((l) => l.startsWith('    '));
  const end = indented.findIndex((l, i) => i > start && !l.startsWith('    ') && l.trim() !== '');
  const code = indented
    .slice(start, end)
    .map((l) => l.slice(4))
    .join('\n');
  return [...blocks, { name: 'readme', code }];
}

/** A file docs/API.md gives whole, as a ```json <name> block: the set-up it documents. */
function documentedFile(name: string): string {
  const api = readFileSync(join(ROOT, 'docs/API.md'), 'utf8');
  const m = new RegExp(`\`\`\`json ${name.replace('.', '\\.')}\\n([\\s\\S]*?)\`\`\``).exec(api);
  assert.ok(m, `docs/API.md documents no ${name} (a \`\`\`json ${name} block)`);
  return m[1]!;
}

describe('docs/API.md and the README library example', () => {
  it('compile and run', { timeout: 120_000 }, () => {
    const list = examples();
    assert.ok(list.length >= 5, `found only ${list.length} examples`);
    const dir = mkdtempSync(join(tmpdir(), 'copyedit-api-'));
    try {
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(ROOT, join(dir, 'node_modules', 'image-copyedit'));
      symlinkSync(join(ROOT, 'node_modules', '@types'), join(dir, 'node_modules', '@types'));
      // the project as docs/API.md sets it up: its package.json and tsconfig.json, nothing else
      writeFileSync(join(dir, 'package.json'), documentedFile('package.json'));
      assert.equal((JSON.parse(documentedFile('package.json')) as { type?: string }).type, 'module');
      copyFileSync(join(ROOT, 'samples', 'docker20-legacy.tar'), join(dir, 'in.tar'));
      for (const e of list) writeFileSync(join(dir, `${e.name}.ts`), e.code);
      writeFileSync(join(dir, 'tsconfig.json'), documentedFile('tsconfig.json'));
      const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
      assert.equal(tsc.status, 0, `the examples do not compile:\n${tsc.stdout}${tsc.stderr}`);
      for (const e of list) {
        const r = spawnSync(process.execPath, [join(dir, 'out', `${e.name}.js`)], { cwd: dir, encoding: 'utf8' });
        assert.equal(r.status, 0, `${e.name} failed:\n${r.stdout}${r.stderr}`);
      }
      assert.ok(readFileSync(join(dir, 'out.tar')).length > 0);
      assert.ok(readFileSync(join(dir, 'custom.tar')).length > 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('in a CommonJS project (npm init -y): the first example as .mjs runs, as .js fails with the error the doc names', { timeout: 60_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'copyedit-api-cjs-'));
    try {
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(ROOT, join(dir, 'node_modules', 'image-copyedit'));
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'cjs', version: '1.0.0', main: 'index.js', license: 'ISC' }));
      copyFileSync(join(ROOT, 'samples', 'docker20-legacy.tar'), join(dir, 'in.tar'));
      // the first example has no TypeScript syntax: it runs as JavaScript
      const first = examples()[0]!.code;
      writeFileSync(join(dir, 'example.mjs'), first);
      const ok = spawnSync(process.execPath, [join(dir, 'example.mjs')], { cwd: dir, encoding: 'utf8' });
      assert.equal(ok.status, 0, `example.mjs failed:\n${ok.stdout}${ok.stderr}`);
      writeFileSync(join(dir, 'example.js'), first);
      const cjs = spawnSync(process.execPath, ['--no-experimental-detect-module', join(dir, 'example.js')], { cwd: dir, encoding: 'utf8' });
      assert.notEqual(cjs.status, 0);
      assert.match(cjs.stderr, /Cannot use import statement outside a module/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
