/**
 * Issue 22's failures: wrong password (Basic and Bearer), an expired token (fetched again), the
 * registry down, a 404 on a blob, a manifest that is not an image, 429/5xx retried, and a push cut
 * midway leaving the old tag as it was. Each a one-line RegistryError (exit 7) with nothing pushed,
 * and no credential in any message, report or log line (grepped for the secret).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ExitCode, RegistryError, editArchive, removeVolumes } from '../../../src/index.js';
import { redact, registerSecret } from '../../../src/registry/redact.js';
import { FakeRegistry } from './fake-registry.js';
import { seedImage } from './images.js';

const SECRET = 's3cr3t-PASSWORD-9f2c';
const fast = { plainHttp: true, backoffMs: 1 };

async function failure(p: Promise<unknown>): Promise<RegistryError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof RegistryError, `a RegistryError, not ${(e as Error).stack}`);
    assert.equal(e.exitCode, ExitCode.REGISTRY);
    assert.ok(!e.message.includes('\n'), 'one line');
    assert.ok(!e.message.includes(SECRET), `no secret in: ${e.message}`);
    assert.ok(!/Basic [A-Za-z0-9+/=]{8,}|Bearer [A-Za-z0-9-]{8,}/.test(e.message), `no Authorization value in: ${e.message}`);
    return e;
  }
  assert.fail('expected a failure');
}

function edit(reg: FakeRegistry | string, from: string, to: string, registry: object = fast) {
  const host = typeof reg === 'string' ? reg : reg.host;
  return editArchive({ input: `docker://${host}/${from}`, output: `docker://${host}/${to}`, edits: [removeVolumes('all')], registry });
}

describe('registry failures', () => {
  let reg: FakeRegistry;
  before(async () => {
    reg = await new FakeRegistry().start();
  });
  after(() => reg.stop());

  it('wrong password on Basic auth: refused, nothing pushed, no secret printed', async () => {
    const r = await new FakeRegistry({ basic: { user: 'u', password: 'right' } }).start();
    try {
      const s = seedImage(r, 'app', '1');
      const e = await failure(edit(r, 'app:1', 'app:1', { ...fast, creds: `u:${SECRET}` }));
      assert.match(e.message, /refused the credentials \(HTTP 401\)/);
      assert.equal(r.resolve('app', '1')!.digest, s.root);
      // the right password works
      await edit(r, 'app:1', 'app:2', { ...fast, creds: 'u:right' });
      assert.ok(r.resolve('app', '2'));
    } finally {
      await r.stop();
    }
  });

  it('wrong password at the token server: refused; an expired token is fetched again', async () => {
    const r = await new FakeRegistry({ bearer: { user: 'u', password: 'right', tokenUses: 3 } }).start();
    try {
      seedImage(r, 'app', '1');
      const e = await failure(edit(r, 'app:1', 'app:1', { ...fast, creds: `u:${SECRET}` }));
      assert.match(e.message, /token server .* refused the credentials/);
      // tokens good for 3 requests: the edit needs many more, each expiry answered by a new token
      const ok = await edit(r, 'app:1', 'app:2', { ...fast, creds: 'u:right' });
      assert.ok(r.resolve('app', '2'));
      assert.ok(ok.registry!.requests > 6);
      assert.ok(r.log.filter((l) => l.url.startsWith('/token')).length > 2, 'tokens fetched again');
    } finally {
      await r.stop();
    }
  });

  it('no credentials where a registry asks for them: says how to give them', async () => {
    const r = await new FakeRegistry({ basic: { user: 'u', password: 'right' } }).start();
    try {
      seedImage(r, 'app', '1');
      const e = await failure(edit(r, 'app:1', 'app:1', { ...fast, env: { HOME: '/nonexistent' } }));
      assert.match(e.message, /asks for credentials.*--creds/);
    } finally {
      await r.stop();
    }
  });

  it('the registry down: connection refused, one line', async () => {
    const r = await new FakeRegistry().start();
    const host = r.host;
    await r.stop();
    const e = await failure(edit(host, 'app:1', 'app:1'));
    assert.match(e.message, /connection refused/);
  });

  it('a manifest that is not an image, and an unknown tag', async () => {
    const art = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }));
    reg.putManifest('odd', 'x', Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}'), 'application/vnd.oci.image.manifest.v1+json');
    reg.putManifest('odd', 'empty', art, 'application/vnd.oci.image.index.v1+json');
    assert.match((await failure(edit(reg, 'odd:x', 'odd:y'))).message, /is not an image/);
    assert.match((await failure(edit(reg, 'odd:nope', 'odd:y'))).message, /manifest nope: not found \(HTTP 404\)/);
    assert.equal(reg.resolve('odd', 'y'), undefined);
  });

  it('a 404 on a blob (the config): one line naming the blob, nothing pushed', async () => {
    const s = seedImage(reg, 'lost', '1');
    const m = JSON.parse(reg.resolve('lost', '1')!.bytes.toString()) as { config: { digest: string } };
    reg.blobs.get('lost')!.delete(m.config.digest);
    reg.log.length = 0;
    const e = await failure(edit(reg, 'lost:1', 'lost:1'));
    assert.match(e.message, new RegExp(`blob ${m.config.digest}: not found \\(HTTP 404\\)`));
    assert.ok(!reg.log.some((l) => l.method === 'PUT' || l.method === 'POST'));
    assert.equal(reg.resolve('lost', '1')!.digest, s.root);
  });

  it('429 and 503 are retried with backoff', async () => {
    seedImage(reg, 'busy', '1');
    let n = 0;
    reg.fault = (method) => (method === 'PUT' && n++ < 2 ? (n === 1 ? 429 : 503) : undefined);
    try {
      await edit(reg, 'busy:1', 'busy:2');
    } finally {
      reg.fault = () => undefined;
    }
    assert.ok(reg.resolve('busy', '2'));
    assert.equal(n, 3 + reg.log.filter((l) => l.method === 'PUT' && l.status === 201).length - 1);
  });

  it('a push cut after the first blob leaves the old tag pulling the old image', async () => {
    const s = seedImage(reg, 'cut', '1');
    let puts = 0;
    reg.fault = (method) => (method === 'PUT' && ++puts > 1 ? 'close' : undefined);
    try {
      const e = await failure(edit(reg, 'cut:1', 'cut:1', { ...fast, attempts: 1 }));
      assert.match(e.message, /closed the connection|failed/);
    } finally {
      reg.fault = () => undefined;
    }
    assert.equal(reg.resolve('cut', '1')!.digest, s.root, 'the tag still names the original');
  });

  it('a registry that stores other bytes than were sent (its Docker-Content-Digest) stops the push before the tag', async () => {
    const s = seedImage(reg, 'liar', '1');
    reg.lie = true;
    try {
      const e = await failure(edit(reg, 'liar:1', 'liar:1'));
      assert.match(e.message, /the registry stored sha256:[0-9a-f]{64}, not what was sent/);
    } finally {
      reg.lie = false;
    }
    assert.equal(reg.resolve('liar', '1')!.digest, s.root);
  });

  it('redact hides registered secrets and any Authorization value', () => {
    registerSecret('tok-abcdef-123456');
    const text = redact('GET /x Authorization: Bearer tok-abcdef-123456 and Basic dXNlcjpwYXNzd29yZA== ?access_token=zzz https://u:p@h/');
    assert.ok(!text.includes('tok-abcdef-123456') && !text.includes('dXNlcjpwYXNzd29yZA==') && !text.includes('zzz') && !text.includes('u:p@'), text);
  });
});
