import { UsageError } from '../errors.js';
import { jsonObject } from '../json/lossless.js';
import { matcher } from './glob.js';
import { removeMapKeys, setMapKey } from './runtime.js';
import type { ConfigEdit, EditSpec } from './types.js';

function cleanPath(p: string): string {
  const s = p.replace(/\/+$/, '');
  return s === '' ? '/' : s;
}

export function removeVolume(spec: string): ConfigEdit {
  const match = matcher(spec, cleanPath);
  return {
    name: 'rm-volume',
    arg: spec,
    description: spec.toLowerCase() === 'all' ? 'remove all volumes' : `remove volume ${spec}`,
    apply(image) {
      const { config, hits } = removeMapKeys(image, 'Volumes', (k) => match(k) || match(cleanPath(k)));
      const warnings = hits === 0 && spec.toLowerCase() !== 'all' ? [`no volume matches ${spec}`] : [];
      return { config, warnings };
    },
  };
}

export function addVolume(path: string): ConfigEdit {
  if (!path.startsWith('/')) throw new UsageError(`--add-volume ${path}: a volume must be an absolute path inside the container, e.g. /data`);
  const p = cleanPath(path);
  return {
    name: 'add-volume',
    arg: path,
    description: `add volume ${p}`,
    apply(image) {
      return { config: setMapKey(image, 'Volumes', p, jsonObject()), warnings: [] };
    },
  };
}

export const volumeSpecs: EditSpec[] = [
  { flag: 'rm-volume', value: 'path|glob|all', help: 'remove a volume (VOLUME) by path, glob (* or %) or all', parse: (v) => removeVolume(required('rm-volume', v)) },
  { flag: 'add-volume', value: 'path', help: 'add a volume', parse: (v) => addVolume(required('add-volume', v)) },
];

export function required(flag: string, v: string | undefined): string {
  if (v === undefined || v === '') throw new UsageError(`--${flag} needs a value`);
  return v;
}

/** The spec of a switch (a flag without a value): `--flag` alone, or `--flag=true`. */
export function switchSpec(flag: string, help: string, make: () => ConfigEdit): EditSpec {
  return {
    flag,
    help,
    parse: (v) => {
      if (v !== undefined && v !== '' && v !== 'true') throw new UsageError(`--${flag} takes no value`);
      return make();
    },
  };
}
