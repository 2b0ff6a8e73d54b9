/**
 * Issue 24, findings 3, 7 and 8, at the CLI: what a new user still tripped over. Each test failed
 * before its fix.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const ROOT = new URL('../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/copyedit.js');
const LEGACY = join(ROOT, 'samples/docker20-legacy.tar');
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-newuser24-'));
});
after(() => rm(dir, { recursive: true, force: true }));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { maxBuffer: 1 << 26, cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

describe('finding 3: -o DIR/ from an archive without index.json', () => {
  it('names --format oci, which works, and never says this version cannot convert', () => {
    const r = cli(['edit', LEGACY, '-o', join(dir, 'nd/'), '--label', 'a=b']);
    assert.equal(r.code, 2, r.stderr);
    assert.doesNotMatch(r.stderr, /does not make/);
    assert.match(r.stderr, /add --format oci to convert it/);
    const ok = cli(['edit', LEGACY, '-o', join(dir, 'nd/'), '--label', 'a=b', '--format', 'oci']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(existsSync(join(dir, 'nd', 'index.json')));
  });
});

describe('finding 7: {{json .Config}} as docker inspect of the loaded image prints it (Docker 28)', () => {
  it('no volumes and no ports: no Volumes or ExposedPorts key (Docker 28 prints none), and diff says they were removed', () => {
    const out = join(dir, 'none.tar');
    assert.equal(cli(['edit', LEGACY, '-o', out, '--rm-volume', 'all', '--rm-port', 'all']).code, 0);
    const r = cli(['inspect', '--format', '{{json .Config}}', out]);
    assert.equal(r.code, 0, r.stderr);
    // byte for byte what `docker image inspect --format '{{json .Config}}'` printed on Docker 28.5 (both stores)
    assert.equal(
      r.stdout,
      '{"User":"1000","Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","APP_MODE=prod"],"Entrypoint":["/app/run"],"Cmd":["--serve"],"WorkingDir":"/srv","Labels":{"org.example.vendor":"Example Ünïcode"}}\n',
    );
    const before = cli(['inspect', '--format', '{{json .Config}}', LEGACY]);
    assert.equal(
      before.stdout,
      '{"User":"1000","ExposedPorts":{"8080/tcp":{},"9090/udp":{}},"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","APP_MODE=prod"],"Entrypoint":["/app/run"],"Cmd":["--serve"],"Volumes":{"/data":{},"/var/log/app":{}},"WorkingDir":"/srv","Labels":{"org.example.vendor":"Example Ünïcode"}}\n',
    );
    assert.equal(cli(['inspect', '--format', '{{.Config.Volumes}} {{json .Config.Volumes}}', out]).stdout, 'map[] null\n');
    const d = cli(['diff', LEGACY, out]);
    assert.match(d.stdout, /^ {2}- config\.Volumes: \{"\/data":\{\},"\/var\/log\/app":\{\}\}$/m);
    assert.match(d.stdout, /^ {2}- config\.ExposedPorts: /m);
  });
});

describe('finding 8: help and messages', () => {
  it('edit --help: KEY=VALUE forms, which flags repeat, examples, no [array] [required] [default: []] noise', () => {
    const r = cli(['edit', '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /--env +KEY=VALUE: set an environment variable/);
    assert.match(r.stdout, /--label +KEY=VALUE: set a label/);
    assert.match(r.stdout, /Edits \(applied in the order given; each may be repeated/);
    assert.match(r.stdout, /--image +REF\|ID: edit only this image .*; repeatable/);
    assert.match(r.stdout, /^Examples:\n {2}copyedit edit in\.tar -o out\.tar --rm-volume all/m);
    assert.doesNotMatch(r.stdout, /\[array\]|\[required\]|\[default: |\[string\]|\[boolean\]/);
  });
  it('a missing argument and a bad choice get our own one-line messages', () => {
    const none = cli(['edit']);
    assert.equal(none.code, 2);
    assert.equal(none.stderr, 'copyedit: error: edit needs an input archive (or - for standard input): copyedit edit in.tar -o out.tar --rm-volume all (see copyedit edit --help)\n');
    const inspect = cli(['inspect']);
    assert.match(inspect.stderr, /^copyedit: error: inspect needs an archive/);
    const bad = cli(['edit', LEGACY, '-o', join(dir, 'x.tar'), '--format', 'oic']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'copyedit: error: --format oic: not a choice; choose one of docker-legacy, docker, oci, oci-dir (did you mean oci?)\n');
    for (const r of [none, inspect, bad]) assert.doesNotMatch(r.stderr, /Not enough non-option|Invalid values|Argument: |Given: |Choices: /);
  });
  it('a typo in the sentence form gets a did-you-mean, as flag typos do', () => {
    const r = cli(['FROM', LEGACY, 'INTO', join(dir, 's.tar'), 'REMOVE', 'ALL', 'VOLUMS']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /"REMOVE ALL VOLUMS" is not a command copyedit understands; did you mean "REMOVE ALL VOLUMES"\?/);
    const e = cli(['FROM', LEGACY, 'INTO', join(dir, 's.tar'), 'SET', 'ENTRYPONT', '/x']);
    assert.match(e.stderr, /did you mean "SET ENTRYPOINT \/x"\?/);
  });
});

describe("findings 4, 6, 9, 10, 11: the README is the user's page, and says what is true", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  it('finding 6: no issue numbers, no path outside the repository, internals in docs/ with links that resolve', () => {
    assert.doesNotMatch(readme, /\bissues? \d+\b/i);
    assert.doesNotMatch(readme, /\.\.\/shared|\/work\//);
    assert.ok(readme.split('\n').length < 620, `README has ${readme.split('\n').length} lines`);
    for (const h of ['## Install and try it', '## Run the tests', '## Commands', '## Exit codes', '## Formats', '## Known limits', '## Library']) assert.ok(readme.includes(h), h);
    assert.doesNotMatch(readme, /^## Performance|^### Where the time goes|^## How copyedit compares|^## Dependencies we chose not to use/m);
    for (const m of readme.matchAll(/\]\((docs\/[A-Z]+\.md)\)/g)) assert.ok(existsSync(join(ROOT, m[1]!)), `${m[1]} is linked from the README`);
    // the two set-up commands, verbatim
    assert.ok(
      readme.includes('    npm install && npm run build && npx copyedit edit samples/docker20-legacy.tar -o /tmp/edited.tar --rm-volume all --rm-port all --entrypoint \'["/bin/echo","edited"]\'\n'),
    );
    assert.ok(readme.includes('    bash scripts/engines/setup.sh && npm ci && npm test\n'));
  });
  it('the try-it output the README shows is what the command prints', () => {
    const r = cli(['edit', LEGACY, '-o', join(dir, 'edited.tar'), '--rm-volume', 'all', '--rm-port', 'all', '--entrypoint', '["/bin/echo","edited"]']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(readme.includes(`    ${r.stderr.trim()}\n`), r.stderr);
  });
  it('finding 4: daemon mode documents DOCKER_HOST, docker context and podman', () => {
    assert.match(readme, /DOCKER_HOST/);
    assert.match(readme, /docker context/);
    assert.match(readme, /--docker podman/);
    assert.match(readme, /podman\.sock/);
  });
  it('finding 9: one engine state directory, COPYEDIT_ENGINE_STATE, documented; the demo image script', () => {
    assert.match(readme, /COPYEDIT_ENGINE_STATE/);
    assert.match(readme, /scripts\/demo-image\.sh/);
    assert.doesNotMatch(readme, /copyedit-etest/);
    const harness = readFileSync(join(ROOT, 'test/engines/harness.ts'), 'utf8');
    assert.match(harness, /process\.env\.COPYEDIT_ENGINE_STATE \|\|/);
    assert.match(harness, /'\/tmp\/copyedit-engines'/);
  });
  it('finding 10: the README lists exactly what install.sh installs; apt is quiet; npm ci has no unreviewed install script', () => {
    const install = readFileSync(join(ROOT, 'scripts/engines/install.sh'), 'utf8');
    const pkgs = /^PKGS=\(([^)]*)\)/m.exec(install)![1]!.trim().split(/\s+/);
    const list = readme.slice(readme.indexOf('`install.sh` installs exactly this'), readme.indexOf('`npm test` compiles'));
    for (const p of pkgs) assert.ok(list.includes(`\`${p}\``), `the README does not list ${p}`);
    for (const p of ['docker.io', 'containerd', 'docker-buildx']) assert.ok(list.includes(p));
    assert.match(install, /DEBIAN_FRONTEND=noninteractive/);
    assert.match(install, /NEEDRESTART_MODE=a/);
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };
    const allow = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> }).allowScripts ?? {};
    for (const [path, p] of Object.entries(lock.packages)) {
      if (!p.hasInstallScript) continue;
      const name = path.replace(/^.*node_modules\//, '');
      assert.ok(name in allow, `${name} has an install script that package.json's allowScripts does not cover`);
    }
  });
  it('finding 11: the output section points to docs/ERRORS.md for -o equal to the input', () => {
    assert.match(readme, /`-o` naming the input file itself: .*\[docs\/ERRORS\.md\]/s);
  });
  it('Node 20, 22 and 24 are named as supported and tested', () => {
    assert.match(readme, /Node\.js 20, 22 or 24/);
    const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8');
    assert.match(ci, /node-versions\.sh 22 24/);
  });
});
