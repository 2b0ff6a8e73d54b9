import yargs from 'yargs';
import { CopyeditError, ExitCode, InterruptedError, UsageError } from '../errors.js';
import { removePendingOutputsSync } from '../io/sink.js';
import { extractEdits } from './argv.js';
import { COMMANDS } from './commands/index.js';
import { runEdit } from './commands/edit.js';
import type { CommonOptions } from './commands/types.js';
import { parseSentence } from './sentence.js';

const EPILOG = `Sentence form (docker-copyedit compatible):
  copyedit FROM in.tar INTO out.tar REMOVE ALL VOLUMES AND SET CMD /start.sh

Exit codes: 0 ok, 2 usage, 3 bad archive, 4 edit not applicable, 5 verification failed,
6 I/O error, 130/143 interrupted, 1 internal error (please report with --debug).`;

/** Run the CLI; returns the exit code. Never throws for user mistakes. */
export async function main(argv: readonly string[]): Promise<number> {
  const debug = argv.includes('--debug');
  const stop = onSignals();
  try {
    if ((argv[0] ?? '').toUpperCase() === 'FROM') return await runSentence(argv);
    return await runYargs(argv);
  } catch (e) {
    return reportError(e, debug);
  } finally {
    stop();
  }
}

async function runSentence(argv: readonly string[]): Promise<number> {
  const isFlag = (a: string) => a.startsWith('-') && a.length > 1;
  const flags = argv.filter(isFlag);
  const s = parseSentence(argv.filter((a) => !isFlag(a)));
  const o: CommonOptions = { debug: flags.includes('--debug'), quiet: flags.includes('--quiet') || flags.includes('-q'), json: flags.includes('--json') };
  return runEdit(s.input, s.output, s.edits, [], o);
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
