/**
 * Go's struct-key matching (issue 9, class 2): keys of objects Go decodes into structs fold case,
 * and a repeat is decoded twice; map keys are exact data. Generated, seeded corpora over every kind
 * of metadata document (image config, manifest.json, manifests, indexes).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyEdits, removeHealthcheck, setImageString, setRuntimeString } from '../../../src/edit/index.js';
import { ArchiveError } from '../../../src/errors.js';
import { type JsonObject, field, fieldKey, foldKey, isJsonObject, jsonEqual, parseJson, printJson, stringifyJson } from '../../../src/json/lossless.js';
import { IMAGE_CONFIG, MANIFEST_JSON, MANIFEST_OR_INDEX, type Schema, checkGoAmbiguity, findGoAmbiguity } from '../../../src/json/schemas.js';
import { dockerLegacy, imageConfig, ociLayout, readTar } from '../fixtures.js';
import { rng } from '../rng.js';
import { parseEdit } from '../../../src/cli/edit-specs.js';
// the command line's spellings, parsed as the CLI parses them (src/cli/edit-specs.ts)
const removeVolume = (v: string) => parseEdit('rm-volume', v);
const removePort = (v: string) => parseEdit('rm-port', v);
const addPort = (v: string) => parseEdit('add-port', v);
const setCmd = (v: string) => parseEdit('cmd', v);
const setEnv = (k: string, v: string) => parseEdit('env', `${k}=${v}`);
const removeLabel = (v: string) => parseEdit('rm-label', v);

type Plain = null | boolean | number | string | Plain[] | { [k: string]: Plain };

/** Print plain JSON with `extra` (a key and its value's text) spliced into the object at `path`, at `pos`. */
function emit(v: Plain, path: string, inject: { path: string; key: string; value: string; pos: number }): string {
  if (Array.isArray(v)) return `[${v.map((x, i) => emit(x, `${path}[${i}]`, inject)).join(',')}]`;
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const parts = Object.keys(v).map((k) => `${JSON.stringify(k)}:${emit(v[k]!, path === '' ? k : `${path}.${k}`, inject)}`);
  if (path === inject.path) parts.splice(Math.min(inject.pos, parts.length), 0, `${JSON.stringify(inject.key)}:${inject.value}`);
  return `{${parts.join(',')}}`;
}

/** Every object path in `v` that `schema` says Go decodes into a struct (paths as findGoAmbiguity names them). */
function structPaths(v: Plain, schema: Schema, path = ''): string[] {
  if (schema.kind === 'array') return Array.isArray(v) ? v.flatMap((x, i) => structPaths(x, schema.items, `${path}[${i}]`)) : [];
  if (v === null || typeof v !== 'object' || Array.isArray(v) || schema.kind === 'scalar') return [];
  const sub = (k: string) => (path === '' ? k : `${path}.${k}`);
  if (schema.kind === 'map') return schema.values.kind === 'scalar' ? [] : Object.keys(v).flatMap((k) => (/^[A-Za-z_]\w*$/.test(k) ? structPaths(v[k]!, schema.values, sub(k)) : []));
  return [path, ...Object.keys(v).flatMap((k) => (schema.fields[k] ? structPaths(v[k]!, schema.fields[k]!, sub(k)) : []))];
}

/** Every map-valued object path (keys are data there). */
function mapPaths(v: Plain, schema: Schema, path = ''): string[] {
  if (schema.kind === 'array') return Array.isArray(v) ? v.flatMap((x, i) => mapPaths(x, schema.items, `${path}[${i}]`)) : [];
  if (v === null || typeof v !== 'object' || Array.isArray(v) || schema.kind === 'scalar') return [];
  const sub = (k: string) => (path === '' ? k : `${path}.${k}`);
  if (schema.kind === 'map') return [path];
  return Object.keys(v).flatMap((k) => (schema.fields[k] ? mapPaths(v[k]!, schema.fields[k]!, sub(k)) : []));
}

function objectAt(v: Plain, path: string): { [k: string]: Plain } {
  let cur: Plain = v;
  for (const part of path.match(/[^.[\]]+/g) ?? []) cur = Array.isArray(cur) ? cur[Number(part)]! : (cur as { [k: string]: Plain })[part]!;
  return cur as { [k: string]: Plain };
}

/** A random spelling of `k` that Go folds to the same name (never `k` itself when `k` has a letter). */
function caseVariant(k: string, r: () => number): string {
  if (!/[A-Za-z]/.test(k)) return k;
  for (;;) {
    const v = [...k].map((c) => ((c === 'k' || c === 'K') && r() < 0.2 ? '\u212a' : (c === 's' || c === 'S') && r() < 0.2 ? '\u017f' : r() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join('');
    if (v !== k) return v;
  }
}

async function documents(): Promise<{ what: string; doc: Plain; schema: Schema }[]> {
  const legacy = await dockerLegacy();
  const oci = await ociLayout({ docker: true, multiPlatform: true });
  const files = await readTar(oci.archive);
  const legacyFiles = await readTar(legacy.archive);
  const config = JSON.parse(legacy.config.toString());
  config.config.Healthcheck = { Test: ['CMD', 'true'], Interval: 1000000000 };
  config.config.OnBuild = ['RUN true'];
  const out: { what: string; doc: Plain; schema: Schema }[] = [
    { what: 'image config', doc: config, schema: IMAGE_CONFIG },
    { what: 'manifest.json (legacy)', doc: JSON.parse(legacyFiles.get('manifest.json')!.data.toString()), schema: MANIFEST_JSON },
    { what: 'manifest.json (docker 25)', doc: JSON.parse(files.get('manifest.json')!.data.toString()), schema: MANIFEST_JSON },
    { what: 'index.json', doc: JSON.parse(files.get('index.json')!.data.toString()), schema: MANIFEST_OR_INDEX },
  ];
  for (const [name, e] of files) {
    if (!name.startsWith('blobs/sha256/') || e.data[0] !== 0x7b) continue;
    const doc = JSON.parse(e.data.toString());
    if (doc.schemaVersion === 2) out.push({ what: `blob ${name.slice(13, 25)}`, doc, schema: MANIFEST_OR_INDEX });
  }
  return out;
}

describe('Go struct-key ambiguity (generated corpus)', () => {
  it('the unmodified documents are not ambiguous', async () => {
    for (const d of await documents()) assert.equal(findGoAmbiguity(parseJson(JSON.stringify(d.doc)), d.schema), undefined, d.what);
  });

  it('a second key folding to a struct field, or a repeated one, anywhere in a struct is found with its path and both keys', async () => {
    const docs = await documents();
    const r = rng(4242);
    let n = 0;
    for (const d of docs) {
      const paths = structPaths(d.doc, d.schema);
      assert.ok(paths.length > 0, d.what);
      for (let round = 0; round < 60; round++) {
        const path = paths[Math.floor(r() * paths.length)]!;
        const obj = objectAt(d.doc, path);
        const keys = Object.keys(obj);
        // a key of the object, or for an empty struct a field name Go knows there
        const base = keys.length ? keys[Math.floor(r() * keys.length)]! : 'Test';
        const exact = r() < 0.3 || !/[A-Za-z]/.test(base);
        const key = exact ? base : caseVariant(base, r);
        const value = ['{}', '{"/extra":{}}', 'null', '"x"', '[1,2]', '123456789012345678901234567890'][Math.floor(r() * 6)]!;
        const text = emit(d.doc, '', { path, key, value, pos: Math.floor(r() * (keys.length + 1)) });
        const parsed = parseJson(Buffer.from(text));
        const found = findGoAmbiguity(parsed, d.schema);
        const label = `seed 4242 ${d.what} round ${round}: ${JSON.stringify(key)} into ${path || 'top'}`;
        assert.ok(found, label);
        assert.equal(found.path, path, label);
        assert.deepEqual(new Set(found.keys), new Set(keys.length ? [base, key] : [key]), label);
        assert.throws(
          () => checkGoAmbiguity(parsed, d.schema, 'some/entry', d.what),
          (e: unknown) => {
            assert.ok(e instanceof ArchiveError && e.exitCode === 3, label);
            assert.ok(e.message.startsWith(`some/entry: ${d.what} has `), e.message);
            assert.ok(e.message.includes(JSON.stringify(key)), e.message);
            assert.ok(e.message.includes(path === '' ? 'at its top level' : `in ${path}`), e.message);
            return true;
          },
        );
        n++;
      }
    }
    assert.ok(n >= 300);
  });

  it('keys of maps are data: case variants are distinct, an exact repeat keeps its last value, and printer and jsonEqual agree', async () => {
    const docs = await documents();
    const r = rng(99);
    let n = 0;
    for (const d of docs) {
      for (const path of mapPaths(d.doc, d.schema)) {
        const obj = objectAt(d.doc, path);
        const keys = Object.keys(obj);
        if (!keys.length) continue;
        const base = keys[Math.floor(r() * keys.length)]!;
        for (const key of [caseVariant(base, r), base]) {
          const text = emit(d.doc, '', { path, key, value: '"LAST"', pos: keys.length });
          const parsed = parseJson(Buffer.from(text));
          assert.equal(findGoAmbiguity(parsed, d.schema), undefined, `${d.what} ${path} ${key}`);
          const m = objectAt(parsed as Plain, path);
          assert.equal(m[key], 'LAST');
          if (key !== base) assert.ok(jsonEqual(m[base] as JsonObject, parseJson(JSON.stringify(obj[base]))));
          // what is printed is what jsonEqual compares: the repeat collapsed, at the first key's place
          const again = parseJson(printJson(parsed));
          assert.ok(jsonEqual(again, parsed));
          assert.equal(stringifyJson(again), stringifyJson(parsed));
          n++;
        }
      }
    }
    assert.ok(n >= 8, `${n} map cases`);
  });

  it('the examples of issue 9: "volumes" in config with a later "Config"; manifest.json item with Config and config', () => {
    const cfg = parseJson('{"architecture":"amd64","config":{"volumes":{"/a":{}}},"os":"linux","Config":{"Volumes":{"/b":{}}},"rootfs":{"type":"layers","diff_ids":[]}}');
    assert.throws(() => checkGoAmbiguity(cfg, IMAGE_CONFIG, 'abc.json', 'image config'), /abc\.json: image config has both "config" and "Config" at its top level/);
    const mj = parseJson('[{"Config":"a.json","RepoTags":["x:1"],"Layers":[],"config":"b.json"}]');
    assert.throws(() => checkGoAmbiguity(mj, MANIFEST_JSON, 'manifest.json', 'manifest.json'), /manifest\.json: manifest\.json has both "Config" and "config" in \[0\]/);
    const twice = parseJson('{"config":{"Volumes":{"/a":{}},"Volumes":{"/b":{}}}}');
    assert.throws(() => checkGoAmbiguity(twice, IMAGE_CONFIG, 'c.json', 'image config'), /has the key "Volumes" twice in config/);
  });
});

describe('Go folding', () => {
  it('folds ASCII, the long s and the Kelvin sign, and nothing else (Go: only those runes fold into ASCII)', () => {
    assert.equal(foldKey('ExposedPorts'), 'exposedports');
    assert.equal(foldKey('\u212aey\u017f'), 'keys');
    assert.equal(foldKey('İd'), 'İd'); // U+0130 has no simple folding to i
    assert.equal(foldKey('ıd'), 'ıd'); // dotless i: no simple folding
    assert.notEqual(foldKey('Volumes'), foldKey('Vo1umes'));
  });
  it('field()/fieldKey() find a struct field under any spelling, the exact one first', () => {
    const o = parseJson('{"voLUMES":{"/a":{}},"Env":[]}') as JsonObject;
    assert.equal(fieldKey(o, 'Volumes'), 'voLUMES');
    assert.ok(isJsonObject(field(o, 'Volumes')));
    assert.equal(fieldKey(o, 'env'), 'Env');
    assert.equal(fieldKey(parseJson('{"\u212aernel":1}') as JsonObject, 'kernel'), '\u212aernel');
  });
});

describe('edits see a field under any spelling Go accepts (generated corpus)', () => {
  const FIELDS = ['Volumes', 'ExposedPorts', 'Env', 'Labels', 'Cmd', 'Healthcheck', 'User'];
  it('every edit reads and writes the spelled key, in config and container_config alike', () => {
    const r = rng(31337);
    for (let round = 0; round < 120; round++) {
      const base = imageConfig(['a'.repeat(64)]) as Record<string, Plain>;
      (base.config as Record<string, Plain>).Healthcheck = { Test: ['CMD', 'true'] };
      // respell the top-level runtime keys and some fields inside them
      const spelled = new Map<string, string>();
      const respell = (o: Record<string, Plain>): Record<string, Plain> => {
        const out: Record<string, Plain> = {};
        for (const [k, v] of Object.entries(o)) {
          const nk = FIELDS.includes(k) && r() < 0.7 ? caseVariant(k, r) : k;
          spelled.set(k, nk);
          out[nk] = v;
        }
        return out;
      };
      const doc: Record<string, Plain> = {};
      for (const [k, v] of Object.entries(base)) {
        if (k === 'config' || k === 'container_config') doc[r() < 0.5 ? caseVariant(k, r) : k] = respell(v as Record<string, Plain>);
        else if (k === 'architecture' && r() < 0.5) doc[caseVariant(k, r)] = v;
        else doc[k] = v;
      }
      const config = parseJson(JSON.stringify(doc)) as JsonObject;
      assert.equal(findGoAmbiguity(config, IMAGE_CONFIG), undefined);
      const out = applyEdits(config, [
        removeVolume('all'),
        removePort('8080'),
        addPort('443'),
        setEnv('APP_MODE', 'dev'),
        removeLabel('all'),
        setCmd('["/x"]'),
        removeHealthcheck(),
        setRuntimeString('user', 'root'),
        setImageString('arch', 'arm64'),
      ]).config;
      const label = `seed 31337 round ${round}: ${stringifyJson(config).slice(0, 200)}`;
      // nothing new was added under a second spelling: Go would read the result as we do
      assert.equal(findGoAmbiguity(parseJson(printJson(out)), IMAGE_CONFIG), undefined, label);
      for (const rcName of ['config', 'container_config']) {
        const rc = field(out, rcName) as JsonObject;
        assert.ok(isJsonObject(rc), label);
        assert.equal(field(rc, 'Volumes'), undefined, label);
        assert.deepEqual(Object.keys(field(rc, 'ExposedPorts') as JsonObject), ['9090/udp', '443/tcp'], label);
        assert.deepEqual(field(rc, 'Env'), ['PATH=/usr/bin:/bin', 'APP_MODE=dev'], label);
        assert.equal(field(rc, 'Labels'), undefined, label);
        assert.deepEqual(field(rc, 'Cmd'), ['/x'], label);
        assert.equal(field(rc, 'Healthcheck'), undefined, label);
        assert.equal(field(rc, 'User'), 'root', label);
        // an existing key keeps its spelling
        for (const f of ['ExposedPorts', 'Env', 'Cmd'])
          if (fieldKey(config[fieldKey(config, rcName)!] as JsonObject, f)) assert.equal(fieldKey(rc, f), fieldKey(config[fieldKey(config, rcName)!] as JsonObject, f), label);
      }
      assert.equal(field(out, 'architecture'), 'arm64', label);
      assert.equal(fieldKey(out, 'architecture'), fieldKey(config, 'architecture'), label);
    }
  });
  it('issue 9: a config whose only volumes key is "volumes" loses its volumes to --rm-volume all', () => {
    const config = parseJson('{"architecture":"amd64","Config":{"volumes":{"/a":{}},"Env":[]},"os":"linux"}') as JsonObject;
    const r = removeVolume('all').apply(config);
    assert.equal(stringifyJson(r.config), '{"architecture":"amd64","Config":{"Env":[]},"os":"linux"}');
  });
});
