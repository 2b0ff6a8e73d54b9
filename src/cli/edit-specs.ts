/**
 * How each edit is spelled on the command line and in the sentence form, and how its string value
 * becomes the library's typed call: globs, `all`, port service names, docker-copyedit's "a string
 * that is not a JSON array is ["string"]" rule. Everything here throws UsageError; the library
 * (src/edit) takes typed values and never does.
 */
import {
  type ConfigEdit,
  type Protocol,
  type Selector,
  addPort,
  addVolume,
  isRfc3339,
  removeEnv,
  removeHealthcheck,
  removeHistoryArgs,
  removeLabels,
  removeOnbuild,
  removePorts,
  removeVolumes,
  setCmd,
  setCmdShell,
  setCreated,
  setEntrypoint,
  setEntrypointShell,
  setEnv,
  setImageString,
  setLabel,
  setRuntimeString,
  setShell,
  squashHistory,
} from '../edit/index.js';
import { globToRegExp, isPattern } from '../edit/glob.js';
import { servicePort } from '../edit/services.js';
import { UsageError } from '../errors.js';
import { type Json, parseJson } from '../json/lossless.js';

/** How an edit is spelled on the command line, and how to build it from there. */
export interface EditSpec {
  /** Flag name without dashes. */
  readonly flag: string;
  /** Help text. */
  readonly help: string;
  /** Placeholder for the value in help, or undefined for a switch that takes no value. */
  readonly value?: string;
  /** Build the edit; throws UsageError on a malformed value. */
  parse(value: string | undefined): ConfigEdit;
}

export function required(flag: string, v: string | undefined): string {
  if (v === undefined || v === '') throw new UsageError(`--${flag} needs a value`);
  return v;
}

/** The spec of a switch (a flag without a value): `--flag` alone, or `--flag=true`. */
function switchSpec(flag: string, help: string, make: () => ConfigEdit): EditSpec {
  return {
    flag,
    help,
    parse: (v) => {
      if (v !== undefined && v !== '' && v !== 'true') throw new UsageError(`--${flag} takes no value`);
      return make();
    },
  };
}

/** `all`, a glob (`*`, `%`, `?`), or one exact key (after `exact`, e.g. port normalisation). */
export function selectorOf(spec: string, exact: (s: string) => string = (s) => s): Selector {
  if (spec.toLowerCase() === 'all') return 'all';
  return isPattern(spec) ? globToRegExp(spec) : [exact(spec)];
}

/**
 * The value of --entrypoint/--cmd: a JSON array of strings is the exec form as written; any other
 * string is a one-element exec form, as in docker-copyedit.
 */
export function parseCommand(value: string, flag: string): string[] {
  const t = value.trim();
  if (!t.startsWith('[')) return [value];
  let v: Json;
  try {
    v = parseJson(t);
  } catch (e) {
    throw new UsageError(`--${flag} ${value}: looks like a JSON array but is not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw new UsageError(`--${flag} ${value}: the exec form is a JSON array of strings, e.g. '["/app","--serve"]'`);
  }
  return v as string[];
}

const PROTOCOLS = ['tcp', 'udp', 'sctp'];

/** `80` -> `80/tcp`; `53/udp` stays; `ldap` -> `389/tcp`; validates the number and protocol. */
export function normalizePort(spec: string, flag: string): string {
  const m = /^([0-9]{1,5}|[a-zA-Z][a-zA-Z0-9._-]*)(?:\/([a-zA-Z]+))?$/.exec(spec.trim());
  if (!m) throw new UsageError(`--${flag} ${spec}: expected a port like 8080, 53/udp or a service name like ldap`);
  const proto = (m[2] ?? 'tcp').toLowerCase();
  let n = Number(m[1]);
  if (!/^[0-9]/.test(m[1]!)) {
    const p = servicePort(m[1]!, proto);
    if (p === undefined) throw new UsageError(`--${flag} ${spec}: unknown service name ${m[1]}; give the port number`);
    n = p;
  }
  if (n < 1 || n > 65535) throw new UsageError(`--${flag} ${spec}: a port number is between 1 and 65535`);
  if (!PROTOCOLS.includes(proto)) throw new UsageError(`--${flag} ${spec}: the protocol must be tcp, udp or sctp`);
  return `${n}/${proto}`;
}

/** Split `K=V`; V may be empty and may contain `=`. */
export function splitKeyValue(flag: string, s: string): [string, string] {
  const i = s.indexOf('=');
  if (i <= 0) throw new UsageError(`--${flag} ${s}: expected KEY=VALUE`);
  return [s.slice(0, i), s.slice(i + 1)];
}

export function parseAddVolume(path: string): ConfigEdit {
  if (!path.startsWith('/')) throw new UsageError(`--add-volume ${path}: a volume must be an absolute path inside the container, e.g. /data`);
  return addVolume(path);
}

export function parseAddPort(spec: string): ConfigEdit {
  const [n, proto] = normalizePort(spec, 'add-port').split('/');
  return addPort(Number(n), proto as Protocol);
}

export function parseSetEnv(key: string, value: string): ConfigEdit {
  if (!/^[^=\s]+$/.test(key)) throw new UsageError(`--env ${key}=...: an environment variable name has no '=' or blanks`);
  return setEnv(key, value);
}

/** `--created 2024-01-02T03:04:05Z` or `now` (then the value is fixed when the edit is parsed). */
export function parseCreated(value: string, now: () => Date = () => new Date()): ConfigEdit {
  const v = value.toLowerCase() === 'now' ? now().toISOString() : value;
  if (!isRfc3339(v)) throw new UsageError(`--created ${value}: expected an RFC 3339 time such as 2024-01-02T03:04:05Z, or "now"`);
  return setCreated(v);
}

/** `--shell '["/bin/bash","-c"]'`. */
export function parseShell(value: string): ConfigEdit {
  let v: Json | undefined;
  try {
    v = parseJson(value);
  } catch {
    v = undefined;
  }
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string')) {
    throw new UsageError(`--shell ${value}: expected a JSON array of strings, e.g. '["/bin/bash","-c"]'`);
  }
  return setShell(v as string[]);
}

/** `--rm-port`: like EXPOSE and docker-copyedit, a bare port means tcp; `53/*` removes every protocol. */
export function parseRemovePort(spec: string): ConfigEdit {
  return removePorts(
    selectorOf(spec, (s) => normalizePort(s, 'rm-port')),
    spec.toLowerCase() === 'all' ? undefined : spec,
  );
}

const shownUnlessAll = (spec: string): string | undefined => (spec.toLowerCase() === 'all' ? undefined : spec);

/** Every edit the CLI offers, in help order. Adding an edit means adding its spec here. */
export const EDIT_SPECS: readonly EditSpec[] = [
  { flag: 'rm-volume', value: 'path|glob|all', help: 'remove a volume (VOLUME) by path, glob (* or %) or all', parse: (v) => removeVolumes(selectorOf(required('rm-volume', v)), shownUnlessAll(v!)) },
  { flag: 'add-volume', value: 'path', help: 'add a volume', parse: (v) => parseAddVolume(required('add-volume', v)) },
  { flag: 'rm-port', value: 'port[/proto]|glob|all', help: 'remove an exposed port (EXPOSE): 80 (=80/tcp), 53/udp, ldap, 53/*, all', parse: (v) => parseRemovePort(required('rm-port', v)) },
  { flag: 'add-port', value: 'port[/proto]', help: 'expose a port (number or service name); the protocol defaults to tcp', parse: (v) => parseAddPort(required('add-port', v)) },
  {
    flag: 'entrypoint',
    value: 'json-array|string',
    help: 'set ENTRYPOINT: a JSON array is the exec form; any other string becomes ["string"]',
    parse: (v) => setEntrypoint(parseCommand(required('entrypoint', v), 'entrypoint')),
  },
  { flag: 'cmd', value: 'json-array|string', help: 'set CMD, same forms as --entrypoint', parse: (v) => setCmd(parseCommand(required('cmd', v), 'cmd')) },
  { flag: 'entrypoint-shell', value: 'string', help: 'set ENTRYPOINT to ["/bin/sh","-c",string]', parse: (v) => setEntrypointShell(required('entrypoint-shell', v)) },
  { flag: 'cmd-shell', value: 'string', help: 'set CMD to ["/bin/sh","-c",string]', parse: (v) => setCmdShell(required('cmd-shell', v)) },
  switchSpec('no-entrypoint', 'clear ENTRYPOINT (null)', () => setEntrypoint(null)),
  switchSpec('no-cmd', 'clear CMD (null)', () => setCmd(null)),
  { flag: 'env', value: 'KEY=VALUE', help: 'set an environment variable (replaces it in place if present)', parse: (v) => parseSetEnv(...splitKeyValue('env', required('env', v))) },
  { flag: 'rm-env', value: 'KEY|glob|all', help: 'remove environment variables by name', parse: (v) => removeEnv(selectorOf(required('rm-env', v)), shownUnlessAll(v!)) },
  { flag: 'label', value: 'KEY=VALUE', help: 'set a label', parse: (v) => setLabel(...splitKeyValue('label', required('label', v))) },
  { flag: 'rm-label', value: 'KEY|glob|all', help: 'remove labels by key', parse: (v) => removeLabels(selectorOf(required('rm-label', v)), shownUnlessAll(v!)) },
  { flag: 'user', value: 'user[:group]', help: 'set USER ("" clears it)', parse: (v) => setRuntimeString('user', v ?? '') },
  { flag: 'workdir', value: 'path', help: 'set WORKDIR', parse: (v) => setRuntimeString('workdir', v ?? '') },
  { flag: 'stop-signal', value: 'signal', help: 'set STOPSIGNAL, e.g. SIGTERM', parse: (v) => setRuntimeString('stop-signal', required('stop-signal', v)) },
  { flag: 'hostname', value: 'name', help: 'set the default hostname', parse: (v) => setRuntimeString('hostname', v ?? '') },
  { flag: 'domainname', value: 'name', help: 'set the default domain name', parse: (v) => setRuntimeString('domainname', v ?? '') },
  { flag: 'shell', value: 'json-array', help: 'set SHELL, e.g. \'["/bin/bash","-c"]\'', parse: (v) => parseShell(required('shell', v)) },
  switchSpec('rm-healthcheck', 'remove HEALTHCHECK', removeHealthcheck),
  switchSpec('rm-onbuild', 'remove ONBUILD triggers', removeOnbuild),
  { flag: 'author', value: 'text', help: 'set the author field', parse: (v) => setImageString('author', v ?? '') },
  { flag: 'arch', value: 'arch', help: 'set the architecture (amd64, arm64, ...)', parse: (v) => setImageString('arch', required('arch', v)) },
  { flag: 'os', value: 'os', help: 'set the operating system (linux, windows)', parse: (v) => setImageString('os', required('os', v)) },
  { flag: 'variant', value: 'variant', help: 'set the CPU variant (v7, v8; "" clears it)', parse: (v) => setImageString('variant', v ?? '') },
  { flag: 'created', value: 'RFC3339|now', help: 'set the creation time', parse: (v) => parseCreated(required('created', v)) },
  {
    flag: 'history-rm-arg',
    value: 'NAME|glob|all',
    help: 'remove a build argument (|N NAME=value ...) from the history and container_config, so its value is left nowhere outside the layers',
    parse: (v) => removeHistoryArgs(selectorOf(required('history-rm-arg', v)), v),
  },
  switchSpec('history-squash', 'replace the history with one entry per layer (the build steps go)', squashHistory),
];

const byFlag = new Map(EDIT_SPECS.map((s) => [s.flag, s]));

export function editSpec(flag: string): EditSpec {
  const s = byFlag.get(flag);
  if (!s) throw new UsageError(`unknown edit --${flag}`);
  return s;
}

/** One edit from its command-line spelling, e.g. `parseEdit('rm-volume', '/var/*')`. */
export function parseEdit(flag: string, value?: string): ConfigEdit {
  return editSpec(flag).parse(value);
}
