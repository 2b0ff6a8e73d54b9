import {
  type ConfigEdit,
  type Selector,
  clearCmd,
  clearEntrypoint,
  removeEnv,
  removeHealthcheck,
  removeHistoryArgs,
  removeLabels,
  removeOnbuild,
  removeVolumes,
  setEnvs,
  setImageString,
  setLabel,
  setRuntimeString,
  squashHistory,
} from '../edit/index.js';
import { setCommandValue } from '../edit/command.js';
import { parseAddPort, parseAddVolume, parseCommand, parseRemovePort, parseSetEnv, selectorOf } from './edit-specs.js';
import { UsageError } from '../errors.js';
import { closest } from './suggest.js';
import { commandValueWarning } from './warn.js';
import { LAYER_COMPRESSIONS, type LayerCompression, TARGET_FORMATS, type TargetFormat } from '../convert/media.js';

/** What the sentence asks of the output as a whole rather than of the config (SET FORMAT, SET LAYER COMPRESSION, SET SOURCE_DATE_EPOCH). */
export interface SentenceOptions {
  format?: TargetFormat | 'oci-dir';
  layerCompression?: LayerCompression;
  sourceDateEpoch?: number;
}

export interface Sentence {
  readonly input: string;
  readonly output: string;
  readonly edits: ConfigEdit[];
  readonly options: SentenceOptions;
  /** Legal but probably unmeant values (SET CMD with blanks, not JSON). */
  readonly warnings: string[];
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

/** Every keyword of the grammar, for did-you-mean on a typo (`REMOVE ALL VOLUMS`). */
const KEYWORDS = [
  'remove',
  'rm',
  'add',
  'append',
  'set',
  'override',
  'all',
  'volumes',
  'volume',
  'ports',
  'port',
  'labels',
  'label',
  'envs',
  'env',
  'vars',
  'var',
  'entrypoint',
  'cmd',
  'user',
  'workdir',
  'workingdir',
  'hostname',
  'domainname',
  'stopsignal',
  'healthcheck',
  'onbuild',
  'history',
  'arg',
  'squash',
  'format',
  'layer',
  'compression',
  'shell',
  'null',
  'no',
  'arch',
  'architecture',
  'author',
  'os',
  'variant',
  'source_date_epoch',
];

/**
 * The same words with each unknown keyword replaced by the closest one, or undefined when no word
 * is near a keyword (then it is not a typo of one). Values (paths, ports) are left as written.
 */
export function didYouMeanSentence(said: string): string | undefined {
  let changed = false;
  const words = said.split(' ').map((w) => {
    const lw = w.toLowerCase();
    if (KEYWORDS.includes(lw) || lw.length < 3 || /[^a-z_]/.test(lw)) return w;
    const near = closest(lw, KEYWORDS);
    if (!near) return w;
    changed = true;
    return w === w.toUpperCase() ? near.toUpperCase() : near;
  });
  return changed ? words.join(' ') : undefined;
}

/**
 * docker-copyedit's language. Words are read one by one: `FROM x` and `INTO y` may stand anywhere,
 * commands may be joined by AND, +, `,` or `/`, verbs are case-insensitive, and every value is
 * exactly one word (quote it in the shell when it has blanks).
 */
export function parseSentence(words: readonly string[]): Sentence {
  let input: string | undefined;
  let output: string | undefined;
  const edits: ConfigEdit[] = [];
  const options: SentenceOptions = {};
  const warnings: string[] = [];
  let i = 0;
  /** The next word; at the end, say what was expected and the form that gives it. */
  const next = (what: string, form?: string): string => {
    const w = words[i++];
    if (w === undefined) {
      const said = words.slice(Math.max(0, i - 3), i - 1).join(' ');
      throw new UsageError(`the sentence ends where ${what} was expected${said ? ` (after "${said}")` : ''}; say ${form ?? what}`);
    }
    return w;
  };
  const lower = (what: string, form?: string) => next(what, form).toLowerCase();
  while (i < words.length) {
    const start = i;
    const verb = words[i++]!.toLowerCase();
    if (SEPARATORS.has(verb)) continue;
    const said = () => words.slice(start, i).join(' ');
    const unknown = (): never => {
      const near = didYouMeanSentence(said());
      throw new UsageError(
        `"${said()}" is not a command copyedit understands${near ? `; did you mean "${near}"?` : ''} The sentence takes REMOVE, ADD and SET commands, e.g. REMOVE ALL VOLUMES AND SET CMD /start.sh (see README, sentence form)`,
      );
    };
    if (verb === 'from') input = next('the input after FROM', 'FROM <archive or image>, e.g. FROM in.tar');
    else if (verb === 'into') output = next('the output after INTO', 'INTO <archive or image>, e.g. INTO out.tar');
    else if (verb === 'remove' || verb === 'rm') {
      const what = lower('what to remove', 'REMOVE ALL VOLUMES, REMOVE VOLUME /data, REMOVE PORT 80, REMOVE LABEL k, REMOVE ENV K, REMOVE HEALTHCHECK');
      if (what === 'all') {
        const kind = lower('VOLUMES or PORTS after REMOVE ALL', 'REMOVE ALL VOLUMES (or PORTS, LABELS, ENVS)');
        if (/^volumes?$/.test(kind)) edits.push(removeVolumes('all'));
        else if (/^ports?$/.test(kind)) edits.push(parseRemovePort('all'));
        else if (/^labels?$/.test(kind)) edits.push(removeLabels('all'));
        else if (/^(envs?|vars?)$/.test(kind)) edits.push(removeEnv('all'));
        else unknown();
      } else if (what === 'volume' || what === 'volumes') edits.push(removeBy(removeVolumes, next('a volume', 'REMOVE VOLUME <path|glob>, e.g. REMOVE VOLUME /data')));
      else if (what === 'port' || what === 'ports') edits.push(parseRemovePort(next('a port', 'REMOVE PORT <port>, e.g. REMOVE PORT 80')));
      else if (what === 'label' || what === 'labels') edits.push(removeBy(removeLabels, next('a label', 'REMOVE LABEL <key|glob>')));
      else if (/^(envs?|vars?)$/.test(what)) edits.push(removeBy(removeEnv, next('a variable', 'REMOVE ENV <name|glob>')));
      else if (what === 'healthcheck') edits.push(removeHealthcheck());
      else if (what === 'history') {
        const arg = lower('ARG after REMOVE HISTORY', 'REMOVE HISTORY ARG <name|glob|all>, e.g. REMOVE HISTORY ARG TOKEN');
        if (arg !== 'arg' && arg !== 'args') unknown();
        const a = next('a build argument', 'REMOVE HISTORY ARG <name|glob|all>, e.g. REMOVE HISTORY ARG TOKEN');
        edits.push(removeHistoryArgs(selectorOf(a), a));
      } else if (what === 'onbuild') edits.push(removeOnbuild());
      else unknown();
    } else if (verb === 'squash') {
      if (lower('HISTORY after SQUASH', 'SQUASH HISTORY') !== 'history') unknown();
      edits.push(squashHistory());
    } else if (verb === 'add' || verb === 'append') {
      const what = lower('VOLUME or PORT', 'ADD VOLUME /data or ADD PORT 8080');
      if (what === 'volume' || what === 'volumes') edits.push(parseAddVolume(next('a volume', 'ADD VOLUME <path>, e.g. ADD VOLUME /data')));
      else if (what === 'port' || what === 'ports') edits.push(parseAddPort(next('a port', 'ADD PORT <port>, e.g. ADD PORT 8080')));
      else unknown();
    } else if (verb === 'set' || verb === 'override') {
      let target = lower('what to set', 'SET CMD <value>, SET ENTRYPOINT <value>, SET USER <user>, SET LABEL <key> <value>, SET ENV <name> <value>');
      if (target === 'null' || target === 'no') {
        target = lower('what to clear', 'SET NULL CMD (or ENTRYPOINT, USER, ...)');
        edits.push(setTo(target, null, unknown));
      } else if (target === 'shell') {
        const t = lower('CMD or ENTRYPOINT after SET SHELL', 'SET SHELL CMD "<command line>"');
        if (!COMMANDS.has(t)) unknown();
        const v = next('a command string', 'SET SHELL CMD "<command line>", e.g. SET SHELL CMD "exec /app --serve"');
        edits.push(setCommandValue(t === 'cmd' ? 'Cmd' : 'Entrypoint', v.toLowerCase() === NULL || v === '' ? null : ['/bin/sh', '-c', v], 'shell'));
      } else if (target === 'format') {
        const f = lower('a layout after SET FORMAT', `SET FORMAT <${[...TARGET_FORMATS, 'oci-dir'].join('|')}>, e.g. SET FORMAT OCI`);
        if (!(TARGET_FORMATS as readonly string[]).includes(f) && f !== 'oci-dir') {
          throw new UsageError(`SET FORMAT ${f}: the layouts are ${[...TARGET_FORMATS, 'oci-dir'].join(', ')}, e.g. SET FORMAT OCI`);
        }
        options.format = f as TargetFormat | 'oci-dir';
      } else if (target === 'layer' || target === 'layers') {
        const form = `SET LAYER COMPRESSION <${LAYER_COMPRESSIONS.join('|')}>, e.g. SET LAYER COMPRESSION ZSTD`;
        if (lower('COMPRESSION after SET LAYER', form) !== 'compression') unknown();
        const c = lower('a compression', form);
        if (!(LAYER_COMPRESSIONS as readonly string[]).includes(c)) throw new UsageError(`SET LAYER COMPRESSION ${c}: say one of ${LAYER_COMPRESSIONS.join(', ')}`);
        options.layerCompression = c as LayerCompression;
      } else if (/^source[-_]date[-_]epoch$/.test(target)) {
        const v = next('seconds since 1970', 'SET SOURCE_DATE_EPOCH <seconds>, e.g. SET SOURCE_DATE_EPOCH 1700000000');
        if (!/^\d{1,15}$/.test(v)) throw new UsageError(`SET SOURCE_DATE_EPOCH ${v}: give whole seconds since 1970, e.g. SET SOURCE_DATE_EPOCH 1700000000`);
        options.sourceDateEpoch = Number(v);
      } else if (target === 'label' || target === 'labels') {
        const k = next('a label key', 'SET LABEL <key> <value>');
        edits.push(setLabel(k, next('a label value', 'SET LABEL <key> <value>')));
      } else if (/^(env|var)$/.test(target)) {
        const k = next('a variable name', 'SET ENV <name> <value>');
        edits.push(parseSetEnv(k, next('a value', 'SET ENV <name> <value>')));
      } else if (/^(envs|vars)$/.test(target)) {
        const k = next('a variable pattern', 'SET ENVS <glob> <value>');
        edits.push(setEnvs(selectorOf(k), next('a value', 'SET ENV <name> <value>'), k));
      } else {
        const v = next(`a value for ${target}`, valueForm(target));
        edits.push(setTo(target, v.toLowerCase() === NULL || v === '' ? null : v, unknown));
        const w = target === 'entrypoint' || target === 'cmd' ? commandValueWarning(target, v, 'sentence') : undefined;
        if (w) warnings.push(w);
      }
    } else unknown();
  }
  if (input === undefined) throw new UsageError('no input: say FROM <archive or image>');
  if (output === undefined) throw new UsageError('no output: say INTO <archive or image>');
  return { input, output, edits, options, warnings };
}

/** `SET CMD <value>, e.g. SET CMD /start.sh or SET CMD '["/start.sh","--serve"]'` */
function valueForm(target: string): string {
  const T = target.toUpperCase();
  if (COMMANDS.has(target)) return `SET ${T} <value>, e.g. SET ${T} /start.sh, SET ${T} '["/start.sh","--serve"]', or SET ${T} NULL to clear it`;
  return `SET ${T} <value>, e.g. SET ${T} ${target === 'user' ? '1000' : 'x'}, or SET ${T} NULL to clear it`;
}

function setTo(target: string, value: string | null, unknown: () => never): ConfigEdit {
  if (target === 'entrypoint') return value === null ? clearEntrypoint() : setCommandValue('Entrypoint', parseCommand(value, 'entrypoint'), 'entrypoint', value);
  if (target === 'cmd') return value === null ? clearCmd() : setCommandValue('Cmd', parseCommand(value, 'cmd'), 'cmd', value);
  if (RUNTIME[target]) return setRuntimeString(RUNTIME[target]!, value);
  if (META[target]) return setImageString(META[target]!, value);
  return unknown();
}

/** REMOVE VOLUME|LABEL|ENV <spec>: `all`, a glob or an exact key, spelled in the report as given. */
function removeBy(make: (sel: Selector, shown?: string) => ConfigEdit, spec: string): ConfigEdit {
  return make(selectorOf(spec), spec.toLowerCase() === 'all' ? undefined : spec);
}
