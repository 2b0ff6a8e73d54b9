import { UsageError } from '../errors.js';
import { type Json, field, fieldKey, parseJson } from '../json/lossless.js';
import { mapRuntime, withField, withoutField } from './runtime.js';
import type { ConfigEdit, EditSpec } from './types.js';
import { required, switchSpec } from './volumes.js';

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

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** `--created 2024-01-02T03:04:05Z` or `now` (then the value is fixed when the edit is parsed). */
export function setCreated(value: string, now: () => Date = () => new Date()): ConfigEdit {
  const v = value.toLowerCase() === 'now' ? now().toISOString() : value;
  if (!RFC3339.test(v) || Number.isNaN(Date.parse(v))) {
    throw new UsageError(`--created ${value}: expected an RFC 3339 time such as 2024-01-02T03:04:05Z, or "now"`);
  }
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

/** `--shell '["/bin/bash","-c"]'`: the SHELL used by RUN/CMD/ENTRYPOINT shell forms in child builds. */
export function setShell(value: string): ConfigEdit {
  let v: Json;
  try {
    v = parseJson(value);
  } catch {
    v = undefined as unknown as Json;
  }
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string')) {
    throw new UsageError(`--shell ${value}: expected a JSON array of strings, e.g. '["/bin/bash","-c"]'`);
  }
  return { name: 'shell', arg: value, description: `set shell ${JSON.stringify(v)}`, apply: (image) => ({ config: mapRuntime(image, (rc) => withField(rc, 'Shell', v), true), warnings: [] }) };
}

export const fieldSpecs: EditSpec[] = [
  { flag: 'user', value: 'user[:group]', help: 'set USER ("" clears it)', parse: (v) => setRuntimeString('user', v ?? '') },
  { flag: 'workdir', value: 'path', help: 'set WORKDIR', parse: (v) => setRuntimeString('workdir', v ?? '') },
  { flag: 'stop-signal', value: 'signal', help: 'set STOPSIGNAL, e.g. SIGTERM', parse: (v) => setRuntimeString('stop-signal', required('stop-signal', v)) },
  { flag: 'hostname', value: 'name', help: 'set the default hostname', parse: (v) => setRuntimeString('hostname', v ?? '') },
  { flag: 'domainname', value: 'name', help: 'set the default domain name', parse: (v) => setRuntimeString('domainname', v ?? '') },
  { flag: 'shell', value: 'json-array', help: 'set SHELL, e.g. \'["/bin/bash","-c"]\'', parse: (v) => setShell(required('shell', v)) },
  switchSpec('rm-healthcheck', 'remove HEALTHCHECK', removeHealthcheck),
  switchSpec('rm-onbuild', 'remove ONBUILD triggers', removeOnbuild),
  { flag: 'author', value: 'text', help: 'set the author field', parse: (v) => setImageString('author', v ?? '') },
  { flag: 'arch', value: 'arch', help: 'set the architecture (amd64, arm64, ...)', parse: (v) => setImageString('arch', required('arch', v)) },
  { flag: 'os', value: 'os', help: 'set the operating system (linux, windows)', parse: (v) => setImageString('os', required('os', v)) },
  { flag: 'variant', value: 'variant', help: 'set the CPU variant (v7, v8; "" clears it)', parse: (v) => setImageString('variant', v ?? '') },
  { flag: 'created', value: 'RFC3339|now', help: 'set the creation time', parse: (v) => setCreated(required('created', v)) },
];
