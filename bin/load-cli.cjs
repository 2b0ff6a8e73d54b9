'use strict';
// Loads the CLI bundle (dist/src/cli/copyedit.cjs, made by scripts/bundle.mjs) with the V8 code
// cache made next to it at build time (copyedit.cache, scripts/code-cache.cjs): V8 then skips
// compiling the bundle and the functions a common command runs, ~20 ms of every run (issue 11,
// start-up). A cache made by another Node (another V8) is not tried: on Node 22.1+ the bundle is
// then loaded through Node's own compile cache (module.enableCompileCache: kept in
// $NODE_COMPILE_CACHE or the OS temp folder, made on the first run), on Node 20 compiled as usual.
// A cache V8 does not accept for another reason (other V8 flags) is ignored the same way.
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const Module = require('node:module');
const vm = require('node:vm');

const DIR = join(__dirname, '..', 'dist', 'src', 'cli');
const BUNDLE = join(DIR, 'copyedit.cjs');
const CACHE = join(DIR, 'copyedit.cache');

/**
 * The cache file is the sha256 of the bundle it was made from, the sha256 of the V8 version that
 * made it, then V8's data. V8 itself checks only the source's length: a bundle changed to one of
 * the same length would run the old code.
 */
const KEY = 32;
const V8_KEY = createHash('sha256').update(process.versions.v8).digest();

/**
 * The bundle's exports, or undefined when there is none (a tsc-only build). `codeCache` says what
 * became of the cache: 'accepted', 'rejected' (by V8, or made by another V8), 'node' (made by
 * another V8, and this Node's own compile cache used instead), 'stale' (made from another bundle)
 * or 'none' (no file). `importYargs`: how the bundle is to import yargs (a vm script cannot import() by
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
  let otherV8 = false;
  if (!train) {
    try {
      const file = readFileSync(CACHE);
      if (file.length <= 2 * KEY || !file.subarray(0, KEY).equals(key)) stale = true;
      else if (!file.subarray(KEY, 2 * KEY).equals(V8_KEY)) otherV8 = true;
      else cachedData = file.subarray(2 * KEY);
    } catch {
      cachedData = undefined;
    }
  }
  if (otherV8 && typeof Module.enableCompileCache === 'function') {
    // Node 22.1+: its own compile cache, which it checks against the file's content and its V8
    Module.enableCompileCache();
    const exports = require(BUNDLE);
    exports.useYargsImport(importYargs);
    return { ...exports, codeCache: 'node' };
  }
  const script = new vm.Script(Module.wrap(bytes.toString('utf8')), { filename: BUNDLE, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, Module.createRequire(BUNDLE), module, BUNDLE, DIR);
  module.exports.useYargsImport(importYargs);
  if (train) train(script, key);
  const codeCache = stale ? 'stale' : otherV8 ? 'rejected' : cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted';
  return { ...module.exports, codeCache };
}

module.exports = { loadCli, CACHE, V8_KEY };
