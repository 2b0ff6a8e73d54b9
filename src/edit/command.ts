import { mapRuntime, withField } from './runtime.js';
import type { ConfigEdit } from './types.js';

type Field = 'Entrypoint' | 'Cmd';
const FLAG: Record<Field, string> = { Entrypoint: 'entrypoint', Cmd: 'cmd' };

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

/** ENTRYPOINT in exec form (`['/app', '--serve']`), or null to clear it. */
export const setEntrypoint = (cmd: readonly string[] | null) => setCommandValue('Entrypoint', cmd === null ? null : [...cmd], cmd === null ? 'no-entrypoint' : 'entrypoint');
/** CMD in exec form, or null to clear it. */
export const setCmd = (cmd: readonly string[] | null) => setCommandValue('Cmd', cmd === null ? null : [...cmd], cmd === null ? 'no-cmd' : 'cmd');
/** ENTRYPOINT as `["/bin/sh","-c",script]`. */
export const setEntrypointShell = (script: string) => setCommandValue('Entrypoint', ['/bin/sh', '-c', script], 'entrypoint-shell', script);
/** CMD as `["/bin/sh","-c",script]`. */
export const setCmdShell = (script: string) => setCommandValue('Cmd', ['/bin/sh', '-c', script], 'cmd-shell', script);
export const clearEntrypoint = () => setEntrypoint(null);
export const clearCmd = () => setCmd(null);
