import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, linkSync, readFileSync, readdirSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArchiveError, UsageError, editArchive, readArchive, scanArchive, setLabel, verifyArchive } from '../../../src/index.js';
import { DirSource, listLayout } from '../../../src/io/dir-source.js';
import { removePendingDirsSync } from '../../../src/io/dir-target.js';
import { type Entry, dockerLegacy, makeTar, sha } from '../fixtures.js';
import { type Desc, OciBuilder, named } from '../oci-builder.js';
import { rng } from '../rng.js';

const SAMPLES = new URL('../../../../samples/', import.meta.url).pathname;

let tmp: string;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'copyedit-dir-'));
});
after(() => rm(tmp, { recursive: true, force: true }));

let n = 0;
const fresh = () => join(tmp, `d${n++}`);

/** A layout directory written from an OciBuilder: blobs named by their sha256, the roots in index.json. */
async function writeLayout(b: OciBuilder, roots: Desc[], dir = fresh()): Promise<string> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const [hex, data] of b.blobs) await writeFile(join(dir, 'blobs', 'sha256', hex), data);
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: roots }));
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  return dir;
}

/** A seeded layout: 1-3 images, some multi-platform with attestations, some with a referrer artifact. */
async function generated(seed: number): Promise<{ dir: string; names: string[] }> {
  const r = rng(seed);
  const b = new OciBuilder();
  const roots: Desc[] = [];
  const names: string[] = [];
  const images = 1 + Math.floor(r() * 3);
  for (let i = 0; i < images; i++) {
    const name = `example.com/gen${seed}/img${i}:v${i}`;
    names.push(name);
    if (r() < 0.5) {
      roots.push(named((await b.image('linux', `amd64`, { config: { Labels: { seed: String(seed) } } }, `f${i}.txt`)).desc, name));
    } else {
      const a = await b.image('linux', 'amd64', {}, `a${i}.txt`);
      const c = await b.image('linux', 'arm64', {}, `c${i}.txt`);
      const kids = [a.desc, c.desc];
      if (r() < 0.5) kids.push(b.attestation(a.desc));
      roots.push(named(b.index(kids), name));
      if (r() < 0.5) b.artifact('application/vnd.example.sbom', `sbom ${seed} ${i}`, a.desc);
    }
  }
  return { dir: await writeLayout(b, roots), names };
}

/** Every file under `dir`, relative path -> bytes. */
function files(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const f of readdirSync(dir, { recursive: true }).map(String).sort()) {
    const p = join(dir, f);
    try {
      out.set(f, readFileSync(p));
    } catch {
      /* a directory */
    }
  }
  return out;
}

/** The directory is an OCI layout and nothing else: each blob named by its content's sha256. */
function assertPureLayout(dir: string): void {
  const all = files(dir);
  assert.ok(all.has('oci-layout') && all.has('index.json'), [...all.keys()].join(' '));
  for (const [name, data] of all) {
    if (name === 'oci-layout' || name === 'index.json') continue;
    const m = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(name);
    assert.ok(m, `${name} is no layout file`);
    assert.equal(sha(data), m[1], `${name}: content does not match its name`);
  }
}

/** No `.NAME.copyedit-*` temporary directory left in `parent`. */
async function noTemporaries(parent: string): Promise<void> {
  assert.deepEqual(
    (await readdir(parent)).filter((f) => f.includes('.copyedit-')),
    [],
  );
}

describe('an OCI layout directory as input', () => {
  it('reads as the tar of its files: oci-layout, index.json, then the blobs in name order', async () => {
    const { dir } = await generated(1);
    const listing = listLayout(dir);
    const seen: string[] = [];
    const streamed = new Map<string, Buffer>();
    const entries = await scanArchive(new DirSource(dir, listing), async (e, body) => {
      const parts: Buffer[] = [];
      for await (const c of body) parts.push(Buffer.from(c));
      streamed.set(e.name, Buffer.concat(parts));
    });
    for (const e of entries) seen.push(e.name);
    const blobs = readdirSync(join(dir, 'blobs', 'sha256')).sort();
    assert.deepEqual(seen, ['oci-layout', 'index.json', ...blobs.map((h) => `blobs/sha256/${h}`)]);
    for (const e of entries) assert.deepEqual(e.data ?? streamed.get(e.name), readFileSync(join(dir, e.name)), e.name);
  });

  it('is edited into an archive that verifies, for a seeded corpus of layouts', async () => {
    for (let seed = 10; seed < 16; seed++) {
      const { dir, names } = await generated(seed);
      const out = join(tmp, `gen${seed}.tar`);
      const report = await editArchive({ input: dir, output: out, edits: [setLabel('edited', String(seed))] });
      assert.equal(report.images.length, names.length, `seed ${seed}`);
      assert.ok(
        report.images.every((i) => i.changed),
        `seed ${seed}`,
      );
      const v = await verifyArchive(out);
      assert.ok(v.ok, `seed ${seed}: ${JSON.stringify(v.issues)}`);
      const read = await readArchive(out);
      for (const img of read.model.images.filter((i) => i.config.architecture !== 'unknown')) {
        assert.equal(((img.config.config as Record<string, unknown>).Labels as Record<string, unknown>).edited, String(seed), `seed ${seed}`);
      }
    }
  });

  it('lists the names outside the layout in a warning (never ignored silently)', async () => {
    const { dir } = await generated(2);
    await writeFile(join(dir, 'README'), 'x');
    await writeFile(join(dir, 'blobs', 'sha256', 'notes.txt'), 'x');
    const report = await editArchive({ input: dir, output: join(tmp, 'warn.tar'), edits: [setLabel('a', 'b')] });
    const w = report.warnings.find((x) => x.includes('outside the OCI layout'));
    assert.ok(w, report.warnings.join('\n'));
    assert.match(w, /2 names .*: README, blobs\/sha256\/notes\.txt$/);
    // inspect and verify say it too
    assert.ok((await readArchive(dir)).model.notes.includes(w));
    assert.ok((await verifyArchive(dir)).notes.includes(w));
  });

  describe('refuses (ArchiveError, exit 3, naming the path)', () => {
    const refused = async (dir: string, message: RegExp) => {
      const out = join(tmp, `r${n++}.tar`);
      await assert.rejects(editArchive({ input: dir, output: out, edits: [setLabel('a', 'b')] }), (e: unknown) => {
        assert.ok(e instanceof ArchiveError, String(e));
        assert.equal(e.exitCode, 3);
        assert.match(e.message, message);
        return true;
      });
      assert.deepEqual(
        readdirSync(tmp).filter((f) => f === out.slice(tmp.length + 1)),
        [],
      );
    };
    it('a directory without oci-layout or index.json', async () => {
      const d = fresh();
      await mkdir(d);
      await writeFile(join(d, 'index.json'), '{}');
      await refused(d, new RegExp(`^${d}: is a directory without oci-layout; copyedit reads a docker save archive`));
    });
    it('a blob that is a symbolic link (never followed out of the directory)', async () => {
      const { dir } = await generated(3);
      const hex = readdirSync(join(dir, 'blobs', 'sha256'))[0]!;
      const p = join(dir, 'blobs', 'sha256', hex);
      await writeFile(join(tmp, 'outside'), readFileSync(p));
      unlinkSync(p);
      await symlink(join(tmp, 'outside'), p);
      await refused(dir, new RegExp(`^${p}: is a symbolic link in an OCI layout directory; a blob must be a regular file`));
    });
    it('index.json that is a symbolic link, blobs/ a file, a FIFO among the blobs', async () => {
      const a = (await generated(4)).dir;
      await writeFile(join(tmp, 'idx'), readFileSync(join(a, 'index.json')));
      unlinkSync(join(a, 'index.json'));
      await symlink(join(tmp, 'idx'), join(a, 'index.json'));
      await refused(a, /index\.json: is a symbolic link in an OCI layout directory; index\.json must be a regular file/);
      const b = fresh();
      await mkdir(b);
      await writeFile(join(b, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
      await writeFile(join(b, 'index.json'), '{"schemaVersion":2,"manifests":[]}');
      await writeFile(join(b, 'blobs'), '');
      await refused(b, /blobs: is not a regular file in an OCI layout directory; blobs must be a directory|blobs: is .* blobs must be a directory/);
      const c = (await generated(5)).dir;
      const fifo = join(c, 'blobs', 'sha256', 'f'.repeat(64));
      assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
      await refused(c, /is not a regular file in an OCI layout directory; a blob must be a regular file/);
    });
    it('a blob that shrinks, grows, vanishes or is replaced after the listing', async () => {
      for (const change of ['shrink', 'grow', 'vanish', 'replace', 'rewrite'] as const) {
        const { dir } = await generated(6);
        const listing = listLayout(dir);
        const victim = listing.files[listing.files.length - 1]!;
        if (change === 'shrink') truncateSync(victim.path, 1);
        if (change === 'grow') appendFileSync(victim.path, 'more');
        if (change === 'vanish') unlinkSync(victim.path);
        if (change === 'replace') {
          const data = readFileSync(victim.path);
          // the old inode stays alive through a second link, so the new file cannot reuse its number
          linkSync(victim.path, `${dir}.keep`);
          unlinkSync(victim.path);
          await writeFile(join(dir, 'tmpfile'), 'padding so the inode differs');
          await writeFile(victim.path, data);
          unlinkSync(`${dir}.keep`);
        }
        if (change === 'rewrite') {
          // the same size, other bytes, in place: only the status change time tells (past the clock's tick)
          await new Promise((r) => setTimeout(r, 25));
          writeFileSync(victim.path, Buffer.alloc(victim.size, 0x5a));
        }
        await assert.rejects(
          scanArchive(
            new DirSource(dir, listing),
            async (_e, body) => {
              for await (const _ of body) void _;
            },
            dir,
          ),
          (e: unknown) => {
            assert.ok(e instanceof ArchiveError, `${change}: ${String(e)}`);
            assert.match(e.message, new RegExp(`${victim.name}: .*(changed size|vanished|replaced).*something else is writing the OCI layout directory`), change);
            return true;
          },
        );
      }
    });
    it('a blob that grows while it is read (the end is checked again)', async () => {
      const b = new OciBuilder();
      const big = b.blob(Buffer.alloc(3 << 20, 7), 'application/vnd.oci.image.layer.v1.tar');
      const dir = await writeLayout(b, [big]);
      const p = join(dir, 'blobs', 'sha256', big.digest.slice(7));
      const src = new DirSource(dir, listLayout(dir));
      await assert.rejects(
        scanArchive(src, async (_e, body) => {
          let first = true;
          for await (const _ of body) {
            if (first) appendFileSync(p, 'late');
            first = false;
          }
        }),
        /changed size from 3145728 to 3145732 bytes while it was read/,
      );
    });
  });
});

describe('an unnamed image (skopeo oci:DIR:tag writes only ref.name) edited to no effect', () => {
  it('keeps its index.json entry and its blobs, in a seeded corpus, from a tar and from a directory', async () => {
    for (let seed = 40; seed < 46; seed++) {
      const r = rng(seed);
      const b = new OciBuilder();
      const roots: Desc[] = [];
      for (let i = 0; i < 1 + Math.floor(r() * 3); i++) {
        const img = await b.image('linux', r() < 0.5 ? 'amd64' : 'arm64', { config: { Labels: { same: 'yes' } }, container_config: { Labels: { same: 'yes' } } }, `u${i}.txt`);
        const ref = r() < 0.5 ? { annotations: { 'org.opencontainers.image.ref.name': `t${i}` } } : {};
        roots.push({ ...(r() < 0.5 ? img.desc : b.index([img.desc])), ...ref });
      }
      const dir = await writeLayout(b, roots);
      const tar = join(tmp, `unnamed${seed}.tar`);
      await writeFile(tar, await b.archive(roots));
      for (const input of [dir, tar]) {
        const out = fresh();
        const report = await editArchive({ input, output: { dir: out }, edits: [setLabel('same', 'yes')] });
        assert.ok(
          report.images.every((i) => !i.changed),
          `seed ${seed}: ${JSON.stringify(report.images)}`,
        );
        assert.deepEqual(report.droppedEntries, [], `seed ${seed} ${input}`);
        assert.deepEqual(JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')).manifests, roots, `seed ${seed} ${input}`);
        assert.deepEqual(files(out), files(dir), `seed ${seed} ${input}`);
      }
    }
  });
});

describe('an OCI layout directory as output', () => {
  it('dir -> dir: only oci-layout, index.json and blobs named by their sha256; verifies; the edit is there', async () => {
    for (let seed = 20; seed < 24; seed++) {
      const { dir, names } = await generated(seed);
      const out = fresh();
      const report = await editArchive({ input: dir, output: `${out}/`, edits: [setLabel('edited', 'yes')] });
      assert.equal(report.images.length, names.length);
      assertPureLayout(out);
      const v = await verifyArchive(out);
      assert.ok(v.ok, `seed ${seed}: ${JSON.stringify(v.issues)}`);
      const read = await readArchive(out);
      assert.ok(read.model.images.filter((i) => i.config.architecture !== 'unknown').every((i) => ((i.config.config as Record<string, unknown>).Labels as Record<string, unknown>).edited === 'yes'));
      await noTemporaries(tmp);
    }
  });

  it('round trip dir -> tar -> dir without edits gives the same files, byte for byte', async () => {
    const { dir } = await generated(30);
    const tar = join(tmp, 'rt.tar');
    await editArchive({ input: dir, output: tar, edits: [] });
    const back = fresh();
    await editArchive({ input: tar, output: { dir: back }, edits: [] });
    assert.deepEqual(files(back), files(dir));
  });

  it('a Docker 25+ archive: manifest.json and repositories are left out, and said so', async () => {
    const out = fresh();
    const report = await editArchive({ input: join(SAMPLES, 'docker26-oci.tar'), output: { dir: out }, edits: [setLabel('a', 'b')] });
    assertPureLayout(out);
    assert.ok(report.droppedEntries.includes('manifest.json') && report.droppedEntries.includes('repositories'), report.droppedEntries.join(' '));
    assert.ok(
      report.warnings.some((w) => /2 entries an OCI layout directory does not have .*: manifest\.json, repositories/.test(w)),
      report.warnings.join('\n'),
    );
    assert.ok((await verifyArchive(out)).ok);
  });

  it('an existing empty directory is replaced by the layout; a trailing slash names a new one', async () => {
    const { dir } = await generated(31);
    const empty = fresh();
    await mkdir(empty);
    await editArchive({ input: dir, output: empty, edits: [setLabel('a', 'b')] });
    assertPureLayout(empty);
  });

  describe('refuses, and leaves nothing behind', () => {
    it("a non-empty target (UsageError, exit 2): the user's directory is untouched", async () => {
      const { dir } = await generated(32);
      const target = fresh();
      await mkdir(target);
      await writeFile(join(target, 'keep.txt'), 'mine');
      await assert.rejects(editArchive({ input: dir, output: `${target}/`, edits: [setLabel('a', 'b')] }), (e: unknown) => {
        assert.ok(e instanceof UsageError && e.exitCode === 2, String(e));
        assert.match(
          e.message,
          /the directory is not empty \(1 entry\); an OCI layout directory is written only as a new directory or into an empty one, never merged into one; remove it or name another/,
        );
        return true;
      });
      assert.deepEqual(await readdir(target), ['keep.txt']);
      await noTemporaries(tmp);
    });

    it('a target that is a file or a symbolic link (with a trailing slash or { dir })', async () => {
      const { dir } = await generated(33);
      const file = join(tmp, 'a-file');
      await writeFile(file, 'mine');
      await assert.rejects(editArchive({ input: dir, output: { dir: file }, edits: [setLabel('a', 'b')] }), /it exists and is not a directory/);
      const link = join(tmp, 'a-link');
      const empty = fresh();
      await mkdir(empty);
      await symlink(empty, link);
      await assert.rejects(editArchive({ input: dir, output: `${link}/`, edits: [setLabel('a', 'b')] }), /it is a symbolic link/);
      assert.equal(readFileSync(file, 'utf8'), 'mine');
      await noTemporaries(tmp);
    });

    it('an archive without index.json (Docker <= 24): UsageError naming --format oci', async () => {
      const legacy = join(tmp, 'legacy.tar');
      await writeFile(legacy, (await dockerLegacy()).archive);
      const out = fresh();
      await assert.rejects(editArchive({ input: legacy, output: { dir: out }, edits: [setLabel('a', 'b')] }), (e: unknown) => {
        assert.ok(e instanceof UsageError, String(e));
        assert.match(e.message, /has no index\.json .*--format oci/);
        return true;
      });
      assert.ok(!readdirSync(tmp).includes(out.slice(tmp.length + 1)));
      await noTemporaries(tmp);
    });

    it('a blob that is a link in the archive, and a blob twice: ArchiveError, nothing written', async () => {
      const b = new OciBuilder();
      const img = await b.image('linux', 'amd64');
      const base: Entry[] = [...b.blobs].map(([hex, data]) => ({ name: `blobs/sha256/${hex}`, data }));
      const meta: Entry[] = [
        { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
        { name: 'index.json', data: JSON.stringify({ schemaVersion: 2, manifests: [named(img.desc, 'x/y:1')] }) },
      ];
      const cases: [string, Entry[], RegExp][] = [
        [
          'link',
          [...base, { name: `blobs/sha256/${'e'.repeat(64)}`, type: 'symlink', linkname: '/etc/passwd' }, ...meta],
          /is a symbolic link; an OCI layout directory holds each of its files as a regular file, and copyedit makes no links/,
        ],
        ['twice', [...base, base[0]!, ...meta], /appears twice in the archive/],
      ];
      for (const [what, entries, message] of cases) {
        const input = join(tmp, `${what}.tar`);
        await writeFile(input, await makeTar(entries));
        const out = fresh();
        await assert.rejects(editArchive({ input, output: { dir: out }, edits: [setLabel('a', 'b')] }), (e: unknown) => {
          assert.ok(e instanceof ArchiveError, `${what}: ${String(e)}`);
          assert.match(e.message, message, what);
          return true;
        });
        assert.ok(!readdirSync(tmp).includes(out.slice(tmp.length + 1)), what);
        await noTemporaries(tmp);
      }
    });

    it('compress with a directory output is a RangeError', async () => {
      const { dir } = await generated(34);
      await assert.rejects(editArchive({ input: dir, output: { dir: fresh() }, edits: [setLabel('a', 'b')], compress: 'gzip' }), RangeError);
    });

    it("a pending temporary directory is removed by the signal handler's cleanup", async () => {
      const { dir } = await generated(35);
      const out = fresh();
      // stop the run inside the writer: the temporary directory exists, holding blobs
      let seenTemp: string | undefined;
      const edit = setLabel('a', 'b');
      const spy = {
        ...edit,
        apply(c: Parameters<typeof edit.apply>[0]) {
          const t = readdirSync(tmp).find((f) => f.startsWith(`.${out.slice(tmp.length + 1)}.copyedit-`));
          if (t) removePendingDirsSync();
          seenTemp ??= t;
          return edit.apply(c);
        },
      };
      await editArchive({ input: dir, output: { dir: out }, edits: [spy] }).catch(() => {});
      assert.ok(seenTemp, 'no temporary directory while editing');
      await noTemporaries(tmp);
      await readFile(join(dir, 'index.json')); // the input is untouched
    });
  });
});
