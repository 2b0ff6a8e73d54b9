/**
 * Refactoring the rewriter changes no output: for every sample and every conversion or
 * recompression option set, the sha256 of the written archive and of its report (warnings, IDs,
 * dropped entries) is pinned in golden-convert.json, or the error it ends with. A change there must
 * come from a deliberate change of behaviour, named in the commit that updates the file
 * (`COPYEDIT_UPDATE_GOLDEN=1 node --test dist/test/unit/rewrite/golden-convert.test.js`).
 * With COPYEDIT_GOLDEN_REPORTS=DIR the reports are also written there, to diff two runs.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type EditArchiveOptions, editArchive, parsePlatform, removeVolumes, setLabel } from '../../../src/index.js';

const root = new URL('../../../../', import.meta.url).pathname;
const goldenPath = join(root, 'test', 'unit', 'rewrite', 'golden-convert.json');

/** The option sets pinned: conversions alone, recompressions alone, and each with an edit. */
const SETS: Record<string, Partial<EditArchiveOptions>> = {
  oci: { format: 'oci' },
  docker: { format: 'docker' },
  legacy: { format: 'docker-legacy' },
  gzip: { layerCompression: 'gzip' },
  none: { layerCompression: 'none' },
  'oci-zstd': { format: 'oci', layerCompression: 'zstd' },
  'edit-oci': { format: 'oci', edits: [removeVolumes('all'), setLabel('pinned', 'yes')] },
  'edit-docker-gzip': { format: 'docker', layerCompression: 'gzip', edits: [removeVolumes('all')] },
  'edit-legacy': { format: 'docker-legacy', edits: [setLabel('pinned', 'yes')] },
  // edits without a conversion that the rewriter's names, platforms and annotations decide
  'edit-history': { edits: [removeVolumes('all')], history: true },
  'edit-tag-keep': { edits: [setLabel('pinned', 'yes')], tags: ['copy/edited:1'], keepOriginal: true },
  'edit-annotate': { edits: [setLabel('pinned', 'yes')], annotations: { set: { 'org.example.pinned': 'yes' } } },
  'only-arm64': { edits: [setLabel('pinned', 'yes')], onlyPlatforms: [parsePlatform('linux/arm64')!] },
  'platform-arm64-oci': { edits: [setLabel('pinned', 'yes')], platforms: [parsePlatform('linux/arm64')!], format: 'oci' },
  'drop-absent': { edits: [setLabel('pinned', 'yes')], dropAbsent: true },
};

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-golden-convert-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('converted and recompressed samples are byte-for-byte what they were', () => {
  it('every uncompressed sample under every option set', async () => {
    const golden = JSON.parse(await readFile(goldenPath, 'utf8').catch(() => '{}')) as Record<string, string>;
    const tars = (d: string) => readdir(join(root, 'samples', d)).then((ns) => ns.filter((n) => /\.tar$/.test(n)).map((n) => (d ? `${d}/${n}` : n)));
    const names = [...(await tars('')), ...(await tars('oci11'))].sort();
    const reports = process.env.COPYEDIT_GOLDEN_REPORTS;
    if (reports) await mkdir(reports, { recursive: true });
    const now: Record<string, string> = {};
    for (const name of names) {
      for (const [set, o] of Object.entries(SETS)) {
        const key = `${name} ${set}`;
        const output = join(dir, `${name.replace('/', '_')}.${set}.tar`);
        let text: string;
        try {
          const r = await editArchive({ input: join(root, 'samples', name), output, edits: [], fsync: false, history: false, copy: 'stream', ...o });
          const report = JSON.stringify(r, null, 1);
          text = `${sha(await readFile(output))} report ${sha(report).slice(0, 16)}`;
          if (reports) await writeFile(join(reports, `${name.replace('/', '_')}.${set}.json`), report);
          await rm(output, { force: true });
        } catch (e) {
          text = `error ${(e as Error).constructor.name}: ${(e as Error).message}`;
        }
        now[key] = text;
      }
    }
    if (process.env.COPYEDIT_UPDATE_GOLDEN === '1') {
      await writeFile(goldenPath, `${JSON.stringify(now, null, 2)}\n`);
      return;
    }
    assert.deepEqual(now, golden);
  });
});
