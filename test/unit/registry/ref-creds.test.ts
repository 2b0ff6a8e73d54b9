/** Issue 22: `docker://` references as skopeo reads them; credentials where Docker and podman keep them. */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UsageError } from '../../../src/errors.js';
import { findCredential } from '../../../src/registry/credentials.js';
import { isLoopback, parseRegistryRef, refString } from '../../../src/registry/ref.js';

describe('docker:// references', () => {
  it('reads host, repository, tag and digest as Docker does', () => {
    const d = `sha256:${'a'.repeat(64)}`;
    const cases: [string, string][] = [
      ['docker://reg.example.com/vendor/app:1', 'reg.example.com/vendor/app:1'],
      ['docker://localhost:5000/app', 'localhost:5000/app:latest'],
      ['docker://busybox', 'docker.io/library/busybox:latest'],
      ['docker://user/app:2', 'docker.io/user/app:2'],
      [`docker://127.0.0.1:5070/a/b@${d}`, `127.0.0.1:5070/a/b@${d}`],
      [`docker://r.io/a:t@${d}`, `r.io/a:t@${d}`],
    ];
    for (const [i, o] of cases) assert.equal(refString(parseRegistryRef(i)), o, i);
  });
  it('refuses malformed references with a usage error naming the form', () => {
    for (const bad of ['docker://r.io/App:1', 'docker://r.io/a:b@sha256:12', 'docker://r.io/a:-x', 'docker://', 'r.io/a:1']) {
      assert.throws(
        () => parseRegistryRef(bad),
        (e: unknown) => e instanceof UsageError && /docker:\/\/|registry reference/.test(e.message),
        bad,
      );
    }
  });
  it('knows loopback registries (plain HTTP fallback)', () => {
    assert.ok(isLoopback('127.0.0.1:5000') && isLoopback('localhost:1') && isLoopback('[::1]:5000'));
    assert.ok(!isLoopback('reg.example.com:5000') && !isLoopback('10.0.0.1'));
  });
});

describe('credentials', () => {
  const home = mkdtempSync(join(tmpdir(), 'ce-creds-'));
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  it('--creds first, then auth.json, then docker config auths, credHelpers and credsStore', async () => {
    const authFile = join(home, 'auth.json');
    writeFileSync(authFile, JSON.stringify({ auths: { 'a.io': { auth: b64('podman:p1') } } }));
    mkdirSync(join(home, 'docker'), { recursive: true });
    const bin = join(home, 'bin');
    mkdirSync(bin);
    const helper = join(bin, 'docker-credential-fake');
    writeFileSync(helper, '#!/bin/sh\nread s\n[ "$s" = h.io ] && echo \'{"Username":"helper","Secret":"p3"}\' || exit 1\n');
    chmodSync(helper, 0o755);
    writeFileSync(join(home, 'docker', 'config.json'), JSON.stringify({ auths: { 'https://b.io': { auth: b64('docker:p2') } }, credHelpers: { 'h.io': 'fake' }, credsStore: 'fake' }));
    const env = { HOME: home, REGISTRY_AUTH_FILE: authFile, DOCKER_CONFIG: join(home, 'docker'), PATH: `${bin}:${process.env.PATH}` };
    assert.deepEqual(await findCredential('a.io', { env, creds: 'cli:p0' }), { username: 'cli', password: 'p0' });
    assert.deepEqual(await findCredential('a.io', { env }), { username: 'podman', password: 'p1' });
    assert.deepEqual(await findCredential('b.io', { env }), { username: 'docker', password: 'p2' });
    assert.deepEqual(await findCredential('h.io', { env }), { username: 'helper', password: 'p3' });
    assert.equal(await findCredential('none.io', { env }), undefined, 'the store has nothing: anonymous');
  });
});
