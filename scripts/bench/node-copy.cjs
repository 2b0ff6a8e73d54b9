// The floor for any Node program that copies: read(2) and write(2) through one reused 1 MiB
// buffer, nothing else (no module loading, no event loop). `node node-copy.cjs IN OUT` copies a
// file; `node node-copy.cjs - -` copies standard input to standard output with blocking calls.
// The bench times copyedit against it, to tell Node's cost from copyedit's own.
const fs = require('node:fs');
const [inPath, outPath] = process.argv.slice(2);
const i = inPath === '-' ? 0 : fs.openSync(inPath, 'r');
const o = outPath === '-' ? 1 : fs.openSync(outPath, 'w');
const b = Buffer.allocUnsafe(1 << 20);
for (let n; (n = fs.readSync(i, b, 0, b.length, null)) > 0; ) {
  for (let off = 0; off < n; ) off += fs.writeSync(o, b, off, n - off);
}
