#!/usr/bin/env node
// Run by `npm run build` after tsc: bundles the CLI (dist/src/cli/main.js and every module it
// imports, yargs excepted) into ONE file, dist/src/cli/copyedit.mjs, which bin/copyedit.js loads.
// Node's ES module loader costs about a millisecond per file (resolve, read, parse, link); the CLI
// is some 80 files: bundled, loading it takes ~40 ms instead of ~120 (issue 11, start-up).
// yargs stays outside and is imported only when a command line needs it (src/cli/fast-argv.ts).
// The bundle sits next to main.js, so the paths its modules resolve from import.meta.url
// (help.json, package.json, bin/copyedit.js, ../verify/sha-worker.js) hold in both.
// The library (dist/src/index.js) is not bundled: it is imported module by module, as built by tsc.
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('../dist/src/cli/main.js', import.meta.url).pathname],
  outfile: new URL('../dist/src/cli/copyedit.mjs', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['yargs'],
  logLevel: 'warning',
});
