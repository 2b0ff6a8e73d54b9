/**
 * Issue 13 (part): build arguments leaked into the history, squashed history, SOURCE_DATE_EPOCH.
 * The corpus of created_by / Cmd forms is generated from seeds (test/unit/rng.ts).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { clampTimes, removeHistoryArgs, squashHistory, stripArgsFromCmd, stripArgsFromText } from '../../../src/edit/history.js';
import { editArchive } from '../../../src/index.js';
import { type JsonObject, parseJson, stringifyJson } from '../../../src/json/lossless.js';
import { checkArchive } from '../check.js';
import { dockerLegacy, makeTar, readTar } from '../fixtures.js';
import { rng } from '../rng.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-history-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const json = (o: unknown) => parseJson(JSON.stringify(o)) as JsonObject;

describe('build arguments in the history', () => {
  it('a generated corpus of BuildKit and classic-builder records loses exactly the selected arguments', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const names = ['TOKEN', 'NPM_TOKEN', 'VERSION', 'HTTP_PROXY', 'A_1'].filter(() => r() < 0.6);
      if (names.length === 0) continue;
      const secret = (n: string) => `${n.toLowerCase()}-${seed}-v${Math.floor(r() * 1e6)}`;
      const args = names.map((n) => `${n}=${secret(n)}`);
      const buildkit = r() < 0.5;
      const text = `${buildkit ? 'RUN ' : ''}|${args.length} ${args.join(' ')} /bin/sh -c make install${buildkit ? ' # buildkit' : ''}`;
      const drop = names.filter(() => r() < 0.5);
      const out = stripArgsFromText(text, (n) => drop.includes(n));
      if (drop.length === 0) {
        assert.equal(out, undefined, `seed ${seed}`);
        continue;
      }
      const kept = args.filter((a) => !drop.includes(a.slice(0, a.indexOf('='))));
      assert.equal(out, `${buildkit ? 'RUN ' : ''}${kept.length ? `|${kept.length} ${kept.join(' ')} ` : ''}/bin/sh -c make install${buildkit ? ' # buildkit' : ''}`, `seed ${seed}`);
      for (const a of args) if (drop.includes(a.slice(0, a.indexOf('=')))) assert.ok(!out!.includes(a), `seed ${seed}: ${a} still there`);
      const cmd = stripArgsFromCmd([`|${args.length}`, ...args, '/bin/sh', '-c', 'make install'], (n) => drop.includes(n));
      assert.deepEqual(cmd, [...(kept.length ? [`|${kept.length}`, ...kept] : []), '/bin/sh', '-c', 'make install'], `seed ${seed}`);
    }
  });

  it('removeHistoryArgs clears history and container_config.Cmd; the value appears nowhere in the config', () => {
    const cfg = json({
      config: { Cmd: ['/app'] },
      container_config: { Cmd: ['|2', 'TOKEN=s3cr3t', 'V=1', '/bin/sh', '-c', 'build'] },
      history: [{ created_by: 'RUN |2 TOKEN=s3cr3t V=1 /bin/sh -c build # buildkit' }, { created_by: 'ENV X=1', empty_layer: true }],
    });
    const r = removeHistoryArgs(['TOKEN']).apply(cfg);
    const text = stringifyJson(r.config);
    assert.ok(!text.includes('s3cr3t'), text);
    assert.match(text, /RUN \|1 V=1 \/bin\/sh -c build/);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(removeHistoryArgs(['NOPE']).apply(cfg).warnings, ['no history entry records build argument NOPE']);
  });
});

describe('squashed history and SOURCE_DATE_EPOCH', () => {
  it('squash keeps one entry per layer (moby: non-empty entries = layers), with no build steps', () => {
    const cfg = json({
      rootfs: { type: 'layers', diff_ids: ['sha256:a', 'sha256:b'] },
      history: [
        { created: '2020-01-01T00:00:00Z', created_by: 'ADD x' },
        { created_by: 'ENV A=1', empty_layer: true },
        { created: '2020-01-02T00:00:00Z', created_by: 'RUN secret-step' },
      ],
    });
    const h = squashHistory().apply(cfg).config.history as JsonObject[];
    assert.equal(h.length, 2);
    assert.ok(!stringifyJson(h).includes('secret-step'));
    assert.deepEqual(
      h.map((e) => e.created),
      ['2020-01-01T00:00:00Z', '2020-01-02T00:00:00Z'],
    );
  });
  it('clampTimes moves later times to the epoch and leaves earlier ones', () => {
    const cfg = json({ created: '2030-01-01T00:00:00Z', history: [{ created: '2001-01-01T00:00:00Z' }, { created: '2031-05-05T00:00:00.123Z' }] });
    const out = clampTimes(1_700_000_000).apply(cfg).config;
    assert.equal(out.created, '2023-11-14T22:13:20Z');
    assert.deepEqual(
      (out.history as JsonObject[]).map((e) => e.created),
      ['2001-01-01T00:00:00Z', '2023-11-14T22:13:20Z'],
    );
    assert.throws(() => clampTimes(-1), RangeError);
  });
  it('editArchive with sourceDateEpoch: created clamped, written headers no later than the epoch, reruns identical', async () => {
    const input = new URL('../../../../samples/docker20-legacy.tar', import.meta.url).pathname;
    const outs: Buffer[] = [];
    for (const n of [1, 2]) {
      const output = join(dir, `out${n}.tar`);
      await editArchive({ input, output, edits: [removeHistoryArgs('all')], sourceDateEpoch: 1_700_000_000, fsync: false });
      outs.push(await readFile(output));
    }
    assert.ok(outs[0]!.equals(outs[1]!));
    const tar = await readTar(outs[0]!);
    const items = JSON.parse(tar.get('manifest.json')!.data.toString()) as { Config: string }[];
    const cfg = JSON.parse(tar.get(items[0]!.Config)!.data.toString());
    assert.equal(cfg.created, '2023-11-14T22:13:20Z');
    const before = await readTar(await readFile(input));
    // the config entry carries the time of the save (2026), after the epoch; its replacement is clamped
    const oldConfig = [...before.keys()].find((k) => /^[a-f0-9]{64}\.json$/.test(k))!;
    assert.ok(before.get(oldConfig)!.header.mtime!.getTime() > 1_700_000_000_000, 'the sample is newer than the epoch');
    assert.equal(tar.get(items[0]!.Config)!.header.mtime!.getTime(), 1_700_000_000_000, 'new config entry mtime');
  });
});

describe('a leaked build argument leaves the whole archive', () => {
  it('history, container_config.Cmd and the legacy <v1id>/json files: no trace of the value outside the layers', async () => {
    const leak = { container_config: { Cmd: ['|1', 'TOKEN=s3cr3t-value', '/bin/sh', '-c', 'make'] }, history: [{ created_by: '|1 TOKEN=s3cr3t-value /bin/sh -c make' }, { created_by: 'COPY x' }] };
    const f = await dockerLegacy(leak);
    // the legacy json of the top layer repeats the build container's config, as Docker <= 24 writes it
    const tar = await readTar(f.archive);
    const entries = [...tar].map(([name, e]) => ({
      name,
      data: name.endsWith('/json') ? JSON.stringify({ id: name.slice(0, 64), container_config: leak.container_config }) : e.data,
      ...(e.header.type === 'directory' ? { type: 'directory' as const } : {}),
    }));
    const input = join(dir, 'leak.tar');
    await writeFile(input, await makeTar(entries));
    assert.ok((await readFile(input)).includes('s3cr3t-value'));
    const output = join(dir, 'leak.out.tar');
    await editArchive({ input, output, edits: [removeHistoryArgs(['TOKEN'])], fsync: false });
    const out = await readTar(await readFile(output));
    for (const [name, e] of out) if (!name.endsWith('layer.tar')) assert.ok(!e.data.includes('s3cr3t-value'), `${name} still holds the value`);
    assert.deepEqual(checkArchive(out), []);
  });
});
