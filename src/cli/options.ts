import type { Argv, Options, PositionalOptions } from 'yargs';
import { UsageError } from '../errors.js';

/**
 * The CLI's options, one typed table per command: yargs is built from it, the parsed values are
 * read from it with their types (no casts in the commands), the typo suggestions and the shell
 * completion list its names, and batch mode rebuilds a child's argv from it. A new option is one
 * entry here (with `child: true` when a batch child must receive it).
 */
export interface OptionSpec {
  readonly type: 'string' | 'boolean' | 'number';
  /** Repeatable (`--image a --image b`): the value is a string[]. */
  readonly array?: boolean;
  readonly alias?: string | readonly string[];
  /** For booleans; `true` makes the switch `--no-<name>` to the user. */
  readonly default?: boolean;
  readonly describe: string;
  /** A positional argument (`edit <inputs..>`), not a flag. */
  readonly positional?: boolean;
  readonly choices?: readonly string[];
  /** A batch child gets this option as the parent got it. */
  readonly child?: boolean;
  /** Shown under this heading in --help. */
  readonly group?: string;
  /** The value's form in --help (`KEY=VALUE`, `DIR`), before the description. */
  readonly value?: string;
}

/** The --help text of one entry: its value's form, the description, and whether it repeats. */
export function helpText(s: OptionSpec): string {
  const repeat = s.array && !/repeatable/.test(s.describe) ? '; repeatable' : '';
  return `${s.value ? `${s.value}: ` : ''}${s.describe}${repeat}`;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** The value type of one entry. */
export type ValueOf<S extends OptionSpec> = S['array'] extends true ? string[] : S['type'] extends 'boolean' ? boolean : S['type'] extends 'number' ? number | undefined : string | undefined;

/** What a command's `run` receives: each option under its own name, typed. */
export type Values<T extends OptionTable> = { readonly [K in keyof T]: ValueOf<T[K]> };

/** Options every command takes. */
export const GLOBAL_OPTIONS = {
  debug: { type: 'boolean', default: false, describe: 'print stack traces for errors' },
  quiet: { type: 'boolean', alias: 'q', default: false, describe: 'print nothing but errors' },
  json: { type: 'boolean', default: false, describe: 'print a machine-readable report' },
} as const satisfies OptionTable;

export type GlobalValues = Values<typeof GLOBAL_OPTIONS>;

/** Declare the table's options (and positionals) on a yargs instance. */
export function declare(y: Argv, table: OptionTable): Argv {
  for (const [name, s] of Object.entries(table)) {
    if (s.positional) {
      const p: PositionalOptions = { type: s.type, describe: helpText(s), ...(s.array ? { array: true } : {}), ...(s.choices ? { choices: [...s.choices] } : {}) };
      y.positional(name, p);
      continue;
    }
    const o: Options = {
      type: s.type,
      describe: helpText(s),
      ...(s.alias !== undefined ? { alias: typeof s.alias === 'string' ? s.alias : [...s.alias] } : {}),
      ...(s.array ? { array: true, default: [] } : s.default !== undefined ? { default: s.default } : {}),
      ...(s.choices ? { choices: [...s.choices] } : {}),
      ...(s.type !== 'boolean' && !s.array ? { requiresArg: true } : {}),
    };
    y.option(name, o);
  }
  const groups = new Map<string, string[]>();
  for (const [name, s] of Object.entries(table)) if (s.group) groups.set(s.group, [...(groups.get(s.group) ?? []), name]);
  for (const [g, names] of groups) y.group(names, g);
  return y;
}

/** Read the parsed yargs arguments through the table: every value checked against its declared type. */
export function readValues<T extends OptionTable>(table: T, parsed: Readonly<Record<string, unknown>>): Values<T> {
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(table)) {
    const v = parsed[name];
    if (s.array) out[name] = v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String);
    else if (s.type === 'boolean') out[name] = v === undefined ? (s.default ?? false) : v === true;
    else if (s.type === 'number') {
      if (v === undefined) out[name] = undefined;
      else if (typeof v !== 'number' || Number.isNaN(v)) throw new UsageError(`--${name} takes a number, e.g. --${name} 4`);
      else out[name] = v;
    } else out[name] = v === undefined ? undefined : String(v);
  }
  return out as Values<T>;
}

/** The flags a batch child must get for the values the parent was given (`child: true` entries). */
export function childArgv<T extends OptionTable>(table: T, values: Values<T>): string[] {
  const out: string[] = [];
  for (const [name, s] of Object.entries(table)) {
    if (!s.child || s.positional) continue;
    const v = (values as Record<string, unknown>)[name];
    if (s.array) for (const x of v as string[]) out.push(`--${name}=${x}`);
    else if (s.type === 'boolean') {
      const on = v === true;
      if (on !== (s.default ?? false)) out.push(on ? `--${name}` : `--no-${name}`);
    } else if (v !== undefined) out.push(`--${name}=${String(v)}`);
  }
  return out;
}

/** Every name a user may type for the table's flags, aliases and `no-` forms included (no dashes). */
export function flagNames(table: OptionTable): string[] {
  const names: string[] = [];
  for (const [name, s] of Object.entries(table)) {
    if (s.positional) continue;
    names.push(name);
    if (typeof s.alias === 'string') names.push(s.alias);
    else if (s.alias) names.push(...s.alias);
    if (s.type === 'boolean' && s.default === true) names.push(`no-${name}`);
  }
  return names;
}
