/**
 * Issue 9: the costs of reading a tar are bounded, whatever the input (class 3, tar part): each cap
 * of src/archive/scan.ts is reached with a generated archive (50,000 entries, 16 MiB of names or
 * PAX headers). In the slow group (moved from test/unit/tar-reader.test.ts, which keeps the header
 * formats): the archives are big, some 8 s of the unit run.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { EntryRecord } from '../../src/archive/tar/entry.js';
import { MAX_ENTRIES, MAX_KEPT_EXTENSIONS, MAX_NAME_BYTES, scanArchive } from '../../src/archive/scan.js';
import { CopyeditError } from '../../src/errors.js';
import { END, block, entry, extension, paxRecord, rng } from '../hostile/tar-gen.js';

/** An archive produced lazily, `count` entries from `make(i)`, so a big one costs no memory here. */
function lazyTar(count: number, make: (i: number) => Buffer): Readable {
  return Readable.from(
    (function* () {
      const batch: Buffer[] = [];
      for (let i = 0; i < count; i++) {
        batch.push(make(i));
        if (batch.length === 500) yield Buffer.concat(batch.splice(0));
      }
      yield Buffer.concat([...batch, END]);
    })(),
  );
}

const drain = async (_e: EntryRecord, body: AsyncIterable<Buffer>) => {
  for await (const _ of body);
};

async function refusal(p: Promise<unknown>): Promise<CopyeditError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CopyeditError, String(e));
    return e;
  }
  assert.fail('the archive was accepted');
}

describe('tar reader: bounded costs (issue 9)', () => {
  it(`refuses more than ${MAX_ENTRIES} entries (directories, empty files: any kind), exit 3`, async () => {
    const kinds = ['5', '0', '2'];
    const e = await refusal(
      scanArchive(
        lazyTar(MAX_ENTRIES + 1, (i) => block({ name: `d/${i}`, flag: kinds[i % 3]!, size: 0, linkname: i % 3 === 2 ? 'x' : '' })),
        drain,
        'big.tar',
      ),
    );
    assert.equal(e.exitCode, 3);
    assert.match(e.message, new RegExp(`^big\\.tar: holds more than ${MAX_ENTRIES} entries; a docker save archive holds a few thousand at most`));
    const ok = await scanArchive(
      lazyTar(2000, (i) => block({ name: `d/${i}`, flag: '5', size: 0 })),
      drain,
    );
    assert.equal(ok.length, 2000);
  });

  it(`refuses more than ${MAX_NAME_BYTES >> 20} MiB of names, however they are spread`, async () => {
    const r = rng(9);
    const e = await refusal(
      scanArchive(
        lazyTar(200, (i) => {
          const name = `n${i}/${'x'.repeat(100_000 + Math.floor(r() * 100_000))}`;
          const ext = r() < 0.5 ? extension('x', paxRecord(r() < 0.5 ? 'path' : 'linkpath', name)) : extension(r() < 0.5 ? 'L' : 'K', `${name}\0`);
          return Buffer.concat([ext, block({ name: 'short', flag: r() < 0.5 ? '5' : '2', size: 0 })]);
        }),
        drain,
        'names.tar',
      ),
    );
    assert.match(e.message, /names\.tar: has more than 16 MiB of entry names and link targets together/);
  });

  it(`refuses more than ${MAX_KEPT_EXTENSIONS >> 20} MiB of PAX headers on kept (metadata) entries`, async () => {
    const comment = paxRecord('comment', 'c'.repeat((1 << 20) - 40));
    const e = await refusal(
      scanArchive(
        lazyTar(40, (i) => Buffer.concat([extension('x', comment), entry({ name: `e${i}.json`, flag: '0', size: 2 }, Buffer.from('{}'))])),
        drain,
        'pax.tar',
      ),
    );
    assert.match(e.message, /pax\.tar: holds more than 16 MiB of PAX or GNU long-name headers on its small entries/);
  });

  it('global PAX headers are checked and dropped, not accumulated, and count towards the entry cap', async () => {
    const g = extension('g', paxRecord('comment', 'made by git'));
    const ok = await scanArchive(Readable.from([Buffer.concat([g, g, entry({ name: 'a.json', flag: '0', size: 2 }, Buffer.from('{}')), END])]), drain);
    assert.equal(ok[0]!.raw!.length, 512, 'the global headers are not kept with the entry');
    const e = await refusal(
      scanArchive(
        lazyTar(MAX_ENTRIES + 1, () => g),
        drain,
        'g.tar',
      ),
    );
    assert.match(e.message, /g\.tar: holds more than 50000 entries/);
  });

  it('many small PAX records on kept entries count towards the extension budget (they cost memory once parsed)', async () => {
    let k = 0;
    const records = () => {
      const out: string[] = [];
      for (let i = 0; i < 12_000; i++) out.push(paxRecord(`k${k++}`, ''));
      return out.join('');
    };
    // 100 KiB of records per entry, but 12,000 keys: refused long before 16 MiB of header bytes
    const e = await refusal(
      scanArchive(
        lazyTar(40, (i) => Buffer.concat([extension('x', records()), entry({ name: `e${i}.json`, flag: '0', size: 2 }, Buffer.from('{}'))])),
        drain,
        'keys.tar',
      ),
    );
    assert.match(e.message, /keys\.tar: holds more than 16 MiB of PAX or GNU long-name headers on its small entries/);
  });

  it('streamed entries keep no header bytes or PAX records once written; metadata keeps them', async () => {
    const tar = Buffer.concat([
      extension('x', paxRecord('SCHILY.xattr.user.a', 'b')),
      entry({ name: 'layer.tar', flag: '0', size: 600 }, Buffer.alloc(600, 1)),
      extension('x', paxRecord('SCHILY.xattr.user.a', 'b')),
      entry({ name: 'manifest.json', flag: '0', size: 2 }, Buffer.from('[]')),
      END,
    ]);
    const seen: boolean[] = [];
    const entries = await scanArchive(Readable.from([tar]), async (e, body) => {
      seen.push(e.raw !== undefined); // the writer needs them now
      await drain(e, body);
    });
    assert.deepEqual(seen, [true]);
    assert.equal(entries[0]!.raw, undefined);
    assert.equal(entries[0]!.header.pax, undefined);
    assert.equal(entries[1]!.raw!.length, 512 * 3);
    assert.deepEqual({ ...entries[1]!.header.pax }, { 'SCHILY.xattr.user.a': 'b' });
  });
});
