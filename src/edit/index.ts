import { type JsonObject, jsonEqual } from '../json/lossless.js';
import type { ConfigEdit } from './types.js';

export type { ConfigEdit, EditResult } from './types.js';
export type { Selector } from './selector.js';
export { clearCmd, clearEntrypoint, setCmd, setCmdShell, setEntrypoint, setEntrypointShell } from './command.js';
export { type Protocol, addPort, removePorts } from './ports.js';
export {
  isRfc3339,
  removeHealthcheck,
  removeOnbuild,
  setArchitecture,
  setAuthor,
  setCreated,
  setDomainname,
  setHostname,
  setImageString,
  setOs,
  setRuntimeString,
  setShell,
  setStopSignal,
  setUser,
  setVariant,
  setWorkdir,
} from './fields.js';
export { removeEnv, removeLabels, setEnv, setEnvs, setLabel } from './keyvalue.js';
export { servicePort } from './services.js';
export { addVolume, removeVolumes } from './volumes.js';
export { MAX_EPOCH, clampTimes, epochTime, removeHistoryArgs, squashHistory } from './history.js';

/** Apply edits in order. `changed` is false when the result equals the input. */
export function applyEdits(config: JsonObject, edits: readonly ConfigEdit[]): { config: JsonObject; changed: boolean; warnings: string[] } {
  let cur = config;
  const warnings: string[] = [];
  for (const e of edits) {
    const r = e.apply(cur);
    cur = r.config;
    warnings.push(...r.warnings);
  }
  return { config: cur, changed: !jsonEqual(cur, config), warnings };
}
