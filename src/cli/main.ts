import type { Argv } from 'yargs';
import { CopyeditError, ExitCode, InterruptedError, IoError, UsageError } from '../errors.js';
import { removePendingOutputsSync } from '../io/sink.js';
import { extractEdits } from './argv.js';
import { fastParse } from './fast-argv.js';
import { COMMANDS } from './commands/index.js';
import { runEdit } from './commands/edit.js';
import type { Command, CommonOptions } from './commands/types.js';
import { GLOBAL_OPTIONS, declare } from './options.js';
import { parseSentence } from './sentence.js';
import { epochOption } from './commands/edit.js';
import { daemonFacts, describeDaemon, dockerLoad, dockerSave, isDaemonRef, looksLikePath, stripScheme } from './daemon.js';
import { escapeControl, writeStderr } from './out.js';
import { GLOBAL_FLAGS, closest, commandFlags, didYouMeanFlag, unknownFlags } from './suggest.js';
import { readFileSync, existsSync } from 'node:fs';

/** Our own version: package.json next to this module (dist/src/cli -> the package root), never the cwd's. */
export function ownVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

const SENTENCE_OPTIONS = ['dryrun', 'dry-run', 'quiet', 'json', 'debug', 'docker', 'verbose'];
const SENTENCE_FORM = 'copyedit FROM <archive or image> INTO <archive or image> <edits>, e.g. copyedit FROM in.tar INTO out.tar REMOVE ALL VOLUMES AND SET CMD /start.sh';

const EPILOG = `Sentence form (docker-copyedit compatible):
  copyedit FROM in.tar INTO out.tar REMOVE ALL VOLUMES AND SET CMD /start.sh

Exit codes: 0 ok, 2 usage, 3 bad archive, 4 edit not applicable, 5 verification failed,
6 I/O error, 130/143 interrupted, 1 internal error (please report with --debug)
or, for diff --exit-code, the archives differ.
Shell completion: source <(copyedit completion bash)`;

/** Run the CLI; returns the exit code. Never throws for user mistakes. */
export async function main(argv: readonly string[]): Promise<number> {
  const debug = argv.includes('--debug');
  const stop = onSignals();
  try {
    if (isSentence(argv)) return await runSentence(argv);
    checkCommandWord(argv);
    const fast = fastParse(extractEdits(argv).rest, COMMANDS);
    if (fast) return await fast.command.runParsed(fast.parsed, { argv });
    return await runYargs(argv);
  } catch (e) {
    return reportError(e, debug);
  } finally {
    stop();
  }
}

/** docker-copyedit style: no subcommand, and FROM ... INTO ... somewhere among the words. */
function isSentence(argv: readonly string[]): boolean {
  const words = argv.filter((a) => !a.startsWith('-')).map((a) => a.toLowerCase());
  const first = words[0];
  if (first === undefined || COMMANDS.some((c) => c.name === first)) return false;
  return words.includes('from') && words.includes('into');
}

/**
 * Before yargs: a first word that is no command is a typo (`edti`) or half a sentence (FROM
 * without INTO); yargs would call either `Unknown arguments: ...`.
 */
function checkCommandWord(argv: readonly string[]): void {
  const first = argv.find((a) => !a.startsWith('-'));
  if (first === undefined) return;
  const names = [...COMMANDS.map((c) => c.name), 'help'];
  if (names.includes(first)) return;
  const words = argv.filter((a) => !a.startsWith('-')).map((a) => a.toLowerCase());
  if (words.includes('from') || words.includes('into')) {
    const missing = words.includes('from') ? 'INTO' : 'FROM';
    throw new UsageError(`the sentence form needs both FROM and INTO (no ${missing} given): ${SENTENCE_FORM}`);
  }
  const near = closest(first, names);
  throw new UsageError(`unknown command "${first}"${near ? `; did you mean ${near}?` : ''} Commands: ${names.filter((n) => n !== 'help').join(', ')} (copyedit --help)`);
}

async function runSentence(argv: readonly string[]): Promise<number> {
  // docker-copyedit's options: -v/-vv (more output), -z/--dryrun, plus ours
  const words: string[] = [];
  let docker = 'docker';
  const o: { -readonly [K in keyof CommonOptions]: CommonOptions[K] } & { dryRun: boolean } = { debug: false, quiet: false, json: false, dryRun: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--docker') docker = argv[++i] ?? docker;
    else if (a.startsWith('--docker=')) docker = a.slice('--docker='.length);
    else if (a === '-z' || a === '--dryrun' || a === '--dry-run') o.dryRun = true;
    else if (a === '--debug') o.debug = true;
    else if (a === '-q' || a === '--quiet') o.quiet = true;
    else if (a === '--json') o.json = true;
    else if (/^-v+$/.test(a) || a === '--verbose') o.quiet = false;
    else if (a.startsWith('-') && a.length > 1) {
      const near = closest(a.replace(/^-+/, ''), SENTENCE_OPTIONS);
      throw new UsageError(
        `unknown option ${a} in the sentence form${near ? `; did you mean --${near}?` : ''} It takes -z/--dryrun, -q/--quiet, --json, --debug, --docker EXE and -v (accepted, no effect)`,
      );
    } else words.push(a);
  }
  const s = parseSentence(words);
  if (!o.quiet) for (const w of s.warnings) writeStderr(`copyedit: warning: ${escapeControl(w)}\n`);
  if (!s.input.startsWith('docker:') && looksLikePath(s.input) && !existsSync(s.input)) {
    throw new IoError(`FROM ${s.input}: no such file; check the path (an image in the daemon is named like vendor/app:1, or docker:NAME to be explicit)`);
  }
  const fromDaemon = isDaemonRef(s.input, 'from');
  const intoDaemon = isDaemonRef(s.output, 'into', fromDaemon);
  const daemon = fromDaemon || intoDaemon ? await daemonFacts(docker) : undefined;
  if (daemon && !o.quiet) {
    const what = [fromDaemon && `reading image ${stripScheme(s.input)} with \`${docker} save\``, intoDaemon && !o.dryRun && `loading the result as ${stripScheme(s.output)} with \`${docker} load\``]
      .filter(Boolean)
      .join(', ');
    writeStderr(`copyedit: daemon mode: ${escapeControl(what)}${fromDaemon && !s.input.startsWith('docker:') ? ` (there is no file ${escapeControl(s.input)})` : ''}\n`);
    writeStderr(`copyedit: daemon: ${escapeControl(describeDaemon(daemon))}\n`);
  }
  const { format, ...settings } = { ...envEpoch(), ...s.options };
  if (format === 'oci-dir' && intoDaemon) throw new UsageError('SET FORMAT OCI-DIR writes a directory: say INTO <directory>, not an image');
  const asked = { ...settings, ...(format ? { format: format === 'oci-dir' ? ('oci' as const) : format } : {}) };
  const output = format === 'oci-dir' ? { dir: s.output } : s.output;
  if (!fromDaemon && !intoDaemon) return runEdit({ input: s.input, output, edits: s.edits, dryRun: o.dryRun, ...asked }, o);
  // daemon mode: docker save | edit | docker load, INTO names the new tag
  const save = fromDaemon ? dockerSave(docker, stripScheme(s.input)) : undefined;
  const load = intoDaemon && !o.dryRun ? dockerLoad(docker) : undefined;
  const tags = intoDaemon ? [stripScheme(s.output)] : [];
  const editing = runEdit(
    { input: save ? save.input : s.input, output: load ? load.stdin : intoDaemon ? '' : s.output, edits: s.edits, tags, dryRun: o.dryRun, ...asked },
    o,
    daemon ? { daemon } : {},
  );
  let code: number;
  try {
    code = await editing;
  } catch (e) {
    // never let `docker load` see a complete archive, nor wait for one
    load?.stdin.destroy();
    await load?.loaded.catch(() => undefined);
    // a failed `docker save` explains the broken stream better than the stream does
    await save?.saved;
    throw e;
  }
  await save?.saved;
  if (load) {
    const said = await load.loaded;
    if (!o.quiet && said) writeStderr(`${said.split('\n').map(escapeControl).join('\n')}\n`);
  }
  return code;
}

type YargsModule = typeof import('yargs');
let importYargs: () => Promise<YargsModule> = () => import('yargs');

/**
 * Import yargs through `load` from now on. bin/load-cli.cjs passes its own import(): the bundle
 * runs there as a vm script compiled from a code cache, and such a script cannot import() (V8
 * keeps no import callback in a cache made by another process).
 */
export function useYargsImport(load: () => Promise<YargsModule>): void {
  importYargs = load;
}

/**
 * The full parser, for what fastParse leaves (src/cli/fast-argv.ts): help pages, errors and every
 * unusual spelling. Imported here only: loading yargs is 50-100 ms of a run's start-up.
 * `run` is the tests' hook to see the values without running the command.
 */
export async function runYargs(argv: readonly string[], run = (c: Command, parsed: Record<string, unknown>) => c.runParsed(parsed, { argv })): Promise<number> {
  const { default: yargs } = await importYargs();
  const { rest } = extractEdits(argv);
  // yargs reads a lone "-" positional as `true`; carry it through under another name
  const STDIO = '\u0000stdio';
  const restore = (v: unknown): unknown => (v === STDIO ? '-' : Array.isArray(v) ? v.map(restore) : v);
  let code: number = ExitCode.OK;
  let parser: Argv = hideTypes(declare(yargs(rest.map((a) => (a === '-' ? STDIO : a))), GLOBAL_OPTIONS))
    .scriptName('copyedit')
    .usage('$0 <command> [options]\n\nEdit container image metadata offline, inside a docker save archive.');
  for (const c of COMMANDS) {
    parser = parser.command(
      c.command,
      c.describe,
      (y) => c.builder(y),
      async (a) => {
        const parsed = Object.fromEntries(Object.entries(a).map(([k, v]) => [k, restore(v)]));
        code = await run(c, parsed);
      },
    );
  }
  skipHelpCache(parser);
  await parser
    .demandCommand(1, 'name a command, e.g. copyedit edit in.tar -o out.tar --rm-volume all')
    .strict()
    .epilog(EPILOG)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(explainYargs(msg, argv));
    })
    .help()
    .version(ownVersion())
    .parseAsync();
  return code;
}

/**
 * No `[string] [array] [required] [default: []]` after each option in --help: the texts say the
 * value's form, the choices and what repeats. (yargs 18 has usageConfiguration; @types/yargs 17 does not.)
 */
function hideTypes(y: Argv): Argv {
  return (y as Argv & { usageConfiguration(c: Record<string, boolean>): Argv }).usageConfiguration({ 'hide-types': true });
}

/**
 * yargs renders the command's whole help page after every command it runs, to show it on a later
 * failure: about 70 ms of text wrapping on each `copyedit edit` (measured with --cpu-prof: cliui,
 * wrap-ansi, string-width). copyedit never shows help on a failure (its .fail() throws a one-line
 * error), so that page is never read: skip rendering it. `--help` renders its page itself.
 */
function skipHelpCache(parser: unknown): void {
  type Usage = { cacheHelpMessage?: () => void };
  const usage = (parser as { getInternalMethods?: () => { getUsageInstance?: () => Usage } }).getInternalMethods?.().getUsageInstance?.();
  if (typeof usage?.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
}

/** yargs' `Unknown arguments: rm-volumes, rmVolumes` -> `unknown option --rm-volumes; did you mean --rm-volume?` */
function explainYargs(msg: string, argv: readonly string[]): string {
  const cmdName = argv.find((a) => !a.startsWith('-'));
  const cmd = COMMANDS.find((c) => c.name === cmdName);
  const help = cmd ? `copyedit ${cmdName} --help` : 'copyedit --help';
  const unknown = unknownFlags(msg);
  const own = ownMessage(msg, cmdName, help);
  if (own) return own;
  // yargs' other messages say what is wrong; add where to look
  if (!unknown) return `${msg.replace(/\n\s*/g, ' ').replace(/[.\s]+$/, '')} (see ${help})`;
  const known = [...GLOBAL_FLAGS, ...(cmd ? commandFlags(cmd) : [])];
  const parts = unknown.map((u) => {
    if (argv.some((a) => a === `--no-${u}`)) return `unknown option --no-${u}${didYouMeanFlag(`no-${u}`, known)}`;
    const asFlag = argv.some((a) => a === `--${u}` || a.startsWith(`--${u}=`) || a === `-${u}`);
    return asFlag ? `unknown option --${u}${didYouMeanFlag(u, known)}` : `unexpected argument "${u}"`;
  });
  return `${parts.join('; ')} (see ${help})`;
}

/** What each command needs, for a command line that gives it too few words. */
const NEEDS: Record<string, string> = {
  edit: 'an input archive (or - for standard input): copyedit edit in.tar -o out.tar --rm-volume all',
  inspect: 'an archive (or - for standard input): copyedit inspect in.tar',
  verify: 'an archive (or - for standard input): copyedit verify in.tar',
  diff: 'two archives: copyedit diff before.tar after.tar',
  completion: 'a shell, bash or zsh: copyedit completion bash',
};

/**
 * Our own one-line messages for yargs' texts that a user meets: a missing argument
 * (`Not enough non-option arguments: got 0, need at least 1`) and a value outside the choices
 * (`Invalid values: Argument: format, Given: "foo", Choices: ...`).
 */
function ownMessage(msg: string, cmdName: string | undefined, help: string): string | undefined {
  if (/^Not enough non-option arguments/.test(msg)) {
    const need = cmdName ? NEEDS[cmdName] : undefined;
    return `${cmdName ? `${cmdName} needs ` : 'missing argument; '}${need ?? 'more arguments'} (see ${help})`;
  }
  const bad = /Invalid values:\s*Argument: ([\w-]+), Given: "((?:[^"\\]|\\.)*)", Choices: (.*)$/s.exec(msg.trim());
  if (bad) {
    const choices = [...bad[3]!.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
    const near = closest(bad[2]!, choices);
    const positional = COMMANDS.find((c) => c.name === cmdName)?.options[bad[1]!]?.positional === true;
    return `${positional ? `${cmdName} ${bad[2]}` : `--${bad[1]} ${bad[2]}`}: not a choice; choose one of ${choices.join(', ')}${near ? ` (did you mean ${near}?)` : ''}`;
  }
  return undefined;
}

/**
 * One message per error, control characters escaped (entry names and tags come from the archive).
 * A line break followed by two spaces is the one a message may hold on purpose (a list under it).
 */
function reportError(e: unknown, debug: boolean): number {
  const text = (m: string) => m.split('\n  ').map(escapeControl).join('\n  ');
  if (e instanceof CopyeditError) {
    writeStderr(`copyedit: error: ${text(e.message)}\n`);
    if (debug && e.stack) writeStderr(`${e.stack}\n`);
    return e.exitCode;
  }
  writeStderr(`copyedit: internal error: ${text((e as Error)?.message ?? String(e))}\n`);
  if (debug) writeStderr(`${(e as Error)?.stack ?? ''}\n`);
  else writeStderr('Run again with --debug and report the output.\n');
  return ExitCode.INTERNAL;
}

/** On Ctrl-C or SIGTERM: remove any half-written output, then exit with 128+signal. */
function onSignals(): () => void {
  const handler = (sig: 'SIGINT' | 'SIGTERM') => () => {
    removePendingOutputsSync();
    const err = new InterruptedError(sig);
    process.stderr.write(`copyedit: ${err.message}\n`);
    process.exit(err.exitCode);
  };
  const onInt = handler('SIGINT');
  const onTerm = handler('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
}

/** $SOURCE_DATE_EPOCH counts in the sentence form too (SET SOURCE_DATE_EPOCH overrides it). */
function envEpoch(): { sourceDateEpoch?: number } {
  const v = process.env.SOURCE_DATE_EPOCH;
  return v ? epochOption(v) : {};
}
