/**
 * Issue 22 on the command line: `edit docker://… -o docker://…` prints one report line with the
 * bytes each way; a refused password exits 7 with one line on stderr; the secret appears in no
 * output, plain or --json.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { BIN } from '../hostile-util.js';
import { FakeRegistry } from './fake-registry.js';
import { seedImage } from './images.js';

const run = promisify(execFile);
const SECRET = 'cli-s3cr3t-7781';

async function copyedit(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { env: { ...process.env, HOME: '/nonexistent', DOCKER_CONFIG: '/nonexistent' } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('copyedit edit with docker:// references', () => {
  let reg: FakeRegistry;
  before(async () => {
    reg = await new FakeRegistry({ basic: { user: 'u', password: SECRET } }).start();
    seedImage(reg, 'app', '1');
  });
  after(() => reg.stop());

  it('edits and reports what moved; no secret in the report', async () => {
    for (const json of [false, true]) {
      const r = await copyedit([
        'edit',
        `docker://${reg.host}/app:1`,
        '-o',
        `docker://${reg.host}/app:${json ? 'j' : 'p'}`,
        '--rm-volume',
        'all',
        '--creds',
        `u:${SECRET}`,
        ...(json ? ['--json'] : []),
      ]);
      assert.equal(r.code, 0, r.stderr);
      const out = r.stdout + r.stderr;
      assert.ok(!out.includes(SECRET) && !out.includes(Buffer.from(`u:${SECRET}`).toString('base64')), out);
      if (json) assert.ok((JSON.parse(r.stdout) as { registry: { bytesSent: number } }).registry.bytesSent > 0);
      else assert.match(out, /app:p -> [0-9a-f]{12}: 1 blob\(s\) uploaded, 0 copied, 0 mounted, 2 already there, 1 manifest\(s\); \d+ bytes sent, \d+ received/);
    }
  });

  it('a wrong password exits 7 with one line, the password not in it', async () => {
    const r = await copyedit(['edit', `docker://${reg.host}/app:1`, '-o', `docker://${reg.host}/app:1`, '--rm-volume', 'all', '--creds', `u:wrong-${SECRET}`]);
    assert.equal(r.code, 7);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^copyedit: error: .*refused the credentials/);
    assert.ok(!(r.stdout + r.stderr).includes(SECRET));
  });
});
