#!/usr/bin/env node
// Run by `npm run build` after tsc: bundles the CLI (dist/src/cli/main.js and every module it
// imports, yargs excepted) into ONE file, dist/src/cli/copyedit.cjs, which bin/copyedit.js loads
// (through bin/load-cli.cjs, with the V8 code cache scripts/code-cache.cjs then makes).
// Node's ES module loader costs about a millisecond per file (resolve, read, parse, link); the CLI
// is some 80 files: bundled, loading it takes ~40 ms instead of ~120 (issue 11, start-up).
// yargs stays outside and is imported only when a command line needs it (src/cli/fast-argv.ts).
// The bundle sits next to main.js, so the paths its modules resolve from import.meta.url
// (help.json, package.json, bin/copyedit.js, ../verify/*-worker.js) hold in both.
// CommonJS, not an ES module: a vm.Script can be given a code cache (an ES module cannot, on Node
// 20), and require() of a built-in costs nothing where an ES import builds a facade of all its
// exports (crypto, fs, streams: a few ms per run). import.meta.url becomes the bundle's own URL.
// The library (dist/src/index.js) is not bundled: it is imported module by module, as built by tsc.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// the old cache goes first: a run between the new bundle and the new cache must not find it
const cache = new URL('../dist/src/cli/copyedit.cache', import.meta.url).pathname;
rmSync(cache, { force: true });

await build({
  entryPoints: [new URL('../dist/src/cli/main.js', import.meta.url).pathname],
  outfile: new URL('../dist/src/cli/copyedit.cjs', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['yargs'],
  define: { 'import.meta.url': '__bundleUrl' },
  // "use strict" first: esbuild's own comes after the banner, where it would not count
  banner: { js: '"use strict";\nconst __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  logLevel: 'warning',
});

// the code cache: made by running a few commands in a child (their output discarded); a failure
// leaves no cache, which only costs start-up time, so it warns instead of failing the build
const made = spawnSync(process.execPath, [new URL('./code-cache.cjs', import.meta.url).pathname], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (made.status !== 0) console.warn(`scripts/bundle.mjs: no code cache made (start-up will be slower): ${made.stderr || `exit ${made.status}`}`);
