/**
 * Issue 24, finding 9: scripts/demo-image.sh builds a runnable image offline into the private
 * engines (the README's try-it section), and an edit of it runs with the edit applied.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT, RUN_ID, STATE, cli, docker, dockerRmi, ok, removeDir, requireEngines, run, tempDir } from './harness.js';

const dir = tempDir('demo');
after(() => removeDir(dir));

describe('scripts/demo-image.sh', () => {
  it('builds demo/busybox offline; the edited archive loads and runs on Docker 28 (containerd store) with the edit', (t) => {
    const e = requireEngines(t);
    if (!e) return;
    const tag = `copyedit-demo-${RUN_ID}/busybox:1`;
    const out = join(dir, 'demo.tar');
    ok(run('bash', [join(ROOT, 'scripts/demo-image.sh'), tag], { env: { ...process.env, COPYEDIT_ENGINE_STATE: STATE, DEMO_OUT: out }, timeout: 240_000 }), 'demo-image.sh');
    try {
      const before = ok(docker(e, 'docker28c', ['run', '--rm', '--network', 'none', tag]), 'docker run').stdout;
      assert.match(before, /^hello from the demo image$/m);
      const edited = join(dir, 'edited.tar');
      ok(cli(['edit', out, '-o', edited, '--rm-volume', 'all', '--env', 'GREETING=bonjour']), 'copyedit edit');
      ok(docker(e, 'docker28c', ['load', '-i', edited]), 'docker load');
      const after = ok(docker(e, 'docker28c', ['run', '--rm', '--network', 'none', tag]), 'docker run').stdout;
      assert.match(after, /^bonjour from the demo image$/m);
      const volumes = ok(docker(e, 'docker28c', ['image', 'inspect', '--format', '{{json .Config.Volumes}}', tag]), 'inspect').stdout.trim();
      assert.equal(volumes, 'null');
    } finally {
      for (const w of ['docker20', 'docker28', 'docker28c'] as const) dockerRmi(e, w, [tag]);
    }
  });
});
