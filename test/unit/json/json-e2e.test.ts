/**
 * Issue 9, class 2, through the whole pipeline (editArchive, verifyArchive) on generated archives:
 * big numbers survive an edit; documents Go reads ambiguously are refused; sha512 blobs are written
 * and verified with sha512.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Digest } from '../../../src/digest.js';
import { CopyeditError, editArchive, removeVolumes } from '../../../src/index.js';
import { verifyArchive } from '../../../src/verify/index.js';
import { checkArchive } from '../check.js';
import { type Entry, dockerLegacy, makeTar, ociLayout, readTar, sha } from '../fixtures.js';
import { rng } from '../rng.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-json-e2e-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function edit(archive: Buffer, name: string): Promise<{ out?: Buffer; error?: CopyeditError }> {
  const input = join(dir, `${name}.tar`);
  const output = join(dir, `${name}.out.tar`);
  await writeFile(input, archive);
  try {
    await editArchive({ input, output, edits: [removeVolumes('all')], fsync: false });
    return { out: await readFile(output) };
  } catch (e) {
    if (e instanceof CopyeditError) return { error: e };
    throw e;
  }
}

/**
 * An archive with `fn` applied to the text of its JSON entries; every rewritten blob or config is
 * renamed after its new sha256, and the digests, sizes and paths that name it follow (to a fixpoint).
 */
async function rewrite(archive: Buffer, fn: (name: string, text: string) => string | undefined): Promise<Buffer> {
  const files = await readTar(archive);
  const order = [...files.keys()];
  const data = new Map<string, Buffer>();
  const meta = new Map<string, Entry>();
  for (const [name, e] of files) {
    if (e.header.type === 'file') data.set(name, e.data);
    else meta.set(name, { name, type: e.header.type as NonNullable<Entry['type']>, ...(e.header.linkname ? { linkname: e.header.linkname } : {}) });
  }
  const isJson = (b: Buffer) => b[0] === 0x7b || b[0] === 0x5b;
  const pending: string[] = [];
  for (const [name, b] of data) {
    const t = isJson(b) ? fn(name, b.toString()) : undefined;
    if (t !== undefined) {
      data.set(name, Buffer.from(t));
      pending.push(name);
    }
  }
  const renamed = new Map<string, string>();
  while (pending.length) {
    const name = pending.shift()!;
    const b = data.get(name)!;
    const m = /^(.*?)([a-f0-9]{64})(\.json)?$/.exec(name);
    if (!m) continue;
    const oldHex = m[2]!;
    const oldSize = files.get(renamedFrom(renamed, name))!.data.length;
    const newHex = sha(b);
    if (newHex === oldHex) continue;
    const newName = `${m[1]}${newHex}${m[3] ?? ''}`;
    data.delete(name);
    data.set(newName, b);
    renamed.set(newName, renamedFrom(renamed, name));
    for (const [other, ob] of data) {
      if (other === newName || !isJson(ob)) continue;
      const t = ob.toString();
      const u = t.split(`${oldHex}","size":${oldSize}`).join(`${newHex}","size":${b.length}`).split(oldHex).join(newHex);
      if (u !== t) {
        data.set(other, Buffer.from(u));
        if (!pending.includes(other)) pending.push(other);
      }
    }
  }
  const back = new Map([...renamed].map(([n, o]) => [o, n]));
  const entries: Entry[] = [];
  for (const name of order) {
    const now = back.get(name) ?? name;
    entries.push(meta.get(name) ?? { name: now, data: data.get(now)! });
  }
  return makeTar(entries);
}

function renamedFrom(renamed: Map<string, string>, name: string): string {
  return renamed.get(name) ?? name;
}

describe('numbers of any length through an edit (seeded corpus)', () => {
  it('a config holding long numbers in unknown keys is edited, and every number is written back byte for byte', async () => {
    const r = rng(500);
    for (let n = 0; n < 8; n++) {
      const digits = (k: number) => Array.from({ length: k }, (_, i) => (i === 0 ? 1 + Math.floor(r() * 9) : Math.floor(r() * 10))).join('');
      const nums = [digits(500), `-${digits(40)}.${digits(30)}e+${digits(3)}`, digits(17), `${digits(1)}E-400`];
      const archive = await rewrite(n % 2 ? (await dockerLegacy()).archive : (await ociLayout({ docker: true })).archive, (_name, text) => {
        if (!text.includes('"rootfs"')) return undefined;
        return text.replace('"architecture"', `"x-vendor-${n}":[${nums.join(',')}],"config-size":${nums[0]},"architecture"`);
      });
      const { out, error } = await edit(archive, `numbers-${n}`);
      assert.equal(error, undefined, `seed 500 case ${n}: ${error?.message}`);
      const text = out!.toString('latin1');
      for (const x of nums) assert.ok(text.includes(x), `seed 500 case ${n}: ${x.slice(0, 20)}... lost`);
      assert.deepEqual(checkArchive(await readTar(out!)), []);
    }
  });
});

describe('documents Go reads ambiguously are refused (seeded corpus)', () => {
  it('case-folded or repeated struct keys in a config, manifest.json, a manifest or index.json: exit 3 naming the entry and both keys', async () => {
    const r = rng(909);
    const variants: { where: (name: string, text: string) => boolean; from: string; to: (m: string) => string; entry: RegExp }[] = [
      // config: a later "Config" next to "config" (issue 9's example), a respelled Volumes beside Volumes, history entries
      { where: (_, t) => t.includes('"rootfs"'), from: '"os":"linux"', to: (m) => `${m},"Config":{"Volumes":{"/b":{}}}`, entry: /\.json|blobs\/sha256\// },
      { where: (_, t) => t.includes('"rootfs"'), from: '"Volumes":{', to: (m) => `"volumes":{"/c":{}},${m}`, entry: /\.json|blobs\/sha256\// },
      { where: (_, t) => t.includes('"rootfs"'), from: '"created_by":', to: (m) => `"CREATED_BY":"x",${m}`, entry: /\.json|blobs\/sha256\// },
      // manifest.json: an item with Config and config
      { where: (n) => n === 'manifest.json', from: '"RepoTags"', to: (m) => `"config":"other.json",${m}`, entry: /manifest\.json/ },
      { where: (n) => n === 'manifest.json', from: '"Layers"', to: (m) => `"LAYERS":[],${m}`, entry: /manifest\.json/ },
      // index.json and manifests: a descriptor with digest twice, a manifest with Config
      { where: (n) => n === 'index.json', from: '"digest":', to: (m) => `"Digest":"sha256:${'0'.repeat(64)}",${m}`, entry: /index\.json/ },
      { where: (n, t) => n.startsWith('blobs/') && t.includes('"layers"'), from: '"layers":', to: (m) => `"Layers":[],${m}`, entry: /blobs\/sha256\// },
    ];
    for (let n = 0; n < 14; n++) {
      const v = variants[n % variants.length]!;
      const base = r() < 0.5 ? (await ociLayout({ docker: true })).archive : (await dockerLegacy()).archive;
      let touched = false;
      const archive = await rewrite(base, (name, text) => {
        if (!v.where(name, text) || !text.includes(v.from)) return undefined;
        touched = true;
        return text.replace(v.from, v.to(v.from));
      });
      if (!touched) continue;
      const { error } = await edit(archive, `ambiguous-${n}`);
      assert.ok(error, `seed 909 case ${n}: an ambiguous archive was edited`);
      assert.equal(error.exitCode, 3, error.message);
      assert.match(error.message, v.entry);
      assert.match(error.message, /has (both "[^"]+" and "[^"]+"|the key "[^"]+" twice)/);
    }
  });
});

/** An OCI archive whose image manifest is stored as a sha512 blob, index.json naming it by sha512. */
async function sha512Archive(corrupt = false): Promise<Buffer> {
  const f = await ociLayout({ docker: true });
  const files = await readTar(f.archive);
  const old = Digest.of(f.manifest);
  const d512 = Digest.of(f.manifest, 'sha512');
  const entries: Entry[] = [];
  for (const [name, e] of files) {
    if (name === `blobs/sha256/${old.hex}`) {
      entries.push({ name: 'blobs/sha512/', type: 'directory' }, { name: d512.blobPath, data: corrupt ? Buffer.from(e.data.toString().replace('"schemaVersion":2', '"schemaVersion": 2')) : e.data });
    } else if (name === 'index.json') entries.push({ name, data: e.data.toString().replace(old.toString(), d512.toString()) });
    else if (e.header.type === 'file') entries.push({ name, data: e.data });
    else entries.push({ name, type: e.header.type as NonNullable<Entry['type']> });
  }
  return makeTar(entries);
}

describe('sha512 blobs', () => {
  it('an edited sha512 manifest is written as blobs/sha512/<sha512 of it>, index.json names it, and it verifies', async () => {
    const { out, error } = await edit(await sha512Archive(), 'sha512');
    assert.equal(error, undefined, error?.message);
    const files = await readTar(out!);
    const index = JSON.parse(files.get('index.json')!.data.toString());
    const d = Digest.parse(index.manifests[0].digest);
    assert.equal(d.algorithm, 'sha512');
    const blob = files.get(d.blobPath);
    assert.ok(blob, `${d.blobPath} is missing`);
    assert.ok(d.matches(blob.data));
    const p = join(dir, 'sha512-out.tar');
    await writeFile(p, out!);
    const report = await verifyArchive(p);
    assert.deepEqual(report.issues, []);
    assert.ok(!report.unverified.some((u) => /sha512/.test(u)), report.unverified.join('; '));
  });
  it('a sha512 blob whose content does not match its name fails verify and is not edited', async () => {
    const p = join(dir, 'sha512-bad.tar');
    await writeFile(p, await sha512Archive(true));
    const report = await verifyArchive(p);
    assert.ok(report.issues.length > 0, 'verify passed a sha512 mismatch');
    const { error } = await edit(await sha512Archive(true), 'sha512-bad');
    assert.ok(error, 'a mismatching sha512 blob was re-hashed into a clean output');
  });
});
