import { UsageError } from '../errors.js';
import { isJsonObject, jsonObject } from '../json/lossless.js';
import { matcher } from './glob.js';
import { mapRuntime, withKey, withoutKey } from './runtime.js';
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
      let hits = 0;
      const config = mapRuntime(image, (rc) => {
        const vols = rc.Volumes;
        if (!isJsonObject(vols)) return rc;
        const kept = jsonObject();
        for (const k of Object.keys(vols)) {
          if (match(k) || match(cleanPath(k))) hits++;
          else kept[k] = vols[k]!;
        }
        // an empty set is left out, as the OCI spec's omitempty and `docker commit` do
        return Object.keys(kept).length ? withKey(rc, 'Volumes', kept) : withoutKey(rc, 'Volumes');
      });
      const warnings = hits === 0 && spec.toLowerCase() !== 'all' ? [`no volume matches ${spec}`] : [];
      return { config: hits ? config : image, warnings };
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
      const config = mapRuntime(
        image,
        (rc) => {
          const vols = isJsonObject(rc.Volumes) ? rc.Volumes : jsonObject();
          if (p in vols) return rc;
          return withKey(rc, 'Volumes', withKey(vols, p, jsonObject()));
        },
        true,
      );
      return { config, warnings: [] };
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
