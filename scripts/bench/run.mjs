#!/usr/bin/env node
// npm run bench [-- --size 1400 --runs 5 --dir /tmp/copyedit-bench --only edit,startup --flat --flat5g]
//
// Builds (or reuses) a docker-save archive of --size MiB (several large random layers and one
// layer of 20,000 small files) and prints ONE table: each row timed against its own reference on
// the same file, in the same run, runs interleaved (reference, subject, reference, ...) with a
// `sync` (untimed) before each, so page-cache writeback of one run does not land on the next.
// Median and min-max of --runs runs, the ratio of the medians, the issue-11 target, and the peak
// RSS of the largest process. Rows (pick some with --only, by group): edit (file -> file, with and
// without fsync, --verify; the streamed output, --copy stream), patch (the default file -> file
// output of issue 26: a kernel copy patched in place), reflink (on a loop-mounted xfs with
// reflinks made in --dir, as root: `cp --reflink=always` against `cat`, `edit --copy reflink`
// against copyedit's start-up), pipe (stdin -> stdout), gzip (.tar.gz input), startup (--version,
// edit --help, against `node -e 0` and the 90 ms target), daemon (daemon mode and docker-copyedit
// 1.5 against a bare `docker save | docker load` on the Docker 20.10 daemon of the engine suite,
// when it answers), tools (the manual tar/jq method, skopeo + umoci), recompress (issue 25:
// --layer-compression gzip / zstd and --format oci on a 216 MB mixed archive beside skopeo, output sizes too). --flat also measures
// copyedit's peak RSS on a 100 MiB archive (and a 5 GiB one with --flat5g).
// The "Node floor" rows time scripts/bench/node-copy.cjs, a bare read/write loop in Node, against
// `cat`, and copyedit against it: what Node itself costs, and what copyedit adds on top.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const size = Number(opt('size', 1400));
const runs = Number(opt('runs', 5));
const dir = opt('dir', '/tmp/copyedit-bench');
const only = opt('only', '') ? new Set(opt('only', '').split(',')) : undefined;
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

/** Run `sh -c script` under GNU time; returns wall seconds and peak RSS in KiB (the largest process). */
function timed(script, env = process.env) {
  spawnSync('sync');
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', 'sh', '-c', script], { encoding: 'utf8', maxBuffer: 1 << 26, env });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`failed (${r.status}): ${script}\n${r.stderr}`);
  const rss = Number(r.stderr.trim().split('\n').pop());
  return { s, rss };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const q = (p) => `'${p.replace(/'/g, `'\\''`)}'`;
const bin = `node ${q(join(root, 'bin/copyedit.js'))}`;
const sh = (cmd) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' }).stdout.trim();

function machine() {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const fs = sh(`df -T ${q(dir)} | tail -1 | awk '{print $2}'`);
  return `${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${sh('uname -r')}, Node ${process.version}, bench dir ${dir} on ${fs || '?'}`;
}
// built only when a row needs it (not for --only recompress)
const needsBig = !only || ['edit', 'pipe', 'gzip', 'daemon', 'tools'].some((g) => only.has(g)) || args.includes('--flat');
const big = needsBig ? archive(size, 20000) : join(dir, 'not-built.tar');
// issue 25's archive: an 18-million-line text file, 60 MB of random bytes, 3,000 small files (216 MB)
const mixed = join(dir, 'mixed.tar');
const mixedArchive = () => {
  if (!existsSync(mixed)) execFileSync(join(root, 'scripts/bench/make-mixed-archive.sh'), [`${mixed}.part`], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (!existsSync(mixed)) execFileSync('mv', [`${mixed}.part`, mixed]);
};
const skopeoTo = (extra) => `skopeo copy -q ${extra} docker-archive:${q(mixed)} oci-archive:${q(out)}`;
const convert = (extra) => `${bin} edit ${q(mixed)} -o ${q(out)} -q --no-fsync --format oci ${extra}`;
const out = join(dir, 'out.tar');
const work = join(dir, 'manual');
const gz = `${big}.gz`;
const nodeCopy = `node ${q(join(root, 'scripts/bench/node-copy.cjs'))}`;
// the streamed output (--copy stream): the default patches a file into a file (issue 26, the patch rows)
const edit = (input, extra = '') => `${bin} edit ${input} -o ${q(out)} --rm-volume all -q --copy stream ${extra}`;
const patch = (input, output, extra = '') => `${bin} edit ${input} -o ${q(output)} --rm-volume all -q ${extra}`;

// a loop-mounted xfs with reflinks for the reflink rows (root, xfsprogs): made in the bench dir,
// the archive copied in once, unmounted at the end
const xfs = (() => {
  if (only && !only.has('reflink')) return { skip: 'not asked for (--only)' };
  if (process.getuid?.() !== 0) return { skip: 'not root: a loop-mounted xfs needs root' };
  if (!have('mkfs.xfs') || !existsSync('/dev/loop-control')) return { skip: 'no mkfs.xfs or no loop devices' };
  const img = join(dir, 'xfs.img');
  const mnt = join(dir, 'xfs');
  mkdirSync(mnt, { recursive: true });
  spawnSync('umount', [mnt], { stdio: 'ignore' });
  rmSync(img, { force: true });
  const gib = Math.ceil((3 * size) / 1024) + 1;
  for (const [c, a] of [
    ['truncate', ['-s', `${gib}G`, img]],
    ['mkfs.xfs', ['-q', '-m', 'reflink=1', img]],
    ['mount', ['-o', 'loop', img, mnt]],
  ]) {
    const r = spawnSync(c, a, { encoding: 'utf8' });
    if (r.status !== 0) return { skip: `${c} failed: ${r.stderr.trim()}` };
  }
  process.on('exit', () => {
    spawnSync('umount', [mnt]);
    rmSync(img, { force: true });
  });
  return { mnt, big: join(mnt, 'big.tar'), out: join(mnt, 'out.tar') };
})();

// the Docker 20.10 daemon of the engine suite (scripts/engines/start.sh), for the daemon rows
const engineEnv = (() => {
  const file = join(process.env.COPYEDIT_TEST_ENGINE_STATE ?? '/tmp/copyedit-etest', 'env');
  if (!existsSync(file)) return undefined;
  const env = { ...process.env };
  for (const m of readFileSync(file, 'utf8').matchAll(/^export (\w+)='([^']*)'$/gm)) env[m[1]] = m[2];
  if (!env.DOCKER20_HOST) return undefined;
  env.DOCKER_HOST = env.DOCKER20_HOST;
  return spawnSync(env.DOCKER20_BIN ?? 'docker', ['version'], { env }).status === 0 ? env : undefined;
})();
const peer = join(root, '../shared/peers/docker-copyedit/docker_copyedit.py');

/** name, group, reference (name + script), subject script, issue-11 target (ratio, or ms for startup). */
const rows = [
  { group: 'edit', name: 'cp in out', ref: ['cat in > out', `cat ${q(big)} > ${q(out)}`], script: `cp ${q(big)} ${q(out)}` },
  { group: 'edit', name: 'node read/write loop (the floor on Node)', ref: ['cat in > out', `cat ${q(big)} > ${q(out)}`], script: `${nodeCopy} ${q(big)} ${q(out)}` },
  { group: 'edit', name: 'edit --no-fsync', ref: ['cat in > out', `cat ${q(big)} > ${q(out)}`], script: edit(q(big), '--no-fsync'), target: 1.05 },
  { group: 'edit', name: 'edit --no-fsync (against the Node floor)', ref: ['node read/write loop', `${nodeCopy} ${q(big)} ${q(out)}`], script: edit(q(big), '--no-fsync') },
  { group: 'edit', name: 'edit (fsync before rename, the default)', ref: ['cat in > out; sync out', `cat ${q(big)} > ${q(out)} && sync ${q(out)}`], script: edit(q(big)), target: 1.1 },
  { group: 'edit', name: 'edit --verify --no-fsync', ref: ['cat in > out', `cat ${q(big)} > ${q(out)}`], script: edit(q(big), '--verify --no-fsync'), target: 1.25 },
  // issue 26: the default output of a file into a file, a kernel copy of the input patched in place
  { group: 'patch', name: 'edit --no-fsync (default: patched, copy_file_range)', ref: ['cat in > out', `cat ${q(big)} > ${q(out)}`], script: patch(q(big), out, '--no-fsync'), target: 1.1 },
  { group: 'patch', name: 'edit (default: patched, fsync before rename)', ref: ['cat in > out; sync out', `cat ${q(big)} > ${q(out)} && sync ${q(out)}`], script: patch(q(big), out), target: 1.1 },
  ...(xfs.skip
    ? [{ group: 'reflink', name: 'xfs: cp --reflink=always / edit --copy reflink', ref: ['-', ''], script: '', skip: xfs.skip }]
    : [
        {
          group: 'reflink',
          name: 'xfs: cp --reflink=always in out',
          ref: ['xfs: cat in > out', `cat ${q(xfs.big)} > ${q(xfs.out)}`],
          script: `cp --reflink=always ${q(xfs.big)} ${q(xfs.out)}`,
          prepare: () => existsSync(xfs.big) || execFileSync('cp', [big, xfs.big]),
          out: xfs.out,
        },
        {
          group: 'reflink',
          name: 'xfs: edit --copy reflink --no-fsync (the edit: subject less reference)',
          ref: ['copyedit --version (start-up)', `${bin} --version > /dev/null`],
          script: patch(q(xfs.big), xfs.out, '--copy reflink --no-fsync'),
          out: xfs.out,
        },
        {
          group: 'reflink',
          name: 'xfs: edit (default: reflinked, fsync)',
          ref: ['xfs: cp --reflink=always in out; sync out', `cp --reflink=always ${q(xfs.big)} ${q(xfs.out)} && sync ${q(xfs.out)}`],
          script: patch(q(xfs.big), xfs.out),
          out: xfs.out,
        },
      ]),
  {
    group: 'pipe',
    name: 'cat in | edit - -o - | cat > out',
    ref: ['cat in | cat > out', `cat ${q(big)} | cat > ${q(out)}`],
    script: `cat ${q(big)} | ${bin} edit - -o - --rm-volume all -q | cat > ${q(out)}`,
    target: 1.15,
  },
  {
    group: 'pipe',
    name: 'cat in | node read/write loop | cat > out (the floor on Node)',
    ref: ['cat in | cat | cat > out', `cat ${q(big)} | cat | cat > ${q(out)}`],
    script: `cat ${q(big)} | ${nodeCopy} - - | cat > ${q(out)}`,
  },
  {
    group: 'pipe',
    name: 'cat in | edit - -o - | cat > out (against the Node floor)',
    ref: ['cat in | node read/write loop | cat > out', `cat ${q(big)} | ${nodeCopy} - - | cat > ${q(out)}`],
    script: `cat ${q(big)} | ${bin} edit - -o - --rm-volume all -q | cat > ${q(out)}`,
  },
  {
    group: 'pipe',
    name: 'edit - -o out --no-fsync < in (standard input is the file)',
    ref: ['cat in > out', `cat ${q(big)} > ${q(out)}`],
    script: `${bin} edit - -o ${q(out)} --rm-volume all -q --no-fsync < ${q(big)}`,
  },
  {
    group: 'gzip',
    name: 'edit in.tar.gz -o out --no-fsync',
    ref: ['gzip -dc in.tar.gz > out', `gzip -dc ${q(gz)} > ${q(out)}`],
    script: edit(q(gz), '--no-fsync'),
    target: 1.1,
    prepare: () => {
      if (!existsSync(gz)) execFileSync('sh', ['-c', `gzip -1 -c ${q(big)} > ${q(gz)}.part && mv ${q(gz)}.part ${q(gz)}`]);
    },
  },
  { group: 'startup', name: 'copyedit --version', ref: ['node -e 0', 'node -e 0'], script: `${bin} --version > /dev/null`, targetMs: 90 },
  { group: 'startup', name: 'copyedit edit --help', ref: ['node -e 0', 'node -e 0'], script: `${bin} edit --help > /dev/null`, targetMs: 90 },
  {
    group: 'startup',
    name: 'copyedit edit, a 30 KiB sample, --no-fsync',
    ref: ['node -e 0', 'node -e 0'],
    script: `${bin} edit ${q(join(root, 'samples/docker20-legacy.tar'))} -o ${q(out)} --rm-volume all -q --no-fsync`,
  },
  {
    group: 'daemon',
    name: 'copyedit FROM ce/big:1 INTO ce/big:2 REMOVE ALL VOLUMES',
    ref: ['docker save ce/big:1 | docker load', 'docker save ce/big:1 | docker load -q'],
    script: `${bin} FROM ce/big:1 INTO ce/big:2 REMOVE ALL VOLUMES -q`,
    target: 1.03,
    env: engineEnv,
    skip: engineEnv ? undefined : 'the Docker 20.10 daemon of scripts/engines/start.sh does not answer',
    prepare: () => execFileSync('sh', ['-c', `docker load -q -i ${q(big)} && docker tag bench/big:1 ce/big:1`], { env: engineEnv, stdio: 'ignore' }),
    runs: 3,
  },
  {
    group: 'daemon',
    name: 'docker save ce/big:1 | node read/write loop | docker load (the floor on Node)',
    ref: ['docker save ce/big:1 | docker load', 'docker save ce/big:1 | docker load -q'],
    script: `docker save ce/big:1 | ${nodeCopy} - - | docker load -q`,
    env: engineEnv,
    skip: engineEnv ? undefined : 'the Docker 20.10 daemon of scripts/engines/start.sh does not answer',
    runs: 3,
  },
  {
    group: 'daemon',
    name: 'docker-copyedit 1.5: FROM ce/big:1 INTO ce/big:3 REMOVE ALL VOLUMES',
    ref: ['docker save ce/big:1 | docker load', 'docker save ce/big:1 | docker load -q'],
    script: `cd ${q(dir)} && python3 ${q(peer)} FROM ce/big:1 INTO ce/big:3 REMOVE ALL VOLUMES -T ${q(join(dir, 'peer.tmp'))} > /dev/null 2>&1`,
    env: engineEnv,
    skip: !engineEnv ? 'the Docker 20.10 daemon of scripts/engines/start.sh does not answer' : existsSync(peer) ? undefined : `${peer} not found`,
    runs: 3,
  },
  {
    group: 'tools',
    name: 'manual: tar x, jq, tar c',
    needs: ['jq'],
    ref: ['cat in > out', `cat ${q(big)} > ${q(out)}`],
    runs: 3,
    script: [
      `rm -rf ${q(work)} && mkdir -p ${q(work)} && tar -xf ${q(big)} -C ${q(work)} && cd ${q(work)}`,
      `cfg=$(jq -r '.[0].Config' manifest.json)`,
      `jq -c 'del(.config.Volumes)' "$cfg" > new.json && id=$(sha256sum new.json | cut -c1-64) && mv new.json "$id.json" && rm "$cfg"`,
      `jq -c --arg c "$id.json" '.[0].Config = $c' manifest.json > m.json && mv m.json manifest.json`,
      `tar -cf ${q(out)} . && cd / && rm -rf ${q(work)}`,
    ].join(' && '),
  },
  // issue 25: recompression and conversion beside skopeo on the same cores (sizes in the last column)
  {
    group: 'recompress',
    name: '--format oci --layer-compression gzip (level 3, the default)',
    needs: ['skopeo'],
    prepare: mixedArchive,
    sizes: true,
    ref: ['skopeo copy docker-archive:in oci-archive:out (gzips every layer)', skopeoTo('')],
    script: convert('--layer-compression gzip'),
    target: 1.0,
  },
  {
    group: 'recompress',
    name: '--format oci --layer-compression gzip --compression-level 6',
    needs: ['skopeo'],
    prepare: mixedArchive,
    sizes: true,
    ref: ['skopeo copy docker-archive:in oci-archive:out', skopeoTo('')],
    script: convert('--layer-compression gzip --compression-level 6'),
  },
  {
    group: 'recompress',
    name: 'pigz -3 -p cores of the same layers (a program, for scale)',
    needs: ['skopeo', 'pigz'],
    prepare: mixedArchive,
    sizes: true,
    ref: ['skopeo copy docker-archive:in oci-archive:out', skopeoTo('')],
    script: `tar -xOf ${q(mixed)} --wildcards '*/layer.tar' | pigz -n -3 > ${q(out)}`,
  },
  {
    group: 'recompress',
    name: '--format oci --layer-compression zstd',
    needs: ['skopeo'],
    prepare: mixedArchive,
    sizes: true,
    ref: ['skopeo copy --dest-compress-format zstd ...', skopeoTo('--dest-compress-format zstd')],
    script: convert('--layer-compression zstd'),
    target: 1.0,
  },
  { group: 'recompress', name: '--format oci (layers kept uncompressed)', prepare: mixedArchive, sizes: true, ref: ['cat in > out', `cat ${q(mixed)} > ${q(out)}`], script: convert(''), target: 1.5 },
  {
    group: 'tools',
    name: 'skopeo copy + umoci config + skopeo copy',
    needs: ['skopeo', 'umoci'],
    ref: ['cat in > out', `cat ${q(big)} > ${q(out)}`],
    runs: 3,
    script: [
      `rm -rf ${q(work)} ${q(out)}`,
      `skopeo copy -q docker-archive:${q(big)} oci:${q(work)}:img`,
      `umoci config --image ${q(work)}:img --clear=config.volume`,
      `skopeo copy -q oci:${q(work)}:img docker-archive:${q(out)}:bench/big:1`,
      `rm -rf ${q(work)}`,
    ].join(' && '),
  },
];

if (needsBig) console.error(`archive: ${big} (${(statSync(big).size / 2 ** 30).toFixed(2)} GiB), ${runs} runs each, output in ${dir}`);
const stats = (xs) => ({ med: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
const results = [];
for (const r of rows) {
  if (only && !only.has(r.group)) continue;
  const missing = (r.needs ?? []).filter((c) => !have(c));
  if (r.skip || missing.length) {
    results.push({ r, note: `skipped: ${r.skip ?? `${missing.join(', ')} not installed`}` });
    continue;
  }
  try {
    r.prepare?.();
    const n = Math.min(runs, r.runs ?? runs);
    const ref = [];
    const sub = [];
    let sizes = '';
    const o = r.out ?? out;
    for (let i = 0; i < n; i++) {
      rmSync(o, { force: true });
      ref.push(timed(r.ref[1], r.env));
      const refSize = r.sizes ? statSync(o).size : 0;
      rmSync(o, { force: true });
      sub.push(timed(r.script, r.env));
      if (r.sizes) sizes = `; output ${(statSync(o).size / 1e6).toFixed(1)} MB, reference's ${(refSize / 1e6).toFixed(1)} MB (${(statSync(o).size / refSize).toFixed(3)}x)`;
    }
    rmSync(o, { force: true });
    results.push({ r, ref: stats(ref.map((x) => x.s)), sub: stats(sub.map((x) => x.s)), rss: Math.max(...sub.map((x) => x.rss)) / 1024, sizes });
  } catch (e) {
    results.push({ r, note: `failed: ${String(e.message ?? e).split('\n')[0]}` });
  }
}
rmSync(join(dir, 'peer.tmp'), { recursive: true, force: true });

const cell = (t) => t.replace(/\|/g, '\\|');
const fmt = (x) => (x < 1 ? `${(x * 1000).toFixed(0)} ms` : `${x.toFixed(2)} s`);
console.log(`\nmachine: ${machine()}`);
if (needsBig) console.log(`archive: ${(statSync(big).size / 2 ** 30).toFixed(2)} GiB (${size} MiB of random layers + 20,000 small files); medians of ${runs} runs (3 for daemon and tools rows)\n`);
if (!only || only.has('recompress'))
  console.log(`recompress rows: ${mixed} (issue 25: an 18-million-line text file, 60 MB of random bytes, 3,000 small files), load average before: ${sh('cat /proc/loadavg')}\n`);
console.log('| what | median (min-max) | reference | reference median (min-max) | ratio of medians | ratio of minimums | target (on minimums) | peak RSS |');
console.log('|---|---|---|---|---|---|---|---|');
for (const x of results) {
  if (x.note) {
    console.log(`| ${cell(x.r.name)} | - | ${cell(x.r.ref[0])} | - | - | - | - | ${x.note} |`);
    continue;
  }
  const ratio = x.sub.med / x.ref.med;
  const target =
    x.r.targetMs !== undefined
      ? `<= ${x.r.targetMs} ms: ${x.sub.min * 1000 <= x.r.targetMs ? 'met' : 'missed'}`
      : x.r.target !== undefined
        ? `<= ${x.r.target}x: ${x.sub.min / x.ref.min <= x.r.target ? 'met' : 'missed'}`
        : '';
  console.log(
    `| ${cell(x.r.name)} | ${fmt(x.sub.med)} (${fmt(x.sub.min)}-${fmt(x.sub.max)}) | ${cell(x.r.ref[0])} | ${fmt(x.ref.med)} (${fmt(x.ref.min)}-${fmt(x.ref.max)}) | ${ratio.toFixed(2)}x | ${(x.sub.min / x.ref.min).toFixed(2)}x | ${target} | ${x.rss.toFixed(0)} MiB${x.sizes ?? ''} |`,
  );
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
