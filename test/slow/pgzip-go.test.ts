/**
 * Issue 25: a layer recompressed by the parallel gzip (src/codec/pgzip.ts) is read by Go's
 * compress/gzip (what Docker, containerd, podman and skopeo decompress with) and by `gzip -t`.
 * Runs a tiny Go program (`go run`; skipped where Go is not installed) on a 5 MiB mixed layer.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { parallelGzip } from '../../src/codec/pgzip.js';

const GO = `package main

import (
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
)

func main() {
	f, err := os.Open(os.Args[1])
	if err != nil {
		panic(err)
	}
	z, err := gzip.NewReader(f)
	if err != nil {
		panic(err)
	}
	z.Multistream(false) // one member must hold it all
	h := sha256.New()
	if _, err := io.Copy(h, z); err != nil {
		panic(err)
	}
	if _, err := f.Read(make([]byte, 1)); err != io.EOF {
		panic("data after the first gzip member")
	}
	fmt.Printf("%x\\n", h.Sum(nil))
}
`;

const hasGo = spawnSync('go', ['version']).status === 0;

describe('parallel gzip read by Go and gzip -t', () => {
  it('Go compress/gzip (one member) and gzip -t read a 5 MiB layer back', { skip: hasGo ? false : 'Go is not installed' }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'copyedit-pgzip-go-'));
    try {
      const parts: Buffer[] = [];
      for (let i = 0; i < 64; i++) parts.push(i % 4 === 3 ? randomBytes(50_000) : Buffer.from(Array.from({ length: 9000 }, (_, k) => `row ${i} ${k}\n`).join('')));
      const input = Buffer.concat(parts);
      assert.ok(input.length > 4 << 20);
      const gz = await buffer(Readable.from([input]).pipe(parallelGzip(3)));
      await writeFile(join(dir, 'layer.gz'), gz);
      await writeFile(join(dir, 'main.go'), GO);
      const go = spawnSync('go', ['run', join(dir, 'main.go'), join(dir, 'layer.gz')], {
        encoding: 'utf8',
        env: { ...process.env, GOFLAGS: '-mod=mod', GO111MODULE: 'off', GOCACHE: join(dir, 'gocache') },
      });
      assert.equal(go.status, 0, go.stderr);
      assert.equal(go.stdout.trim(), createHash('sha256').update(input).digest('hex'));
      const t = spawnSync('gzip', ['-t', join(dir, 'layer.gz')], { encoding: 'utf8' });
      assert.equal(t.status, 0, t.stderr);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
