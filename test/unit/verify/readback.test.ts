import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it, mock } from 'node:test';
import { VerifyError, editArchive, removeVolumes } from '../../../src/index.js';
import { Readback } from '../../../src/verify/readback.js';
import { imageConfig, makeTar, sha } from '../fixtures.js';
import { rng } from '../rng.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-readback-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('Readback: hashing a file by reading it back while it is written', () => {
  it('gives the digest of each range, for ranges begun before their bytes are written, on a generated corpus of writes', async () => {
    for (let seed = 1; seed <= 6; seed++) {
      const r = rng(seed);
      const path = join(dir, `rb-${seed}.bin`);
      const fd = fs.openSync(path, 'w');
      let written = 0;
      const rb = Readback.open(fd, () => written);
      assert.ok(rb, 'Readback.open works on Linux');
      const data = randomBytes(24 << 20);
      // ranges cut at random points; each one is begun when the writer reaches its start
      const cuts = [0, ...Array.from({ length: 4 }, () => Math.floor(r() * data.length)).sort((a, b) => a - b), data.length];
      const jobs: { start: number; end: number; digest?: Promise<string> }[] = [];
      for (let i = 0; i + 1 < cuts.length; i++) if (cuts[i + 1]! > cuts[i]!) jobs.push({ start: cuts[i]!, end: cuts[i + 1]! });
      let next = 0;
      while (written < data.length) {
        while (next < jobs.length && jobs[next]!.start === written) {
          jobs[next]!.digest = rb!.begin(jobs[next]!.end - jobs[next]!.start);
          next++;
        }
        const until = Math.min(data.length, jobs[next]?.start ?? data.length, written + 1 + Math.floor(r() * (3 << 20)));
        written += fs.writeSync(fd, data, written, until - written);
        rb!.advance();
        if (r() < 0.3) await new Promise((res) => setImmediate(res)); // let answers come in between
      }
      for (const j of jobs) assert.equal(await j.digest, hex(data.subarray(j.start, j.end)), `seed ${seed}: bytes ${j.start}-${j.end}`);
      rb!.close();
      fs.closeSync(fd);
    }
  });

  for (const [how, code] of [
    ['cannot start (its script throws)', 'throw new Error("no thread here");'],
    ['dies on its first job', 'require("node:worker_threads").parentPort.once("message", () => process.exit(3));'],
  ] as const) {
    it(`a thread that ${how}: its jobs are read back by the calling thread, with the same digests`, async () => {
      const script = join(dir, `bad-worker-${code.length}.cjs`);
      await writeFile(script, code);
      const fd = fs.openSync(join(dir, `rb-bad-${code.length}.bin`), 'w');
      let written = 0;
      const rb = Readback.open(fd, () => written, 2, pathToFileURL(script))!;
      const data = randomBytes(5 << 20);
      const jobs = [0, 1 << 20, 3 << 20].map((start, i, all) => ({ start, end: all[i + 1] ?? data.length }));
      const digests: Promise<string>[] = [];
      for (const j of jobs) {
        digests.push(rb.begin(j.end - j.start));
        for (let at = j.start; at < j.end; at += 300_000) {
          written += fs.writeSync(fd, data, at, Math.min(300_000, j.end - at));
          rb.advance();
          await new Promise((res) => setTimeout(res, 2)); // the threads fail meanwhile
        }
      }
      for (const [i, j] of jobs.entries()) assert.equal(await digests[i], hex(data.subarray(j.start, j.end)));
      rb.close();
      await new Promise((res) => setTimeout(res, 50));
      // its own descriptor on the file is closed too, though its threads had exited before close()
      const file = fs.readlinkSync(`/proc/self/fd/${fd}`);
      const open = fs.readdirSync('/proc/self/fd').filter((n) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${n}`) === file;
        } catch {
          return false;
        }
      });
      assert.deepEqual(open, [String(fd)]);
      fs.closeSync(fd);
    });
  }

  it('close() gives up jobs still waiting for bytes, and the process does not wait for them', async () => {
    const fd = fs.openSync(join(dir, 'rb-close.bin'), 'w');
    const rb = Readback.open(fd, () => 0)!;
    const waiting = rb.begin(10 << 20); // never written
    rb.close();
    await assert.rejects(waiting, /verification stopped/);
    await assert.rejects(rb.begin(1), /verification stopped/);
    fs.closeSync(fd);
  });

  it("a read that fails is the job's error (here ESPIPE: a pipe cannot be read at an offset)", async () => {
    const fifo = join(dir, 'rb-fifo');
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [fifo]);
    const rfd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const wfd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    let written = 0;
    const rb = Readback.open(wfd, () => written)!;
    const job = rb.begin(4096);
    written += fs.writeSync(wfd, Buffer.alloc(4096));
    rb.advance();
    await assert.rejects(job, (e: NodeJS.ErrnoException) => e.code === 'ESPIPE');
    rb.close();
    fs.closeSync(wfd);
    fs.closeSync(rfd);
  });
});

/** A legacy-layout archive with one 20 MiB layer: large enough to be read back. */
async function bigArchive(): Promise<Buffer> {
  const layer = await makeTar([{ name: 'big.bin', data: randomBytes(20 << 20) }]);
  const config = Buffer.from(JSON.stringify(imageConfig([sha(layer)])));
  const id = sha(config);
  return makeTar([
    { name: 'aaaa/layer.tar', data: layer },
    { name: `${id}.json`, data: config },
    { name: 'manifest.json', data: JSON.stringify([{ Config: `${id}.json`, RepoTags: ['big/app:1'], Layers: ['aaaa/layer.tar'] }]) },
  ]);
}

describe('edit --verify checks what the output file holds', () => {
  it('a byte that reaches the file damaged is caught (exit 5) and no output is left', async () => {
    const input = join(dir, 'in.tar');
    await writeFile(input, await bigArchive());
    const output = join(dir, 'out.tar');
    // every 1 MiB write of the layer lands with its middle byte flipped (a bad disk, a bad copy);
    // the streamed output (copy: 'stream') writes the layer through writeSync, a patched one never does
    const real = fs.writeSync;
    const spoil = mock.method(fs, 'writeSync', (fd: number, b: Buffer, off?: number, len?: number, pos?: number | null) => {
      const n = off === undefined ? real(fd, b) : real(fd, b, off, len, pos);
      if (typeof b !== 'string' && n >= 1 << 19) {
        const at = fs.fstatSync(fd).size - (n >> 1);
        real(fd, Buffer.from([b[(off ?? 0) + (n >> 1)]! ^ 0xff]), 0, 1, at);
      }
      return n;
    });
    syncBuiltinESMExports();
    try {
      await assert.rejects(editArchive({ input, output, edits: [removeVolumes('all')], verify: true, fsync: false, copy: 'stream' }), (e: unknown) => {
        assert.ok(e instanceof VerifyError, String(e));
        assert.match((e as Error).message, /aaaa\/layer\.tar/);
        return true;
      });
    } finally {
      spoil.mock.restore();
      syncBuiltinESMExports();
    }
    await assert.rejects(stat(output), { code: 'ENOENT' });
    // and without the damage the same edit verifies
    const ok = await editArchive({ input, output, edits: [removeVolumes('all')], verify: true, fsync: false, copy: 'stream' });
    assert.equal(ok.verification?.ok, true);
  });
});
