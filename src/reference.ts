/**
 * Expand a reference the way Docker does, so `app:1`, `docker.io/library/app:1` and
 * `index.docker.io/library/app:1` compare equal; a missing tag means `latest`.
 */
export function normalizeReference(ref: string): string {
  let name = ref.trim();
  let suffix = '';
  const at = name.indexOf('@');
  if (at >= 0) {
    suffix = name.slice(at);
    name = name.slice(0, at);
  }
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > slash) {
    if (!suffix) suffix = `:${name.slice(colon + 1)}`;
    name = name.slice(0, colon);
  }
  if (!suffix) suffix = ':latest';
  const first = name.indexOf('/');
  let domain = 'docker.io';
  let path = name;
  if (first >= 0) {
    const head = name.slice(0, first);
    if (head.includes('.') || head.includes(':') || head === 'localhost') {
      domain = head === 'index.docker.io' ? 'docker.io' : head;
      path = name.slice(first + 1);
    }
  }
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  return `${domain}/${path}${suffix}`;
}

/** Remove references that name the same thing, keeping the first spelling. */
export function uniqueReferences(refs: readonly string[]): string[] {
  const seen = new Set<string>();
  return refs.filter((r) => {
    const n = normalizeReference(r);
    if (seen.has(n)) return false;
    seen.add(n);
    return true;
  });
}
