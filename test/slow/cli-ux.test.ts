/** What a new user trips over (issue 14), and control characters from an archive (issue 9), at the CLI. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { escapeControl, jsonText } from '../../src/cli/out.js';
import { closest, editDistance } from '../../src/cli/suggest.js';
import { dockerLegacy } from '../unit/fixtures.js';
import { item, mutateTar } from '../unit/mutate.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/copyedit.js');
const OUR_VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
let dir: string;
let input: string;
let evil: string;
const EVIL = '\u001b[2J\u001b]0;pwned\u0007\ncopyedit: done\u009b31m';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-cliux-'));
  input = join(dir, 'in.tar');
  await writeFile(input, (await dockerLegacy()).archive);
  // a label value and a tag holding ESC, BEL, a newline and a C1 CSI
  evil = join(dir, 'evil.tar');
  const fx = await dockerLegacy({ config: { Labels: { k: EVIL }, Env: [`X=${EVIL}`] } });
  await writeFile(
    evil,
    await mutateTar(fx.archive, (items) => {
      const m = item(items, (n) => n === 'manifest.json');
      const j = JSON.parse(m.data.toString()) as { RepoTags: string[] }[];
      j[0]!.RepoTags = [`example/app:1.0`, `x${EVIL}`];
      m.data = Buffer.from(JSON.stringify(j));
    }),
  );
});
after(() => rm(dir, { recursive: true, force: true }));

function cli(args: string[], o: { cwd?: string } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { maxBuffer: 1 << 26, cwd: o.cwd ?? ROOT, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** Run with standard output a pipe whose reader is already gone, as `copyedit ... | true`. */
function cliClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
    child.stdout.destroy();
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code, stderr: err }));
  });
}

describe('--version', () => {
  it("installed inside a project, prints our own version, not the project's", async () => {
    // as `npm install image-copyedit` lays it out: our package and yargs, real copies, under the
    // host's node_modules (yargs guesses the version from the directory above its node_modules)
    const host = join(dir, 'host');
    const nm = join(host, 'node_modules');
    await writeFile(join(await mkdirp(host), 'package.json'), JSON.stringify({ name: 'host', version: '9.8.7' }));
    const ours = join(nm, 'image-copyedit');
    await cp(join(ROOT, 'bin'), join(ours, 'bin'), { recursive: true });
    await cp(join(ROOT, 'dist', 'src'), join(ours, 'dist', 'src'), { recursive: true });
    await cp(join(ROOT, 'package.json'), join(ours, 'package.json'));
    const realYargs = dirname(realpathSync(fileURLToPath(import.meta.resolve('yargs'))));
    const yargsRoot = realYargs.slice(0, realYargs.lastIndexOf('/yargs') + '/yargs'.length);
    await cp(yargsRoot, join(nm, 'yargs'), { recursive: true });
    const deps = Object.keys((JSON.parse(readFileSync(join(yargsRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
    for (const d of deps) await symlink(join(dirname(yargsRoot), d), join(nm, d));
    const r = spawnSync(process.execPath, [join(ours, 'bin', 'copyedit.js'), '--version'], { cwd: host });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(r.stdout.toString().trim(), OUR_VERSION);
  });
});

async function mkdirp(d: string): Promise<string> {
  await mkdir(d, { recursive: true });
  return d;
}

describe('a closed standard output', () => {
  for (const args of [
    ['inspect', 'IN'],
    ['verify', 'IN'],
    ['diff', 'IN', 'IN'],
    ['inspect', 'IN', '--json'],
  ]) {
    it(`${args.join(' ')} | true: exit 6 with one line, no stack`, async () => {
      const r = await cliClosedStdout(args.map((a) => (a === 'IN' ? input : a)));
      assert.equal(r.code, 6, r.stderr);
      assert.equal(r.stderr, 'copyedit: error: cannot write standard output: the reading end of the pipe was closed\n');
    });
  }
});

describe('the sentence form', () => {
  it('a FROM that looks like a path and does not exist: no such file, exit 6, no daemon', () => {
    for (const from of ['samples/podmn.tar', './x', '/nonexistent/in', 'app.tar.gz']) {
      const r = cli(['FROM', from, 'INTO', join(dir, 'x.tar'), 'SET', 'CMD', 'x', '--docker', '/nonexistent/docker']);
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stderr, new RegExp(`FROM ${from.replace(/\./g, '\\.')}: no such file; check the path`));
      assert.doesNotMatch(r.stderr, /daemon mode/);
    }
  });
  it('daemon mode says so when it is chosen', () => {
    const r = cli(['FROM', 'vendor/app:1', 'INTO', join(dir, 'x.tar'), 'SET', 'CMD', 'x', '--docker', '/nonexistent/docker']);
    assert.equal(r.code, 6);
    assert.match(r.stderr, /^copyedit: daemon mode: reading image vendor\/app:1 with `\/nonexistent\/docker save`/);
  });
  it('without INTO: says the sentence needs it and shows the form', () => {
    const r = cli(['FROM', input, 'SET', 'CMD', 'x']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /needs both FROM and INTO \(no INTO given\): copyedit FROM <archive or image> INTO <archive or image>/);
    assert.doesNotMatch(r.stderr, /Unknown arguments/);
  });
  it('SET CMD with no value shows the form', () => {
    const r = cli(['FROM', input, 'INTO', join(dir, 'x.tar'), 'SET', 'CMD']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /say SET CMD <value>, e\.g\. SET CMD \/start\.sh/);
  });
});

describe('typos', () => {
  it('a mistyped command: did you mean', () => {
    const r = cli(['edti', input, '-o', join(dir, 'x.tar'), '--rm-volume', 'all']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command "edti"; did you mean edit\?/);
  });
  it('a mistyped flag: did you mean, once, without the camel-case twin', () => {
    const r = cli(['edit', input, '-o', join(dir, 'x.tar'), '--rm-volumes', 'all']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option --rm-volumes; did you mean --rm-volume\? \(see copyedit edit --help\)/);
    assert.doesNotMatch(r.stderr, /rmVolumes/);
    const v = cli(['verify', input, '--strikt']);
    assert.match(v.stderr, /did you mean --strict\?/);
  });
  it('a mistyped option in the sentence form: did you mean, and the options it takes', () => {
    const r = cli(['FROM', input, 'INTO', join(dir, 'x.tar'), 'SET', 'CMD', 'x', '--dryrn']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option --dryrn in the sentence form; did you mean --dryrun\? It takes -z\/--dryrun/);
  });
  it('edit distance and the threshold', () => {
    assert.equal(editDistance('edti', 'edit'), 1);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(closest('inspcet', ['edit', 'inspect', 'verify']), 'inspect');
    assert.equal(closest('frobnicate', ['edit', 'inspect', 'verify']), undefined);
  });
});

describe('--entrypoint / --cmd with blanks, not JSON', () => {
  it('warns, pointing to the shell flag and the JSON form; the edit still runs', () => {
    const r = cli(['edit', input, '-o', join(dir, 'w.tar'), '--entrypoint', '/bin/sh -c "run me"', '--cmd', 'a b']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: --entrypoint '\/bin\/sh -c "run me"' sets one argument \["\/bin\/sh -c \\"run me\\""\].*--entrypoint-shell.*the JSON form --entrypoint '\[/);
    assert.match(r.stderr, /warning: --cmd 'a b' sets one argument \["a b"\].*--cmd-shell 'a b'.*--cmd '\["a","b"\]'/);
  });
  it('no warning for JSON, one word, or the shell flags', () => {
    const r = cli(['edit', input, '-o', join(dir, 'w.tar'), '--entrypoint', '["/bin/sh","-c","run me"]', '--cmd', '/start.sh', '--entrypoint-shell', 'a b']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /warning/);
  });
  it('the sentence form warns too', () => {
    const r = cli(['FROM', input, 'INTO', join(dir, 'w.tar'), 'SET', 'ENTRYPOINT', '/app --serve']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: SET ENTRYPOINT "\/app --serve" sets one argument.*SET SHELL ENTRYPOINT.*SET ENTRYPOINT '\["\/app","--serve"\]'/);
  });
});

describe('output', () => {
  it('verify lists each failure once, and counts in correct plurals', async () => {
    const bad = join(dir, 'bad.tar');
    await writeFile(
      bad,
      await mutateTar(readFileSync(input), (items) => {
        const l = item(items, (n) => n.endsWith('/layer.tar'));
        l.data[600] = l.data[600]! ^ 1;
      }),
    );
    const r = cli(['verify', bad]);
    assert.equal(r.code, 5);
    const all = r.stdout + r.stderr;
    assert.equal(all.match(/does not match DiffID/g)?.length, 1, all);
    const ok = cli(['verify', input]);
    assert.match(ok.stdout, /verified \(1 digest name, 0 descriptors, 2 DiffIDs, 1 manifest\.json image, 0 links checked\)/);
  });
  it('diff --exit-code: 1 when the archives differ, 0 when identical; 0 without it', () => {
    const other = join(dir, 'other.tar');
    assert.equal(cli(['edit', input, '-o', other, '--rm-volume', 'all']).code, 0);
    assert.equal(cli(['diff', input, other, '-q']).code, 0);
    assert.equal(cli(['diff', input, other, '-q', '--exit-code']).code, 1);
    assert.equal(cli(['diff', input, input, '-q', '--exit-code']).code, 0);
  });
  it('a batch failure names the archive once', async () => {
    const junk = join(dir, 'junk.tar');
    await writeFile(junk, 'junk');
    const r = cli(['edit', junk, input, '--out-dir', join(dir, 'out'), '--rm-volume', 'all']);
    assert.equal(r.code, 3);
    const line = r.stderr.split('\n').find((l) => l.startsWith('FAILED'))!;
    assert.equal(line.split(junk).length, 2, line);
    assert.match(r.stderr, /^2 archives: 1 written, 1 failed, 0 skipped$/m);
  });
  it('a new tag alone is reported as unchanged, as for an edit that changes nothing', () => {
    const r = cli(['edit', input, '-o', join(dir, 't.tar'), '--tag', 'new:1']);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /^example\/app:1\.0: classic [0-9a-f]{12}, containerd [0-9a-f]{12} unchanged: the edits change nothing in this image; tagged new:1$/m);
    assert.doesNotMatch(r.stderr, /([0-9a-f]{12}) -> \1/);
  });
});

describe('control characters from the archive never reach the terminal raw', () => {
  const raw = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
  it('inspect, verify, diff and edit escape tags, labels and env', () => {
    const runs = [
      cli(['inspect', evil]),
      cli(['verify', evil]),
      cli(['diff', input, evil]),
      cli(['edit', evil, '-o', join(dir, 'e.tar'), '--rm-volume', 'all', '--dry-run']),
      cli(['edit', evil, '-o', join(dir, 'e.tar'), '--rm-volume', 'all']),
    ];
    for (const r of runs) {
      assert.equal(r.code, 0, r.stderr);
      for (const text of [r.stdout, r.stderr]) {
        assert.doesNotMatch(text, raw);
        assert.doesNotMatch(text, /^copyedit: done/m);
      }
    }
    assert.match(runs[0]!.stdout, /k=\\x1b\[2J\\x1b\]0;pwned\\x07\\ncopyedit: done\\x9b31m/);
  });
  it('--json keeps the values, escaped as JSON', () => {
    const r = cli(['inspect', evil, '--json']);
    assert.doesNotMatch(r.stdout, raw);
    const j = JSON.parse(r.stdout) as { images: { config: { labels: Record<string, string> } }[] };
    assert.equal(j.images[0]!.config.labels.k, EVIL);
  });
  it('an error naming an entry escapes it too', async () => {
    const bad = join(dir, 'bad-name.tar');
    await writeFile(
      bad,
      await mutateTar(readFileSync(input), (items) => {
        const m = item(items, (n) => n === 'manifest.json');
        const j = JSON.parse(m.data.toString()) as { Config: string }[];
        j[0]!.Config = `missing${EVIL}.json`;
        m.data = Buffer.from(JSON.stringify(j));
      }),
    );
    const r = cli(['inspect', bad]);
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stderr, raw);
    assert.doesNotMatch(r.stderr, /^copyedit: done/m);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  });
  it('escapeControl and jsonText', () => {
    assert.equal(escapeControl('a\u001bb\nc\td\u2028e\u0085'), 'a\\x1bb\\nc\\td\\u2028e\\x85');
    assert.equal(escapeControl('Ünïcode ok'), 'Ünïcode ok');
    assert.equal(jsonText({ a: '\u009b\u202e' }), '{\n  "a": "\\u009b\\u202e"\n}');
    assert.deepEqual(JSON.parse(jsonText({ a: '\u009b\u202e' })), { a: '\u009b\u202e' });
  });
});

describe('packaging', () => {
  it('the package ships LICENSE and compiled code, no source maps, and runs no install script', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; license: string };
    for (const s of ['prepare', 'preinstall', 'install', 'postinstall']) assert.equal(pkg.scripts[s], undefined, `${s} runs on every install`);
    assert.ok(pkg.scripts.prepack, 'npm pack must build');
    assert.match(readFileSync(join(ROOT, 'LICENSE'), 'utf8'), new RegExp(`^${pkg.license} License`));
    const r = spawnSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    for (const f of ['LICENSE', 'bin/copyedit.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'package.json']) assert.ok(files.includes(f), f);
    assert.deepEqual(
      files.filter((f) => f.endsWith('.map') || f.startsWith('test') || f.startsWith('dist/test') || f.startsWith('src/')),
      [],
    );
  });
});

describe('the progress line', () => {
  it('escapes control characters in the file name it shows', async () => {
    const { progressLine } = await import('../../src/cli/progress.js');
    assert.match(progressLine('a\u001b[2Jb\n.tar', 10, 100, 1), /^a\\x1b\[2Jb\\n\.tar {2}/);
  });
});

describe('history and SOURCE_DATE_EPOCH from the command line (issue 13, part)', () => {
  const run = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [BIN_HISTORY, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  const BIN_HISTORY = new URL('../../../bin/copyedit.js', import.meta.url).pathname;
  const SAMPLE = new URL('../../../samples/docker20-legacy.tar', import.meta.url).pathname;
  it('--history-squash, SQUASH HISTORY and REMOVE HISTORY ARG give the same archive as the flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'copyedit-hist-'));
    try {
      const a = run(['edit', SAMPLE, '-o', join(dir, 'a.tar'), '--history-squash', '--history-rm-arg', 'TOKEN']);
      assert.equal(a.status, 0, a.stderr);
      const b = run(['FROM', SAMPLE, 'INTO', join(dir, 'b.tar'), 'SQUASH', 'HISTORY', 'AND', 'REMOVE', 'HISTORY', 'ARG', 'TOKEN']);
      assert.equal(b.status, 0, b.stderr);
      assert.ok(readFileSync(join(dir, 'a.tar')).equals(readFileSync(join(dir, 'b.tar'))));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('SET FORMAT, SET LAYER COMPRESSION and SET SOURCE_DATE_EPOCH give the same archive as --format, --layer-compression and --source-date-epoch; $SOURCE_DATE_EPOCH counts too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'copyedit-sentence-fmt-'));
    try {
      const flags = ['--rm-volume', 'all', '--format', 'oci', '--layer-compression', 'gzip', '--source-date-epoch', '1700000000'];
      const a = run(['edit', SAMPLE, '-o', join(dir, 'a.tar'), ...flags]);
      assert.equal(a.status, 0, a.stderr);
      const b = run([
        'FROM',
        SAMPLE,
        'INTO',
        join(dir, 'b.tar'),
        'REMOVE',
        'ALL',
        'VOLUMES',
        'AND',
        'SET',
        'FORMAT',
        'OCI',
        'AND',
        'SET',
        'LAYER',
        'COMPRESSION',
        'GZIP',
        '+',
        'SET',
        'SOURCE_DATE_EPOCH',
        '1700000000',
      ]);
      assert.equal(b.status, 0, b.stderr);
      const c = run(['FROM', SAMPLE, 'INTO', join(dir, 'c.tar'), 'rm', 'all', 'volumes', 'and', 'set', 'format', 'oci', 'and', 'set', 'layer', 'compression', 'gzip'], {
        SOURCE_DATE_EPOCH: '1700000000',
      });
      assert.equal(c.status, 0, c.stderr);
      const want = readFileSync(join(dir, 'a.tar'));
      assert.ok(want.includes('application/vnd.oci.image.layer.v1.tar+gzip'));
      assert.ok(want.equals(readFileSync(join(dir, 'b.tar'))), 'SET ... differs from the flags');
      assert.ok(want.equals(readFileSync(join(dir, 'c.tar'))), '$SOURCE_DATE_EPOCH in the sentence form differs');
      const d = run(['FROM', SAMPLE, 'INTO', join(dir, 'd'), 'SET', 'FORMAT', 'OCI-DIR', 'AND', 'SET', 'CMD', '/x']);
      assert.equal(d.status, 0, d.stderr);
      assert.ok(readFileSync(join(dir, 'd', 'oci-layout')).length > 0);
      for (const [words, msg] of [
        [['SET', 'FORMAT', 'tarball'], /the layouts are docker-legacy, docker, oci, oci-dir/],
        [['SET', 'LAYER', 'COMPRESSION', 'brotli'], /say one of none, gzip, zstd/],
        [['SET', 'SOURCE_DATE_EPOCH', 'yesterday'], /give whole seconds since 1970/],
        [['SET', 'FORMAT'], /SET FORMAT <docker-legacy\|docker\|oci\|oci-dir>/],
      ] as const) {
        const r = run(['FROM', SAMPLE, 'INTO', join(dir, 'e.tar'), ...words]);
        assert.equal(r.status, 2, `${words.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, msg);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('--source-date-epoch and $SOURCE_DATE_EPOCH give the same archive; a malformed value is a usage error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'copyedit-epoch-'));
    try {
      assert.equal(run(['edit', SAMPLE, '-o', join(dir, 'a.tar'), '--rm-volume', 'all', '--source-date-epoch', '1700000000']).status, 0);
      assert.equal(run(['edit', SAMPLE, '-o', join(dir, 'b.tar'), '--rm-volume', 'all'], { SOURCE_DATE_EPOCH: '1700000000' }).status, 0);
      assert.ok(readFileSync(join(dir, 'a.tar')).equals(readFileSync(join(dir, 'b.tar'))));
      assert.ok(readFileSync(join(dir, 'a.tar')).includes('"created":"2023-11-14T22:13:20Z"'));
      const bad = run(['edit', SAMPLE, '-o', join(dir, 'c.tar'), '--rm-volume', 'all', '--source-date-epoch', 'yesterday']);
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /give whole seconds since 1970/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SOURCE_DATE_EPOCH under a faked clock (issue 13, part)', () => {
  it('two runs a day apart with --created now --source-date-epoch give byte-identical archives', () => {
    const dir = mkdtempSync(join(tmpdir(), 'copyedit-clock-'));
    try {
      // a preload that moves the process's clock by FAKE_SHIFT_MS
      const fake = join(dir, 'fake-clock.mjs');
      writeFileSync(
        fake,
        `const real = Date.now; const shift = Number(process.env.FAKE_SHIFT_MS || 0); const R = Date;
globalThis.Date = class extends R { constructor(...a) { if (a.length === 0) super(real() + shift); else super(...a); } static now() { return real() + shift; } };`,
      );
      const outs = ['0', String(24 * 3600 * 1000)].map((shift, n) => {
        const out = join(dir, `out${n}.tar`);
        const sample = new URL('../../../samples/docker20-legacy.tar', import.meta.url).pathname;
        const r = spawnSync(
          process.execPath,
          ['--import', fake, new URL('../../../bin/copyedit.js', import.meta.url).pathname, 'edit', sample, '-o', out, '--created', 'now', '--source-date-epoch', '1700000000'],
          {
            encoding: 'utf8',
            env: { ...process.env, FAKE_SHIFT_MS: shift },
          },
        );
        assert.equal(r.status, 0, r.stderr);
        return readFileSync(out);
      });
      assert.ok(outs[0]!.equals(outs[1]!), 'the two runs differ');
      // and the clock does move the output when no epoch is given
      const a = spawnSync(
        process.execPath,
        [
          '--import',
          fake,
          new URL('../../../bin/copyedit.js', import.meta.url).pathname,
          'edit',
          new URL('../../../samples/docker20-legacy.tar', import.meta.url).pathname,
          '-o',
          join(dir, 'x.tar'),
          '--created',
          'now',
        ],
        {
          encoding: 'utf8',
          env: { ...process.env, FAKE_SHIFT_MS: String(24 * 3600 * 1000), SOURCE_DATE_EPOCH: '' },
        },
      );
      assert.equal(a.status, 0, a.stderr);
      assert.ok(!readFileSync(join(dir, 'x.tar')).equals(outs[0]!));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('argument errors the library reports as RangeError are usage errors on the command line', () => {
  it('--tag with a bad name and --keep-original without --tag: exit 2 with the flag named', () => {
    const BIN_TAG = new URL('../../../bin/copyedit.js', import.meta.url).pathname;
    const SAMPLE = new URL('../../../samples/docker20-legacy.tar', import.meta.url).pathname;
    const dir = mkdtempSync(join(tmpdir(), 'copyedit-tagerr-'));
    try {
      const bad = spawnSync(process.execPath, [BIN_TAG, 'edit', SAMPLE, '-o', join(dir, 'a.tar'), '--rm-volume', 'all', '--tag', 'Bad:1'], { encoding: 'utf8' });
      assert.equal(bad.status, 2, bad.stderr);
      assert.match(bad.stderr, /--tag Bad:1: "Bad" must be lowercase/);
      const keep = spawnSync(process.execPath, [BIN_TAG, 'edit', SAMPLE, '-o', join(dir, 'b.tar'), '--rm-volume', 'all', '--keep-original'], { encoding: 'utf8' });
      assert.equal(keep.status, 2, keep.stderr);
      assert.match(keep.stderr, /--keep-original needs --tag/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
