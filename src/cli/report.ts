import type { EditArchiveReport } from '../pipeline.js';
import { escapeDeep, jsonText } from './out.js';

/** The human summary printed after an edit; with `dryRun`, the config changes field by field. */
export function formatReport(report: EditArchiveReport, dryRun = false): string {
  const r = escapeDeep(report);
  const lines: string[] = [];
  r.images.forEach((img, n) => {
    const name = img.tags.length ? img.tags.join(', ') : `<untagged ${img.oldId.short}>`;
    // (identity, on the report as made: the edit replaced the tags)
    const retag = report.images[n]!.newTags !== report.images[n]!.tags ? ` as ${img.newTags.join(', ')}` : '';
    const sameId = img.oldId.toString() === img.newId.toString();
    if (report.conversion && img.edits.length === 0 && sameId) {
      // a conversion alone: the config stays, what the name points at may move
      const moved = img.oldDigest.toString() !== img.newDigest.toString();
      const unknown = dryRun && report.conversion.layersRecompressed > 0;
      const where = unknown
        ? '; the name would point at a new manifest (its digest is known once the layers are recompressed)'
        : moved
          ? `; the name ${dryRun ? 'would point' : 'now points'} at ${img.newDigest.short} (was ${img.oldDigest.short})`
          : '';
      lines.push(`${name}: ${img.oldId.short} config unchanged${where}`);
    } else if (!img.changed) lines.push(`${name}: ${img.oldId.short} unchanged: the edits change nothing in this image`);
    // a new tag alone (daemon mode's INTO) changes no config: say so as archive mode does, not `X -> X`
    else if (sameId) lines.push(`${name}: ${img.oldId.short} unchanged: the edits change nothing in this image${retag ? `; tagged${retag.slice(3)}` : ''}`);
    else if (dryRun) lines.push(`${name}: ${img.oldId.short} would become ${img.newId.short}${retag}`);
    else lines.push(`${name}: ${img.oldId.short} -> ${img.newId.short}${retag} (${img.edits.join('; ')})`);
    const multi = img.platforms.length > 1;
    for (const p of img.platforms) {
      if (multi)
        lines.push(`  ${p.platform ?? 'unknown platform'}: ${p.oldId.short} ${p.oldId.toString() === p.newId.toString() ? 'unchanged' : `${dryRun ? 'would become' : '->'} ${p.newId.short}`}`);
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
  for (const w of r.warnings) lines.push(`note: ${w}`);
  if (dryRun) lines.push('dry run: nothing was written');
  return lines.join('\n');
}

/** The machine-readable report (`--json`). */
export function jsonReport(r: EditArchiveReport): string {
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
      changed: i.changed,
      platforms: i.platforms.map((p) => ({ platform: p.platform, oldId: p.oldId.toString(), newId: p.newId.toString(), configChanges: p.configChanges })),
      otherNames: i.otherNames,
      edits: i.edits,
      configChanges: i.configChanges,
      warnings: i.warnings,
    })),
    warnings: r.warnings,
    droppedEntries: r.droppedEntries,
    ...(r.conversion ? { conversion: r.conversion } : {}),
    ...(r.verification ? { verification: { ok: r.verification.ok, counts: r.verification.counts, issues: r.verification.issues, unverified: r.verification.unverified } } : {}),
  });
}
