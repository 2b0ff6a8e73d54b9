#!/usr/bin/env node
// node scripts/bench/many.mjs [--images 10000] [--runs 3] [--dir /tmp/copyedit-many] [--bin bin/copyedit.js] [--build-only]
//
// Issue 20/23: an OCI archive of many images, built with the test OciBuilder
// (dist/test/unit/oci-builder.js: run `npm run -s build:incremental` first): one shared layer,
// --images configs differing by one label, their manifests, one index naming them all as
// docker.io/example/many:1. Times `edit --label x=y`, `--format docker` and
// `--format docker --layer-compression gzip` (median of --runs, with min-max) and the peak RSS
// (GNU time's %M). --bin times another build (e.g. /tmp/old284/bin/copyedit.js).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const images = Number(opt('images', 10000));
const runs = Number(opt('runs', 3));
const dir = opt('dir', '/tmp/copyedit-many');
const bin = opt('bin', join(root, 'bin/copyedit.js'));
mkdirSync(dir, { recursive: true });

/** The archive of `n` images sharing one layer, built once per size. */
export async function buildMany(n, path) {
  const { manyImagesArchive } = await import(pathToFileURL(join(root, 'dist/test/unit/oci-builder.js')).href);
  writeFileSync(path, await manyImagesArchive(n));
}

const path = join(dir, `many-${images}.tar`);
if (!existsSync(path)) await buildMany(images, path);
if (args.includes('--build-only')) {
  console.log(path);
  process.exit(0);
}

const rows = [
  ['edit --label x=y', ['edit', '--label', 'x=y']],
  ['--format docker', ['edit', '--format', 'docker']],
  ['--format docker --layer-compression gzip', ['edit', '--format', 'docker', '--layer-compression', 'gzip']],
];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
console.log(
  `${images} images, ${path}, ${bin}, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
console.log('| run | median s | min-max s | peak RSS MiB | exit |');
console.log('|---|---|---|---|---|');
for (const [name, argv] of rows) {
  const secs = [];
  let rss = 0;
  let status = 0;
  let err = '';
  for (let r = 0; r < runs; r++) {
    const out = join(dir, 'out.tar');
    rmSync(out, { force: true });
    const t0 = process.hrtime.bigint();
    const p = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, bin, ...argv, '--no-fsync', path, '-o', out], { encoding: 'utf8', maxBuffer: 1 << 28 });
    secs.push(Number(process.hrtime.bigint() - t0) / 1e9);
    const lines = p.stderr.trim().split('\n');
    rss = Math.max(rss, Number(lines.pop()) / 1024);
    status = p.status;
    if (p.status !== 0) {
      err = lines.join(' ').slice(0, 300);
      break;
    }
  }
  console.log(`| ${name} | ${median(secs).toFixed(2)} | ${Math.min(...secs).toFixed(2)}-${Math.max(...secs).toFixed(2)} | ${rss.toFixed(0)} | ${status}${err ? `: ${err}` : ''} |`);
}
