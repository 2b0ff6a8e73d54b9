import type { ArchiveDiff, ImageDiff } from '../../inspect/index.js';
import { type Style, digestText } from './style.js';

export function formatDiff(d: ArchiveDiff, s: Style, full: boolean): string {
  const out = [`${s.bold('a')} ${d.a} ${s.dim(`(${d.layouts.a})`)}`, `${s.bold('b')} ${d.b} ${s.dim(`(${d.layouts.b})`)}`];
  for (const img of d.images) out.push('', ...formatImage(img, s, full));
  out.push('', d.identical ? s.green('the images are identical') : s.yellow(`${d.images.filter((i) => i.status !== 'same').length} of ${d.images.length} images differ`));
  return out.join('\n');
}

function name(side: ImageDiff['a']): string {
  return side ? (side.tags.length ? side.tags.join(', ') : `<untagged ${digestText(side.id, false)}>`) : '-';
}

function formatImage(d: ImageDiff, s: Style, full: boolean): string[] {
  if (d.status === 'only-a') return [`${s.red('-')} ${s.bold(name(d.a))}  ${d.a!.id}  only in a`];
  if (d.status === 'only-b') return [`${s.green('+')} ${s.bold(name(d.b))}  ${d.b!.id}  only in b`];
  const a = d.a!;
  const b = d.b!;
  const out = [`${d.status === 'same' ? '=' : s.yellow('~')} ${s.bold(name(a))}${name(b) !== name(a) ? ` -> ${s.bold(name(b))}` : ''}`];
  out.push(a.id === b.id ? `  image ID  ${a.id} (same)` : `  image ID  ${s.red(a.id)}\n         -> ${s.green(b.id)}`);
  if (a.manifestDigest !== b.manifestDigest) out.push(`  manifest  ${a.manifestDigest ?? '-'} -> ${b.manifestDigest ?? '-'}`);
  for (const t of d.tagsRemoved) out.push(`  ${s.red('-')} tag ${t}`);
  for (const t of d.tagsAdded) out.push(`  ${s.green('+')} tag ${t}`);
  for (const c of d.config) {
    if (c.before === undefined) out.push(`  ${s.green('+')} ${c.path}: ${c.after}`);
    else if (c.after === undefined) out.push(`  ${s.red('-')} ${c.path}: ${c.before}`);
    else out.push(`  ${s.yellow('~')} ${c.path}: ${c.before} -> ${c.after}`);
  }
  for (const l of d.layers) {
    if (l.status === 'same') continue;
    const x = l.a;
    const y = l.b;
    const what =
      l.status === 'added'
        ? `${s.green('+')} layer ${l.index + 1} ${digestText(y!.diffId, full)}`
        : l.status === 'removed'
          ? `${s.red('-')} layer ${l.index + 1} ${digestText(x!.diffId, full)}`
          : l.status === 'recompressed'
            ? `${s.yellow('~')} layer ${l.index + 1} same DiffID ${digestText(x!.diffId, full)}, stored as ${digestText(x!.blobDigest, full)} -> ${digestText(y!.blobDigest, full)}`
            : `${s.yellow('~')} layer ${l.index + 1} DiffID ${digestText(x!.diffId, full)} -> ${digestText(y!.diffId, full)}`;
    out.push(`  ${what}`);
  }
  const same = d.layers.filter((l) => l.status === 'same').length;
  if (d.layers.length) out.push(s.dim(`  ${same} of ${d.layers.length} layers identical`));
  return out;
}
