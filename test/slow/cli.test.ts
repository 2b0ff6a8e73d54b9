import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { extractEdits } from '../../src/cli/argv.js';
import { parseSentence } from '../../src/cli/sentence.js';
import { normalizeReference } from '../../src/index.js';
import { checkArchive } from '../unit/check.js';
import { dockerLegacy, readTar } from '../unit/fixtures.js';

const BIN = new URL('../../../bin/copyedit.js', import.meta.url).pathname;
let dir: string;
let input: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-cli-'));
  input = join(dir, 'in.tar');
  await writeFile(input, (await dockerLegacy()).archive);
});
after(() => rm(dir, { recursive: true, force: true }));

function cli(args: string[], stdin?: Buffer) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input: stdin, maxBuffer: 1 << 26 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

describe('argument parsing', () => {
  it('keeps the order of edit flags and takes values verbatim', () => {
    const { edits, rest } = extractEdits(['edit', 'a', '--rm-volume', 'all', '-o', 'b', '--cmd', '--serve', '--add-volume=/x', '--no-cmd']);
    assert.deepEqual(
      edits.map((e) => e.name),
      ['rm-volume', 'cmd', 'add-volume', 'no-cmd'],
    );
    assert.deepEqual(rest, ['edit', 'a', '-o', 'b']);
    assert.equal(edits[1]!.description, 'set cmd ["--serve"]');
  });
  it('parses the docker-copyedit sentence form', () => {
    const words = [
      'FROM',
      'in.tar',
      'INTO',
      'out.tar',
      'REMOVE',
      'ALL',
      'VOLUMES',
      'AND',
      'set',
      'cmd',
      '/start.sh',
      '+',
      'rm',
      'port',
      '80',
      ',',
      'ADD',
      'VOLUME',
      '/x',
      'AND',
      'SET',
      'NULL',
      'ENTRYPOINT',
      'AND',
      'SET',
      'SHELL',
      'CMD',
      'echo hi',
    ];
    const s = parseSentence(words);
    assert.equal(s.input, 'in.tar');
    assert.equal(s.output, 'out.tar');
    assert.deepEqual(
      s.edits.map((e) => e.description),
      ['remove all volumes', 'set cmd ["/start.sh"]', 'remove port 80', 'add volume /x', 'clear entrypoint', 'set cmd ["/bin/sh","-c","echo hi"]'],
    );
    assert.throws(() => parseSentence(['FROM', 'a', 'INTO', 'b', 'FROB', 'IT']), /not a command/);
    assert.throws(() => parseSentence(['FROM', 'a']), /INTO/);
  });
  it('takes FROM and INTO anywhere, and every docker-copyedit verb', () => {
    const s = parseSentence('set user null and set cmd null from image1 into image2'.split(' '));
    assert.equal(s.input, 'image1');
    assert.equal(s.output, 'image2');
    assert.deepEqual(
      s.edits.map((e) => e.description),
      ['clear user', 'clear cmd'],
    );
    const all = parseSentence(
      'into o from i rm all ports + remove ports 80% + remove volumes /var/* + remove label a + remove labels org.* + set label k v + set env A 1 + set envs APP_% 2 + remove env B + remove envs C% + set workingdir /w + set hostname h + set domainname d + set arch arm64 + set architecture amd64 + set author me + set os linux + set variant v8 + set cmd NULL + set no entrypoint + remove healthcheck + set entrypoint ["/a","b"] + override user 1000'.split(
        ' ',
      ),
    );
    assert.deepEqual(
      all.edits.map((e) => e.name),
      [
        'rm-port',
        'rm-port',
        'rm-volume',
        'rm-label',
        'rm-label',
        'label',
        'env',
        'env',
        'rm-env',
        'rm-env',
        'workdir',
        'hostname',
        'domainname',
        'arch',
        'arch',
        'author',
        'os',
        'variant',
        'no-cmd',
        'no-entrypoint',
        'rm-healthcheck',
        'entrypoint',
        'user',
      ],
    );
  });
  it('normalizes references like Docker', () => {
    assert.equal(normalizeReference('busybox'), 'docker.io/library/busybox:latest');
    assert.equal(normalizeReference('example/app:1.0'), 'docker.io/example/app:1.0');
    assert.equal(normalizeReference('localhost:5000/x'), 'localhost:5000/x:latest');
    assert.equal(normalizeReference('index.docker.io/library/a:1'), 'docker.io/library/a:1');
  });
});

describe('copyedit CLI', () => {
  it('edits a file and prints what changed', () => {
    const out = join(dir, 'o1.tar');
    const r = cli(['edit', input, '-o', out, '--rm-volume', 'all', '--entrypoint', '["/bin/echo","edited"]']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /example\/app:1\.0: classic [0-9a-f]{12} -> [0-9a-f]{12}, containerd [0-9a-f]{12} -> [0-9a-f]{12} \(remove all volumes; set entrypoint/);
  });
  it('streams from stdin to stdout', async () => {
    const r = cli(['edit', '-', '-o', '-', '--rm-port', 'all'], await readFile(input));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(checkArchive(await readTar(r.stdout)), []);
  });
  it('sentence form works end to end', async () => {
    const out = join(dir, 'o2.tar');
    const r = cli(['FROM', input, 'INTO', out, 'REMOVE', 'ALL', 'VOLUMES', 'AND', 'SET', 'CMD', '/start.sh']);
    assert.equal(r.code, 0, r.stderr);
    const t = await readTar(await readFile(out));
    const item = JSON.parse(t.get('manifest.json')!.data.toString())[0];
    const c = JSON.parse(t.get(item.Config)!.data.toString());
    assert.deepEqual(c.config.Cmd, ['/start.sh']);
    assert.equal(c.config.Volumes, undefined);
  });
  it('--json prints a machine-readable report', () => {
    const r = cli(['edit', input, '-o', join(dir, 'o3.tar'), '--json', '--add-port', '7000']);
    const j = JSON.parse(r.stdout.toString());
    assert.equal(j.layout, 'docker-legacy');
    assert.match(j.images[0].newId, /^sha256:[0-9a-f]{64}$/);
    assert.equal(j.images[0].changed, true);
  });
  it('documented exit codes: usage 2, bad archive 3, no matching image 4, missing input 6', async () => {
    assert.equal(cli(['edit', input, '-o', join(dir, 'x.tar')]).code, 2); // no edits
    assert.equal(cli(['edit', input, '-o', join(dir, 'x.tar'), '--frobnicate']).code, 2);
    assert.equal(cli(['edit', input, '-o', join(dir, 'x.tar'), '--add-port', 'abc']).code, 2);
    const notTar = join(dir, 'not.tar');
    await writeFile(notTar, 'hello, this is not a tar archive'.repeat(40));
    const bad = cli(['edit', notTar, '-o', join(dir, 'x.tar'), '--rm-volume', 'all']);
    assert.equal(bad.code, 3, bad.stderr);
    assert.match(bad.stderr, /not\.tar.*not a valid tar archive|not a tar/);
    const nomatch = cli(['edit', input, '-o', join(dir, 'x.tar'), '--rm-volume', 'all', '--image', 'other:2']);
    assert.equal(nomatch.code, 4);
    assert.match(nomatch.stderr, /--image other:2 matches no image.*example\/app:1\.0/);
    const missing = cli(['edit', join(dir, 'missing.tar'), '-o', join(dir, 'x.tar'), '--rm-volume', 'all']);
    assert.equal(missing.code, 6);
    assert.match(missing.stderr, /missing\.tar: no such file/);
    assert.equal(existsSync(join(dir, 'x.tar')), false);
    assert.doesNotMatch(bad.stderr + missing.stderr, /\n\s+at /, 'no stack trace without --debug');
  });
});
