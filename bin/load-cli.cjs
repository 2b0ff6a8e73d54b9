'use strict';
// Loads the CLI bundle (dist/src/cli/copyedit.cjs, made by scripts/bundle.mjs) with the V8 code
// cache made next to it at build time (copyedit.cache, scripts/code-cache.cjs): V8 then skips
// compiling the bundle and the functions a common command runs, ~20 ms of every run (issue 11,
// start-up). Node 20 has no compile cache of its own (module.enableCompileCache is Node 22). A
// cache V8 does not accept (another Node version, other V8 flags) is ignored: the bundle is then
// compiled as usual.
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const Module = require('node:module');
const vm = require('node:vm');

const DIR = join(__dirname, '..', 'dist', 'src', 'cli');
const BUNDLE = join(DIR, 'copyedit.cjs');
const CACHE = join(DIR, 'copyedit.cache');

/**
 * The cache file is the sha256 of the bundle it was made from, then V8's data. V8 itself checks
 * only the source's length: a bundle changed to one of the same length would run the old code.
 */
const KEY = 32;

/**
 * The bundle's exports, or undefined when there is none (a tsc-only build). `codeCache` says what
 * became of the cache: 'accepted', 'rejected' (by V8), 'stale' (made from another bundle) or 'none'
 * (no file). `importYargs`: how the bundle is to import yargs (a vm script cannot import() by
 * itself). `train`: called with the compiled script and the cache file's key, to make the cache
 * (scripts/code-cache.cjs).
 */
function loadCli(importYargs, train) {
  let bytes;
  try {
    bytes = readFileSync(BUNDLE);
  } catch (e) {
    if (e && e.code === 'ENOENT') return undefined;
    throw e;
  }
  const key = createHash('sha256').update(bytes).digest();
  let cachedData;
  let stale = false;
  if (!train) {
    try {
      const file = readFileSync(CACHE);
      if (file.length > KEY && file.subarray(0, KEY).equals(key)) cachedData = file.subarray(KEY);
      else stale = true;
    } catch {
      cachedData = undefined;
    }
  }
  const script = new vm.Script(Module.wrap(bytes.toString('utf8')), { filename: BUNDLE, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, Module.createRequire(BUNDLE), module, BUNDLE, DIR);
  module.exports.useYargsImport(importYargs);
  if (train) train(script, key);
  const codeCache = stale ? 'stale' : cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted';
  return { ...module.exports, codeCache };
}

module.exports = { loadCli, CACHE };
