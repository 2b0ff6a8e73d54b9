import yargs from 'yargs';
import { CopyeditError, ExitCode, InterruptedError, UsageError } from '../errors.js';
import { removePendingOutputsSync } from '../io/sink.js';
import { extractEdits } from './argv.js';
import { COMMANDS } from './commands/index.js';
import { runEdit } from './commands/edit.js';
import type { CommonOptions } from './commands/types.js';
import { parseSentence } from './sentence.js';
import { dockerLoad, dockerSave, isDaemonRef, stripScheme } from './daemon.js';

const EPILOG = `Sentence form (docker-copyedit compatible):
  copyedit FROM in.tar INTO out.tar REMOVE ALL VOLUMES AND SET CMD /start.sh

Exit codes: 0 ok, 2 usage, 3 bad archive, 4 edit not applicable, 5 verification failed,
6 I/O error, 130/143 interrupted, 1 internal error (please report with --debug).`;

/** Run the CLI; returns the exit code. Never throws for user mistakes. */
export async function main(argv: readonly string[]): Promise<number> {
  const debug = argv.includes('--debug');
  const stop = onSignals();
  try {
    if (isSentence(argv)) return await runSentence(argv);
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
  if (first === undefined || COMMANDS.some((c) => c.command.split(' ')[0] === first)) return false;
  return words.includes('from') && words.includes('into');
}

async function runSentence(argv: readonly string[]): Promise<number> {
  // docker-copyedit's options: -v/-vv (more output), -z/--dryrun, plus ours
  const words: string[] = [];
  let docker = 'docker';
  const o: CommonOptions & { dryRun: boolean } = { debug: false, quiet: false, json: false, dryRun: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--docker') docker = argv[++i] ?? docker;
    else if (a.startsWith('--docker=')) docker = a.slice('--docker='.length);
    else if (a === '-z' || a === '--dryrun' || a === '--dry-run') o.dryRun = true;
    else if (a === '--debug') o.debug = true;
    else if (a === '-q' || a === '--quiet') o.quiet = true;
    else if (a === '--json') o.json = true;
    else if (/^-v+$/.test(a) || a === '--verbose') o.quiet = false;
    else if (a.startsWith('-') && a.length > 1) throw new UsageError(`unknown option ${a} in the sentence form`);
    else words.push(a);
  }
  const s = parseSentence(words);
  const fromDaemon = isDaemonRef(s.input, 'from');
  const intoDaemon = isDaemonRef(s.output, 'into', fromDaemon);
  if (!fromDaemon && !intoDaemon) return runEdit({ input: s.input, output: s.output, edits: s.edits, dryRun: o.dryRun }, o);
  // daemon mode: docker save | edit | docker load, INTO names the new tag
  const save = fromDaemon ? dockerSave(docker, stripScheme(s.input)) : undefined;
  const load = intoDaemon && !o.dryRun ? dockerLoad(docker) : undefined;
  const tags = intoDaemon ? [stripScheme(s.output)] : [];
  const editing = runEdit({ input: save ? save.input : s.input, output: load ? load.stdin : intoDaemon ? '' : s.output, edits: s.edits, tags, dryRun: o.dryRun }, o);
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
    if (!o.quiet && said) process.stderr.write(`${said}\n`);
  }
  return code;
}

async function runYargs(argv: readonly string[]): Promise<number> {
  const { rest } = extractEdits(argv);
  // yargs reads a lone "-" positional as `true`; carry it through under another name
  const STDIO = '\u0000stdio';
  const restore = (v: unknown): unknown => (v === STDIO ? '-' : Array.isArray(v) ? v.map(restore) : v);
  let code: number = ExitCode.OK;
  let parser = yargs(rest.map((a) => (a === '-' ? STDIO : a)))
    .scriptName('copyedit')
    .usage('$0 <command> [options]\n\nEdit container image metadata offline, inside a docker save archive.')
    .option('debug', { type: 'boolean', default: false, describe: 'print stack traces for errors' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print nothing but errors' })
    .option('json', { type: 'boolean', default: false, describe: 'print a machine-readable report' });
  for (const c of COMMANDS) {
    parser = parser.command(c.command, c.describe, (y) => c.builder(y), async (a) => {
      const args = Object.fromEntries(Object.entries(a).map(([k, v]) => [k, restore(v)])) as Record<string, unknown> & CommonOptions;
      code = await c.run(args, { argv });
    });
  }
  await parser
    .demandCommand(1, 'name a command, e.g. copyedit edit in.tar -o out.tar --rm-volume all')
    .strict()
    .epilog(EPILOG)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    })
    .help()
    .version()
    .parseAsync();
  return code;
}

function reportError(e: unknown, debug: boolean): number {
  if (e instanceof CopyeditError) {
    process.stderr.write(`copyedit: error: ${e.message}\n`);
    if (debug && e.stack) process.stderr.write(`${e.stack}\n`);
    return e.exitCode;
  }
  process.stderr.write(`copyedit: internal error: ${(e as Error)?.message ?? String(e)}\n`);
  if (debug) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
  else process.stderr.write('Run again with --debug and report the output.\n');
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
