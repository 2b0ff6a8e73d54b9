import { GLOBAL_OPTIONS, flagNames } from './options.js';
import type { Command } from './commands/types.js';

/** The options every command takes, as typed. */
export const GLOBAL_FLAGS = [...flagNames(GLOBAL_OPTIONS), 'help', 'version'];

/** The flag names a command takes, aliases and `--no-` forms included, from its option table. */
export function commandFlags(c: Command): string[] {
  return [...new Set([...flagNames(c.options), ...flagNames(c.passthrough)])];
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
  const s = closest(
    flag,
    known.filter((k) => k.length > 1),
  );
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
