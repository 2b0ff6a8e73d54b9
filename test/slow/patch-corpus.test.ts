/**
 * Issue 26's generated corpus for the patched output (`copy: 'auto'`): archives written here byte
 * by byte, in the docker-legacy and the OCI layouts, with every entry's name in a plain ustar
 * header, behind a PAX extended header (`x`, a `path` record) or behind a GNU long name (`L`), and
 * an image config whose size sweeps the 512-byte block boundaries and the 1 MiB bound of the PAX
 * header Go's archive/tar reads (so the region to overwrite, extension headers included, is just
 * under, at and just over that bound). For each archive:
 * - the patched output lists (Go's archive/tar, Python's tarfile) exactly the entries the streamed
 *   output lists, but for the global headers that cover the replaced entries, and copyedit reads and
 *   verifies it, with the same image IDs as the streamed one;
 * - it is patched exactly when every replaced region fits one PAX header (else `auto` streams: the
 *   bytes are then the streamed ones), and `copy: 'reflink'` refuses the over-the-bound archives;
 * - no byte of the removed volume (a marker only the old config holds) is left in the file;
 * - the same input and edits give the same bytes twice, and the input is left as it was.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { editArchive, removeVolumes, verifyArchive } from '../../src/index.js';
import { MAX_PATCH_REGION } from '../../src/io/patch.js';

const root = new URL('../../../', import.meta.url).pathname;
const TOOLS = join(root, 'test', 'tools');
let dir: string;
let goList: string | undefined;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-patch-corpus-'));
  const out = join(dir, 'tarlist');
  const b = spawnSync('go', ['build', '-o', out, join(TOOLS, 'tarlist.go')], { encoding: 'utf8', env: { ...process.env, GO111MODULE: 'off', GOCACHE: join(dir, 'gocache') } });
  if (b.status === 0) goList = out;
  else if (process.env.CI === 'true') assert.fail(`go build tarlist.go failed: ${b.stderr}`);
});
after(() => rm(dir, { recursive: true, force: true }));

// ------------------------------------------------------------------ a tar writer of its own

type Names = 'ustar' | 'pax' | 'gnu';
const BLOCK = 512;
const pad = (n: number) => (BLOCK - (n % BLOCK)) % BLOCK;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function header(name: string, size: number, type: string, gnu = false): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name.slice(0, 100), 0, 'latin1');
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write('00000000000\0', 136, 'latin1');
  h.write(type, 156, 'latin1');
  if (gnu) h.write('ustar  \0', 257, 'latin1');
  else h.write('ustar\x0000', 257, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

function block(h: Buffer, data: Buffer): Buffer[] {
  return [h, data, Buffer.alloc(pad(data.length))];
}

/** One file entry, its name written as `names` asks (a PAX or GNU extension even when it would fit). */
function entry(name: string, data: Buffer, names: Names): Buffer[] {
  if (names === 'ustar') {
    assert.ok(name.length <= 100, `${name} needs an extension`);
    return block(header(name, data.length, '0'), data);
  }
  if (names === 'pax') {
    const rec = (len: number) => `${len} path=${name}\n`;
    let len = rec(0).length;
    while (rec(len).length !== len) len = rec(len).length;
    const ext = Buffer.from(rec(len), 'latin1');
    return [...block(header('PaxHeaders.0/entry', ext.length, 'x'), ext), ...block(header(name, data.length, '0'), data)];
  }
  const long = Buffer.from(`${name}\0`, 'latin1');
  return [...block(header('././@LongLink', long.length, 'L', true), long), ...block(header(name, data.length, '0', true), data)];
}

/** Bytes one entry takes (`names` encoding), data `n` bytes. */
function extBytes(name: string, names: Names): number {
  return entry(name, Buffer.alloc(0), names).reduce((a, b) => a + b.length, 0) - BLOCK;
}

// ------------------------------------------------------------------ the corpus

type Layout = 'legacy' | 'oci';
const MARKER = 'volume-only-in-the-old-config';
const LAYER = Buffer.concat([...block(header('f.txt', 2, '0'), Buffer.from('x\n')), Buffer.alloc(2 * BLOCK)]);

/** A config of exactly `size` bytes: its one volume's name is the filler (and holds MARKER). */
function config(size: number): Buffer {
  const make = (k: number) =>
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Volumes: { [`/${MARKER}-${'v'.repeat(k)}`]: {} }, Cmd: ['/bin/true'] },
        rootfs: { type: 'layers', diff_ids: [`sha256:${sha(LAYER)}`] },
      }),
    );
  const k = size - make(0).length;
  assert.ok(k >= 0, `a config cannot be as small as ${size}`);
  const b = make(k);
  assert.equal(b.length, size);
  return b;
}

function archive(layout: Layout, names: Names, cfg: Buffer): Buffer {
  const id = sha(cfg);
  const parts: Buffer[] = [];
  if (layout === 'legacy') {
    // a layer folder name longer than ustar's 100 bytes where an extension carries it
    const folder = names === 'ustar' ? 'a'.repeat(64) : `${'a'.repeat(64)}-${'long'.repeat(20)}`;
    parts.push(...entry(`${id}.json`, cfg, names), ...entry(`${folder}/layer.tar`, LAYER, names));
    const manifest = Buffer.from(JSON.stringify([{ Config: `${id}.json`, RepoTags: ['corpus/app:1'], Layers: [`${folder}/layer.tar`] }]));
    parts.push(...entry('manifest.json', manifest, names));
  } else {
    const man = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${id}`, size: cfg.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${sha(LAYER)}`, size: LAYER.length }],
      }),
    );
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: `sha256:${sha(man)}`,
            size: man.length,
            annotations: { 'io.containerd.image.name': 'docker.io/corpus/app:1', 'org.opencontainers.image.ref.name': '1' },
          },
        ],
      }),
    );
    // blobs in name order, as containerd and Docker 26 write them: config, manifest and layer interleave
    const blobs = [
      [id, cfg],
      [sha(man), man],
      [sha(LAYER), LAYER],
    ] as const;
    parts.push(...entry('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'), names));
    for (const [d, b] of [...blobs].sort((x, y) => (x[0] < y[0] ? -1 : 1))) parts.push(...entry(`blobs/sha256/${d}`, b, names));
    parts.push(...entry('index.json', index, names));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

/** Config sizes: around the first block boundaries, and around the 1 MiB bound for this encoding. */
function sizes(layout: Layout, names: Names): number[] {
  // the region a config takes: its extension, its header, its padded data
  const name = layout === 'legacy' ? `${'0'.repeat(64)}.json` : `blobs/sha256/${'0'.repeat(64)}`;
  const last = MAX_PATCH_REGION - extBytes(name, names); // the largest data that fits
  return [511, 512, 513, 1024, 1025, last - BLOCK + 1, last, last + 1];
}

interface Listed {
  ok: boolean;
  entries?: { name: string; type: string; size: number; sha256: string | null; link: string }[];
  error?: string;
}
function list(tool: 'go' | 'python', file: string): string[] {
  const r = tool === 'go' ? spawnSync(goList!, [file], { encoding: 'utf8' }) : spawnSync('python3', [join(TOOLS, 'tarlist.py'), file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const l = JSON.parse(r.stdout.trim()) as Listed;
  assert.ok(l.ok, `${tool}: ${l.error}`);
  return l
    .entries!.filter((e) => e.type !== 'g')
    .map((e) => JSON.stringify([e.name, e.type, e.size, e.sha256, e.link]))
    .sort();
}

describe('the generated corpus of issue 26: patched outputs read as streamed ones', () => {
  for (const layout of ['legacy', 'oci'] as const) {
    for (const names of ['ustar', 'pax', 'gnu'] as const) {
      it(`${layout}, names in ${names} headers, configs around 512 B and 1 MiB`, async () => {
        let patchedCount = 0;
        let streamedCount = 0;
        for (const size of sizes(layout, names)) {
          const what = `${layout} ${names} config of ${size} bytes`;
          const input = join(dir, `in-${layout}-${names}-${size}.tar`);
          const original = archive(layout, names, config(size));
          await writeFile(input, original);
          const streamed = join(dir, 'streamed.tar');
          const patched = join(dir, 'patched.tar');
          const edits = [removeVolumes('all')];
          const a = await editArchive({ input, output: streamed, edits, fsync: false, copy: 'stream' });
          const b = await editArchive({ input, output: patched, edits, fsync: false, copy: 'auto' });
          assert.deepEqual(
            b.images.map((i) => [i.oldId.toString(), i.newId.toString(), i.changed]),
            a.images.map((i) => [i.oldId.toString(), i.newId.toString(), i.changed]),
            what,
          );
          const [sb, pb] = [await readFile(streamed), await readFile(patched)];
          // the config's region: does one PAX header Go reads cover it?
          const fits = size <= sizes(layout, names)[6]!;
          if (fits) {
            assert.ok(pb.includes(' comment=...'), `${what}: not patched though it fits`);
            patchedCount++;
          } else {
            assert.ok(pb.equals(sb), `${what}: over the bound, auto must stream`);
            await assert.rejects(editArchive({ input, output: join(dir, 'refused.tar'), edits, fsync: false, copy: 'reflink' }), /more than one PAX header Go reads can cover/, what);
            streamedCount++;
          }
          assert.equal(pb.indexOf(MARKER), -1, `${what}: the removed volume is still in the file`);
          assert.ok((await readFile(input)).equals(original), `${what}: the input changed`);
          assert.deepEqual(list('python', patched), list('python', streamed), `${what}: Python's tarfile`);
          if (goList) assert.deepEqual(list('go', patched), list('go', streamed), `${what}: Go's archive/tar`);
          const v = await verifyArchive(patched);
          assert.ok(v.ok, `${what}: ${JSON.stringify(v.issues)}`);
          if (size === 513) {
            const again = join(dir, 'again.tar');
            await editArchive({ input, output: again, edits, fsync: false, copy: 'auto' });
            assert.ok((await readFile(again)).equals(pb), `${what}: two runs gave different bytes`);
          }
        }
        assert.ok(patchedCount === 7 && streamedCount === 1, `${patchedCount} patched, ${streamedCount} streamed`);
      });
    }
  }
});
