import type { Argv } from 'yargs';
import type { Command } from './commands/types.js';

/** The options every command takes (main.ts declares them). */
export const GLOBAL_FLAGS = ['debug', 'quiet', 'json', 'help', 'version'] as const;

/**
 * The flag names a command's builder declares, aliases included (`o`, `dryrun`), read by running
 * the builder on a recorder: the builder stays the one place an option is declared.
 */
export function commandFlags(c: Command): string[] {
  const names: string[] = [];
  type Opt = { alias?: string | readonly string[]; type?: string; default?: unknown };
  const take = (key: unknown, o?: Opt) => {
    if (typeof key !== 'string') return;
    names.push(key);
    // a switch that is on by default is typed as --no-<name>
    if (o?.type === 'boolean' && o.default === true) names.push(`no-${key}`);
    const a = o?.alias;
    if (typeof a === 'string') names.push(a);
    else if (Array.isArray(a)) names.push(...(a as string[]));
  };
  const recorder: Argv = new Proxy({} as Argv, {
    get(_t, prop) {
      if (prop === 'option' || prop === 'options') return (k: unknown, o?: Opt) => (take(k, o), recorder);
      return () => recorder;
    },
  });
  c.builder(recorder);
  return [...new Set(names)];
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The known word closest to `word`, if it is close enough to be a typo (about a third of it). */
export function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const dist = editDistance(word.toLowerCase(), k.toLowerCase());
    if (dist < bestD) {
      best = k;
      bestD = dist;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(Math.max(word.length, best.length) / 3)) ? best : undefined;
}

/** `--rm-volumes` -> ` (did you mean --rm-volume?)`, or '' when nothing is close. */
export function didYouMeanFlag(flag: string, known: readonly string[]): string {
  const s = closest(flag, known.filter((k) => k.length > 1));
  return s ? `; did you mean --${s}?` : '';
}

/** `rmVolumes` is yargs' camel-case twin of `rm-volumes`: report each unknown flag once. */
export function unknownFlags(yargsMessage: string): string[] | undefined {
  const m = /^Unknown arguments?: (.*)$/s.exec(yargsMessage);
  if (!m) return undefined;
  const all = m[1]!.split(', ').map((s) => s.trim());
  const kebab = new Set(all.filter((s) => s.includes('-')).map((s) => s.replace(/-([a-z])/g, (_x, c: string) => c.toUpperCase())));
  return all.filter((s) => !kebab.has(s));
}
