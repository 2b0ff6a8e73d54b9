import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyEdits, clearCmd, clearEntrypoint, parseJson, stringifyJson, UsageError, type JsonObject } from '../../../src/index.js';
import { parseEdit, normalizePort } from '../../../src/cli/edit-specs.js';
// the command line's spellings, parsed as the CLI parses them (src/cli/edit-specs.ts)
const removeVolume = (v: string) => parseEdit('rm-volume', v);
const addVolume = (v: string) => parseEdit('add-volume', v);
const removePort = (v: string) => parseEdit('rm-port', v);
const addPort = (v: string) => parseEdit('add-port', v);
const setEntrypoint = (v: string) => parseEdit('entrypoint', v);
const setCmd = (v: string) => parseEdit('cmd', v);
const setEntrypointShell = (v: string) => parseEdit('entrypoint-shell', v);
const setCmdShell = (v: string) => parseEdit('cmd-shell', v);

const base = () =>
  parseJson(
    JSON.stringify({
      architecture: 'amd64',
      config: { Cmd: ['--serve'], Entrypoint: ['/app/run'], Volumes: { '/data': {}, '/var/log/app': {}, '/cache/': {} }, ExposedPorts: { '8080/tcp': {}, '9090/udp': {}, '53/tcp': {}, '53/udp': {} } },
      container_config: { Volumes: { '/data': {} }, ExposedPorts: { '8080/tcp': {} } },
      rootfs: { type: 'layers', diff_ids: [] },
    }),
  ) as JsonObject;
const cfg = (c: JsonObject) => JSON.parse(stringifyJson(c));

describe('edits', () => {
  it('are pure: the input config is never modified', () => {
    const c = base();
    const before = stringifyJson(c);
    for (const e of [removeVolume('all'), addVolume('/x'), removePort('all'), addPort('1'), setEntrypoint('/a'), setCmd('["b"]'), clearCmd(), clearEntrypoint()]) e.apply(c);
    assert.equal(stringifyJson(c), before);
  });
  it('rm-volume: all, exact (trailing slash ignored), glob with * and %, and a warning when nothing matches', () => {
    assert.equal(cfg(removeVolume('all').apply(base()).config).config.Volumes, undefined);
    assert.equal(cfg(removeVolume('all').apply(base()).config).container_config.Volumes, undefined);
    assert.deepEqual(Object.keys(cfg(removeVolume('/data/').apply(base()).config).config.Volumes), ['/var/log/app', '/cache/']);
    assert.deepEqual(Object.keys(cfg(removeVolume('/var/*').apply(base()).config).config.Volumes), ['/data', '/cache/']);
    assert.deepEqual(Object.keys(cfg(removeVolume('/ca%').apply(base()).config).config.Volumes), ['/data', '/var/log/app']);
    assert.deepEqual(Object.keys(cfg(removeVolume('/cache').apply(base()).config).config.Volumes), ['/data', '/var/log/app']);
    const r = removeVolume('/nope').apply(base());
    assert.deepEqual(r.warnings, ['no volume matches /nope']);
  });
  it('add-volume: adds to both configs, is idempotent, needs an absolute path', () => {
    const c = cfg(addVolume('/new/').apply(base()).config);
    assert.ok('/new' in c.config.Volumes && '/new' in c.container_config.Volumes);
    const twice = addVolume('/data').apply(base()).config;
    assert.equal(stringifyJson(twice), stringifyJson(base()));
    assert.throws(() => addVolume('relative'), UsageError);
  });
  it('add-volume creates config when an image has none', () => {
    const c = parseJson('{"rootfs":{}}') as JsonObject;
    assert.deepEqual(cfg(addVolume('/v').apply(c).config).config, { Volumes: { '/v': {} } });
  });
  it('rm-port: all, bare number (tcp), service name, number/proto, glob; warns on no match', () => {
    assert.equal(cfg(removePort('all').apply(base()).config).config.ExposedPorts, undefined);
    assert.deepEqual(Object.keys(cfg(removePort('53').apply(base()).config).config.ExposedPorts), ['8080/tcp', '9090/udp', '53/udp']);
    assert.deepEqual(Object.keys(cfg(removePort('53/*').apply(base()).config).config.ExposedPorts), ['8080/tcp', '9090/udp']);
    assert.deepEqual(Object.keys(cfg(removePort('http-alt').apply(base()).config).config.ExposedPorts), ['9090/udp', '53/tcp', '53/udp']);
    assert.deepEqual(Object.keys(cfg(removePort('53/udp').apply(base()).config).config.ExposedPorts), ['8080/tcp', '9090/udp', '53/tcp']);
    assert.deepEqual(Object.keys(cfg(removePort('*/udp').apply(base()).config).config.ExposedPorts), ['8080/tcp', '53/tcp']);
    assert.deepEqual(removePort('7').apply(base()).warnings, ['no exposed port matches 7']);
    assert.throws(() => removePort('http/x'), UsageError);
  });
  it('add-port: defaults to tcp, validates', () => {
    assert.ok('7000/tcp' in cfg(addPort('7000').apply(base()).config).config.ExposedPorts);
    assert.ok('7000/udp' in cfg(addPort('7000/UDP').apply(base()).config).config.ExposedPorts);
    assert.throws(() => addPort('70000'), UsageError);
    assert.throws(() => addPort('0'), UsageError);
    assert.equal(normalizePort('443', 'x'), '443/tcp');
  });
  it('entrypoint/cmd: JSON array is the exec form, other strings one element, shell forms, null', () => {
    assert.deepEqual(cfg(setEntrypoint('["/bin/echo","edited"]').apply(base()).config).config.Entrypoint, ['/bin/echo', 'edited']);
    assert.deepEqual(cfg(setEntrypoint('["/bin/echo","edited"]').apply(base()).config).container_config.Entrypoint, ['/bin/echo', 'edited']);
    assert.deepEqual(cfg(setCmd('/start.sh --fast').apply(base()).config).config.Cmd, ['/start.sh --fast']);
    assert.deepEqual(cfg(setCmdShell('echo $HOME').apply(base()).config).config.Cmd, ['/bin/sh', '-c', 'echo $HOME']);
    assert.deepEqual(cfg(setEntrypointShell('exec app').apply(base()).config).config.Entrypoint, ['/bin/sh', '-c', 'exec app']);
    assert.equal(cfg(clearEntrypoint().apply(base()).config).config.Entrypoint, null);
    assert.equal(cfg(clearCmd().apply(base()).config).config.Cmd, null);
    assert.throws(() => setCmd('["a",1]'), UsageError);
    assert.throws(() => setCmd('[not json'), UsageError);
  });
  it('applyEdits applies in order and reports whether anything changed', () => {
    const r = applyEdits(base(), [removeVolume('all'), addVolume('/keep')]);
    assert.deepEqual(Object.keys(cfg(r.config).config.Volumes), ['/keep']);
    assert.equal(r.changed, true);
    const r2 = applyEdits(base(), [addVolume('/keep'), removeVolume('all')]);
    assert.equal(cfg(r2.config).config.Volumes, undefined);
    assert.equal(applyEdits(base(), [removeVolume('/nope')]).changed, false);
  });
  it('keeps fields it does not edit byte-exact, big numbers included', () => {
    const c = parseJson('{"config":{"Volumes":{"/a":{}},"X-Vendor":12345678901234567890},"weird":1e+23}') as JsonObject;
    assert.equal(stringifyJson(removeVolume('all').apply(c).config), '{"config":{"X-Vendor":12345678901234567890},"weird":1e+23}');
  });
});
