import {
  type ConfigEdit,
  addPort,
  addVolume,
  clearCmd,
  clearEntrypoint,
  parseCommand,
  removeEnv,
  removeHealthcheck,
  removeLabel,
  removeOnbuild,
  removePort,
  removeVolume,
  setEnv,
  setEnvs,
  setImageString,
  setLabel,
  setRuntimeString,
} from '../edit/index.js';
import { setCommandValue } from '../edit/command.js';
import { UsageError } from '../errors.js';

export interface Sentence {
  readonly input: string;
  readonly output: string;
  readonly edits: ConfigEdit[];
}

const SEPARATORS = new Set(['and', '+', ',', '/']);
const RUNTIME: Record<string, Parameters<typeof setRuntimeString>[0]> = {
  user: 'user',
  workdir: 'workdir',
  workingdir: 'workdir',
  hostname: 'hostname',
  domainname: 'domainname',
  stopsignal: 'stop-signal',
};
const META: Record<string, Parameters<typeof setImageString>[0]> = { author: 'author', os: 'os', arch: 'arch', architecture: 'arch', variant: 'variant' };
const COMMANDS = new Set(['entrypoint', 'cmd']);
const NULL = 'null';

/**
 * docker-copyedit's language. Words are read one by one: `FROM x` and `INTO y` may stand anywhere,
 * commands may be joined by AND, +, `,` or `/`, verbs are case-insensitive, and every value is
 * exactly one word (quote it in the shell when it has blanks).
 */
export function parseSentence(words: readonly string[]): Sentence {
  let input: string | undefined;
  let output: string | undefined;
  const edits: ConfigEdit[] = [];
  let i = 0;
  const next = (what: string): string => {
    const w = words[i++];
    if (w === undefined) throw new UsageError(`the sentence ends where ${what} was expected`);
    return w;
  };
  const lower = (what: string) => next(what).toLowerCase();
  while (i < words.length) {
    const start = i;
    const verb = words[i++]!.toLowerCase();
    if (SEPARATORS.has(verb)) continue;
    const said = () => words.slice(start, i).join(' ');
    const unknown = (): never => {
      throw new UsageError(`"${said()}" is not a command copyedit understands; see the sentence form in copyedit --help`);
    };
    if (verb === 'from') input = next('the input after FROM');
    else if (verb === 'into') output = next('the output after INTO');
    else if (verb === 'remove' || verb === 'rm') {
      const what = lower('what to remove');
      if (what === 'all') {
        const kind = lower('VOLUMES or PORTS after REMOVE ALL');
        if (/^volumes?$/.test(kind)) edits.push(removeVolume('all'));
        else if (/^ports?$/.test(kind)) edits.push(removePort('all'));
        else if (/^labels?$/.test(kind)) edits.push(removeLabel('all'));
        else if (/^(envs?|vars?)$/.test(kind)) edits.push(removeEnv('all'));
        else unknown();
      } else if (what === 'volume' || what === 'volumes') edits.push(removeVolume(next('a volume')));
      else if (what === 'port' || what === 'ports') edits.push(removePort(next('a port')));
      else if (what === 'label' || what === 'labels') edits.push(removeLabel(next('a label')));
      else if (/^(envs?|vars?)$/.test(what)) edits.push(removeEnv(next('a variable')));
      else if (what === 'healthcheck') edits.push(removeHealthcheck());
      else if (what === 'onbuild') edits.push(removeOnbuild());
      else unknown();
    } else if (verb === 'add' || verb === 'append') {
      const what = lower('VOLUME or PORT');
      if (what === 'volume' || what === 'volumes') edits.push(addVolume(next('a volume')));
      else if (what === 'port' || what === 'ports') edits.push(addPort(next('a port')));
      else unknown();
    } else if (verb === 'set' || verb === 'override') {
      let target = lower('what to set');
      if (target === 'null' || target === 'no') {
        target = lower('what to clear');
        edits.push(setTo(target, null, unknown));
      } else if (target === 'shell') {
        const t = lower('CMD or ENTRYPOINT after SET SHELL');
        if (!COMMANDS.has(t)) unknown();
        const v = next('a command string');
        edits.push(setCommandValue(t === 'cmd' ? 'Cmd' : 'Entrypoint', v.toLowerCase() === NULL || v === '' ? null : ['/bin/sh', '-c', v], 'shell'));
      } else if (target === 'label' || target === 'labels') {
        const k = next('a label key');
        edits.push(setLabel(k, next('a label value')));
      } else if (/^(env|var)$/.test(target)) {
        const k = next('a variable name');
        edits.push(setEnv(k, next('a value')));
      } else if (/^(envs|vars)$/.test(target)) {
        const k = next('a variable pattern');
        edits.push(setEnvs(k, next('a value')));
      } else {
        const v = next(`a value for ${target}`);
        edits.push(setTo(target, v.toLowerCase() === NULL || v === '' ? null : v, unknown));
      }
    } else unknown();
  }
  if (input === undefined) throw new UsageError('no input: say FROM <archive or image>');
  if (output === undefined) throw new UsageError('no output: say INTO <archive or image>');
  return { input, output, edits };
}

function setTo(target: string, value: string | null, unknown: () => never): ConfigEdit {
  if (target === 'entrypoint') return value === null ? clearEntrypoint() : setCommandValue('Entrypoint', parseCommand(value, 'entrypoint'), 'entrypoint', value);
  if (target === 'cmd') return value === null ? clearCmd() : setCommandValue('Cmd', parseCommand(value, 'cmd'), 'cmd', value);
  if (RUNTIME[target]) return setRuntimeString(RUNTIME[target]!, value);
  if (META[target]) return setImageString(META[target]!, value);
  return unknown();
}
