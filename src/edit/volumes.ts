import { jsonObject } from '../json/lossless.js';
import { removeMapKeys, setMapKey } from './runtime.js';
import { type Selector, selectorLabel, selects } from './selector.js';
import type { ConfigEdit } from './types.js';

function cleanPath(p: string): string {
  const s = p.replace(/\/+$/, '');
  return s === '' ? '/' : s;
}

/** Remove volumes (VOLUME): `'all'`, exact paths, or a pattern. `shown` is how the report spells it. */
export function removeVolumes(sel: Selector, shown?: string): ConfigEdit {
  const match = selects(sel, cleanPath);
  const label = selectorLabel(sel, shown);
  return {
    name: 'rm-volume',
    arg: label,
    description: sel === 'all' ? 'remove all volumes' : `remove volume ${label}`,
    apply(image) {
      const { config, hits } = removeMapKeys(image, 'Volumes', match);
      const warnings = hits === 0 && sel !== 'all' ? [`no volume matches ${label}`] : [];
      return { config, warnings };
    },
  };
}

/** Add a volume; `path` is absolute (a RangeError otherwise). */
export function addVolume(path: string): ConfigEdit {
  if (!path.startsWith('/')) throw new RangeError(`a volume must be an absolute path inside the container, e.g. /data, not ${JSON.stringify(path)}`);
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
