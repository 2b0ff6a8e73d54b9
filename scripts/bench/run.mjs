#!/usr/bin/env node
// npm run bench [-- --size 1100 --runs 5 --dir /tmp/copyedit-bench --flat]
//
// Builds (or reuses) a >= 1 GiB docker-save archive with several large layers and one layer of
// 20,000 small files, then times on that same file, in one run: `cat in > out` (the physical
// limit), the manual method (tar x, edit the config with jq, tar c), skopeo copy + umoci config +
// skopeo copy (when installed), and `copyedit edit` with and without --verify. Prints the median
// of several runs, the ratio to cat and to `cat; sync` (copyedit fsyncs its output before the
// rename, so a durable copy is the fair comparison; --no-fsync is shown too), and the peak RSS. --flat also measures copyedit's
// peak RSS on a 100 MiB archive next to the big one (and a 5 GiB one with --flat5g).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const size = Number(opt('size', 1100));
const runs = Number(opt('runs', 5));
const dir = opt('dir', '/tmp/copyedit-bench');
mkdirSync(dir, { recursive: true });
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
if (!existsSync('/usr/bin/time')) {
  console.error('bench needs GNU time (/usr/bin/time): apt-get install time');
  process.exit(2);
}

function archive(mib, small) {
  const path = join(dir, `bench-${mib}m-${small}f.tar`);
  if (!existsSync(path)) {
    console.error(`building ${path} ...`);
    execFileSync(join(root, 'scripts/bench/make-big-archive.sh'), [path, String(mib), '4'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, SMALL_FILES: String(small) } });
  }
  return path;
}

/** Run `sh -c script` under GNU time; returns wall seconds and peak RSS in KiB. */
function timed(script) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', 'sh', '-c', script], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`failed (${r.status}): ${script}\n${r.stderr}`);
  const rss = Number(r.stderr.trim().split('\n').pop());
  return { s, rss };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const q = (p) => `'${p.replace(/'/g, `'\\''`)}'`;
const bin = `node ${q(join(root, 'bin/copyedit.js'))}`;
const verifyWorks = spawnSync('node', [join(root, 'bin/copyedit.js'), 'edit', '--help'], { encoding: 'utf8' }).stdout.includes('--verify');

const big = archive(size, 20000);
const out = join(dir, 'out.tar');
const work = join(dir, 'manual');
const methods = [
  { name: 'cat in > out', script: `cat ${q(big)} > ${q(out)}` },
  { name: 'cat in > out; sync out (durable copy)', script: `cat ${q(big)} > ${q(out)} && sync ${q(out)}` },
  {
    name: 'copyedit edit --rm-volume all',
    script: `${bin} edit ${q(big)} -o ${q(out)} --rm-volume all -q`,
  },
  { name: 'copyedit edit --rm-volume all --no-fsync', script: `${bin} edit ${q(big)} -o ${q(out)} --rm-volume all -q --no-fsync` },
  ...(verifyWorks ? [{ name: 'copyedit edit --rm-volume all --verify', script: `${bin} edit ${q(big)} -o ${q(out)} --rm-volume all --verify -q` }] : []),
  {
    name: 'manual: tar x, jq, tar c',
    needs: ['jq'],
    script: [
      `rm -rf ${q(work)} && mkdir -p ${q(work)} && tar -xf ${q(big)} -C ${q(work)} && cd ${q(work)}`,
      `cfg=$(jq -r '.[0].Config' manifest.json)`,
      `jq -c 'del(.config.Volumes)' "$cfg" > new.json && id=$(sha256sum new.json | cut -c1-64) && mv new.json "$id.json" && rm "$cfg"`,
      `jq -c --arg c "$id.json" '.[0].Config = $c' manifest.json > m.json && mv m.json manifest.json`,
      `tar -cf ${q(out)} . && cd / && rm -rf ${q(work)}`,
    ].join(' && '),
  },
  {
    name: 'skopeo copy + umoci config + skopeo copy',
    needs: ['skopeo', 'umoci'],
    script: [
      `rm -rf ${q(work)} ${q(out)}`,
      `skopeo copy -q docker-archive:${q(big)} oci:${q(work)}:img`,
      `umoci config --image ${q(work)}:img --clear=config.volume`,
      `skopeo copy -q oci:${q(work)}:img docker-archive:${q(out)}:bench/big:1`,
      `rm -rf ${q(work)}`,
    ].join(' && '),
  },
];

console.error(`archive: ${big} (${(statSync(big).size / 2 ** 30).toFixed(2)} GiB), ${runs} runs each, output in ${dir}`);
const rows = [];
let catMedian;
let syncMedian;
for (const m of methods) {
  const missing = (m.needs ?? []).filter((c) => !have(c));
  if (missing.length) {
    rows.push({ name: m.name, note: `skipped: ${missing.join(', ')} not installed` });
    continue;
  }
  const n = m.name.startsWith('skopeo') || m.name.startsWith('manual') ? Math.min(runs, 3) : runs;
  const samples = [];
  for (let i = 0; i < n; i++) {
    rmSync(out, { force: true });
    samples.push(timed(m.script));
  }
  const s = median(samples.map((x) => x.s));
  if (m.name === 'cat in > out') catMedian = s;
  if (m.name.startsWith('cat in > out; sync')) syncMedian = s;
  rows.push({ name: m.name, s, all: samples.map((x) => x.s.toFixed(2)).join(' '), rss: Math.max(...samples.map((x) => x.rss)) / 1024 });
}
rmSync(out, { force: true });

const pad = (s, n) => String(s).padEnd(n);
console.log(`\n| method | median s | x cat | x (cat; sync) | peak RSS MiB | runs (s) |`);
console.log(`|---|---|---|---|---|---|`);
for (const r of rows) {
  if (r.note) console.log(`| ${r.name} | - | - | - | - | ${r.note} |`);
  else console.log(`| ${pad(r.name, 40)} | ${r.s.toFixed(2)} | ${(r.s / catMedian).toFixed(2)} | ${(r.s / syncMedian).toFixed(2)} | ${r.rss.toFixed(0)} | ${r.all} |`);
}

if (args.includes('--flat') || args.includes('--flat5g')) {
  console.log(`\n| archive | copyedit peak RSS MiB | wall s |`);
  console.log(`|---|---|---|`);
  const sizes = [100, size, ...(args.includes('--flat5g') ? [5120] : [])];
  for (const mib of sizes) {
    const a = mib === size ? big : archive(mib, 0);
    const r = timed(`${bin} edit ${q(a)} -o ${q(out)} --rm-volume all -q`);
    console.log(`| ${(statSync(a).size / 2 ** 20).toFixed(0)} MiB | ${(r.rss / 1024).toFixed(0)} | ${r.s.toFixed(2)} |`);
    rmSync(out, { force: true });
  }
}
