import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJson, removeHealthcheck, removeOnbuild, servicePort, setImageString, setRuntimeString, stringifyJson, UsageError, type JsonObject } from '../../../src/index.js';
import { parseCreated, parseEdit, selectorOf, EDIT_SPECS } from '../../../src/cli/edit-specs.js';
import { setEnvs as setEnvsTyped } from '../../../src/edit/index.js';
// the command line's spellings, parsed as the CLI parses them (src/cli/edit-specs.ts)
const addPort = (v: string) => parseEdit('add-port', v);
const setEnv = (k: string, v: string) => parseEdit('env', `${k}=${v}`);
const setEnvs = (p: string, v: string) => setEnvsTyped(selectorOf(p), v, p);
const removeEnv = (v: string) => parseEdit('rm-env', v);
const setLabel = (k: string, v: string) => parseEdit('label', `${k}=${v}`);
const removeLabel = (v: string) => parseEdit('rm-label', v);
const setCreated = (v: string, now?: () => Date) => parseCreated(v, now);
const setShell = (v: string) => parseEdit('shell', v);

const base = () =>
  parseJson(
    JSON.stringify({
      architecture: 'amd64',
      author: 'someone',
      config: {
        Env: ['PATH=/bin', 'APP_MODE=prod', 'APP_DEBUG=1', 'X=a=b'],
        Labels: { 'org.example.vendor': 'Ünïcode', 'org.example.version': '1', keep: 'y' },
        User: '1000',
        WorkingDir: '/srv',
        Healthcheck: { Test: ['CMD', 'true'] },
        OnBuild: ['RUN echo child'],
      },
      container_config: { Env: ['PATH=/bin'], Labels: { keep: 'y' } },
      created: '2026-01-01T00:00:00Z',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [] },
    }),
  ) as JsonObject;
const cfg = (c: JsonObject) => JSON.parse(stringifyJson(c));

describe('env and label edits', () => {
  it('--env replaces in place and appends new variables, in both configs', () => {
    const c = cfg(setEnv('APP_MODE', 'dev').apply(setEnv('NEW', 'v=1').apply(base()).config).config);
    assert.deepEqual(c.config.Env, ['PATH=/bin', 'APP_MODE=dev', 'APP_DEBUG=1', 'X=a=b', 'NEW=v=1']);
    assert.deepEqual(c.container_config.Env, ['PATH=/bin', 'NEW=v=1', 'APP_MODE=dev']);
    assert.throws(() => setEnv('A B', 'x'), UsageError);
  });
  it('SET ENVS pattern sets only existing matches', () => {
    const r = setEnvs('APP_*', 'x').apply(base());
    assert.deepEqual(cfg(r.config).config.Env, ['PATH=/bin', 'APP_MODE=x', 'APP_DEBUG=x', 'X=a=b']);
    assert.deepEqual(setEnvs('NOPE*', 'x').apply(base()).warnings, ['no environment variable matches NOPE*']);
  });
  it('--rm-env by name, glob (* and %), all', () => {
    assert.deepEqual(cfg(removeEnv('APP_MODE').apply(base()).config).config.Env, ['PATH=/bin', 'APP_DEBUG=1', 'X=a=b']);
    assert.deepEqual(cfg(removeEnv('APP_%').apply(base()).config).config.Env, ['PATH=/bin', 'X=a=b']);
    assert.deepEqual(cfg(removeEnv('all').apply(base()).config).config.Env, []);
    assert.deepEqual(removeEnv('NOPE').apply(base()).warnings, ['no environment variable matches NOPE']);
  });
  it('--label sets (unicode kept), --rm-label by key, glob, all', () => {
    assert.equal(cfg(setLabel('a.b', 'ä').apply(base()).config).config.Labels['a.b'], 'ä');
    assert.deepEqual(Object.keys(cfg(removeLabel('org.example.*').apply(base()).config).config.Labels), ['keep']);
    assert.equal(cfg(removeLabel('all').apply(base()).config).config.Labels, undefined);
    assert.deepEqual(removeLabel('zzz').apply(base()).warnings, ['no label matches zzz']);
  });
});

describe('field edits', () => {
  it('runtime strings: user, workdir, stop-signal, hostname, domainname', () => {
    assert.equal(cfg(setRuntimeString('user', 'app:app').apply(base()).config).config.User, 'app:app');
    assert.equal(cfg(setRuntimeString('user', null).apply(base()).config).config.User, '');
    assert.equal(cfg(setRuntimeString('workdir', '/app').apply(base()).config).container_config.WorkingDir, '/app');
    assert.equal(cfg(setRuntimeString('stop-signal', 'SIGQUIT').apply(base()).config).config.StopSignal, 'SIGQUIT');
    assert.equal(cfg(setRuntimeString('hostname', 'h').apply(base()).config).config.Hostname, 'h');
    assert.equal(cfg(setRuntimeString('domainname', 'd').apply(base()).config).config.Domainname, 'd');
  });
  it('image strings: author, arch, os, variant; empty clears', () => {
    const c = cfg(setImageString('variant', 'v8').apply(setImageString('arch', 'arm64').apply(base()).config).config);
    assert.equal(c.architecture, 'arm64');
    assert.equal(c.variant, 'v8');
    assert.equal(cfg(setImageString('author', '').apply(base()).config).author, undefined);
    assert.equal(cfg(setImageString('os', 'windows').apply(base()).config).os, 'windows');
  });
  it('--created takes RFC 3339 or now, refuses anything else', () => {
    assert.equal(cfg(setCreated('2024-01-02T03:04:05Z').apply(base()).config).created, '2024-01-02T03:04:05Z');
    assert.equal(cfg(setCreated('now', () => new Date('2030-01-01T00:00:00Z')).apply(base()).config).created, '2030-01-01T00:00:00.000Z');
    assert.throws(() => setCreated('yesterday'), UsageError);
    assert.throws(() => setCreated('2024-13-45T00:00:00Z'), UsageError);
  });
  it('healthcheck, onbuild, shell', () => {
    assert.equal(cfg(removeHealthcheck().apply(base()).config).config.Healthcheck, undefined);
    assert.deepEqual(removeHealthcheck().apply(removeHealthcheck().apply(base()).config).warnings, ['the image has no healthcheck']);
    assert.equal(cfg(removeOnbuild().apply(base()).config).config.OnBuild, null);
    assert.deepEqual(cfg(setShell('["/bin/bash","-c"]').apply(base()).config).config.Shell, ['/bin/bash', '-c']);
    assert.throws(() => setShell('/bin/bash'), UsageError);
  });
  it('port names resolve like docker-copyedit (ldap -> 389/tcp)', () => {
    assert.equal(servicePort('ldap'), 389);
    assert.equal(servicePort('ldaps'), 636);
    const c = cfg(addPort('ldap').apply(base()).config);
    assert.deepEqual(Object.keys(c.config.ExposedPorts), ['389/tcp']);
    assert.throws(() => addPort('no-such-service-xyz'), /unknown service name/);
  });
  it('every edit flag is registered once', () => {
    const flags = EDIT_SPECS.map((s) => s.flag);
    assert.equal(new Set(flags).size, flags.length);
    for (const f of [
      'env',
      'rm-env',
      'label',
      'rm-label',
      'user',
      'workdir',
      'stop-signal',
      'rm-healthcheck',
      'rm-onbuild',
      'shell',
      'hostname',
      'domainname',
      'author',
      'arch',
      'os',
      'variant',
      'created',
    ]) {
      assert.ok(flags.includes(f), f);
    }
  });
});
