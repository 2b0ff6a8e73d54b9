/**
 * Issue 11: a named FIFO or `<(docker save x)` as input and a FIFO as `-o` take the read(2)/write(2)
 * pipe path (PipeSource, PipeTarget), as standard input and output do; these tests pin that the
 * fast path is taken (the reader's class, the sink's `pipeFd`), that a FIFO opened before its
 * writer waits for it, and that compressed input is decompressed from the same descriptor (the
 * writer never loses its reader: no EPIPE).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { constants as FS, closeSync, openSync, writeSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { StreamSource } from '../../../src/io/bytes.js';
import { PipeSource } from '../../../src/io/pipe.js';
import { openOutput } from '../../../src/io/sink.js';
import { openInput } from '../../../src/io/source.js';
import { NOFIFO, readAll, tempFifos } from './fifo-util.js';

const temp = tempFifos('copyedit-fifo-');
const fifo = temp.fifo;

/**
 * Open the FIFO's writing end once a reader has it (non-blocking: ENXIO until then), then write
 * `data` in `step`-byte pieces, waiting when it is full; any other error (EPIPE: the reader went
 * away, or a reader that stops reading for 3 s) fails the test.
 */
async function writer(path: string, data: Buffer, step = 64 << 10, delayMs = 0): Promise<void> {
  await new Promise((r) => setTimeout(r, delayMs));
  let fd: number | undefined;
  while (fd === undefined) {
    try {
      fd = openSync(path, FS.O_WRONLY | FS.O_NONBLOCK);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENXIO') throw e;
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  try {
    let stuck = Date.now();
    for (let off = 0; off < data.length; ) {
      try {
        off += writeSync(fd, data, off, Math.min(step, data.length - off));
        stuck = Date.now();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        // nobody reads any more: fail instead of hanging the test
        if (Date.now() - stuck > 3000) throw new Error(`the FIFO's reader stopped reading at byte ${off} of ${data.length}`);
        await new Promise((r) => setTimeout(r, 1));
      }
    }
  } finally {
    closeSync(fd);
  }
}

describe('a FIFO as input: the pipe path', { skip: NOFIFO }, () => {
  it('PipeSource awaitWriter: a FIFO opened before its writer waits for its first bytes (read(2) alone would say end of input)', async () => {
    const path = fifo();
    const data = randomBytes(300_000);
    const fd = openSync(path, FS.O_RDONLY | FS.O_NONBLOCK);
    const src = new PipeSource(fd, { awaitWriter: true });
    const [got] = await Promise.all([readAll(src), writer(path, data, 7000, 50)]);
    src.close();
    assert.ok(got.equals(data));
    assert.equal(src.bytesRead, data.length);
    // the reason for the option: without it the same open reads as an empty input
    const bare = new PipeSource(openSync(fifo(), FS.O_RDONLY | FS.O_NONBLOCK));
    assert.equal((await bare.read(10)).length, 0);
    bare.close();
  });

  it('openInput(FIFO), plain tar: read by PipeSource (read(2) into one reused buffer), bytes counted, no size', async () => {
    const path = fifo();
    const data = randomBytes(3 << 20);
    const writing = writer(path, data, 64 << 10, 30);
    const input = await openInput(path);
    assert.ok(input.reader instanceof PipeSource, `read by ${input.reader.constructor.name}`);
    assert.equal(input.compression, 'none');
    assert.equal(input.reader.reusesBuffers, true);
    const got = await readAll(input.reader);
    await writing;
    input.close();
    assert.ok(got.equals(data));
    assert.equal(input.bytesRead(), data.length);
    assert.equal(input.size, undefined);
  });

  it('openInput(FIFO), gzip: decompressed from the same descriptor, first byte to last; the writer never sees EPIPE', async () => {
    const path = fifo();
    const tarLike = randomBytes(3 << 20);
    const packed = gzipSync(tarLike, { level: 1 });
    // small pieces: the sniff sees only part of the input, the decompressor reads the rest
    const writing = writer(path, packed, 5000, 30);
    const input = await openInput(path);
    assert.equal(input.compression, 'gzip');
    assert.ok(input.reader instanceof StreamSource);
    const got = await readAll(input.reader);
    await writing;
    input.close();
    assert.ok(got.equals(tarLike));
    assert.equal(input.bytesRead(), packed.length);
  });

  it('openInput(FIFO), gzip smaller than one read, its writer gone before the decompressor reads on: ends, no hang', { timeout: 5000 }, async () => {
    const path = fifo();
    const tarLike = randomBytes(20_000);
    const packed = gzipSync(tarLike);
    const writing = writer(path, packed, packed.length, 30);
    const input = await openInput(path);
    await writing;
    const got = await readAll(input.reader);
    input.close();
    assert.ok(got.equals(tarLike));
  });

  it('a writer that comes and goes without writing: an empty input, said at once', { timeout: 5000 }, async () => {
    const path = fifo();
    const writing = writer(path, Buffer.alloc(0), 1, 30);
    await assert.rejects(openInput(path), /is empty: expected a tar archive/);
    await writing;
  });
});

describe('a FIFO as -o: the pipe path', { skip: NOFIFO }, () => {
  it('openOutput(FIFO) gives pipeFd (PipeTarget: write(2) calls), the stream on the same descriptor', async () => {
    const path = fifo();
    const reader = openSync(path, FS.O_RDONLY | FS.O_NONBLOCK); // a reader, so the open does not wait
    const sink = await openOutput(path);
    try {
      assert.equal(typeof sink.pipeFd, 'number');
      assert.equal((sink.stream as unknown as { _handle?: { fd?: number } })._handle?.fd, sink.pipeFd);
      assert.equal(sink.fd, undefined, 'no temporary file: a FIFO is written in place');
    } finally {
      await sink.abort();
      closeSync(reader);
    }
  });
});
