/**
 * Issue 10: the packed package works as a dependency. `npm pack` (of the tree as built), installed
 * into an empty ESM project; a script there imports 'image-copyedit' and edits a sample with
 * typed edits. Skipped with a message only when npm cannot install (no registry for yargs).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = new URL('../../../', import.meta.url).pathname;

describe('the packed package', () => {
  it('installs into an empty project and edits an archive with setEntrypoint([...]) and setCmd(null)', { timeout: 180_000 }, (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'copyedit-pack-'));
    try {
      // --ignore-scripts: pack dist as built (prepack would rebuild it under the other tests' feet)
      const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(pack.status, 0, pack.stderr);
      const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
      assert.ok(tgz, 'npm pack made no tarball');
      const app = join(dir, 'app');
      spawnSync('mkdir', ['-p', app]);
      writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
      const inst = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, tgz)], { cwd: app, encoding: 'utf8' });
      if (inst.status !== 0 && /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|network/i.test(inst.stderr)) {
        t.skip(`npm cannot reach a registry for the dependencies: ${inst.stderr.split('\n')[0]}`);
        return;
      }
      assert.equal(inst.status, 0, inst.stderr);
      copyFileSync(join(ROOT, 'samples', 'docker20-legacy.tar'), join(app, 'in.tar'));
      writeFileSync(
        join(app, 'edit.mjs'),
        `import { editArchive, setCmd, setEntrypoint } from 'image-copyedit';
const r = await editArchive({ input: 'in.tar', output: 'out.tar', edits: [setEntrypoint(['/app', '--serve']), setCmd(null)] });
console.log(JSON.stringify(r.images.map((i) => i.newId.toString())));`,
      );
      const run = spawnSync(process.execPath, ['edit.mjs'], { cwd: app, encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const out = readFileSync(join(app, 'out.tar'));
      assert.ok(out.includes('"Entrypoint":["/app","--serve"]'), 'the new entrypoint is in the output');
      assert.ok(out.includes('"Cmd":null'), 'CMD is cleared');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
