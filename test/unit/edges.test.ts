/**
 * Edges of time and names (issue 23, class 6), each a generated corpus:
 * - every --created / --source-date-epoch accepted is one the output can carry (RFC 3339 as Go
 *   parses and prints it, years 0001-9999), every other one a usage error;
 * - --tag spellings of one name (`app:1`, `docker.io/library/app:1`, ...) are written once;
 * - a tar entry whose name is not UTF-8 (Go's archive/tar takes any bytes) is an unreferenced file:
 *   the archive is edited and the entry copied with its name bytes as they were (read back by
 *   Python's tarfile, an independent reader);
 * - a lone surrogate escape in an untouched string of an edited config is printed back as written.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UsageError, editArchive, normalizeReference, removeVolumes } from '../../src/index.js';
import { parseCreated } from '../../src/cli/edit-specs.js';
import { epochOption } from '../../src/cli/commands/edit.js';
import { dockerLegacy, type Entry, imageConfig, layer, makeTar, ociLayout, readTar, sha } from './fixtures.js';
import { rng } from './rng.js';

const TOOLS = new URL('../../../test/tools/', import.meta.url).pathname;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-edges-'));
});
after(() => rm(dir, { recursive: true, force: true }));
let n = 0;

/** The oracle: Go's time.Parse(RFC3339) field ranges, and MarshalJSON's years 0..9999 (0 refused here). */
function goAccepts(y: number, mo: number, d: number, h: number, mi: number, s: number, off: string): boolean {
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
  const offOk = off === 'Z' || (Number(off.slice(1, 3)) <= 23 && Number(off.slice(4, 6)) <= 59);
  return y >= 1 && y <= 9999 && days !== undefined && d >= 1 && d <= days && h <= 23 && mi <= 59 && s <= 59 && offOk;
}

const pad = (v: number, w: number) => String(v).padStart(w, '0');

describe('edges of time and names (generated corpora)', () => {
  it('--created: accepted exactly when Go parses it and the output can carry it', () => {
    const r = rng(6);
    const pick = <T>(a: readonly T[]) => a[Math.floor(r() * a.length)]!;
    let accepted = 0;
    for (let k = 0; k < 600; k++) {
      const y = pick([0, 1, 1970, 1900, 2000, 2023, 2024, 9999]);
      const mo = pick([0, 1, 2, 4, 12, 13]);
      const d = pick([0, 1, 28, 29, 30, 31, 32]);
      const h = pick([0, 23, 24]);
      const mi = pick([0, 59, 60]);
      const s = pick([0, 59, 60]);
      const off = pick(['Z', '+00:00', '-07:00', '+23:59', '+24:00', '-00:60']);
      const frac = pick(['', '.5', '.123456789']);
      const text = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${frac}${off}`;
      const ok = goAccepts(y, mo, d, h, mi, s, off);
      if (ok) {
        accepted++;
        assert.doesNotThrow(() => parseCreated(text), text);
      } else assert.throws(() => parseCreated(text), UsageError, text);
    }
    assert.ok(accepted > 30, `only ${accepted} accepted cases`);
  });

  it('--source-date-epoch: up to 9999-12-31T23:59:59Z, the rest a usage error (exit 2)', async () => {
    for (const v of ['0', '1', '1700000000', '253402300799', '253402300800', '999999999999999', '100000000000000']) {
      const ok = Number(v) <= 253402300799;
      if (!ok) {
        assert.throws(
          () => epochOption(v),
          (e: unknown) => e instanceof UsageError && e.exitCode === 2 && /9999-12-31T23:59:59Z/.test(e.message),
          v,
        );
        continue;
      }
      const f = await dockerLegacy({ created: '9999-12-31T23:59:59Z' });
      const input = join(dir, `epoch-${++n}.tar`);
      await writeFile(input, f.archive);
      const output = join(dir, `epoch-out-${n}.tar`);
      await editArchive({ input, output, edits: [removeVolumes('all')], ...epochOption(v) });
      const out = await readTar(await readFile(output));
      const cfg = [...out].find(([k]) => /^[0-9a-f]{64}\.json$/.test(k))!;
      const created = JSON.parse(cfg[1].data.toString()).created as string;
      assert.match(created, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, v);
    }
  });

  it('--tag spellings of one name are written once into manifest.json and index.json', async () => {
    const groups = [
      ['x/y:1', 'docker.io/x/y:1', 'index.docker.io/x/y:1'],
      ['app:1', 'docker.io/library/app:1', 'library/app:1', 'index.docker.io/library/app:1'],
      ['app', 'app:latest', 'docker.io/library/app:latest'],
    ];
    const r = rng(61);
    for (const g of groups) {
      for (let k = 0; k < 4; k++) {
        const tags = Array.from({ length: 2 + Math.floor(r() * 3) }, () => g[Math.floor(r() * g.length)]!);
        const extra = k % 2 ? ['other/name:2'] : [];
        const f = await ociLayout();
        const input = join(dir, `tag-${++n}.tar`);
        await writeFile(input, f.archive);
        const output = join(dir, `tag-out-${n}.tar`);
        await editArchive({ input, output, edits: [removeVolumes('all')], tags: [...tags, ...extra] });
        const out = await readTar(await readFile(output));
        const lists: string[][] = [];
        if (out.has('manifest.json')) lists.push(JSON.parse(out.get('manifest.json')!.data.toString()).flatMap((i: { RepoTags?: string[] }) => i.RepoTags ?? []));
        if (out.has('index.json')) {
          const names = JSON.parse(out.get('index.json')!.data.toString()).manifests.map((m: { annotations?: Record<string, string> }) => m.annotations?.['io.containerd.image.name']);
          lists.push(names.filter((x: string | undefined): x is string => !!x));
        }
        assert.ok(lists.length > 0);
        for (const l of lists) {
          const norm = l.map(normalizeReference);
          assert.equal(new Set(norm).size, norm.length, `${tags.join(' ')}: ${l.join(', ')}`);
          assert.equal(norm.length, 1 + extra.length, `${tags.join(' ')}: ${l.join(', ')}`);
        }
      }
    }
  });

  it('a non-UTF-8 entry name: the archive is edited, the entry copied with its name bytes (Python reads them back)', async () => {
    const bad = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80], [0xfe, 0x41, 0xc3]];
    const where = ['name', 'prefix', 'gnu-long', 'pax'] as const;
    const cases: { name: Buffer; at: (typeof where)[number] }[] = [];
    for (const b of bad) for (const at of where) cases.push({ name: Buffer.concat([Buffer.from('junk/x'), Buffer.from(b), Buffer.from('.txt')]), at });
    const f = await dockerLegacy();
    const outputs: { output: string; name: Buffer }[] = [];
    for (const c of cases) {
      const input = join(dir, `utf8-${++n}.tar`);
      await writeFile(input, Buffer.concat([rawEntry(c.name, c.at, Buffer.from('junk\n')), f.archive]));
      const output = join(dir, `utf8-out-${n}.tar`);
      await editArchive({ input, output, edits: [removeVolumes('all')] }).catch((e: unknown) => assert.fail(`${c.name.toString('hex')} in ${c.at}: ${e}`));
      // a ustar prefix is joined to the name field with '/'
      outputs.push({ output, name: c.at === 'prefix' ? Buffer.concat([c.name, Buffer.from('/f.txt')]) : c.name });
    }
    const py = spawnSync('python3', [join(TOOLS, 'tarlist.py'), ...outputs.map((o) => o.output)], { encoding: 'utf8', maxBuffer: 1 << 26 });
    assert.equal(py.status, 0, py.stderr);
    py.stdout
      .trim()
      .split('\n')
      .forEach((line, i) => {
        const r = JSON.parse(line) as { ok: boolean; entries: { name: string }[] };
        assert.ok(r.ok, line);
        assert.ok(
          r.entries.some((e) => e.name === outputs[i]!.name.toString('hex')),
          `${outputs[i]!.name.toString('hex')} (${cases[i]!.at}) not kept as it was: ${r.entries.map((e) => e.name).join(' ')}`,
        );
      });
  });

  it('a lone surrogate escape in an untouched config string is printed back as written', async () => {
    const escapes = ['\\ud800', '\\udbff', '\\udc00', '\\udfff', '\\ud800\\u0041', '\\ud800\\ud800', '\\udc80x', 'a\\ud83dz'];
    const places = ['Labels', 'Env', 'history'] as const;
    for (const esc of escapes) {
      for (const place of places) {
        const l = await layer('a.txt', 'a\n');
        const cfg = imageConfig([sha(l)]) as Record<string, any>;
        const marker = `__MARK_${place}__`;
        if (place === 'Labels') cfg.config.Labels.note = marker;
        else if (place === 'Env') cfg.config.Env.push(`NOTE=${marker}`);
        else cfg.history[0].comment = marker;
        const text = JSON.stringify(cfg).replace(marker, esc);
        const id = sha(text);
        const entries: Entry[] = [
          { name: `${id}.json`, data: text },
          { name: 'l1/layer.tar', data: l },
          { name: 'manifest.json', data: JSON.stringify([{ Config: `${id}.json`, RepoTags: ['s/u:1'], Layers: ['l1/layer.tar'] }]) },
        ];
        const input = join(dir, `sur-${++n}.tar`);
        await writeFile(input, await makeTar(entries));
        const output = join(dir, `sur-out-${n}.tar`);
        await editArchive({ input, output, edits: [removeVolumes('all')] });
        const out = await readTar(await readFile(output));
        const cfgOut = [...out].find(([k]) => /^[0-9a-f]{64}\.json$/.test(k))![1].data.toString();
        assert.notEqual(cfgOut, text, 'the config was edited');
        // the lone surrogate escapes as written; an ordinary escape (\u0041) is printed as its character
        const want = esc.replace('\\u0041', 'A');
        assert.ok(cfgOut.includes(want), `${esc} in ${place}: ${cfgOut.slice(0, 400)}`);
      }
    }
  });
});

/** One file entry whose name is the bytes `name`, in the ustar name, the prefix, a GNU long name or a PAX path. */
function rawEntry(name: Buffer, at: 'name' | 'prefix' | 'gnu-long' | 'pax', data: Buffer): Buffer {
  const blocks: Buffer[] = [];
  const body = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
  if (at === 'gnu-long') blocks.push(header(Buffer.from('././@LongLink'), 'L', name.length + 1), body(Buffer.concat([name, Buffer.from([0])])));
  if (at === 'pax') {
    const rec = (len: number) => Buffer.concat([Buffer.from(`${len} path=`), name, Buffer.from('\n')]);
    let len = rec(0).length;
    while (rec(len).length !== len) len = rec(len).length;
    blocks.push(header(Buffer.from('PaxHeaders/x'), 'x', len), body(rec(len)));
  }
  if (at === 'prefix') blocks.push(header(Buffer.from('f.txt'), '0', data.length, name));
  else blocks.push(header(at === 'name' ? name : Buffer.from('placeholder.txt'), '0', data.length));
  blocks.push(body(data));
  return Buffer.concat(blocks);
}

function header(name: Buffer, flag: string, size: number, prefix?: Buffer): Buffer {
  const b = Buffer.alloc(512);
  name.copy(b, 0, 0, Math.min(100, name.length));
  b.write('0000644\0', 100, 'latin1');
  b.write('0000000\0', 108, 'latin1');
  b.write('0000000\0', 116, 'latin1');
  b.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  b.write('00000000000\0', 136, 'latin1');
  b.write(flag, 156, 'latin1');
  b.write('ustar\u000000', 257, 'latin1');
  if (prefix) prefix.copy(b, 345, 0, Math.min(155, prefix.length));
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : b[i]!;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return b;
}
