#!/usr/bin/env node
// Run by `npm run build` after tsc: has yargs print every help page and stores them in
// dist/src/cli/help.json, which `copyedit --help` and `copyedit <command> --help` print without
// loading yargs (src/cli/fast-help.ts). Never edit help.json by hand: it is generated output.
import { writeFileSync } from 'node:fs';

const { renderAllHelp } = await import('../dist/src/cli/help-text.js');
// yargs translates for the locale; the pages stored are the English ones
for (const k of ['LC_ALL', 'LC_MESSAGES', 'LANG', 'LANGUAGE']) delete process.env[k];
const pages = await renderAllHelp();
writeFileSync(new URL('../dist/src/cli/help.json', import.meta.url), `${JSON.stringify(pages)}\n`);
