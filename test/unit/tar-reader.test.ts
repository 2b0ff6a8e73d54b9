/**
 * Issue 9: the costs of reading a tar are bounded, whatever the input (class 3, tar part), and
 * headers written anew never carry text a tar reader cannot parse (class 1, NaN mtimes).
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { EntryRecord } from '../../src/archive/tar/entry.js';
import { MAX_ENTRIES, MAX_KEPT_EXTENSIONS, MAX_NAME_BYTES, scanArchive } from '../../src/archive/scan.js';
import { type Header, decodeHeader, encodeHeader } from '../../src/archive/tar/header.js';
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

describe('tar headers: formats (issue 9)', () => {
  it('V7 headers, as GNU tar --format=v7 writes them (device numbers after the type flag), are read as Go reads them', async () => {
    const tar = Buffer.concat([
      entry({ name: 'dir/', flag: '\0', size: 0, format: 'v7', v7devs: true }),
      entry({ name: 'dir/a.txt', flag: '\0', size: 3, format: 'v7', v7devs: true }, Buffer.from('hi\n')),
      entry({ name: 'b/', flag: '0', size: 2, format: 'v7' }, Buffer.from('{}')),
      END,
    ]);
    const entries = await scanArchive(Readable.from([tar]), drain);
    assert.deepEqual(
      entries.map((e) => [e.name, e.header.type, e.header.size]),
      [
        ['dir/', 'directory', 0],
        ['dir/a.txt', 'file', 3],
        ['b/', 'file', 2], // the type flag decides: '0' is a file whatever its name
      ],
    );
  });
});

describe('tar headers: PAX values as Go reads them (issue 9)', () => {
  const one = (pax: string, flag: string, data = Buffer.alloc(0)) =>
    scanArchive(Readable.from([Buffer.concat([extension('x', pax), entry({ name: 'e', flag, size: data.length }, data), END])]), drain);
  it('a negative PAX size: refused on a file (Go: ErrHeader), ignored on a directory or link (no data either way)', async () => {
    for (const flag of ['5', '2', '1']) assert.equal((await one(paxRecord('size', '-1'), flag))[0]!.header.size, 0);
    assert.match((await refusal(one(paxRecord('size', '-1'), '0'))).message, /a negative PAX size/);
  });
  it('a negative size in the header block is refused where data could follow, before PAX records apply (as Go checks it)', async () => {
    const neg = (flag: string, name = 'e') => scanArchive(Readable.from([Buffer.concat([extension('x', paxRecord('size', '0')), entry({ name, flag, size: -1, sizeStyle: 'base256' }), END])]), drain);
    for (const [flag, name] of [
      ['0', 'e'],
      ['\0', 'e'],
      ['\0', 'dir/'],
      ['7', 'e'],
    ] as const)
      assert.match((await refusal(neg(flag, name))).message, /a negative size/, `${JSON.stringify(flag)} ${name}`);
    for (const flag of ['5', '2', '1', '6']) assert.equal((await neg(flag))[0]!.header.size, 0);
  });
  it('PAX times: Go takes 64-bit seconds and digits after a dot; anything else is refused', async () => {
    for (const v of ['-1', '1700000000.123', '1.', '-1.5', '9223372036854775807']) await one(paxRecord('mtime', v), '5');
    for (const v of ['99999999999999999999', '1e5', '.5', ' 1', '1.5e3', '0x10']) assert.match((await refusal(one(paxRecord('mtime', v), '5'))).message, /PAX mtime/, v);
  });
});

describe('tar headers: decoding and encoding numbers (issue 9)', () => {
  it('GNU base-256 numbers: negative and large mtimes, sizes, as Go reads them', () => {
    const r = rng(4);
    for (let k = 0; k < 200; k++) {
      // within what a Date holds (+-8.64e12 s); beyond it the mtime is never written back (below)
      const mtime = Math.floor((r() - 0.5) * 2 ** (1 + Math.floor(r() * 43)));
      const size = Math.floor(r() * 2 ** Math.floor(r() * 40));
      const h = decodeHeader(block({ name: 'f', flag: '0', size, sizeStyle: 'base256', mtime, mtimeStyle: 'base256', format: 'gnu' })).header;
      assert.equal(h.size, size);
      assert.equal(h.mtime.getTime(), mtime * 1000, `mtime ${mtime}`);
    }
  });

  it('a written header never holds text a reader cannot parse: mtimes and ids out of ustar range go to PAX', () => {
    const base: Header = { name: 'manifest.json', size: 3, mode: 0o644, mtime: new Date(0), type: 'file', linkname: '', uid: 0, gid: 0, uname: '', gname: '', devmajor: 0, devminor: 0 };
    for (const [mtime, pax] of [
      [-1, 'mtime=-1'],
      [-1e9, 'mtime=-1000000000'],
      [2 ** 40, `mtime=${2 ** 40}`],
      [NaN, undefined],
      [1e20, undefined],
    ] as const) {
      const out = encodeHeader({ ...base, mtime: new Date(mtime * 1000), uid: 2 ** 22, gid: 5 });
      assert.ok(!out.includes('NaN'), `mtime ${mtime}`);
      if (pax) assert.ok(out.includes(`${pax}\n`), `mtime ${mtime}: no PAX record`);
      assert.ok(out.includes(`uid=${2 ** 22}\n`));
      // every block decodes again, its numbers plain octal
      const main = out.subarray(out.length - 512);
      const h = decodeHeader(main).header;
      assert.equal(h.name, 'manifest.json');
      assert.equal(h.size, 3);
    }
  });
});
