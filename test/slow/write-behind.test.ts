/**
 * Issue 11: a durable file output starts the disk writing while the copy goes on (a background
 * fdatasync every WRITE_BEHIND_EVERY bytes, one at a time), and a failure of that flush fails the
 * edit with the usual I/O error, nothing left behind. In the slow group: large durable edits,
 * fsynced, some 4 s of disk writing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, mock } from 'node:test';
import { IoError, editArchive, removeVolumes } from '../../src/index.js';
import { WRITE_BEHIND_EVERY, WriteBehind } from '../../src/io/write-behind.js';
import { imageConfig, makeTar, sha } from '../unit/fixtures.js';

type Callback = (e: NodeJS.ErrnoException | null) => void;
const eio = () => Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO', errno: -5, syscall: 'fdatasync' });

describe('WriteBehind', () => {
  it('starts an fdatasync every `every` bytes, never two at a time', () => {
    const calls: Callback[] = [];
    const wb = new WriteBehind(99, 100, (fd, cb) => {
      assert.equal(fd, 99);
      calls.push(cb);
    });
    wb.wrote(99);
    assert.equal(calls.length, 0, 'not due yet');
    wb.wrote(1);
    assert.equal(calls.length, 1, 'due at 100 bytes');
    wb.wrote(1000);
    assert.equal(calls.length, 1, 'one in flight: no second one');
    calls[0]!(null);
    wb.wrote(1);
    assert.equal(calls.length, 2, 'the bytes written meanwhile are due at once');
    wb.wrote(50);
    assert.equal(calls.length, 2);
  });

  it('the first flush comes after 8 MiB, the next ones every `every` bytes', () => {
    let calls = 0;
    const wb = new WriteBehind(3, 64 << 20, (_fd, cb) => {
      calls++;
      cb(null);
    });
    wb.wrote((8 << 20) - 1);
    assert.equal(calls, 0);
    wb.wrote(1);
    assert.equal(calls, 1);
    wb.wrote((64 << 20) - 1);
    assert.equal(calls, 1);
    wb.wrote(1);
    assert.equal(calls, 2);
  });

  it('while a flush runs, the writer is paused every 8 MiB (a turn of the event loop, where its end is seen)', async () => {
    let cb: Callback | undefined;
    const wb = new WriteBehind(3, 10, (_fd, c) => (cb = c));
    assert.equal(wb.wrote(10), undefined, 'starting a flush does not pause');
    assert.equal(wb.wrote((8 << 20) - 1), undefined);
    const pause = wb.wrote(1);
    assert.ok(pause instanceof Promise, 'a pause after 8 MiB');
    cb!(null);
    await pause;
    assert.equal(wb.wrote(8 << 20), undefined, 'none in flight: no pause (a new flush starts)');
  });

  it('keeps a failed flush: the next write and settle() throw it', async () => {
    let cb: Callback | undefined;
    const wb = new WriteBehind(3, 10, (_fd, c) => (cb = c));
    wb.wrote(10);
    const settled = wb.settle();
    cb!(eio());
    await assert.rejects(settled, { code: 'EIO' });
    assert.throws(() => wb.wrote(1), { code: 'EIO' });
    await assert.rejects(wb.settle(), { code: 'EIO' });
  });

  it('settle() waits for the flush in flight', async () => {
    let cb: Callback | undefined;
    const wb = new WriteBehind(3, 10, (_fd, c) => (cb = c));
    wb.wrote(10);
    let done = false;
    const settled = wb.settle().then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(done, false);
    cb!(null);
    await settled;
    assert.equal(done, true);
  });
});

/** One layer larger than the flush interval, so the copy itself triggers a flush; as docker save (Docker <= 24) or an OCI layout. */
async function bigArchive(oci: boolean): Promise<Buffer> {
  const layer = await makeTar([{ name: 'blob.bin', data: Buffer.alloc(WRITE_BEHIND_EVERY + (4 << 20), 7) }]);
  const config = Buffer.from(JSON.stringify(imageConfig([sha(layer)], { config: { Volumes: { '/data': {} } } })));
  if (!oci) {
    return makeTar([
      { name: `${sha(layer)}.tar`, data: layer },
      { name: `${sha(config)}.json`, data: config },
      { name: 'manifest.json', data: JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: ['example/wb:1'], Layers: [`${sha(layer)}.tar`] }]) },
    ]);
  }
  const desc = (mediaType: string, b: Buffer) => ({ mediaType, digest: `sha256:${sha(b)}`, size: b.length });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: desc('application/vnd.oci.image.config.v1+json', config),
      layers: [desc('application/vnd.oci.image.layer.v1.tar', layer)],
    }),
  );
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ ...desc('application/vnd.oci.image.manifest.v1+json', manifest), annotations: { 'org.opencontainers.image.ref.name': '1' } }],
  };
  return makeTar([
    { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'index.json', data: JSON.stringify(index) },
    ...[layer, config, manifest].map((b) => ({ name: `blobs/sha256/${sha(b)}`, data: b })),
  ]);
}

for (const kind of ['file', 'OCI layout directory'] as const)
  describe(`durable ${kind} output: background flush (issue 11)`, () => {
    let dir: string;
    let input: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'copyedit-write-behind-'));
      input = join(dir, 'in.tar');
      await writeFile(input, await bigArchive(kind !== 'file'));
    });
    after(() => rm(dir, { recursive: true, force: true }));

    /** fs.fdatasync replaced for one edit; `answer` decides each call's outcome (asynchronously, as the real one). */
    async function editWith(name: string, answer: (fd: number, cb: Callback) => void, fsync = true): Promise<{ calls: number; error?: unknown; out: string }> {
      const out = join(dir, name);
      let calls = 0;
      const m = mock.method(fs, 'fdatasync', (fd: number, cb: Callback) => {
        calls++;
        answer(fd, cb);
      });
      try {
        // the streamed writer's flush (a file into a file is patched by default, issue 26: no writes to flush)
        await editArchive({ input, output: kind === 'file' ? out : { dir: out }, edits: [removeVolumes('all')], fsync, copy: 'stream' });
        return { calls, out };
      } catch (error) {
        return { calls, error, out };
      } finally {
        m.mock.restore();
      }
    }

    it('a large durable edit flushes in the background while it copies, and the output is whole', async () => {
      const r = await editWith('ok.tar', (fd, cb) => fs.fsync(fd, cb));
      assert.equal(r.error, undefined);
      assert.ok(r.calls >= 1, `background fdatasync calls: ${r.calls}`);
      if (kind === 'file') assert.equal((await readFile(r.out)).length, (await readFile(input)).length);
      else assert.ok((await readdir(join(r.out, 'blobs', 'sha256'))).length >= 3, 'the layout was written');
    });

    it('--no-fsync: no background flush', async () => {
      const r = await editWith('nofsync.tar', (fd, cb) => fs.fsync(fd, cb), false);
      assert.equal(r.error, undefined);
      assert.equal(r.calls, 0);
    });

    // the failure answered at once (seen by the next write, during the copy) or late (seen by the commit)
    for (const [code, delay] of [
      ['EIO', -1],
      ['ENOSPC', -1],
      ['EIO', 30],
      ['ENOSPC', 30],
    ] as const) {
      it(`a background flush failing with ${code} (${delay < 0 ? 'at once' : `after ${delay} ms`}) fails the edit with the usual I/O error; no temporary, no output`, async () => {
        const fail = (cb: Callback) => cb(Object.assign(eio(), { code, message: `${code}: fdatasync` }));
        const r = await editWith(`fail-${code}.tar`, (_fd, cb) => (delay < 0 ? fail(cb) : setTimeout(() => fail(cb), delay)));
        assert.ok(r.calls >= 1, 'a background flush ran');
        assert.ok(r.error instanceof IoError, `an IoError, got ${String(r.error)}`);
        assert.match((r.error as IoError).message, new RegExp(`^cannot write ${r.out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
        if (code === 'ENOSPC') assert.match((r.error as IoError).message, /no space left on device/);
        assert.equal((r.error as IoError).exitCode, 6);
        const left = (await readdir(dir)).filter((n) => n.includes('copyedit') || n === `fail-${code}.tar`);
        assert.deepEqual(left, []);
      });
    }

    it('the rename is made durable: the directory is fsynced once the output has its name (not with --no-fsync)', async () => {
      for (const durable of [true, false]) {
        const out = join(dir, `renamed-${durable}${kind === 'file' ? '.tar' : ''}`);
        const synced: { path: string; named: boolean }[] = [];
        const real = fs.fsyncSync;
        const m = mock.method(fs, 'fsyncSync', (fd: number) => {
          const path = fs.readlinkSync(`/proc/self/fd/${fd}`);
          synced.push({ path, named: fs.existsSync(out) });
          return real(fd);
        });
        syncBuiltinESMExports();
        try {
          await editArchive({ input, output: kind === 'file' ? out : { dir: out }, edits: [removeVolumes('all')], fsync: durable });
        } finally {
          m.mock.restore();
          syncBuiltinESMExports();
        }
        const ofDir = synced.filter((s) => s.path === dir);
        if (durable)
          assert.ok(
            ofDir.some((s) => s.named),
            `an fsync of ${dir} after the rename: ${JSON.stringify(synced)}`,
          );
        else assert.deepEqual(ofDir, []);
      }
    });
  });
