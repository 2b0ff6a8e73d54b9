/**
 * Refactoring changes no output: the sha256 of every sample's edited archive is pinned in
 * test/unit/golden.json. A change there must come from a deliberate change of behaviour, named in
 * the commit that updates the file (`COPYEDIT_UPDATE_GOLDEN=1 node --test dist/test/unit/golden.test.js`).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { editArchive, removePorts, removeVolumes, setEntrypoint } from '../../../src/index.js';

const root = new URL('../../../../', import.meta.url).pathname;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-golden-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const EDITS = () => [removeVolumes('all'), removePorts('all'), setEntrypoint(['/bin/echo', 'edited'])];

/**
 * The sha256 of every sample's output made `copy` way, against `file`: the streamed output
 * (golden.json) and, since issue 26, the patched one of the default (golden-patched.json: the
 * uncompressed samples are patched, the compressed ones streamed, so theirs equal golden.json's).
 */
async function pinned(copy: 'stream' | 'auto', file: string): Promise<void> {
  const goldenPath = join(root, 'test', 'unit', 'rewrite', file);
  const golden = JSON.parse(await readFile(goldenPath, 'utf8').catch(() => '{}')) as Record<string, string>;
  const tars = (d: string) => readdir(join(root, 'samples', d)).then((ns) => ns.filter((n) => /\.tar(\.(gz|zst|xz|bz2))?$/.test(n)).map((n) => (d ? `${d}/${n}` : n)));
  const names = [...(await tars('')), ...(await tars('oci11'))].sort();
  const now: Record<string, string> = {};
  for (const name of names) {
    const output = join(dir, `${name.replace('/', '_')}.out.tar`);
    await editArchive({ input: join(root, 'samples', name), output, edits: EDITS(), fsync: false, copy });
    now[name] = createHash('sha256')
      .update(await readFile(output))
      .digest('hex');
  }
  if (process.env.COPYEDIT_UPDATE_GOLDEN === '1') {
    await writeFile(goldenPath, `${JSON.stringify(now, null, 2)}\n`);
    return;
  }
  assert.deepEqual(now, golden);
}

describe('edited samples are byte-for-byte what they were', () => {
  it('every sample in samples/, streamed', () => pinned('stream', 'golden.json'));
  it('every sample in samples/, patched where it can be (the default)', () => pinned('auto', 'golden-patched.json'));
});
