/**
 * Issue 9: peak memory over the whole hostile corpus stays within the bound the README states.
 * Each case runs through the CLI under GNU time (`/usr/bin/time -f %M`, installed by
 * scripts/engines/install.sh); a machine without it skips with a message.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { hostileCases } from '../hostile/corpus.js';
import { BIN } from '../unit/hostile-util.js';

/** README "Known limits": a run over any tar structure of the corpus stays under this. */
const BOUND_MIB = 128;

describe('memory over the hostile corpus', () => {
  it(`every case peaks under ${BOUND_MIB} MiB`, { skip: existsSync('/usr/bin/time') ? false : 'GNU time (/usr/bin/time) is not installed: run scripts/engines/setup.sh' }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'copyedit-rss-'));
    try {
      const peaks: [number, string][] = [];
      for (const c of await hostileCases()) {
        const input = join(dir, c.file);
        await writeFile(input, c.bytes);
        const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, BIN, 'edit', input, '-o', join(dir, 'out.tar'), '--no-fsync', ...(c.args ?? ['--rm-volume', 'all'])], { encoding: 'utf8' });
        const kib = Number(r.stderr.trim().split('\n').pop());
        assert.ok(Number.isFinite(kib), `${c.name}: no peak RSS from GNU time: ${r.stderr.slice(-200)}`);
        peaks.push([kib / 1024, c.name]);
      }
      peaks.sort((a, b) => b[0] - a[0]);
      const [top, name] = peaks[0]!;
      assert.ok(top <= BOUND_MIB, `${name}: ${top.toFixed(0)} MiB, over the ${BOUND_MIB} MiB bound`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
