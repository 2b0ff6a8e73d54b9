import { type Json, field } from '../json/lossless.js';
import { mapRuntime, removeMapKeys, setMapKey, withField } from './runtime.js';
import { type Selector, selectorLabel, selects } from './selector.js';
import type { ConfigEdit } from './types.js';

/** ENV: set K=V, replacing an existing K in place (Docker keeps the order of Env). */
export function setEnv(key: string, value: string): ConfigEdit {
  if (!/^[^=\s]+$/.test(key)) throw new RangeError(`an environment variable name has no '=' or blanks: ${JSON.stringify(key)}`);
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

/** ENV: set every existing variable whose name `sel` selects to `value` (docker-copyedit SET ENVS). */
export function setEnvs(sel: Selector, value: string, shown?: string): ConfigEdit {
  const match = selects(sel);
  const pattern = selectorLabel(sel, shown);
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

/** Remove environment variables by name: `'all'`, exact names, or a pattern. */
export function removeEnv(sel: Selector, shown?: string): ConfigEdit {
  const match = selects(sel);
  const spec = selectorLabel(sel, shown);
  return {
    name: 'rm-env',
    arg: spec,
    description: sel === 'all' ? 'remove all env' : `remove env ${spec}`,
    apply(image) {
      let hits = 0;
      const config = mapRuntime(image, (rc) => {
        const env = field(rc, 'Env');
        if (!Array.isArray(env)) return rc;
        const kept = env.filter((e) => !(typeof e === 'string' && match(e.split('=')[0]!) && ++hits));
        return withField(rc, 'Env', kept);
      });
      return { config: hits ? config : image, warnings: hits || sel === 'all' ? [] : [`no environment variable matches ${spec}`] };
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

/** Remove labels by key: `'all'`, exact keys, or a pattern. */
export function removeLabels(sel: Selector, shown?: string): ConfigEdit {
  const match = selects(sel);
  const spec = selectorLabel(sel, shown);
  return {
    name: 'rm-label',
    arg: spec,
    description: sel === 'all' ? 'remove all labels' : `remove label ${spec}`,
    apply(image) {
      const { config, hits } = removeMapKeys(image, 'Labels', match);
      return { config, warnings: hits || sel === 'all' ? [] : [`no label matches ${spec}`] };
    },
  };
}
