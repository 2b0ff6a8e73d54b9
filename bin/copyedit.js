#!/usr/bin/env node
// Start-up is most of the cost of a short command, and loading yargs and the CLI's modules most of
// start-up: `copyedit --version` and the help pages (pre-rendered by yargs at build time, see
// src/cli/fast-help.ts) answer before any of them load; the CLI itself is one bundled file
// (scripts/bundle.mjs), and loads yargs only for what src/cli/fast-argv.ts leaves to it.
const args = process.argv.slice(2);
if (args.length === 1 && args[0] === '--version') {
  const { readFileSync } = await import('node:fs');
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  const help = args.length <= 2 && args[args.length - 1] === '--help' ? (await import('../dist/src/cli/fast-help.js')).fastHelp(args, process.env, process.stdout.columns) : undefined;
  if (help !== undefined) process.stdout.write(help);
  else {
    // the CLI bundled into one file, with its code cache (bin/load-cli.cjs); a tsc-only build (tsc -w) has just the modules
    const { loadCli } = await import('./load-cli.cjs');
    const { main } = loadCli(() => import('yargs')) ?? (await import('../dist/src/cli/main.js'));
    process.exitCode = await main(args);
  }
}
