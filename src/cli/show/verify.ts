import { type VerifyReport, describeIssue } from '../../verify/index.js';
import type { Style } from './style.js';

/** `1 link`, `2 links`, `0 links`. */
export function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 's'}`;
}

/** `N checks held: ...` for edit --verify and the verify summary. */
export function formatVerifiedLine(r: VerifyReport): string {
  const c = r.counts;
  const parts = [plural(c.blobNames, 'digest name'), plural(c.descriptors, 'descriptor'), plural(c.diffIds, 'DiffID'), plural(c.manifestJson, 'manifest.json image'), plural(c.links, 'link')];
  const status = r.ok ? 'verified' : plural(r.issues.length, 'problem');
  const un = r.unverified.length ? `; ${r.unverified.length} NOT verified` : '';
  return `${r.label}: ${status} (${parts.join(', ')} checked${un})`;
}

export function formatVerify(r: VerifyReport, s: Style): string {
  const lines: string[] = [];
  for (const i of r.issues) lines.push(`${s.red('FAIL')} ${describeIssue(i)}`);
  for (const u of r.unverified) lines.push(`${s.yellow('NOT VERIFIED')} ${u}`);
  for (const n of r.notes) lines.push(`${s.dim('note')} ${n}`);
  const line = formatVerifiedLine(r);
  lines.push(r.ok ? (r.unverified.length ? s.yellow(line) : s.green(line)) : s.red(line));
  return lines.join('\n');
}
