import type { ImageTarget } from './archive/model.js';
import { EditError } from './errors.js';
import { normalizeReference } from './reference.js';

/** A selected image and the names that follow the edit: all of them, or the ones it was selected by. */
export interface TargetSelection {
  readonly target: ImageTarget;
  readonly moving: 'all' | readonly string[];
}

/**
 * How `query` (a tag, a full reference, or a digest or digest prefix of the image, its index,
 * manifest or one of its platforms' configs) names this image: by one of its names, by ID, or not.
 */
export function targetMatch(t: ImageTarget, query: string): { by: 'id' } | { by: 'name'; name: string } | undefined {
  const q = query.trim();
  const idq = q.replace(/^sha(256|512):/, '');
  if (/^[a-f0-9]{4,128}$/.test(idq)) {
    const ids = [t.node?.digest, ...t.platforms.flatMap((p) => [p.image.id, p.manifest?.digest])];
    if (ids.some((d) => d?.hex.startsWith(idq))) return { by: 'id' };
  }
  const want = normalizeReference(q);
  const name = t.names.find((n) => n === q || normalizeReference(n) === want);
  return name === undefined ? undefined : { by: 'name', name };
}

/**
 * The images `queries` select (all of them, with all their names, when there is none). An image
 * selected by name is edited under that name only: its other names keep the unedited image.
 */
export function selectTargets(targets: readonly ImageTarget[], queries: readonly string[]): TargetSelection[] {
  if (queries.length === 0) return targets.map((target) => ({ target, moving: 'all' }));
  const chosen = new Map<ImageTarget, Set<string> | 'all'>();
  for (const q of queries) {
    const hits = targets.map((t) => [t, targetMatch(t, q)] as const).filter(([, m]) => m !== undefined);
    if (hits.length === 0) {
      const known = targets.map((t) => (t.names.length ? t.names.join(', ') : (t.node?.digest ?? t.platforms[0]?.image.id)?.short)).join('; ');
      throw new EditError(`--image ${q} matches no image in the archive; it holds: ${known}`);
    }
    for (const [t, m] of hits) {
      const prev = chosen.get(t);
      if (m!.by === 'id' || prev === 'all') chosen.set(t, 'all');
      else chosen.set(t, new Set([...(prev ?? []), (m as { name: string }).name]));
    }
  }
  return targets
    .filter((t) => chosen.has(t))
    .map((t) => {
      const c = chosen.get(t)!;
      return { target: t, moving: c === 'all' || c.size === t.names.length ? 'all' : [...c] };
    });
}
