import { field, fieldKey } from '../json/lossless.js';
import { mapRuntime, withField, withoutField } from './runtime.js';
import type { ConfigEdit } from './types.js';

/** Runtime settings that are plain strings (Dockerfile USER, WORKDIR, STOPSIGNAL; docker run -h). */
const RUNTIME_STRINGS = {
  user: 'User',
  workdir: 'WorkingDir',
  'stop-signal': 'StopSignal',
  hostname: 'Hostname',
  domainname: 'Domainname',
} as const;

/** Top-level image fields (not inside `config`). */
const IMAGE_STRINGS = { author: 'author', arch: 'architecture', os: 'os', variant: 'variant' } as const;

export function setRuntimeString(flag: keyof typeof RUNTIME_STRINGS, value: string | null): ConfigEdit {
  const key = RUNTIME_STRINGS[flag];
  // docker-copyedit's NULL means "empty": Docker itself stores "" for an unset User or WorkingDir
  const v = value ?? '';
  return {
    name: flag,
    arg: v,
    description: v === '' ? `clear ${flag}` : `set ${flag} ${v}`,
    apply: (image) => ({ config: mapRuntime(image, (rc) => withField(rc, key, v), true), warnings: [] }),
  };
}

export function setImageString(flag: keyof typeof IMAGE_STRINGS, value: string | null): ConfigEdit {
  const key = IMAGE_STRINGS[flag];
  return {
    name: flag,
    arg: value ?? '',
    description: value === null || value === '' ? `clear ${flag}` : `set ${flag} ${value}`,
    apply(image) {
      if (value === null || value === '') return { config: withoutField(image, key), warnings: [] };
      return { config: withField(image, key, value), warnings: [] };
    },
  };
}

/**
 * An RFC 3339 time that Go's `time.Parse(time.RFC3339)` reads and `MarshalJSON` writes back, as
 * Docker and containerd do with `created`: years 0001-9999, each field in its range (no
 * 2024-02-30, no 24:00, no second 60: Date.parse rolls some of these over instead of refusing).
 */
export const isRfc3339 = (v: string): boolean => {
  const m = RFC3339.exec(v);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const days = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
  if (y < 1 || days === undefined || d < 1 || d > days || h > 23 || mi > 59 || s > 59) return false;
  const off = m[8] === 'Z' ? undefined : m[8]!.slice(1).split(':').map(Number);
  return off === undefined || (off[0]! <= 23 && off[1]! <= 59);
};
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** The creation time: a Date, or an RFC 3339 string such as 2024-01-02T03:04:05Z (a RangeError otherwise). */
export function setCreated(time: Date | string): ConfigEdit {
  const v = typeof time === 'string' ? time : time.toISOString();
  if (!isRfc3339(v)) throw new RangeError(`expected an RFC 3339 time such as 2024-01-02T03:04:05Z, not ${JSON.stringify(v)}`);
  return { name: 'created', arg: v, description: `set created ${v}`, apply: (image) => ({ config: withField(image, 'created', v), warnings: [] }) };
}

export function removeHealthcheck(): ConfigEdit {
  return {
    name: 'rm-healthcheck',
    description: 'remove healthcheck',
    apply(image) {
      let hits = 0;
      const config = mapRuntime(image, (rc) => {
        if (fieldKey(rc, 'Healthcheck') === undefined) return rc;
        hits++;
        return withoutField(rc, 'Healthcheck');
      });
      return { config: hits ? config : image, warnings: hits ? [] : ['the image has no healthcheck'] };
    },
  };
}

export function removeOnbuild(): ConfigEdit {
  return {
    name: 'rm-onbuild',
    description: 'remove onbuild triggers',
    apply(image) {
      let hits = 0;
      const config = mapRuntime(image, (rc) => {
        const ob = field(rc, 'OnBuild');
        if (!Array.isArray(ob) || ob.length === 0) return rc;
        hits++;
        return withField(rc, 'OnBuild', null);
      });
      return { config: hits ? config : image, warnings: hits ? [] : ['the image has no ONBUILD triggers'] };
    },
  };
}

/** SHELL (`['/bin/bash', '-c']`): used by RUN/CMD/ENTRYPOINT shell forms in child builds. */
export function setShell(shell: readonly string[]): ConfigEdit {
  if (shell.length === 0) throw new RangeError('SHELL needs at least one element, e.g. ["/bin/bash","-c"]');
  const v = [...shell];
  return {
    name: 'shell',
    arg: JSON.stringify(v),
    description: `set shell ${JSON.stringify(v)}`,
    apply: (image) => ({ config: mapRuntime(image, (rc) => withField(rc, 'Shell', v), true), warnings: [] }),
  };
}

export const setUser = (user: string) => setRuntimeString('user', user);
export const setWorkdir = (dir: string) => setRuntimeString('workdir', dir);
export const setStopSignal = (signal: string) => setRuntimeString('stop-signal', signal);
export const setHostname = (name: string) => setRuntimeString('hostname', name);
export const setDomainname = (name: string) => setRuntimeString('domainname', name);
export const setAuthor = (author: string | null) => setImageString('author', author);
export const setArchitecture = (arch: string) => setImageString('arch', arch);
export const setOs = (os: string) => setImageString('os', os);
export const setVariant = (variant: string | null) => setImageString('variant', variant);
