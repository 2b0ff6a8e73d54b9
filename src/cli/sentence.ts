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
import { MAX_EPOCH } from '../edit/history.js';
import { parseAddPort, parseAddVolume, parseCommand, parseRemovePort, parseSetEnv, selectorOf } from './edit-specs.js';
import { UsageError } from '../errors.js';
import { didYouMeanSentence } from './sentence-suggest.js';
import { type AddedFile, type LayerAddition, addFiles, addLayer } from '../layers/build.js';
import { commandValueWarning } from './warn.js';
import { LAYER_COMPRESSIONS, type LayerCompression, TARGET_FORMATS, type TargetFormat } from '../convert/media.js';

/** What the sentence asks of the output as a whole rather than of the config (SET FORMAT, SET LAYER COMPRESSION, SET SOURCE_DATE_EPOCH). */
export interface SentenceOptions {
  format?: TargetFormat | 'oci-dir';
  layerCompression?: LayerCompression;
  sourceDateEpoch?: number;
  /** ADD LAYER <tar|dir> (one layer each), then ADD FILE <src> TO <dest> (all in one layer). */
  addLayers?: LayerAddition[];
  /** REMOVE PATH <path|glob>. */
  removePaths?: { paths: string[] };
  /** FLATTEN. */
  flatten?: boolean;
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

/**
 * docker-copyedit's language. Words are read one by one: `FROM x` and `INTO y` may stand anywhere,
 * commands may be joined by AND, +, `,` or `/`, verbs are case-insensitive, and every value is
 * exactly one word (quote it in the shell when it has blanks).
 */
export function parseSentence(words: readonly string[]): Sentence {
  const r = new SentenceReader(words);
  while (r.i < words.length) r.command();
  const { input, output, edits, options, warnings } = r;
  if (r.files.length) options.addLayers = [...(options.addLayers ?? []), addFiles(r.files)];
  if (input === undefined) throw new UsageError('no input: say FROM <archive or image>');
  if (output === undefined) throw new UsageError('no output: say INTO <archive or image>');
  return { input, output, edits, options, warnings };
}

/** The words of a sentence, the position in them, and what the commands read so far say. */
class SentenceReader {
  i = 0;
  input: string | undefined;
  output: string | undefined;
  readonly edits: ConfigEdit[] = [];
  readonly options: SentenceOptions = {};
  readonly warnings: string[] = [];
  /** ADD FILE's sources and destinations, one layer. */
  readonly files: AddedFile[] = [];
  /** Where the command being read starts, for messages. */
  private start = 0;

  constructor(private readonly words: readonly string[]) {}

  /** The next word; at the end, say what was expected and the form that gives it. */
  private next(what: string, form?: string): string {
    const w = this.words[this.i++];
    if (w === undefined) {
      const said = this.words.slice(Math.max(0, this.i - 3), this.i - 1).join(' ');
      throw new UsageError(`the sentence ends where ${what} was expected${said ? ` (after "${said}")` : ''}; say ${form ?? what}`);
    }
    return w;
  }

  private lower(what: string, form?: string): string {
    return this.next(what, form).toLowerCase();
  }

  /** The command read so far is none copyedit knows. */
  private unknown(): never {
    const said = this.words.slice(this.start, this.i).join(' ');
    const near = didYouMeanSentence(said);
    throw new UsageError(
      `"${said}" is not a command copyedit understands${near ? `; did you mean "${near}"?` : ''} The sentence takes REMOVE, ADD and SET commands, e.g. REMOVE ALL VOLUMES AND SET CMD /start.sh (see README, sentence form)`,
    );
  }

  /** One command (or a separator, FROM or INTO) from the position on. */
  command(): void {
    this.start = this.i;
    const verb = this.words[this.i++]!.toLowerCase();
    if (SEPARATORS.has(verb)) return;
    if (verb === 'from') this.input = this.next('the input after FROM', 'FROM <archive or image>, e.g. FROM in.tar');
    else if (verb === 'into') this.output = this.next('the output after INTO', 'INTO <archive or image>, e.g. INTO out.tar');
    else if (verb === 'remove' || verb === 'rm') this.remove();
    else if (verb === 'squash') {
      if (this.lower('HISTORY after SQUASH', 'SQUASH HISTORY') !== 'history') this.unknown();
      this.edits.push(squashHistory());
    } else if (verb === 'add' || verb === 'append') this.add();
    else if (verb === 'flatten') this.options.flatten = true;
    else if (verb === 'set' || verb === 'override') this.set();
    else this.unknown();
  }

  private remove(): void {
    const edits = this.edits;
    const what = this.lower('what to remove', 'REMOVE ALL VOLUMES, REMOVE VOLUME /data, REMOVE PORT 80, REMOVE LABEL k, REMOVE ENV K, REMOVE HEALTHCHECK');
    if (what === 'all') {
      const kind = this.lower('VOLUMES or PORTS after REMOVE ALL', 'REMOVE ALL VOLUMES (or PORTS, LABELS, ENVS)');
      if (/^volumes?$/.test(kind)) edits.push(removeVolumes('all'));
      else if (/^ports?$/.test(kind)) edits.push(parseRemovePort('all'));
      else if (/^labels?$/.test(kind)) edits.push(removeLabels('all'));
      else if (/^(envs?|vars?)$/.test(kind)) edits.push(removeEnv('all'));
      else this.unknown();
    } else if (what === 'volume' || what === 'volumes') edits.push(removeBy(removeVolumes, this.next('a volume', 'REMOVE VOLUME <path|glob>, e.g. REMOVE VOLUME /data')));
    else if (what === 'port' || what === 'ports') edits.push(parseRemovePort(this.next('a port', 'REMOVE PORT <port>, e.g. REMOVE PORT 80')));
    else if (what === 'label' || what === 'labels') edits.push(removeBy(removeLabels, this.next('a label', 'REMOVE LABEL <key|glob>')));
    else if (/^(envs?|vars?)$/.test(what)) edits.push(removeBy(removeEnv, this.next('a variable', 'REMOVE ENV <name|glob>')));
    else if (what === 'healthcheck') edits.push(removeHealthcheck());
    else if (what === 'history') {
      const arg = this.lower('ARG after REMOVE HISTORY', 'REMOVE HISTORY ARG <name|glob|all>, e.g. REMOVE HISTORY ARG TOKEN');
      if (arg !== 'arg' && arg !== 'args') this.unknown();
      const a = this.next('a build argument', 'REMOVE HISTORY ARG <name|glob|all>, e.g. REMOVE HISTORY ARG TOKEN');
      edits.push(removeHistoryArgs(selectorOf(a), a));
    } else if (what === 'onbuild') edits.push(removeOnbuild());
    else if (what === 'path' || what === 'paths' || what === 'file') {
      const p = this.next('a path in the image', 'REMOVE PATH <path|glob>, e.g. REMOVE PATH /app/.env');
      if (!p.startsWith('/')) throw new UsageError(`REMOVE PATH ${p}: give an absolute path or pattern in the image, e.g. /app/.env`);
      this.options.removePaths = { paths: [...(this.options.removePaths?.paths ?? []), p] };
    } else this.unknown();
  }

  private add(): void {
    const what = this.lower('VOLUME or PORT', 'ADD VOLUME /data or ADD PORT 8080');
    if (what === 'volume' || what === 'volumes') this.edits.push(parseAddVolume(this.next('a volume', 'ADD VOLUME <path>, e.g. ADD VOLUME /data')));
    else if (what === 'port' || what === 'ports') this.edits.push(parseAddPort(this.next('a port', 'ADD PORT <port>, e.g. ADD PORT 8080')));
    else if (what === 'file' || what === 'files' || what === 'dir') {
      const form = 'ADD FILE <src> TO <absolute dest>, e.g. ADD FILE ./ca.pem TO /usr/local/share/ca-certificates/ca.crt';
      const src = this.next('a file to add', form);
      if (this.lower('TO after ADD FILE <src>', form) !== 'to') this.unknown();
      const dest = this.next('where to put it in the image', form);
      if (!dest.startsWith('/')) throw new UsageError(`ADD FILE ${src} TO ${dest}: the destination must be an absolute path in the image`);
      this.files.push({ src, dest });
    } else if (what === 'layer') this.options.addLayers = [...(this.options.addLayers ?? []), addLayer(this.next('a tar or directory', 'ADD LAYER <tar|directory>, e.g. ADD LAYER extra.tar'))];
    else this.unknown();
  }

  private set(): void {
    const edits = this.edits;
    const unknown = () => this.unknown();
    let target = this.lower('what to set', 'SET CMD <value>, SET ENTRYPOINT <value>, SET USER <user>, SET LABEL <key> <value>, SET ENV <name> <value>');
    if (target === 'null' || target === 'no') {
      target = this.lower('what to clear', 'SET NULL CMD (or ENTRYPOINT, USER, ...)');
      edits.push(setTo(target, null, unknown));
    } else if (target === 'shell') {
      const t = this.lower('CMD or ENTRYPOINT after SET SHELL', 'SET SHELL CMD "<command line>"');
      if (!COMMANDS.has(t)) this.unknown();
      const v = this.next('a command string', 'SET SHELL CMD "<command line>", e.g. SET SHELL CMD "exec /app --serve"');
      edits.push(setCommandValue(t === 'cmd' ? 'Cmd' : 'Entrypoint', v.toLowerCase() === NULL || v === '' ? null : ['/bin/sh', '-c', v], 'shell'));
    } else if (target === 'format' || target === 'layer' || target === 'layers' || /^source[-_]date[-_]epoch$/.test(target)) this.setOption(target);
    else if (target === 'label' || target === 'labels') {
      const k = this.next('a label key', 'SET LABEL <key> <value>');
      edits.push(setLabel(k, this.next('a label value', 'SET LABEL <key> <value>')));
    } else if (/^(env|var)$/.test(target)) {
      const k = this.next('a variable name', 'SET ENV <name> <value>');
      edits.push(parseSetEnv(k, this.next('a value', 'SET ENV <name> <value>')));
    } else if (/^(envs|vars)$/.test(target)) {
      const k = this.next('a variable pattern', 'SET ENVS <glob> <value>');
      edits.push(setEnvs(selectorOf(k), this.next('a value', 'SET ENV <name> <value>'), k));
    } else {
      const v = this.next(`a value for ${target}`, valueForm(target));
      edits.push(setTo(target, v.toLowerCase() === NULL || v === '' ? null : v, unknown));
      const w = target === 'entrypoint' || target === 'cmd' ? commandValueWarning(target, v, 'sentence') : undefined;
      if (w) this.warnings.push(w);
    }
  }

  /** SET FORMAT, SET LAYER COMPRESSION, SET SOURCE_DATE_EPOCH: options of the run, not edits. */
  private setOption(target: string): void {
    const options = this.options;
    if (target === 'format') {
      const f = this.lower('a layout after SET FORMAT', `SET FORMAT <${[...TARGET_FORMATS, 'oci-dir'].join('|')}>, e.g. SET FORMAT OCI`);
      if (!(TARGET_FORMATS as readonly string[]).includes(f) && f !== 'oci-dir') {
        throw new UsageError(`SET FORMAT ${f}: the layouts are ${[...TARGET_FORMATS, 'oci-dir'].join(', ')}, e.g. SET FORMAT OCI`);
      }
      options.format = f as TargetFormat | 'oci-dir';
    } else if (target === 'layer' || target === 'layers') {
      const form = `SET LAYER COMPRESSION <${LAYER_COMPRESSIONS.join('|')}>, e.g. SET LAYER COMPRESSION ZSTD`;
      if (this.lower('COMPRESSION after SET LAYER', form) !== 'compression') this.unknown();
      const c = this.lower('a compression', form);
      if (!(LAYER_COMPRESSIONS as readonly string[]).includes(c)) throw new UsageError(`SET LAYER COMPRESSION ${c}: say one of ${LAYER_COMPRESSIONS.join(', ')}`);
      options.layerCompression = c as LayerCompression;
    } else {
      const v = this.next('seconds since 1970', 'SET SOURCE_DATE_EPOCH <seconds>, e.g. SET SOURCE_DATE_EPOCH 1700000000');
      if (!/^\d{1,15}$/.test(v)) throw new UsageError(`SET SOURCE_DATE_EPOCH ${v}: give whole seconds since 1970, e.g. SET SOURCE_DATE_EPOCH 1700000000`);
      if (Number(v) > MAX_EPOCH) throw new UsageError(`SET SOURCE_DATE_EPOCH ${v}: after 9999-12-31T23:59:59Z (${MAX_EPOCH}), the last time an image's created can hold`);
      options.sourceDateEpoch = Number(v);
    }
  }
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
