import type { ImageModel } from './archive/model.js';
import { EditError } from './errors.js';
import { normalizeReference } from './reference.js';

/** Does `query` (a tag, a full reference, or an image ID or ID prefix) name this image? */
export function imageMatches(img: ImageModel, query: string): boolean {
  const q = query.trim();
  const idq = q.startsWith('sha256:') ? q.slice(7) : q;
  if (/^[a-f0-9]{4,64}$/.test(idq) && img.id.hex.startsWith(idq)) return true;
  const want = normalizeReference(q);
  return img.tags.some((t) => t === q || normalizeReference(t) === want);
}

/** The images `queries` select (all of them when there is none); an unmatched query is an error. */
export function selectImages(images: readonly ImageModel[], queries: readonly string[]): ImageModel[] {
  if (queries.length === 0) return [...images];
  const chosen = new Set<ImageModel>();
  for (const q of queries) {
    const hits = images.filter((img) => imageMatches(img, q));
    if (hits.length === 0) {
      const known = images.map((i) => (i.tags.length ? i.tags.join(', ') : i.id.short)).join('; ');
      throw new EditError(`--image ${q} matches no image in the archive; it holds: ${known}`);
    }
    hits.forEach((h) => chosen.add(h));
  }
  return images.filter((i) => chosen.has(i));
}
