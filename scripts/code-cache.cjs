'use strict';
// Run by scripts/bundle.mjs after bundling: makes dist/src/cli/copyedit.cache, the V8 code cache
// bin/load-cli.cjs loads the bundle with. V8 puts in a cache the functions compiled so far, so a
// few common commands run first (an edit, inspect, verify, diff of a small sample), in this
// process, output discarded by the caller: their functions then start compiled.
const { mkdtempSync, rmSync, writeFileSync, existsSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { loadCli, CACHE, V8_KEY } = require('../bin/load-cli.cjs');

let script;
let key;
const cli = loadCli(
  () => import('yargs'),
  (s, k) => {
    script = s;
    key = k;
  },
);
if (!cli) process.exit(0); // no bundle: nothing to make

(async () => {
  const sample = join(__dirname, '..', 'samples', 'docker20-legacy.tar');
  const dir = mkdtempSync(join(tmpdir(), 'copyedit-code-cache-'));
  try {
    if (existsSync(sample)) {
      const out = join(dir, 'out.tar');
      for (const args of [
        ['edit', sample, '-o', out, '--rm-volume', 'all', '--rm-port', 'all', '--entrypoint', '["/app"]', '--cmd', '["x"]', '--env', 'A=1', '--label', 'a=b', '--no-fsync'],
        ['inspect', out],
        ['verify', out],
        ['diff', sample, out],
      ]) {
        await cli.main(args);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  writeFileSync(CACHE, Buffer.concat([key, V8_KEY, script.createCachedData()]));
  process.exitCode = 0;
})();
