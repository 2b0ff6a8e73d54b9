/** Which keys an edit removes or changes: every one, these exact ones, or those matching a pattern. */
export type Selector = 'all' | readonly string[] | RegExp;

/** A predicate for `sel`; `normalize` is applied to exact keys and candidates alike (e.g. trailing slashes). */
export function selects(sel: Selector, normalize: (s: string) => string = (s) => s): (candidate: string) => boolean {
  if (sel === 'all') return () => true;
  if (sel instanceof RegExp) return (c) => sel.test(c) || sel.test(normalize(c));
  const want = new Set(sel.map(normalize));
  return (c) => want.has(c) || want.has(normalize(c));
}

/** How a selector reads in a report: as the user wrote it when known. */
export function selectorLabel(sel: Selector, shown: string | undefined): string {
  if (shown !== undefined) return shown;
  if (sel === 'all') return 'all';
  return sel instanceof RegExp ? String(sel) : sel.join(', ');
}
