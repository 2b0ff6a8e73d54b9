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

const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;

/**
 * Check a reference to be written as a RepoTag, the way `docker tag` would; a missing tag becomes
 * `:latest` (docker load refuses a RepoTag without one). Returns the tag to write, or a reason.
 */
export function checkTag(ref: string): { tag: string } | { error: string } {
  const r = ref.trim();
  if (r.includes('@')) return { error: `${ref}: a tag cannot carry a digest (@sha256:...); give name:tag` };
  const slash = r.lastIndexOf('/');
  const colon = r.lastIndexOf(':');
  const name = colon > slash ? r.slice(0, colon) : r;
  const tag = colon > slash ? r.slice(colon + 1) : 'latest';
  if (!TAG.test(tag)) return { error: `${ref}: the tag "${tag}" may hold only letters, digits, _ . - (up to 128, not starting with . or -)` };
  const parts = name.split('/');
  const first = parts[0]!;
  const hasDomain = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasDomain && !DOMAIN.test(first)) return { error: `${ref}: "${first}" is not a valid registry host` };
  for (const c of hasDomain ? parts.slice(1) : parts) {
    if (!COMPONENT.test(c)) return { error: `${ref}: "${c}" must be lowercase letters and digits, separated by . _ __ or -` };
  }
  if (name.length > 255) return { error: `${ref}: the repository name is longer than 255 characters` };
  return { tag: `${name}:${tag}` };
}
