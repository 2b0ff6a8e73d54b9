/**
 * `copyedit --help` and `copyedit <command> --help` without loading yargs or the rest of the CLI
 * (loading them is most of the start-up time). The texts are not written by hand: `npm run build`
 * has yargs print every help page (scripts/gen-help.mjs, through renderHelp in help-text.ts) into
 * help.json next to this module, and a unit test checks that what this module prints equals what
 * yargs prints. Whenever the page would differ from those texts (a terminal narrower than 110
 * columns, a non-English locale yargs would translate into, no help.json), it answers undefined and
 * the CLI takes its normal path through yargs. This module imports node:fs only.
 */
import { readFileSync } from 'node:fs';

/** The widths the CLI wraps its help to: min(110, columns), or 100 when not on a terminal. */
export const HELP_WIDTHS = [80, 100, 110] as const;

/** The argument lists with a pre-rendered page: `--help` and `<command> --help`. */
export function helpKey(argv: readonly string[]): string | undefined {
  if (argv.length === 1 && argv[0] === '--help') return '--help';
  if (argv.length === 2 && argv[1] === '--help' && /^[a-z]+$/.test(argv[0]!)) return `${argv[0]} --help`;
  return undefined;
}

/** The width yargs wraps to in main.ts: `Math.min(110, process.stdout.columns || 100)`. */
export function helpWidth(columns: number | undefined): number {
  return Math.min(110, columns || 100);
}

/**
 * Whether yargs would print its English texts: it takes the locale from LC_ALL, LC_MESSAGES, LANG
 * or LANGUAGE (the first set; en_US when none) and translates for any other language it has.
 */
export function englishLocale(env: NodeJS.ProcessEnv): boolean {
  const locale = (env.LC_ALL || env.LC_MESSAGES || env.LANG || env.LANGUAGE || 'en_US').replace(/[.:].*/, '');
  return /^(en([_-].*)?|C|POSIX)$/.test(locale);
}

/** The pre-rendered page for this command line, or undefined when yargs must render it. */
export function fastHelp(argv: readonly string[], env: NodeJS.ProcessEnv, columns: number | undefined): string | undefined {
  const key = helpKey(argv);
  if (key === undefined || !englishLocale(env)) return undefined;
  const width = helpWidth(columns);
  if (!(HELP_WIDTHS as readonly number[]).includes(width)) return undefined;
  let pages: Record<string, Record<string, string>>;
  try {
    pages = JSON.parse(readFileSync(new URL('./help.json', import.meta.url), 'utf8')) as typeof pages;
  } catch {
    return undefined; // not generated (a bare tsc build): yargs renders it
  }
  return pages[String(width)]?.[key];
}
