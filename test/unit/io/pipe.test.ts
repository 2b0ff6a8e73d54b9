/**
 * Standard input and output as pipes (issue 11): PipeSource and PipeTarget on real FIFOs, blocking
 * and non-blocking (EAGAIN), compressed input, a reader gone away (EPIPE), and the reused-buffer
 * contract (a chunk may be overwritten once write returned, nothing is copied).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { constants as FS, closeSync, openSync, writeSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { PipeSource, PipeTarget } from '../../../src/io/pipe.js';
import { fromPipe } from '../../../src/io/source.js';
import { NOFIFO, readAll, tempFifos } from './fifo-util.js';

const temp = tempFifos('copyedit-pipe-');
const fifo = temp.fifo;
let n = 0;

/** Both ends of a new FIFO, non-blocking (so opening either end never waits for the other). */
function nonBlockingPair(): { r: number; w: number; path: string } {
  const path = fifo();
  const r = openSync(path, FS.O_RDONLY | FS.O_NONBLOCK);
  const w = openSync(path, FS.O_WRONLY | FS.O_NONBLOCK);
  return { r, w, path };
}

/** Write `data` into a non-blocking fd in `step`-byte pieces, pausing `ms` between them (a slow docker save). */
async function slowWriter(fd: number, data: Buffer, step: number, ms: number): Promise<void> {
  for (let off = 0; off < data.length; ) {
    try {
      off += writeSync(fd, data, off, Math.min(step, data.length - off));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
    await new Promise((r) => setTimeout(r, ms));
  }
  closeSync(fd);
}

describe('PipeSource', { skip: NOFIFO }, () => {
  it('a blocking pipe: reads everything in order, into one reused buffer', async () => {
    const data = randomBytes(5 << 20);
    const file = join(temp.dir(), 'data.bin');
    await writeFile(file, data);
    const path = fifo();
    // the writer is another process: a blocking read here waits in the kernel for it, as cat's does
    const writer = spawn('sh', ['-c', 'cat "$0" > "$1"', file, path], { stdio: 'ignore' });
    const fd = openSync(path, FS.O_RDONLY); // blocking: waits for the writer to open its end
    const src = new PipeSource(fd);
    assert.equal(src.reusesBuffers, true);
    const parts: Buffer[] = [];
    const backing = new Set<ArrayBufferLike>();
    for (;;) {
      const c = await src.read(300_000);
      if (c.length === 0) break;
      backing.add(c.buffer);
      parts.push(Buffer.from(c));
    }
    src.close();
    await new Promise((r) => writer.on('close', r));
    assert.ok(Buffer.concat(parts).equals(data));
    assert.equal(backing.size, 1, 'every chunk is a view of the same buffer');
    assert.equal(src.bytesRead, data.length);
  });

  it('a non-blocking pipe whose writer is slow: EAGAIN is waited for on the event loop, which stays free', async () => {
    const { r, w } = nonBlockingPair();
    const data = randomBytes(300_000);
    const src = new PipeSource(r);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const [got] = await Promise.all([readAll(src), slowWriter(w, data, 7000, 2)]);
    clearInterval(timer);
    src.close();
    assert.ok(got.equals(data));
    // the reader waited for the writer's ~43 pieces; timers (and signal handlers) ran meanwhile
    assert.ok(ticks >= 10, `timers ran ${ticks} times while reading`);
  });

  it('gathers what the pipe holds into one chunk of up to 1 MiB, without waiting for more', { timeout: 5000 }, async () => {
    // read(2) on a pipe gives at most 64 KiB; a writer that keeps up refills it between our reads.
    // That timing cannot be arranged with a real pipe, so fs.readSync answers from a script here.
    const { r, w } = nonBlockingPair();
    const piece = (k: number, len = 64 << 10) => Buffer.alloc(len, k);
    const script: (Buffer | 'EAGAIN')[] = [...Array.from({ length: 20 }, (_, k) => piece(k)), 'EAGAIN', piece(99, 10_000)];
    const real = fs.readSync;
    (fs as { readSync: unknown }).readSync = (fd: number, buf: Buffer, off: number, len: number, pos: null) => {
      if (fd !== r) return real(fd, buf, off, len, pos);
      const next = script[0];
      if (next === undefined) return 0;
      if (next === 'EAGAIN') {
        script.shift();
        throw Object.assign(new Error('EAGAIN: resource temporarily unavailable, read'), { code: 'EAGAIN' });
      }
      const n = next.copy(buf, off, 0, Math.min(len, next.length));
      if (n === next.length) script.shift();
      else script[0] = next.subarray(n);
      return n;
    };
    syncBuiltinESMExports();
    try {
      const src = new PipeSource(r);
      const sizes: number[] = [];
      for (;;) {
        const c = await src.read(4 << 20);
        if (c.length === 0) break;
        sizes.push(c.length);
      }
      src.close();
      // 16 pieces fill 1 MiB; the other 4 come before the EAGAIN (nothing more is waited for); then the last
      assert.deepEqual(sizes, [1 << 20, 4 * (64 << 10), 10_000]);
    } finally {
      (fs as { readSync: unknown }).readSync = real;
      syncBuiltinESMExports();
      closeSync(w);
    }
  });

  it('peek: the first bytes across several small writes, left in place for read', async () => {
    const { r, w } = nonBlockingPair();
    const src = new PipeSource(r);
    const data = Buffer.from(`ab${'cdef'.repeat(100)}`);
    const writing = slowWriter(w, data, 2, 1);
    const head = await src.peek(6);
    assert.equal(head.toString(), 'abcdef');
    const [got] = await Promise.all([readAll(src, 5), writing]);
    src.close();
    assert.ok(got.equals(data));
  });

  it('an empty pipe: end of input at once', async () => {
    const { r, w } = nonBlockingPair();
    closeSync(w);
    const src = new PipeSource(r);
    assert.equal((await src.read(10)).length, 0);
    assert.equal((await src.read(10)).length, 0);
    src.close();
    src.close(); // safe twice
  });

  it('close while waiting for a writer that never writes: the pending read fails, nothing hangs', async () => {
    const { r, w } = nonBlockingPair();
    const src = new PipeSource(r);
    const reading = src.read(10);
    await new Promise((res) => setTimeout(res, 20));
    src.close();
    await assert.rejects(reading, /the input was closed/);
    closeSync(w);
  });
});

describe('fromPipe: compressed standard input', { skip: NOFIFO }, () => {
  const tarLike = randomBytes(3 << 20);
  const cases: [string, () => Buffer | undefined][] = [
    ['gzip', () => gzipSync(tarLike)],
    ['xz', () => (spawnSync('xz', ['--version']).status === 0 ? spawnSync('xz', ['-0', '-c'], { input: tarLike, maxBuffer: 1 << 26 }).stdout : undefined)],
    ['bzip2', () => (spawnSync('bzip2', ['--help']).status === 0 ? spawnSync('bzip2', ['-1', '-c'], { input: tarLike, maxBuffer: 1 << 26 }).stdout : undefined)],
  ];
  for (const [kind, make] of cases) {
    it(`${kind}: sniffed from the pipe, then decompressed from its first byte`, async (t) => {
      const packed = make();
      if (!packed) return t.skip(`no ${kind}`);
      const { r, w } = nonBlockingPair();
      // the magic arrives in two pieces: the sniff must wait for the rest of it
      writeSync(w, packed, 0, 3);
      const writing = new Promise((res) => setTimeout(res, 5)).then(() => slowWriter(w, packed.subarray(3), 64 << 10, 0));
      // the decompressor reads on from the same source, the sniffed bytes first
      const input = await fromPipe(r, 'standard input');
      assert.equal(input.compression, kind);
      const got = await readAll(input.reader);
      input.close();
      await writing;
      assert.ok(got.equals(tarLike));
    });
  }

  it('plain tar: the pipe source itself, bytes counted', async () => {
    const { r, w } = nonBlockingPair();
    const data = randomBytes(200_000);
    const writing = slowWriter(w, data, 50_000, 1);
    const input = await fromPipe(r, 'standard input');
    assert.equal(input.compression, 'none');
    assert.ok(input.reader instanceof PipeSource);
    const got = await readAll(input.reader);
    await writing;
    input.close();
    assert.ok(got.equals(data));
    assert.equal(input.bytesRead(), data.length);
  });
});

describe('PipeTarget', { skip: NOFIFO }, () => {
  /** A reader that pauses `ms` after each chunk it takes, as a slow `docker load`. */
  function slowReader(r: number, ms: number): { got: Promise<Buffer> } {
    const sock = new Socket({ fd: r, readable: true, writable: false });
    const parts: Buffer[] = [];
    sock.on('data', (d: Buffer) => {
      parts.push(d);
      sock.pause();
      setTimeout(() => sock.resume(), ms);
    });
    const got = new Promise<Buffer>((res) => sock.on('end', () => res(Buffer.concat(parts))));
    return { got };
  }

  it('a full non-blocking pipe (EAGAIN): the rest goes through the stream, in order; the chunk may be reused after write', async () => {
    const { r, w } = nonBlockingPair();
    const stream = new Socket({ fd: w, readable: false, writable: true });
    const reader = slowReader(r, 1);
    const target = new PipeTarget(w, stream);
    const chunk = Buffer.alloc(256 << 10);
    const expected: Buffer[] = [];
    let waited = 0;
    for (let i = 0; i < 24; i++) {
      chunk.fill(i + 1); // the same buffer every time, as a reused read buffer
      expected.push(Buffer.from(chunk));
      const p = target.write(chunk);
      if (p) {
        waited++;
        await p;
      }
    }
    await new Promise<void>((res) => stream.end(res));
    const got = await reader.got;
    assert.ok(waited > 0, 'the pipe was full at least once');
    assert.equal(got.length, 24 * chunk.length);
    assert.ok(got.equals(Buffer.concat(expected)), 'every chunk arrived as it was when written');
  });

  it('a blocking pipe: plain write(2) calls, nothing left to wait for', async () => {
    const path = fifo();
    const file = join(temp.dir(), `out${n++}`);
    const reader = spawn('sh', ['-c', 'cat "$0" > "$1"', path, file], { stdio: 'ignore' });
    const fd = openSync(path, FS.O_WRONLY); // blocking: waits for cat to open its end
    const target = new PipeTarget(fd, { writableLength: 0 } as Writable); // an empty stream, never asked to wait
    const chunk = Buffer.alloc(1 << 20);
    const expected: Buffer[] = [];
    for (let i = 0; i < 8; i++) {
      chunk.fill(i + 1);
      expected.push(Buffer.from(chunk));
      assert.equal(target.write(chunk), undefined);
    }
    closeSync(fd);
    await new Promise((res) => reader.on('close', res));
    const { readFile } = await import('node:fs/promises');
    assert.ok((await readFile(file)).equals(Buffer.concat(expected)));
  });

  it('the reader went away: EPIPE, at once and while waiting for room', async () => {
    // at once: write(2) itself fails
    {
      const { r, w } = nonBlockingPair();
      closeSync(r);
      const target = new PipeTarget(w, new Socket({ fd: w, readable: false, writable: true }));
      assert.throws(() => target.write(Buffer.alloc(10)), { code: 'EPIPE' });
    }
    // while waiting: the pipe is full, then its reader closes
    {
      const { r, w } = nonBlockingPair();
      const stream = new Socket({ fd: w, readable: false, writable: true });
      stream.on('error', () => {}); // the sink listens in the CLI (streamSink)
      const target = new PipeTarget(w, stream);
      const p = target.write(Buffer.alloc(1 << 20));
      assert.ok(p instanceof Promise, 'a 1 MiB write does not fit a 64 KiB pipe');
      setTimeout(() => closeSync(r), 20);
      await assert.rejects(p, { code: 'EPIPE' });
      stream.destroy();
    }
  });
});
