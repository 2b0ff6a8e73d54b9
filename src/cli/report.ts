import type { EditArchiveReport, ImageReport } from '../pipeline.js';
import { escapeDeep, jsonText } from './out.js';
import type { Digest } from '../digest.js';

/**
 * Which image store the user's engine has, when copyedit can know (daemon mode asks the daemon):
 * `classic` (Docker's graphdriver store, podman: the ID is the config digest) or `containerd`
 * (Docker's containerd image store, containerd, nerdctl: the ID is the index or manifest digest).
 */
export type ImageStore = 'classic' | 'containerd';

function short(d: Digest | null | undefined): string {
  return d ? d.short : '?';
}

/**
 * The IDs of one image, labelled: both stores' unless `store` says which one the user has. Never
 * two kinds of digest on one arrow: classic IDs are config digests, containerd IDs root digests.
 */
function idText(img: ImageReport, dryRun: boolean, store: ImageStore | undefined): { change: string; same: string } {
  const arrow = dryRun ? 'would become' : '->';
  const ids = img.ids;
  if (!ids) return { change: `${img.oldId.short} ${arrow} ${img.newId.short}`, same: img.oldId.short };
  const one = (label: string, p: { old: Digest | null; new: Digest | null }) => ({
    change: `${label} ${short(p.old)} ${arrow} ${p.new ? p.new.short : dryRun ? '(known once written)' : '?'}`,
    same: `${label} ${short(p.old)}`,
  });
  const c = one('classic', ids.classic);
  const d = one('containerd', ids.containerd);
  if (store === 'classic') return { change: c.change.replace(/^classic/, 'ID'), same: c.same.replace(/^classic/, 'ID') };
  if (store === 'containerd') return { change: d.change.replace(/^containerd/, 'ID'), same: d.same.replace(/^containerd/, 'ID') };
  return { change: `${c.change}, ${d.change}`, same: `${c.same}, ${d.same}` };
}

/** The human summary printed after an edit; with `dryRun`, the config changes field by field. */
export function formatReport(report: EditArchiveReport, dryRun = false, store?: ImageStore): string {
  const r = escapeDeep(report);
  const lines: string[] = [];
  r.images.forEach((img, n) => {
    const name = img.tags.length ? img.tags.join(', ') : `<untagged ${img.oldId.short}>`;
    // (identity, on the report as made: the edit replaced the tags)
    const retag = report.images[n]!.newTags !== report.images[n]!.tags ? ` as ${img.newTags.join(', ')}` : '';
    const sameId = img.oldId.toString() === img.newId.toString();
    const ids = idText(img, dryRun, store);
    if (report.conversion && img.edits.length === 0 && sameId) {
      // a conversion alone: the config stays; what the name points at (the containerd store's ID) may move
      const unknown = dryRun && report.conversion.layersRecompressed > 0;
      const cd = img.ids?.containerd;
      const moved = cd ? cd.old?.toString() !== cd.new?.toString() : img.oldDigest.toString() !== img.newDigest.toString();
      const where = unknown
        ? '; the name would point at a new manifest (its digest, the ID on the containerd store, is known once the layers are recompressed)'
        : moved && store !== 'classic'
          ? `; containerd store ID ${cd ? `${short(cd.old)} ${dryRun ? 'would become' : '->'} ${short(cd.new)}` : `${dryRun ? 'would become' : 'now'} ${img.newDigest.short}`}`
          : '';
      const config = img.ids?.classic.old ?? img.oldId;
      lines.push(`${name}: config unchanged (${store === 'containerd' ? 'config' : 'classic store ID'} ${config.short})${where}`);
    } else if (!img.changed) lines.push(`${name}: ${ids.same} unchanged: the edits change nothing in this image`);
    // a new tag alone (daemon mode's INTO) changes no config: say so as archive mode does, not `X -> X`
    else if (sameId) lines.push(`${name}: ${ids.same} unchanged: the edits change nothing in this image${retag ? `; tagged${retag.slice(3)}` : ''}`);
    else if (dryRun) lines.push(`${name}: ${ids.change}${retag}`);
    else lines.push(`${name}: ${ids.change}${retag} (${img.edits.join('; ')})`);
    const multi = img.platforms.length > 1;
    for (const p of img.platforms) {
      if (multi)
        lines.push(`  ${p.platform ?? 'unknown platform'}: config ${p.oldId.short} ${p.oldId.toString() === p.newId.toString() ? 'unchanged' : `${dryRun ? 'would become' : '->'} ${p.newId.short}`}`);
      if (dryRun) for (const c of p.configChanges) lines.push(`${multi ? '    ' : '  '}${c.path}: ${c.before ?? '(absent)'} -> ${c.after ?? '(removed)'}`);
    }
    if (img.otherNames.length) lines.push(`  note: also named ${img.otherNames.join(', ')}: ${img.otherNames.length === 1 ? 'that name keeps' : 'those names keep'} the unedited image`);
    for (const w of img.warnings) lines.push(`  warning: ${w}`);
  });
  const c = r.conversion;
  if (c) {
    const recompressed = c.layerCompression
      ? `; ${c.layersRecompressed} layer${c.layersRecompressed === 1 ? '' : 's'} ${dryRun ? 'would be' : ''}${dryRun ? ' ' : ''}recompressed to ${c.layerCompression}`
      : '';
    lines.push(`layout: ${c.from} -> ${c.to}${recompressed}`);
  }
  if (r.registry) lines.push(registryLine(r.registry, dryRun));
  for (const w of r.warnings) lines.push(`note: ${w}`);
  if (dryRun) lines.push('dry run: nothing was written');
  return lines.join('\n');
}

/** One line: where the image went, what was pushed, the bytes each way. */
function registryLine(g: NonNullable<EditArchiveReport['registry']>, dryRun: boolean): string {
  if (g.skipped) return `${g.target}: already ${g.digest.short}, nothing pushed (${g.bytesReceived} bytes read, ${g.requests} requests)`;
  const count = (a: string) => g.steps.filter((x) => x.action === a).length;
  const sent = g.steps.filter((x) => x.action === 'upload' || x.action === 'copy' || x.action === 'manifest' || x.action === 'tag').reduce((n, x) => n + x.size, 0);
  const parts = [`${count('upload')} blob(s) uploaded`, `${count('copy')} copied`, `${count('mount')} mounted`, `${count('exists')} already there`, `${count('manifest') + count('tag')} manifest(s)`];
  const moved = dryRun ? `would send about ${sent} bytes` : `${g.bytesSent} bytes sent, ${g.bytesReceived} received in ${g.requests} requests`;
  return `${g.target}${dryRun ? ' would point at' : ' ->'} ${g.digest.short}: ${parts.join(', ')}; ${moved}`;
}

/** The machine-readable report (`--json`). */
export function jsonReport(r: EditArchiveReport, daemon?: DaemonInfo): string {
  return jsonText({
    layout: r.layout,
    compression: r.compression,
    images: r.images.map((i) => ({
      tags: i.tags,
      newTags: i.newTags,
      oldId: i.oldId.toString(),
      newId: i.newId.toString(),
      oldDigest: i.oldDigest.toString(),
      newDigest: i.newDigest.toString(),
      ...(i.ids ? { ids: idsJson(i.ids) } : {}),
      changed: i.changed,
      platforms: i.platforms.map((p) => ({ platform: p.platform, oldId: p.oldId.toString(), newId: p.newId.toString(), configChanges: p.configChanges })),
      otherNames: i.otherNames,
      edits: i.edits,
      configChanges: i.configChanges,
      warnings: i.warnings,
    })),
    warnings: r.warnings,
    ...(daemon ? { daemon } : {}),
    droppedEntries: r.droppedEntries,
    ...(r.conversion ? { conversion: r.conversion } : {}),
    ...(r.registry ? { registry: { ...r.registry, digest: r.registry.digest.toString(), steps: r.registry.steps.map((x) => ({ ...x, digest: x.digest.toString() })) } } : {}),
    ...(r.verification ? { verification: { ok: r.verification.ok, counts: r.verification.counts, issues: r.verification.issues, unverified: r.verification.unverified } } : {}),
  });
}

/** What daemon mode talks to (src/cli/daemon.ts), for the report. */
export interface DaemonInfo {
  readonly program: string;
  /** The endpoint: DOCKER_HOST, the docker context's, or podman's storage. */
  readonly endpoint: string | null;
  readonly context: string | null;
  readonly version: string | null;
  readonly store: ImageStore | null;
}

function idsJson(ids: NonNullable<ImageReport['ids']>): { classic: { old: string | null; new: string | null }; containerd: { old: string | null; new: string | null } } {
  const s = (d: Digest | null) => d?.toString() ?? null;
  return { classic: { old: s(ids.classic.old), new: s(ids.classic.new) }, containerd: { old: s(ids.containerd.old), new: s(ids.containerd.new) } };
}
