import { UsageError } from '../errors.js';
import { type Json, field } from '../json/lossless.js';
import { matcher } from './glob.js';
import { mapRuntime, removeMapKeys, setMapKey, withField } from './runtime.js';
import type { ConfigEdit, EditSpec } from './types.js';
import { required } from './volumes.js';

/** Split `K=V`; V may be empty and may contain `=`. */
export function splitKeyValue(flag: string, s: string): [string, string] {
  const i = s.indexOf('=');
  if (i <= 0) throw new UsageError(`--${flag} ${s}: expected KEY=VALUE`);
  return [s.slice(0, i), s.slice(i + 1)];
}

/** ENV: set K=V, replacing an existing K in place (Docker keeps the order of Env). */
export function setEnv(key: string, value: string): ConfigEdit {
  if (!/^[^=\s]+$/.test(key)) throw new UsageError(`--env ${key}=...: an environment variable name has no '=' or blanks`);
  const entry = `${key}=${value}`;
  return {
    name: 'env',
    arg: entry,
    description: `set env ${entry}`,
    apply(image) {
      const config = mapRuntime(
        image,
        (rc) => {
          const old = field(rc, 'Env');
          const env = Array.isArray(old) ? old : [];
          const i = env.findIndex((e) => typeof e === 'string' && e.startsWith(`${key}=`));
          const next: Json[] = [...env];
          if (i >= 0) next[i] = entry;
          else next.push(entry);
          return withField(rc, 'Env', next);
        },
        true,
      );
      return { config, warnings: [] };
    },
  };
}

/** ENV: set every existing variable whose name matches `pattern` to `value` (docker-copyedit SET ENVS). */
export function setEnvs(pattern: string, value: string): ConfigEdit {
  const match = matcher(pattern);
  return {
    name: 'env',
    arg: `${pattern}=${value}`,
    description: `set env ${pattern}=${value}`,
    apply(image) {
      let hits = 0;
      const config = mapRuntime(image, (rc) => {
        const env = field(rc, 'Env');
        if (!Array.isArray(env)) return rc;
        return withField(
          rc,
          'Env',
          env.map((e) => {
            if (typeof e !== 'string') return e;
            const k = e.split('=')[0]!;
            if (!match(k)) return e;
            hits++;
            return `${k}=${value}`;
          }),
        );
      });
      return { config: hits ? config : image, warnings: hits ? [] : [`no environment variable matches ${pattern}`] };
    },
  };
}

export function removeEnv(spec: string): ConfigEdit {
  const match = matcher(spec);
  return {
    name: 'rm-env',
    arg: spec,
    description: spec.toLowerCase() === 'all' ? 'remove all env' : `remove env ${spec}`,
    apply(image) {
      let hits = 0;
      const config = mapRuntime(image, (rc) => {
        const env = field(rc, 'Env');
        if (!Array.isArray(env)) return rc;
        const kept = env.filter((e) => !(typeof e === 'string' && match(e.split('=')[0]!) && ++hits));
        return withField(rc, 'Env', kept);
      });
      return { config: hits ? config : image, warnings: hits || spec.toLowerCase() === 'all' ? [] : [`no environment variable matches ${spec}`] };
    },
  };
}

export function setLabel(key: string, value: string): ConfigEdit {
  return {
    name: 'label',
    arg: `${key}=${value}`,
    description: `set label ${key}=${value}`,
    apply(image) {
      const config = setMapKey(image, 'Labels', key, value);
      return { config, warnings: [] };
    },
  };
}

export function removeLabel(spec: string): ConfigEdit {
  const match = matcher(spec);
  return {
    name: 'rm-label',
    arg: spec,
    description: spec.toLowerCase() === 'all' ? 'remove all labels' : `remove label ${spec}`,
    apply(image) {
      const { config, hits } = removeMapKeys(image, 'Labels', match);
      return { config, warnings: hits || spec.toLowerCase() === 'all' ? [] : [`no label matches ${spec}`] };
    },
  };
}

export const keyValueSpecs: EditSpec[] = [
  { flag: 'env', value: 'KEY=VALUE', help: 'set an environment variable (replaces it in place if present)', parse: (v) => setEnv(...splitKeyValue('env', required('env', v))) },
  { flag: 'rm-env', value: 'KEY|glob|all', help: 'remove environment variables by name', parse: (v) => removeEnv(required('rm-env', v)) },
  { flag: 'label', value: 'KEY=VALUE', help: 'set a label', parse: (v) => setLabel(...splitKeyValue('label', required('label', v))) },
  { flag: 'rm-label', value: 'KEY|glob|all', help: 'remove labels by key', parse: (v) => removeLabel(required('rm-label', v)) },
];
