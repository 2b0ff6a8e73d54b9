/** inspect --format (a Go-template subset) and shell completion scripts. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dockerLegacy } from '../unit/fixtures.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/copyedit.js');
const SAMPLES = join(ROOT, 'samples');
let dir: string;
let input: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-format-'));
  input = join(dir, 'in.tar');
  await writeFile(input, (await dockerLegacy({ config: { Entrypoint: ['/app/run', '--x'], Cmd: null, Labels: { 'a.b': 'v 1', z: 'w' }, Volumes: { '/data': {} } } })).archive);
});
after(() => rm(dir, { recursive: true, force: true }));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { maxBuffer: 1 << 26, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

describe('inspect --format', () => {
  it('dotted paths print as docker inspect -f does', () => {
    const r = cli(['inspect', input, '--format', '{{.Config.Entrypoint}}|{{.Config.Cmd}}|{{.Config.Labels}}|{{.Config.Volumes}}|{{.RepoTags}}|{{.Os}}/{{.Architecture}}']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '[/app/run --x]|<no value>|map[a.b:v 1 z:w]|map[/data:map[]]|[example/app:1.0]|linux/amd64\n');
  });
  it('{{json .Config}} is compact JSON that parses, with the Docker field names', () => {
    const r = cli(['inspect', input, '-f', '{{json .Config}}']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(j.Entrypoint, ['/app/run', '--x']);
    assert.equal('Cmd' in j, false, 'a null Cmd is left out, as Docker 28 leaves it out');
    assert.deepEqual(j.Volumes, { '/data': {} });
    assert.equal(r.stdout.trim().split('\n').length, 1);
  });
  it('one line per image; .Id is the image ID; .Inspect reaches the whole inspect JSON', () => {
    const json = JSON.parse(cli(['inspect', join(SAMPLES, 'docker26-multi.tar'), '--json']).stdout) as { images: { id: string; manifestDigest: string | null }[] };
    const r = cli(['inspect', join(SAMPLES, 'docker26-multi.tar'), '--format', '{{.Id}} {{.Inspect.manifestDigest}}']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.stdout.trimEnd().split('\n'),
      json.images.map((i) => `${i.id} ${i.manifestDigest ?? '<no value>'}`),
    );
  });
  it('a missing map key is <no value>; a mistyped field is an error with the spelling', () => {
    assert.equal(cli(['inspect', input, '-f', '{{.Config.Labels.nope}}']).stdout, '<no value>\n');
    const r = cli(['inspect', input, '-f', '{{.Config.Entrypont}}']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /\.Config has no field Entrypont; did you mean Entrypoint\?/);
  });
  it('outside the subset, or with --json: exit 2 before reading the archive', () => {
    for (const f of ['{{range .RepoTags}}{{.}}{{end}}', '{{.Id | printf "%s"}}', '{{index .RepoTags 0}}', '{{.Id']) {
      const r = cli(['inspect', '/nonexistent.tar', '-f', f]);
      assert.equal(r.code, 2, `${f}: ${r.stderr}`);
    }
    assert.equal(cli(['inspect', input, '-f', '{{.Id}}', '--json']).code, 2);
  });
});

describe('completion', () => {
  it("bash: valid syntax, lists the commands and each command's flags, and completes", () => {
    const r = cli(['completion', 'bash']);
    assert.equal(r.code, 0, r.stderr);
    const file = join(dir, 'c.bash');
    spawnSync('sh', ['-c', `cat > ${file}`], { input: r.stdout });
    assert.equal(spawnSync('bash', ['-n', file]).status, 0);
    for (const f of ['--rm-volume', '--entrypoint-shell', '--out-dir', '--no-trunc', '--format', '--strict', '--exit-code']) {
      assert.ok(r.stdout.includes(f), f);
    }
    const run = (words: string[]) =>
      spawnSync('bash', ['-c', `source ${file}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _copyedit; echo "\${COMPREPLY[*]}"`])
        .stdout.toString()
        .trim();
    assert.equal(run(['copyedit', 'ed']), 'edit');
    assert.equal(run(['copyedit', 'edit', '--rm-vol']), '--rm-volume');
    assert.equal(run(['copyedit', 'verify', '--st']), '--strict');
  });
  it('zsh: a script naming the commands and flags (checked with zsh -n when zsh is installed)', (t) => {
    const r = cli(['completion', 'zsh']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^#compdef copyedit/);
    assert.ok(r.stdout.includes('--rm-volume') && r.stdout.includes('inspect'));
    const z = spawnSync('zsh', ['-n'], { input: r.stdout });
    if (z.error) t.skip('zsh is not installed');
    else assert.equal(z.status, 0, z.stderr.toString());
  });
  it('another shell: exit 2 naming the choices', () => {
    const r = cli(['completion', 'fish']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'copyedit: error: completion fish: not a choice; choose one of bash, zsh\n');
  });
});
