/**
 * Help pages as yargs prints them, captured: the source of help.json (scripts/gen-help.mjs, run by
 * `npm run build`) and of the test that fast-help.ts prints the same.
 */
import { COMMANDS } from './commands/index.js';
import { HELP_WIDTHS } from './fast-help.js';
import { main } from './main.js';

/** Every command line fast-help.ts answers: `--help` and `<command> --help` for each command. */
export function helpCommandLines(): string[][] {
  return [['--help'], ...COMMANDS.map((c) => [c.name, '--help'])];
}

/** What `copyedit ...argv` prints on standard output through yargs on a terminal of `columns`. */
export async function renderHelp(argv: readonly string[], columns: number | undefined): Promise<string> {
  const out: string[] = [];
  const log = console.log;
  const saved = Object.getOwnPropertyDescriptor(process.stdout, 'columns');
  Object.defineProperty(process.stdout, 'columns', { value: columns, configurable: true, writable: true });
  console.log = (...a: unknown[]) => void out.push(`${a.join(' ')}\n`);
  try {
    const code = await main(argv);
    if (code !== 0) throw new Error(`copyedit ${argv.join(' ')} exited ${code}`);
  } finally {
    console.log = log;
    if (saved) Object.defineProperty(process.stdout, 'columns', saved);
    else delete (process.stdout as { columns?: number }).columns;
  }
  return out.join('');
}

/** Every page at every width: what help.json holds, keyed by width, then by command line. */
export async function renderAllHelp(): Promise<Record<string, Record<string, string>>> {
  const pages: Record<string, Record<string, string>> = {};
  for (const width of HELP_WIDTHS) {
    const at: Record<string, string> = {};
    for (const argv of helpCommandLines()) at[argv.join(' ')] = await renderHelp(argv, width === 100 ? undefined : width);
    pages[String(width)] = at;
  }
  return pages;
}
