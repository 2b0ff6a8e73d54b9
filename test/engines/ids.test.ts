/**
 * Issue 24: the IDs copyedit reports are the ones the engines show. A single-platform sample (the
 * Docker 20.10 archive, whose layout has no manifest: containerd's importer writes one) and the
 * BuildKit two-platform index are edited (with a tag of this run), loaded into Docker 28's classic
 * store (d28) and its containerd image store (d28c), and `docker images --no-trunc` must show
 * `ids.classic.new` on d28 and `ids.containerd.new` on d28c; the unedited samples' IDs are checked
 * the same way against `ids.*.old`.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type AnyDocker, type Engines, RUN_ID, SAMPLES, cli, docker, dockerRmi, ok, removeDir, requireEngines, tempDir } from './harness.js';

type Ids = { classic: { old: string; new: string }; containerd: { old: string; new: string } };
const dir = tempDir('ids');
after(() => removeDir(dir));

function shownId(e: Engines, which: AnyDocker, ref: string): string {
  return ok(docker(e, which, ['images', '--no-trunc', '--format', '{{.ID}}', ref]), `docker images ${ref}`).stdout.trim();
}

describe('reported IDs = docker images --no-trunc on Docker 28, both stores', () => {
  for (const [sample, what] of [
    ['docker20-legacy.tar', 'single-platform, no manifest in the archive'],
    ['docker28c-multi.tar', 'two platforms + attestations (BuildKit index)'],
  ] as const) {
    it(`${sample} (${what})`, (t) => {
      const e = requireEngines(t);
      if (!e) return;
      const tag = `copyedit-ids-${RUN_ID}/${sample.replace(/\W/g, '-')}:1`;
      const out = join(dir, `ids-${sample}`);
      const r = ok(cli(['edit', join(SAMPLES, sample), '-o', out, '--label', `run=${RUN_ID}`, '--tag', tag, '--json']), 'copyedit edit');
      const ids = (JSON.parse(r.stdout) as { images: { ids: Ids; tags: string[] }[] }).images[0]!;
      const original = ids.tags[0]!;
      for (const [which, store] of [
        ['docker28', 'classic'],
        ['docker28c', 'containerd'],
      ] as const) {
        ok(docker(e, which, ['load', '-i', join(SAMPLES, sample)]), `${which} load ${sample}`);
        const before = shownId(e, which, original);
        ok(docker(e, which, ['load', '-i', out]), `${which} load the edited ${sample}`);
        const after = shownId(e, which, tag);
        t.diagnostic(`${which} (${store} store): ${before.slice(7, 19)} -> ${after.slice(7, 19)}`);
        try {
          assert.equal(before, ids.ids[store].old, `${which}: the unedited ${original}`);
          assert.equal(after, ids.ids[store].new, `${which}: the edited image ${tag}`);
        } finally {
          // by ID too: the sample's other tags (example/app:latest) would keep it, and later suites
          // check that an unedited image was not loaded
          dockerRmi(e, which, [tag, ...ids.tags, before, after].filter(Boolean));
        }
      }
    });
  }
});
