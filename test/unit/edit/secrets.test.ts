/**
 * `--history-rm-arg`: a secret that must be gone is gone (issue 23, class 5). Generated: build
 * argument values (with and without blanks) x the places the value is also in (none, Env, Labels,
 * both) x layouts (Docker <= 24 `<v1id>/json` files, Docker 25+ v1 json blobs) x --strict. Each run:
 * the value is nowhere outside the layers (every blob named by its digest), or a warning names each
 * place it stays (a record with blanks left EXACTLY as it was), and --strict fails (exit 4, no output).
 */
import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EditError, editArchive, removeHistoryArgs } from '../../../src/index.js';
import { strictSecrets } from '../../../src/edit/history.js';
import { imageConfig, layer, makeTar, readTar, sha } from '../fixtures.js';
import { MT, OciBuilder, named } from '../oci-builder.js';
import { rng } from '../rng.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-secrets-'));
});
after(() => rm(dir, { recursive: true, force: true }));

interface Case {
  readonly value: string;
  readonly also: readonly ('Env' | 'Labels')[];
  readonly layout: 'legacy' | 'docker25';
  readonly strict: boolean;
  /** `RUN cmd` (recorded as `/bin/sh -c cmd`) or `RUN ["/bin/busybox","true"]` (recorded as its words joined). */
  readonly form: 'shell' | 'exec';
  /** TOKEN is the record's last argument: a value holding " /" then reads like the command's start. */
  readonly last: boolean;
}

function leakyConfig(l: Buffer, c: Case): Record<string, unknown> {
  const command = c.form === 'shell' ? ['/bin/sh', '-c', 'make'] : ['/bin/busybox', 'true'];
  const args = c.last ? ['MODE=release', `TOKEN=${c.value}`] : [`TOKEN=${c.value}`, 'MODE=release'];
  const record = c.form === 'shell' ? `RUN |2 ${args.join(' ')} /bin/sh -c make # buildkit` : `|2 ${args.join(' ')} /bin/busybox true`;
  const cfg = imageConfig([sha(l)], {
    history: [{ created: '2026-11-01T00:00:00Z', created_by: record }],
    container_config: { Cmd: ['|2', ...args, ...command] },
  }) as Record<string, any>;
  if (c.also.includes('Env')) cfg.config.Env.push(`API_TOKEN=${c.value}`);
  if (c.also.includes('Labels')) cfg.config.Labels['org.example.token'] = c.value;
  return cfg;
}

/** A v1 json as Docker writes it for the top layer: the build container's config and the image's. */
function v1json(id: string, cfg: Record<string, any>): Record<string, unknown> {
  return { id, created: '2026-11-01T00:00:00Z', container_config: cfg.container_config, config: cfg.config, os: 'linux' };
}

async function archive(c: Case): Promise<{ tar: Buffer; record: string }> {
  const l = await layer('app/bin', 'binary\n');
  const cfg = leakyConfig(l, c);
  const record = (cfg.history as { created_by: string }[])[0]!.created_by;
  const v1 = sha(`v1-${c.value}`);
  if (c.layout === 'legacy') {
    const config = JSON.stringify(cfg);
    const id = sha(config);
    return {
      record,
      tar: await makeTar([
        { name: `${v1}/`, type: 'directory' },
        { name: `${v1}/VERSION`, data: '1.0' },
        { name: `${v1}/json`, data: JSON.stringify(v1json(v1, cfg)) },
        { name: `${v1}/layer.tar`, data: l },
        { name: `${id}.json`, data: config },
        { name: 'manifest.json', data: JSON.stringify([{ Config: `${id}.json`, RepoTags: ['example/app:1.0'], Layers: [`${v1}/layer.tar`] }]) },
        { name: 'repositories', data: JSON.stringify({ 'example/app': { '1.0': v1 } }) },
      ]),
    };
  }
  const b = new OciBuilder();
  const ld = b.blob(l, MT.layer);
  const cd = b.blob(cfg, MT.config);
  const m = b.blob({ schemaVersion: 2, mediaType: MT.manifest, config: cd, layers: [ld] }, MT.manifest);
  b.blob(v1json(v1, cfg), 'v1'); // stored, named by no descriptor: as Docker 25+ saves it
  const mj = [{ Config: `blobs/sha256/${cd.digest.slice(7)}`, RepoTags: ['example/app:1.0'], Layers: [`blobs/sha256/${ld.digest.slice(7)}`] }];
  return { record, tar: await b.archive([named(m, 'docker.io/example/app:1.0')], mj) };
}

function cases(): Case[] {
  const r = rng(5);
  const out: Case[] = [];
  const values = ['s3cr3t-token-value', 'ghp_0123456789abcdefXYZ', 'A VALUE WITH BLANKS', 'pass word', `tok-${Math.floor(r() * 1e9)}`, 'key /opt/x', 'a /b -c c'];
  const alsos: Case['also'][] = [[], ['Env'], ['Labels'], ['Env', 'Labels']];
  for (const value of values)
    for (const also of alsos)
      for (const layout of ['legacy', 'docker25'] as const)
        for (const strict of [false, true])
          for (const form of ['shell', 'exec'] as const) if (r() < 0.5 || also.length === 0) out.push({ value, also, layout, strict, form, last: r() < 0.5 || value.includes(' /') });
  return out;
}

describe('--history-rm-arg: the value is gone, or each place it stays is named (generated corpus)', () => {
  it('removes it everywhere, warns per remaining place, leaves a record with blanks exactly as it was; --strict fails', async () => {
    let n = 0;
    for (const c of cases()) {
      const what = JSON.stringify(c);
      const { tar, record } = await archive(c);
      const input = join(dir, `in-${n}.tar`);
      const output = join(dir, `out-${n++}.tar`);
      await writeFile(input, tar);
      const blanks = c.value.includes(' ');
      const remains = blanks || c.also.length > 0;
      const edit = c.strict ? strictSecrets(removeHistoryArgs(['TOKEN'])) : removeHistoryArgs(['TOKEN']);
      const run = editArchive({ input, output, edits: [edit] });
      if (c.strict && remains) {
        await assert.rejects(run, (e: unknown) => e instanceof EditError && e.exitCode === 4 && /--strict: .*still holds the value of/.test(e.message), what);
        await assert.rejects(access(output), what);
        continue;
      }
      const report = await run;
      const warnings = report.images.flatMap((i) => i.warnings);
      const out = await readTar(await readFile(output));
      const config = [...out].find(([k, e]) => /"rootfs"/.test(e.data.toString()) && !k.endsWith('layer.tar'))![1].data.toString();
      for (const [name, e] of out) {
        const m = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(name);
        if (m) assert.equal(sha(e.data), m[1], `${what}: ${name} is named by its digest`);
      }
      if (blanks) {
        assert.ok(JSON.parse(config).history[0].created_by === record, `${what}: the record with blanks is left exactly as it was`);
        assert.ok(
          warnings.some((w) => /^history\[0\]\.created_by still holds the value of .*left exactly as it was/.test(w)),
          `${what}: ${warnings.join(' | ')}`,
        );
      }
      if (c.also.includes('Env'))
        assert.ok(
          warnings.some((w) => /config\.Env\[2\].* still holds the value of build argument TOKEN/.test(w)),
          `${what}: ${warnings.join(' | ')}`,
        );
      if (c.also.includes('Labels'))
        assert.ok(
          warnings.some((w) => /config\.Labels\["org\.example\.token"\]/.test(w)),
          `${what}: ${warnings.join(' | ')}`,
        );
      if (!remains) {
        assert.deepEqual(warnings, [], what);
        // the layer holds no secret here: no entry at all may hold the value (v1 json files and blobs included)
        for (const [name, e] of out) assert.ok(!e.data.includes(c.value), `${what}: ${name} still holds the value`);
      }
    }
  });
});
