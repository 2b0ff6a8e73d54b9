import type { EditArchiveReport } from '../pipeline.js';

/** The human summary printed on stderr after an edit. */
export function formatReport(r: EditArchiveReport): string {
  const lines: string[] = [];
  for (const img of r.images) {
    const name = img.tags.length ? img.tags.join(', ') : `<untagged ${img.oldId.short}>`;
    if (img.changed) lines.push(`${name}: ${img.oldId.short} -> ${img.newId.short} (${img.edits.join('; ')})`);
    else lines.push(`${name}: ${img.oldId.short} unchanged: the edits change nothing in this image`);
    for (const w of img.warnings) lines.push(`  warning: ${w}`);
  }
  for (const w of r.warnings) lines.push(`note: ${w}`);
  return lines.join('\n');
}

/** The machine-readable report (`--json`). */
export function jsonReport(r: EditArchiveReport): string {
  return JSON.stringify(
    {
      layout: r.layout,
      compression: r.compression,
      images: r.images.map((i) => ({
        tags: i.tags,
        oldId: i.oldId.toString(),
        newId: i.newId.toString(),
        changed: i.changed,
        edits: i.edits,
        warnings: i.warnings,
      })),
      warnings: r.warnings,
      droppedEntries: r.droppedEntries,
    },
    null,
    2,
  );
}
