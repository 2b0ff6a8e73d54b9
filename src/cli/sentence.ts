import { type ConfigEdit, editSpec } from '../edit/index.js';
import { UsageError } from '../errors.js';

export interface Sentence {
  readonly input: string;
  readonly output: string;
  readonly edits: ConfigEdit[];
}

/**
 * docker-copyedit's language: `FROM <in> INTO <out> <command> [AND|+|, <command>]...`.
 * Verbs are case-insensitive; values keep their case.
 */
export function parseSentence(words: readonly string[]): Sentence {
  const w = [...words];
  const kw = (i: number) => (w[i] ?? '').toUpperCase();
  if (kw(0) !== 'FROM' || w.length < 2) throw new UsageError('a sentence starts with FROM <archive> INTO <archive>');
  const input = w[1]!;
  let i = 2;
  if (kw(i) !== 'INTO' || w[i + 1] === undefined) throw new UsageError(`FROM ${input} must be followed by INTO <archive>`);
  const output = w[i + 1]!;
  i += 2;
  // split the rest into commands at AND, + and , (also "x," glued to a word)
  const commands: string[][] = [[]];
  for (const raw of w.slice(i)) {
    const parts = raw === ',' ? [','] : raw.endsWith(',') && raw.length > 1 ? [raw.slice(0, -1), ','] : [raw];
    for (const p of parts) {
      if (p.toUpperCase() === 'AND' || p === '+' || p === ',') commands.push([]);
      else commands[commands.length - 1]!.push(p);
    }
  }
  const edits = commands.filter((c) => c.length > 0).flatMap(parseCommand);
  return { input, output, edits };
}

function parseCommand(c: string[]): ConfigEdit[] {
  const up = c.map((x) => x.toUpperCase());
  const text = c.join(' ');
  const verb = up[0];
  const make = (flag: string, value?: string) => editSpec(flag).parse(value);
  const rest = (from: number) => {
    const v = c.slice(from).join(' ');
    if (!v) throw new UsageError(`"${text}": a value is missing`);
    return v;
  };
  if ((verb === 'REMOVE' || verb === 'RM') && up[1] === 'ALL' && up.length === 3) {
    if (/^VOLUMES?$/.test(up[2]!)) return [make('rm-volume', 'all')];
    if (/^PORTS?$/.test(up[2]!)) return [make('rm-port', 'all')];
  }
  if (verb === 'REMOVE' || verb === 'RM') {
    if (/^VOLUMES?$/.test(up[1] ?? '')) return c.slice(2).map((v) => make('rm-volume', v));
    if (/^PORTS?$/.test(up[1] ?? '')) return c.slice(2).map((v) => make('rm-port', v));
  }
  if (verb === 'ADD') {
    if (/^VOLUMES?$/.test(up[1] ?? '')) return c.slice(2).map((v) => make('add-volume', v));
    if (/^PORTS?$/.test(up[1] ?? '')) return c.slice(2).map((v) => make('add-port', v));
  }
  if (verb === 'SET') {
    const field = (s: string | undefined) => (s === 'ENTRYPOINT' ? 'entrypoint' : s === 'CMD' ? 'cmd' : undefined);
    // SET NULL CMD / SET NO CMD
    if ((up[1] === 'NULL' || up[1] === 'NO') && field(up[2]) && c.length === 3) return [make(`no-${field(up[2])}`)];
    // SET CMD NULL
    if (field(up[1]) && c.length === 3 && up[2] === 'NULL') return [make(`no-${field(up[1])}`)];
    // SET SHELL CMD "string"
    if (up[1] === 'SHELL' && field(up[2])) return [make(`${field(up[2])}-shell`, rest(3))];
    if (field(up[1])) return [make(field(up[1])!, rest(2))];
  }
  throw new UsageError(`"${text}" is not a command copyedit understands; see copyedit --help for the sentence form`);
}
