'use strict';
// Loads the CLI bundle (dist/src/cli/copyedit.cjs, made by scripts/bundle.mjs) with the V8 code
// cache made next to it at build time (copyedit.cache, scripts/code-cache.cjs): V8 then skips
// compiling the bundle and the functions a common command runs, ~20 ms of every run (issue 11,
// start-up). Node 20 has no compile cache of its own (module.enableCompileCache is Node 22). A
// cache V8 does not accept (another Node version, other V8 flags) is ignored: the bundle is then
// compiled as usual.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const Module = require('node:module');
const vm = require('node:vm');

const DIR = join(__dirname, '..', 'dist', 'src', 'cli');
const BUNDLE = join(DIR, 'copyedit.cjs');
const CACHE = join(DIR, 'copyedit.cache');

/**
 * The bundle's exports, or undefined when there is none (a tsc-only build). `codeCache` says what
 * became of the cache: 'accepted', 'rejected' or 'none' (no file). `importYargs`: how the bundle is
 * to import yargs (a vm script cannot import() by itself). `train`: called with the compiled
 * script, to make the cache (scripts/code-cache.cjs).
 */
function loadCli(importYargs, train) {
  let source;
  try {
    source = readFileSync(BUNDLE, 'utf8');
  } catch (e) {
    if (e && e.code === 'ENOENT') return undefined;
    throw e;
  }
  let cachedData;
  if (!train) {
    try {
      cachedData = readFileSync(CACHE);
    } catch {
      cachedData = undefined;
    }
  }
  const script = new vm.Script(Module.wrap(source), { filename: BUNDLE, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, Module.createRequire(BUNDLE), module, BUNDLE, DIR);
  module.exports.useYargsImport(importYargs);
  if (train) train(script);
  const codeCache = cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted';
  return { ...module.exports, codeCache };
}

module.exports = { loadCli, CACHE };
