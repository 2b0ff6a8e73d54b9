/**
 * `copyedit verify` and `copyedit inspect` as commands: exit codes, text and --json, standard
 * input. In the slow group (moved from test/unit/verify/verify.test.ts and
 * test/unit/inspect/inspect.test.ts, which test the library calls): each case starts the CLI.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { item, mutateTar } from '../unit/mutate.js';

const SAMPLES = new URL('../../../samples/', import.meta.url).pathname;
const BIN = new URL('../../../bin/copyedit.js', import.meta.url).pathname;
const sample = (f: string) => readFileSync(join(SAMPLES, f));
const IMAGE_ID = 'e78d9c8f3911879a28f1c28fdfcb4f07391a5b65da20664a2dbbe7e174d265c8';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-verify-cli-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('copyedit verify (CLI)', () => {
  it('exits 0 on a sample and 5 with the mismatch on a damaged copy', async () => {
    const ok = spawnSync(process.execPath, [BIN, 'verify', join(SAMPLES, 'docker26-multi.tar')]);
    assert.equal(ok.status, 0, ok.stderr.toString());
    assert.match(ok.stdout.toString(), /docker26-multi\.tar: verified \(13 digest names, 16 descriptors, 12 DiffIDs, 2 manifest\.json images, 0 links checked\)/);
    const bad = await mutateTar(sample('docker20-legacy.tar'), (items) => {
      const c = item(items, (n) => n === `${IMAGE_ID}.json`);
      c.data = Buffer.from(c.data.toString().replace('APP_MODE=prod', 'APP_MODE=test'));
    });
    const path = join(dir, 'bad.tar');
    await writeFile(path, bad);
    const r = spawnSync(process.execPath, [BIN, 'verify', path]);
    assert.equal(r.status, 5);
    assert.match(r.stdout.toString(), new RegExp(`FAIL ${IMAGE_ID}\\.json: content does not match the digest in its name \\(expected sha256:${IMAGE_ID}, found sha256:[0-9a-f]{64}\\)`));
    assert.match(r.stderr.toString(), /copyedit: error: .*bad\.tar: 1 digest check failed/);
    const j = spawnSync(process.execPath, [BIN, 'verify', '--json', path]);
    assert.equal(j.status, 5);
    assert.equal(JSON.parse(j.stdout.toString()).issues[0].expected, `sha256:${IMAGE_ID}`);
  });
  it('edit --verify from the command line', () => {
    const out = join(dir, 'cli-out.tar');
    const r = spawnSync(process.execPath, [BIN, 'edit', join(SAMPLES, 'containerd-gzip-index.tar'), '-o', out, '--rm-volume', 'all', '--verify']);
    assert.equal(r.status, 0, r.stderr.toString());
    assert.match(r.stderr.toString(), /cli-out\.tar: verified \(6 digest names, 8 descriptors, 8 DiffIDs/);
  });
});

describe('copyedit inspect (CLI)', () => {
  it('prints aligned text without colour when not on a terminal', () => {
    const r = spawnSync(process.execPath, [BIN, 'inspect', join(SAMPLES, 'docker20-multi.tar')], { env: { ...process.env, FORCE_COLOR: '1' } });
    assert.equal(r.status, 0, r.stderr.toString());
    const out = r.stdout.toString();
    assert.doesNotMatch(out, /\u001b\[/);
    assert.match(out, /^example\/app:1\.0, example\/app:latest$/m);
    assert.match(out, /^ {2}image ID {7}sha256:e78d9c8f3911879a28f1c28fdfcb4f07391a5b65da20664a2dbbe7e174d265c8 {2}\(docker images on the classic store, podman images: e78d9c8f3911\)$/m);
    assert.match(out, /^ {4}2 {2}2\.0 KiB {2}tar {3}9da4625580d3 {2}9da4625580d3 {2}a2f900a8df56$/m);
  });
  it('--json reads from standard input', () => {
    const r = spawnSync(process.execPath, [BIN, 'inspect', '--json', '-'], { input: readFileSync(join(SAMPLES, 'docker20-legacy.tar.gz')) });
    assert.equal(r.status, 0, r.stderr.toString());
    const j = JSON.parse(r.stdout.toString());
    assert.equal(j.compression, 'gzip');
    assert.equal(j.archive, 'standard input');
    assert.equal(j.images[0].id, 'sha256:e78d9c8f3911879a28f1c28fdfcb4f07391a5b65da20664a2dbbe7e174d265c8');
  });
});
