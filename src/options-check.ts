/**
 * Options objects of the library's entry points reject keys they do not know. TypeScript catches a
 * misspelt key only in an object literal; a JavaScript caller, or an object built elsewhere and
 * passed on, gets nothing, and the option silently does nothing (`platform: ['linux/arm64']` for
 * `platforms` edits every platform). So each entry point checks its object at run time and throws
 * a TypeError naming the key and the nearest valid one.
 */

/**
 * The keys of an options type, as a list to check against. The argument must name every key of
 * `T` and nothing else (the compiler checks both), so the list cannot drift from the type:
 * `optionKeys<GraphOptions>({ problem: true, checkDigests: true })`.
 */
export function optionKeys<T extends object>(keys: { readonly [K in keyof Required<T>]: true }): readonly string[] {
  return Object.freeze(Object.keys(keys));
}

/**
 * Throw a TypeError for the first own key of `options` that is not in `valid`:
 * "editArchive: unknown option 'platform' (did you mean 'platforms'?)". Undefined or null
 * options pass (the entry point's defaults apply).
 */
export function checkOptions(options: object | null | undefined, valid: readonly string[], fn: string): void {
  if (options === undefined || options === null) return;
  for (const key of Object.keys(options)) {
    if (valid.includes(key)) continue;
    const near = nearest(key, valid);
    throw new TypeError(`${fn}: unknown option '${key}'${near === undefined ? '' : ` (did you mean '${near}'?)`}`);
  }
}

/** The valid key closest to `key` by edit distance (letter case ignored); the first listed wins a tie. */
export function nearest(key: string, valid: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const v of valid) {
    const d = editDistance(key.toLowerCase(), v.toLowerCase());
    if (d < bestDistance) {
      best = v;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance with adjacent transpositions (optimal string alignment): `plaftorms` is 1 from `platforms`. */
export function editDistance(a: string, b: string): number {
  // three rows of the table: the one before the previous (for transpositions), the previous, this one
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
    }
    before = prev;
    prev = row;
  }
  return prev[b.length]!;
}
