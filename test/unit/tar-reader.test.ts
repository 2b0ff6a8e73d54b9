/**
 * Issue 9: headers are read as Go's archive/tar reads them, and headers written anew never carry
 * text a tar reader cannot parse (class 1, NaN mtimes). The bounded costs of reading (the caps, on
 * big generated archives) are in the slow group: test/slow/tar-bounds.test.ts.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { EntryRecord } from '../../src/archive/tar/entry.js';
import { scanArchive } from '../../src/archive/scan.js';
import { type Header, decodeHeader, encodeHeader } from '../../src/archive/tar/header.js';
import { CopyeditError } from '../../src/errors.js';
import { END, block, entry, extension, paxRecord, rng } from '../hostile/tar-gen.js';

async function refusal(p: Promise<unknown>): Promise<CopyeditError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CopyeditError, String(e));
    return e;
  }
  assert.fail('the archive was accepted');
}

const drain = async (_e: EntryRecord, body: AsyncIterable<Buffer>) => {
  for await (const _ of body);
};

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
