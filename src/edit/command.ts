import { UsageError } from '../errors.js';
import { type Json, parseJson } from '../json/lossless.js';
import { mapRuntime, withField } from './runtime.js';
import type { ConfigEdit, EditSpec } from './types.js';
import { required, switchSpec } from './volumes.js';

type Field = 'Entrypoint' | 'Cmd';
const FLAG: Record<Field, string> = { Entrypoint: 'entrypoint', Cmd: 'cmd' };

/**
 * The value of --entrypoint/--cmd: a JSON array of strings is the exec form as written; `null`
 * (JSON) clears it; any other string is a one-element exec form, as in docker-copyedit.
 */
export function parseCommand(value: string, flag: string): string[] | null {
  const t = value.trim();
  if (t.startsWith('[')) {
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
  return [value];
}

/** Set Entrypoint or Cmd to an exact value (null clears it). */
export function setCommandValue(field: Field, value: string[] | null, how: string, arg?: string): ConfigEdit {
  const flag = FLAG[field];
  return {
    name: how,
    ...(arg !== undefined ? { arg } : {}),
    description: value === null ? `clear ${flag}` : `set ${flag} ${JSON.stringify(value)}`,
    apply(image) {
      return { config: mapRuntime(image, (rc) => withField(rc, field, value), true), warnings: [] };
    },
  };
}

export const setEntrypoint = (v: string) => setCommandValue('Entrypoint', parseCommand(v, 'entrypoint'), 'entrypoint', v);
export const setCmd = (v: string) => setCommandValue('Cmd', parseCommand(v, 'cmd'), 'cmd', v);
export const setEntrypointShell = (v: string) => setCommandValue('Entrypoint', ['/bin/sh', '-c', v], 'entrypoint-shell', v);
export const setCmdShell = (v: string) => setCommandValue('Cmd', ['/bin/sh', '-c', v], 'cmd-shell', v);
export const clearEntrypoint = () => setCommandValue('Entrypoint', null, 'no-entrypoint');
export const clearCmd = () => setCommandValue('Cmd', null, 'no-cmd');

export const commandSpecs: EditSpec[] = [
  {
    flag: 'entrypoint',
    value: 'json-array|string',
    help: 'set ENTRYPOINT: a JSON array is the exec form; any other string becomes ["string"]',
    parse: (v) => setEntrypoint(required('entrypoint', v)),
  },
  { flag: 'cmd', value: 'json-array|string', help: 'set CMD, same forms as --entrypoint', parse: (v) => setCmd(required('cmd', v)) },
  { flag: 'entrypoint-shell', value: 'string', help: 'set ENTRYPOINT to ["/bin/sh","-c",string]', parse: (v) => setEntrypointShell(required('entrypoint-shell', v)) },
  { flag: 'cmd-shell', value: 'string', help: 'set CMD to ["/bin/sh","-c",string]', parse: (v) => setCmdShell(required('cmd-shell', v)) },
  switchSpec('no-entrypoint', 'clear ENTRYPOINT (null)', clearEntrypoint),
  switchSpec('no-cmd', 'clear CMD (null)', clearCmd),
];
