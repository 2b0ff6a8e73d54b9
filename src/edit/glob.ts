/**
 * Patterns as docker-copyedit takes them: `*` and `%` match any run of characters (including `/`),
 * `?` one character; everything else is literal. `all` is handled by the callers.
 */
export function isPattern(s: string): boolean {
  return /[*%?]/.test(s);
}

export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '*' || ch === '%') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

/** A matcher for `all`, a pattern, or an exact value (after `normalize`). */
export function matcher(spec: string, normalize: (s: string) => string = (s) => s): (candidate: string) => boolean {
  if (spec.toLowerCase() === 'all') return () => true;
  if (isPattern(spec)) {
    const re = globToRegExp(spec);
    return (c) => re.test(c);
  }
  const want = normalize(spec);
  return (c) => c === want;
}
