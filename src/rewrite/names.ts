import type { Descriptor } from '../archive/graph.js';
import type { ArchiveModel, ImageTarget } from '../archive/model.js';
import { normalizeReference } from '../reference.js';
import type { RewriteRequest } from './request.js';

/**
 * Who owns each name after the edit: the original image, or the edited one. A name is owned once,
 * so no archive carries one name on two images (engines disagree on which would win: Docker's
 * classic store takes the last manifest.json item, its containerd store and podman the first).
 */
export interface NameOwners {
  ownerOf(name: string): { readonly target: ImageTarget; readonly side: 'orig' | 'new' } | undefined;
  /** The names a target carries on one side, as spelled where they were given. */
  namesOf(target: ImageTarget, side: 'orig' | 'new'): string[];
  /** True when any name changed owner or side. */
  readonly changed: boolean;
}

export function assignNames(model: ArchiveModel, request: RewriteRequest): NameOwners {
  const owners = new Map<string, { target: ImageTarget; side: 'orig' | 'new'; name: string }>();
  for (const t of model.targets) for (const n of t.names) owners.set(normalizeReference(n), { target: t, side: 'orig', name: n });
  let changed = false;
  for (const ch of request.targets) {
    const moving = ch.moving === 'all' ? ch.target.names : ch.moving;
    if (ch.newNames) {
      if (!request.keepOriginal) {
        for (const n of moving) {
          const key = normalizeReference(n);
          if (owners.get(key)?.target === ch.target) owners.delete(key);
        }
      }
      for (const n of ch.newNames) owners.set(normalizeReference(n), { target: ch.target, side: 'new', name: n });
      changed = true;
    } else {
      for (const n of moving) owners.set(normalizeReference(n), { target: ch.target, side: 'new', name: n });
    }
  }
  return {
    ownerOf: (name) => owners.get(normalizeReference(name)),
    namesOf: (target, side) => [...owners.values()].filter((o) => o.target === target && o.side === side).map((o) => o.name),
    changed,
  };
}

/** `repositories` maps repo -> tag -> top layer ID; names that moved to another image or went away follow. */
export function rewriteRepositories(model: ArchiveModel, owners: NameOwners): Buffer | undefined {
  const entry = model.byPath.get('repositories');
  if (!entry?.data || !owners.changed) return undefined;
  let repos: Record<string, Record<string, string>>;
  try {
    repos = JSON.parse(entry.data.toString('utf8')) as Record<string, Record<string, string>>;
  } catch {
    return undefined; // leave a damaged file as it is; no loader reads it when manifest.json exists
  }
  const tops = new Map<ImageTarget, string | undefined>();
  for (const t of model.targets) tops.set(t, topLayerId(model, t, repos));
  const out: Record<string, Record<string, string>> = {};
  for (const t of model.targets) {
    const top = tops.get(t);
    if (!top) continue;
    for (const side of ['orig', 'new'] as const) {
      for (const n of owners.namesOf(t, side)) {
        const [repo, tag] = splitTag(n);
        out[repo] ??= {};
        out[repo][tag] = top;
      }
    }
  }
  return Buffer.from(JSON.stringify(out));
}

function topLayerId(model: ArchiveModel, t: ImageTarget, repos: Record<string, Record<string, string>>): string | undefined {
  for (const n of t.names) {
    const [repo, tag] = splitTag(n);
    if (repos[repo]?.[tag]) return repos[repo]![tag];
  }
  const i = t.manifestJsonItems[0];
  const last = i !== undefined ? model.manifestJson!.items[i]!.layers.at(-1) : undefined;
  const m = last && /([a-f0-9]{64})(\/layer\.tar)?$/.exec(last);
  return m?.[1];
}

/** `example/app:1.0` -> [`example/app`, `1.0`], as the repositories file spells them. */
export function splitTag(ref: string): [string, string] {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
}

export function tagPart(ref: string): string {
  return splitTag(ref.split('@')[0]!)[1];
}

/** Digests that stay in the output as they are: everything under an image whose old names remain. */
export function keptOriginals(model: ArchiveModel, request: RewriteRequest): Set<string> {
  const edited = new Map(request.targets.map((c) => [c.target, c]));
  const out = new Set<string>();
  const add = (d: Descriptor, depth: number): void => {
    const k = d.digest.toString();
    if (out.has(k) || depth > 8) return;
    out.add(k);
    const n = model.graph.nodes.get(k);
    if (n?.kind === 'index') for (const c of n.children) add(c, depth + 1);
  };
  for (const t of model.targets) {
    const ch = edited.get(t);
    const keepsOriginal = !ch || request.keepOriginal || ch.moving !== 'all';
    if (keepsOriginal) for (const d of t.descriptors) add(d, 0);
  }
  return out;
}

/** One image of the output of a conversion: a target as it was (`orig`) or as edited (`new`), under its names. */
export interface OutputImage {
  readonly target: ImageTarget;
  readonly side: 'orig' | 'new';
  readonly names: readonly string[];
}

/**
 * The images a rewritten archive holds, in the input's order: each target as it was, under the
 * names it keeps, then as edited, under the names that follow the edit. A side with no names is
 * there only when the image has none at all (an untagged image is kept or replaced as a whole).
 */
export function outputImages(model: ArchiveModel, request: RewriteRequest, owners: NameOwners, unchanged: (t: ImageTarget) => boolean): OutputImage[] {
  const change = new Map(request.targets.map((c) => [c.target, c]));
  const out: OutputImage[] = [];
  for (const t of model.targets) {
    const ch = change.get(t);
    if (!ch) {
      out.push({ target: t, side: 'orig', names: owners.namesOf(t, 'orig') });
      continue;
    }
    const orig = owners.namesOf(t, 'orig');
    const edited = owners.namesOf(t, 'new');
    const unnamed = t.names.length === 0;
    const keepOrig = orig.length > 0 || (unnamed && (request.keepOriginal === true || ch.moving !== 'all'));
    const hasNew = edited.length > 0 || (unnamed && ch.moving === 'all' && !ch.newNames);
    if (unchanged(t) && keepOrig && hasNew) {
      out.push({ target: t, side: 'new', names: [...orig, ...edited] }); // the edit changed nothing: one image, every name
      continue;
    }
    if (keepOrig) out.push({ target: t, side: 'orig', names: orig });
    if (hasNew) out.push({ target: t, side: 'new', names: edited });
  }
  return out;
}
