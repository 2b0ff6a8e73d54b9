import yargs from 'yargs';
import { EDIT_SPECS, type ConfigEdit } from '../edit/index.js';
import { CopyeditError, ExitCode, InterruptedError, UsageError } from '../errors.js';
import { removePendingOutputsSync } from '../io/sink.js';
import { editArchive } from '../pipeline.js';
import { extractEdits } from './argv.js';
import { formatReport, jsonReport } from './report.js';
import { parseSentence } from './sentence.js';

const EPILOG = `Sentence form (docker-copyedit compatible):
  copyedit FROM in.tar INTO out.tar REMOVE ALL VOLUMES AND SET CMD /start.sh

Exit codes: 0 ok, 2 usage, 3 bad archive, 4 edit not applicable, 5 verification failed,
6 I/O error, 130/143 interrupted, 1 internal error (please report with --debug).`;

interface Common {
  debug: boolean;
  quiet: boolean;
  json: boolean;
}

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
  const flags = argv.filter((a) => a.startsWith('-') && a.length > 1);
  const words = argv.filter((a) => !(a.startsWith('-') && a.length > 1));
  const s = parseSentence(words);
  return runEdit(s.input, s.output, s.edits, [], { debug: flags.includes('--debug'), quiet: flags.includes('--quiet') || flags.includes('-q'), json: flags.includes('--json') });
}

async function runYargs(argv: readonly string[]): Promise<number> {
  const { edits, rest } = extractEdits(argv);
  // yargs reads a lone "-" positional as `true`; carry it through under another name
  const STDIO = '\u0000stdio';
  const fromStdio = (v: string) => (v === STDIO ? '-' : v);
  let code: number = ExitCode.OK;
  const parser = yargs(rest.map((a) => (a === '-' ? STDIO : a)))
    .scriptName('copyedit')
    .usage('$0 <command> [options]\n\nEdit container image metadata offline, inside a docker save archive.')
    .option('debug', { type: 'boolean', default: false, describe: 'print stack traces for errors' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print nothing but errors' })
    .option('json', { type: 'boolean', default: false, describe: 'print a machine-readable report' })
    .command(
      'edit <input>',
      'edit image configs in an archive and write a new archive',
      (y) => {
        y.positional('input', { type: 'string', describe: 'archive file, or - for standard input (gzip/zstd/xz/bzip2 are undone)' })
          .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'output archive, or - for standard output' })
          .option('image', { type: 'string', array: true, default: [], describe: 'edit only this image (tag, reference or ID prefix); repeatable' })
          .group(EDIT_SPECS.map((s) => s.flag), 'Edits (applied in the order given):');
        for (const s of EDIT_SPECS) y.option(s.flag, { type: s.value ? 'string' : 'boolean', describe: s.help, ...(s.value ? { requiresArg: true } : {}) });
        return y;
      },
      async (a) => {
        const args = a as unknown as Common & { input: string; output: string; image: string[] };
        code = await runEdit(fromStdio(args.input), fromStdio(args.output), edits, args.image, args);
      },
    )
    .demandCommand(1, 'name a command, e.g. copyedit edit in.tar -o out.tar --rm-volume all')
    .strict()
    .epilog(EPILOG)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    })
    .help()
    .version();
  await parser.parseAsync();
  return code;
}

async function runEdit(input: string, output: string, edits: ConfigEdit[], images: string[], o: Common): Promise<number> {
  if (edits.length === 0) throw new UsageError('no edits given; see copyedit edit --help for --rm-volume, --entrypoint and the rest');
  const report = await editArchive({ input, output, edits, images });
  const toStdout = output !== '-';
  if (o.json) (toStdout ? process.stdout : process.stderr).write(`${jsonReport(report)}\n`);
  else if (!o.quiet) process.stderr.write(`${formatReport(report)}\n`);
  return ExitCode.OK;
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
