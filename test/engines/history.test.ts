/**
 * Issue 13 (part): a build argument that leaked into the metadata (`docker build --build-arg
 * TOKEN=...` with the classic builder records `|1 TOKEN=... cmd` in the history, in
 * container_config.Cmd and in the legacy <v1id>/json files) is gone after `--history-rm-arg`:
 * no trace in `docker history --no-trunc` nor `docker image inspect` on Docker 20.10 and on
 * Docker 28's containerd store, nor anywhere in the archive outside the layers.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type AnyDocker, type Engines, RUN_ID, cli, docker, dockerRmi, loadedRefs, ok, removeDir, requireEngines, run, tempDir } from './harness.js';

const SECRET = `s3cr3t-${RUN_ID}`;
const TAG = `copyedit-etest/buildarg:${RUN_ID}`;
const work = tempDir('history');
const created: Partial<Record<AnyDocker, Set<string>>> = {};
let used: Engines | undefined;

after(() => {
  if (used) for (const [which, ids] of Object.entries(created)) dockerRmi(used, which as AnyDocker, [TAG, ...ids]);
  removeDir(work);
});

describe('a leaked build argument', () => {
  it('--history-rm-arg leaves no trace of it in docker history, docker inspect or the archive', { timeout: 300_000 }, (t) => {
    const e = requireEngines(t);
    if (!e) return;
    used = e;
    const ctx = join(work, 'ctx');
    ok(run('mkdir', ['-p', ctx]));
    copyFileSync('/bin/busybox', join(ctx, 'busybox'));
    writeFileSync(join(ctx, 'Dockerfile'), ['FROM scratch', 'COPY busybox /bin/busybox', 'ARG TOKEN', 'RUN ["/bin/busybox","true"]', 'CMD ["/bin/busybox","true"]', ''].join('\n'));
    ok(docker(e, 'docker20', ['build', '-q', '--build-arg', `TOKEN=${SECRET}`, '-t', TAG, ctx], { env: { ...process.env, DOCKER_BUILDKIT: '0' }, timeout: 240_000 }), 'docker build');
    created.docker20 = new Set([TAG]);
    const input = join(work, 'in.tar');
    ok(docker(e, 'docker20', ['save', '-o', input, TAG]), 'docker save');
    const history = (which: AnyDocker, ref: string) => ok(docker(e, which, ['history', '--no-trunc', ref]), 'docker history').stdout;
    assert.ok(history('docker20', TAG).includes(SECRET), 'the build argument is in the history to begin with');
    assert.ok(readFileSync(input).includes(SECRET));

    const output = join(work, 'out.tar');
    ok(cli(['edit', input, '-o', output, '--history-rm-arg', 'TOKEN', '--tag', `${TAG}-clean`]), 'copyedit edit');
    // nowhere in the archive but inside the layers (tar -x of every non-layer entry)
    const names = ok(run('tar', ['-tf', output]))
      .stdout.split('\n')
      .filter((n) => n && !n.endsWith('/') && !n.endsWith('layer.tar'));
    for (const n of names) assert.ok(!ok(run('tar', ['-xOf', output, n])).stdout.includes(SECRET), `${n} still holds the value`);

    for (const which of ['docker20', 'docker28c'] as const) {
      const refs = loadedRefs(ok(docker(e, which, ['load', '-i', output]), `${which} load`).stdout);
      assert.ok(refs.length > 0, `${which} loaded nothing`);
      created[which] = new Set([...(created[which] ?? []), ...refs]);
      assert.ok(!history(which, `${TAG}-clean`).includes(SECRET), `${which}: docker history still shows the value`);
      assert.ok(!ok(docker(e, which, ['image', 'inspect', `${TAG}-clean`])).stdout.includes(SECRET), `${which}: docker inspect still shows the value`);
    }
  });
});
