/**
 * The common command lines, parsed without yargs. Loading yargs costs 50-100 ms on every run
 * (issue 11: start-up is most of a small edit, and most of the gap to `cat` on a big one), yet
 * nearly every command line is plain: a command word, its positionals, and `--flag value` options
 * from the command's table. This parser reads exactly that subset, from the same tables yargs is
 * built from (src/cli/options.ts), and answers `undefined` for anything else: an unknown or
 * misspelt option, a missing value, a value not among the choices, `--help`, `--`, `-qz`,
 * `--flag=` on a switch, a repeated single-valued option, a wrong number of positionals. Those go
 * to yargs, which gives the usual messages. A unit test checks on a generated corpus of command
 * lines that whatever this parser accepts, yargs parses to the same values
 * (test/unit/fast-argv.test.ts).
 */
import type { Command } from './commands/types.js';
import { GLOBAL_OPTIONS, type OptionSpec, type OptionTable } from './options.js';

export interface FastParse {
  readonly command: Command;
  /** Values under their table names, as yargs would have given them to `runParsed`. */
  readonly parsed: Record<string, unknown>;
}

/** `rest`: argv with the edit flags already taken out (src/cli/argv.ts), as yargs gets it. */
export function fastParse(rest: readonly string[], commands: readonly Command[]): FastParse | undefined {
  const command = commands.find((c) => c.name === rest[0]);
  if (!command) return undefined;
  const table: OptionTable = { ...GLOBAL_OPTIONS, ...command.options };
  const byName = new Map<string, [string, OptionSpec]>();
  for (const [name, s] of Object.entries(table)) {
    if (s.positional) continue;
    byName.set(name, [name, s]);
    for (const a of typeof s.alias === 'string' ? [s.alias] : (s.alias ?? [])) byName.set(a, [name, s]);
  }
  const parsed: Record<string, unknown> = {};
  const positionals: string[] = [];
  for (let i = 1; i < rest.length; i++) {
    const tok = rest[i]!;
    // yargs reads `--json true` as the switch's value: leave that spelling to it
    const switchValue = rest[i + 1] === 'true' || rest[i + 1] === 'false';
    if (tok === '-' || !tok.startsWith('-')) {
      positionals.push(tok);
      continue;
    }
    const long = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(tok);
    const short = /^-([a-z])$/.exec(tok);
    const word = long?.[1] ?? short?.[1];
    if (word === undefined) return undefined;
    const inline = long?.[2];
    const hit = byName.get(word);
    if (!hit && long && word.startsWith('no-')) {
      const negated = byName.get(word.slice(3));
      // yargs negates any boolean (`--no-debug`); a negated value-taking option is not ours to read
      if (negated?.[1].type !== 'boolean' || inline !== undefined || switchValue || negated[0] !== word.slice(3)) return undefined;
      if (negated[0] in parsed) return undefined;
      parsed[negated[0]] = false;
      continue;
    }
    if (!hit) return undefined;
    const [name, spec] = hit;
    if (spec.type === 'boolean') {
      if (inline !== undefined || switchValue || name in parsed) return undefined;
      parsed[name] = true;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = rest[i + 1];
      if (next === undefined || (next.startsWith('-') && next !== '-')) return undefined;
      value = next;
      i++;
    }
    // yargs fills an array option with every word that follows (`--tag=a b`, too): leave such lines to it
    const after = rest[i + 1];
    if (spec.array && after !== undefined && (after === '-' || !after.startsWith('-'))) return undefined;
    if (value === '' || (spec.choices && !spec.choices.includes(value))) return undefined;
    if (spec.array) {
      parsed[name] = [...((parsed[name] as string[] | undefined) ?? []), value];
      continue;
    }
    if (name in parsed) return undefined;
    if (spec.type === 'number') {
      if (!/^[0-9]{1,9}$/.test(value)) return undefined;
      parsed[name] = Number(value);
    } else parsed[name] = value;
  }
  return placePositionals(command, positionals, parsed) ? { command, parsed } : undefined;
}

/** `edit <inputs..>`, `diff <a> <b>`: the positionals by name, or false when their count does not fit. */
function placePositionals(command: Command, words: readonly string[], parsed: Record<string, unknown>): boolean {
  const slots = [...command.command.matchAll(/<([a-z-]+)(\.\.)?>/g)].map((m) => ({ name: m[1]!, rest: m[2] !== undefined }));
  if (/\[/.test(command.command)) return false; // optional positionals: yargs' rules, not ours
  let i = 0;
  for (const slot of slots) {
    const spec = command.options[slot.name];
    if (!spec?.positional) return false;
    if (slot.rest) {
      if (i >= words.length) return false;
      parsed[slot.name] = words.slice(i);
      i = words.length;
    } else {
      const w = words[i++];
      if (w === undefined || (spec.choices && !spec.choices.includes(w))) return false;
      parsed[slot.name] = w;
    }
  }
  return i === words.length;
}
