import { UsageError } from '../errors.js';
import { type JsonObject, jsonEqual } from '../json/lossless.js';
import { commandSpecs } from './command.js';
import { fieldSpecs } from './fields.js';
import { keyValueSpecs } from './keyvalue.js';
import { portSpecs } from './ports.js';
import type { ConfigEdit, EditSpec } from './types.js';
import { volumeSpecs } from './volumes.js';
import { historySpecs } from './history.js';

export type { ConfigEdit, EditResult, EditSpec } from './types.js';
export * from './command.js';
export * from './ports.js';
export * from './fields.js';
export * from './keyvalue.js';
export { servicePort } from './services.js';
export { addVolume, removeVolume } from './volumes.js';
export { type ArgSelector, clampTimes, removeHistoryArgs, squashHistory } from './history.js';

/** Every edit the CLI offers, in help order. Adding an edit means adding its spec here. */
export const EDIT_SPECS: readonly EditSpec[] = [...volumeSpecs, ...portSpecs, ...commandSpecs, ...keyValueSpecs, ...fieldSpecs, ...historySpecs];

const byFlag = new Map(EDIT_SPECS.map((s) => [s.flag, s]));

export function editSpec(flag: string): EditSpec {
  const s = byFlag.get(flag);
  if (!s) throw new UsageError(`unknown edit --${flag}`);
  return s;
}

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
