/**
 * Issue 9, class 1: archives whose tar structure a naive reader takes differently from Go's
 * archive/tar (docker load, containerd, podman). Generated per class, over layouts and variants:
 * - an entry whose size only Go reads right (a '0' file named `x/`, a PAX size, a signed PAX size)
 *   hides a tar stream holding another manifest.json: it must stay an opaque file;
 * - names with a backslash are ordinary names, not manifest.json;
 * - negative and large GNU base-256 mtimes on rewritten and passed-through entries;
 * - PAX and GNU long-name headers over Go's 1 MiB limit, and extension headers Go and Python read
 *   differently: refused.
 */
import { dockerLegacy, podmanArchive, readTar } from '../unit/fixtures.js';
import type { HostileCase } from './corpus.js';
import { END, entry, extension, fixChecksum, paxRecord } from './tar-gen.js';

const ARCHIVE = 3;
const EVIL = 'docker.io/evil/hidden:1';

/** The archive without its two end blocks, to append entries to. */
function open(tar: Buffer): Buffer {
  let end = tar.length;
  while (end >= 512 && tar.subarray(end - 512, end).every((b) => b === 0)) end -= 512;
  return tar.subarray(0, end);
}

/** Offset of the ustar header of `name` (the name field holds it whole). */
function headerOf(tar: Buffer, test: (name: string) => boolean): number {
  for (let off = 0; off + 512 <= tar.length; off += 512) {
    const name = tar.toString('utf8', off, off + 100).replace(/\0.*$/s, '');
    if (tar.toString('latin1', off + 257, off + 262) === 'ustar' && test(name)) return off;
  }
  throw new Error('no such header');
}

/** Two layouts to hide things in: Docker <= 24 and podman, each with its manifest.json item. */
async function bases(): Promise<{ layout: string; tar: Buffer; item: Record<string, unknown> }[]> {
  const out = [];
  for (const layout of ['legacy', 'podman']) {
    const t = (layout === 'legacy' ? await dockerLegacy() : await podmanArchive()).archive;
    const mj = (await readTar(t)).get('manifest.json')!;
    const item = (JSON.parse(mj.data.toString()) as Record<string, unknown>[])[0]!;
    out.push({ layout, tar: t, item });
  }
  return out;
}

export async function tarReaderCases(): Promise<HostileCase[]> {
  const cases: HostileCase[] = [];
  for (const { layout, tar, item } of await bases()) {
    const tags = item.RepoTags as string[];
    const evilManifest = JSON.stringify([{ ...item, RepoTags: [EVIL] }]);
    // a tar stream holding a manifest.json with another tag, then the end of the archive
    const hidden = Buffer.concat([entry({ name: 'manifest.json', flag: '0', size: Buffer.byteLength(evilManifest) }, Buffer.from(evilManifest)), END]);
    const smugglers: [string, Buffer][] = [
      ["a '0' file named like a directory", entry({ name: 'vendor-notes/', flag: '0', size: hidden.length }, hidden)],
      ['a PAX size over a ustar size of 0', Buffer.concat([extension('x', paxRecord('size', String(hidden.length))), entry({ name: 'vendor-notes', flag: '0', size: 0 }, hidden)])],
      ['a PAX size=+N', Buffer.concat([extension('x', paxRecord('size', `+${hidden.length}`)), entry({ name: 'vendor-notes', flag: '0', size: 0 }, hidden)])],
      ['a PAX size with leading zeros', Buffer.concat([extension('x', paxRecord('size', `000${hidden.length}`)), entry({ name: 'vendor-notes', flag: '0', size: 0 }, hidden)])],
      ['a GNU base-256 size', entry({ name: 'vendor-notes', flag: '0', size: hidden.length, sizeStyle: 'base256', format: 'gnu' }, hidden)],
    ];
    smugglers.forEach(([what, smuggler], i) => {
      cases.push({
        name: `${layout}: ${what} hides a manifest.json (it stays an opaque file)`,
        file: `smuggle-${layout}-${i}.tar`,
        bytes: Buffer.concat([open(tar), smuggler, END]),
        expect: { exit: 0, tags, outputContains: [hidden.toString('latin1')] },
      });
    });
    // backslashes are ordinary characters in names, as for docker load on Linux
    ['.\\manifest.json', '\\manifest.json', 'a\\..\\manifest.json', 'manifest.json\\'].forEach((name, i) => {
      const shadow = entry({ name, flag: '0', size: Buffer.byteLength(evilManifest) }, Buffer.from(evilManifest));
      cases.push({
        name: `${layout}: an entry named ${JSON.stringify(name)} after manifest.json is not manifest.json`,
        file: `backslash-${layout}-${i}.tar`,
        bytes: Buffer.concat([open(tar), shadow, END]),
        expect: { exit: 0, tags, outputContains: [evilManifest, `\0${name}\0`.slice(1)] },
      });
    });
    // GNU base-256 mtimes (tar --format=gnu --mtime=@-1): on a rewritten entry and on a copied one
    const targets: [string, (n: string) => boolean][] = [
      ['manifest.json', (n) => n === 'manifest.json'],
      ['the config', (n) => /^[0-9a-f]{64}\.json$/.test(n)],
      ['a layer', (n) => n.endsWith('.tar')],
    ];
    for (const [what, test] of targets) {
      for (const mtime of [-1, -1e9, 2 ** 40]) {
        const t = Buffer.from(open(tar));
        const off = headerOf(t, test);
        let x = BigInt(mtime);
        if (x < 0n) x += 1n << 96n;
        for (let k = 11; k >= 0; k--) {
          t[off + 136 + k] = Number(x & 0xffn);
          x >>= 8n;
        }
        t[off + 136] = mtime < 0 ? 0xff : 0x80;
        t.write('ustar  \0', off + 257, 8, 'latin1'); // GNU, as GNU tar writes base-256
        fixChecksum(t.subarray(off, off + 512));
        cases.push({
          name: `${layout}: a GNU base-256 mtime of ${mtime} on ${what}`,
          file: `mtime-${layout}-${what.replace(/\W/g, '')}-${mtime}.tar`,
          bytes: Buffer.concat([t, END]),
          expect: { exit: 0, notInOutput: ['NaN'], ...(mtime === -1 && what === 'manifest.json' ? { outputContains: ['mtime=-1\n'] } : {}) },
        });
      }
    }
  }

  // over Go's 1 MiB limit for a PAX or GNU long-name header (the 16 MiB ones among them)
  const legacy = (await dockerLegacy()).archive;
  const over: [string, Buffer][] = [
    ['a PAX header of 1 MiB + 1', extension('x', Buffer.alloc((1 << 20) + 1, 0x20))],
    ['a GNU long name of 1 MiB + 1', extension('L', Buffer.alloc((1 << 20) + 1, 0x6e))],
    ['a GNU long link of 1 MiB + 1', extension('K', Buffer.alloc((1 << 20) + 1, 0x6e))],
    ['a 16 MiB PAX header', extension('x', paxRecord('comment', 'c'.repeat((16 << 20) - 40)))],
  ];
  over.forEach(([what, ext], i) => {
    cases.push({
      name: what,
      file: `big-extension-${i}.tar`,
      bytes: Buffer.concat([open(legacy), ext, entry({ name: 'after', flag: '0', size: 0 }), END]),
      expect: { exit: ARCHIVE, message: /holds a PAX or GNU long-name header of \d+ bytes after entry ".*", more than the 1 MiB that Go's archive\/tar \(docker load, containerd, podman\) reads/ },
    });
  });
  // exactly 1 MiB is what Go still reads: accepted, and copied unchanged
  const comment = paxRecord('comment', 'k'.repeat((1 << 20) - 40));
  cases.push({
    name: 'a PAX header of just under 1 MiB on a small entry',
    file: 'pax-1mib.tar',
    bytes: Buffer.concat([open(legacy), extension('x', comment), entry({ name: 'NOTES', flag: '0', size: 5 }, Buffer.from('note\n')), END]),
    expect: { exit: 0, outputContains: [comment] },
  });
  // extension headers Go and Python read differently, and values they refuse
  const refused: [string, Buffer, RegExp][] = [
    [
      'two PAX headers for one entry',
      Buffer.concat([extension('x', paxRecord('path', 'one')), extension('x', paxRecord('path', 'two')), entry({ name: 'x', flag: '0', size: 0 })]),
      /two PAX headers for one entry; Go takes the last, Python the first/,
    ],
    ['two GNU long names for one entry', Buffer.concat([extension('L', 'one\0'), extension('L', 'two\0'), entry({ name: 'x', flag: '0', size: 0 })]), /two GNU long names for one entry/],
    [
      'a GNU long name and a PAX path',
      Buffer.concat([extension('x', paxRecord('path', 'one')), extension('L', 'two\0'), entry({ name: 'x', flag: '0', size: 0 })]),
      /both a GNU long name and a PAX path/,
    ],
    [
      'a global PAX header with a path',
      Buffer.concat([extension('g', paxRecord('path', 'manifest.json')), entry({ name: 'x', flag: '0', size: 0 })]),
      /a global PAX header sets "path", which Go ignores and Python applies to every later entry/,
    ],
    ['a negative PAX size', Buffer.concat([extension('x', paxRecord('size', '-1')), entry({ name: 'x', flag: '0', size: 0 })]), /a negative PAX size/],
    ['a PAX size that is not a number', Buffer.concat([extension('x', paxRecord('size', '1_0')), entry({ name: 'x', flag: '0', size: 0 })]), /PAX size="1_0" is not a number/],
    ['an empty PAX path', Buffer.concat([extension('x', paxRecord('path', '')), entry({ name: 'x', flag: '0', size: 0 })]), /an empty PAX path record/],
    ['a PAX record without its newline', Buffer.concat([extension('x', '11 path=abc'), entry({ name: 'x', flag: '0', size: 0 })]), /bad PAX record at offset 0/],
    [
      "a V7 entry whose PAX path ends in '/'",
      Buffer.concat([extension('x', paxRecord('path', 'dir/')), entry({ name: 'dir', flag: '\0', size: 0 })]),
      /a V7 entry whose extended name and header name disagree on a trailing '\/'/,
    ],
    [
      'a base-256 number Python cannot read',
      Buffer.from(entry({ name: 'x', flag: '0', size: 0, mtime: 5, mtimeStyle: 'base256' }).map((b, i) => (i === 136 ? 0x81 : b))),
      /the mtime field is a base-256 number that Go and Python read differently/,
    ],
    ['a sparse file', entry({ name: 'x', flag: 'S', size: 0, format: 'gnu' }), /entry type "S" \(a sparse file\), which docker load refuses and containerd skips/],
  ];
  refused.forEach(([what, bytes, message], i) => {
    // a hand-damaged block needs its checksum again
    for (let off = 0; off + 512 <= bytes.length; off += 512) if (bytes.toString('latin1', off + 257, off + 262) === 'ustar') fixChecksum(bytes.subarray(off, off + 512));
    cases.push({ name: what, file: `tar-refused-${i}.tar`, bytes: Buffer.concat([open(legacy), bytes, END]), expect: { exit: ARCHIVE, message } });
  });
  return cases;
}
