import type { Argv } from 'yargs';
import { EDIT_SPECS, splitKeyValue } from '../../edit/index.js';
import { mkdir } from 'node:fs/promises';
import { basename } from 'node:path';
import { ExitCode, UsageError, ioError } from '../../errors.js';
import { batchExitCode, expandInputs, formatBatch, planJobs, runBatch } from '../batch.js';
import { type Progress, startProgress } from '../progress.js';
import { type EditArchiveOptions, editArchive } from '../../pipeline.js';
import { extractEdits } from '../argv.js';
import { formatReport, jsonReport } from '../report.js';
import type { Command, CommonOptions } from './types.js';
import { formatVerifiedLine } from '../show/verify.js';
import { escapeControl, escapeDeep, jsonText, writeStderr, writeStdout } from '../out.js';

export const editCommand: Command = {
  command: 'edit <inputs..>',
  describe: 'edit image configs in an archive (or many) and write new archives',
  builder(y: Argv) {
    y.positional('inputs', { type: 'string', array: true, describe: 'archive file(s), or - for standard input (gzip/zstd/xz/bzip2 are undone)' })
      .option('output', { alias: 'o', type: 'string', describe: 'output archive, or - for standard output (required unless --dry-run or --out-dir)' })
      .option('out-dir', { type: 'string', describe: 'batch: write each edited archive under this directory, same file name' })
      .option('jobs', { alias: 'j', type: 'number', describe: 'batch: archives edited at once (default: number of CPUs)' })
      .option('fail-fast', { type: 'boolean', default: false, describe: 'batch: stop at the first failure (default: edit the others, report at the end)' })
      .option('fsync', { type: 'boolean', default: true, describe: 'fsync the output before renaming it into place (--no-fsync: faster, but a crash may leave a torn file)' })
      .option('gzip', { type: 'boolean', default: false, describe: 'gzip the output (default when -o ends in .tar.gz or .tgz)' })
      .option('zstd', { type: 'boolean', default: false, describe: 'zstd-compress the output (default when -o ends in .tar.zst)' })
      .option('image', { type: 'string', array: true, default: [], describe: 'edit only this image (tag, reference or ID prefix); repeatable' })
      .option('tag', { type: 'string', array: true, default: [], describe: 'give the edited image these tags instead of its own; repeatable' })
      .option('keep-original', { type: 'boolean', default: false, describe: 'keep the unedited image (and its tags) in the archive too; needs --tag' })
      .option('history', { type: 'boolean', default: true, describe: 'record the edit as an empty-layer history entry (--no-history: do not)' })
      .option('annotation', { type: 'string', array: true, default: [], describe: 'set an OCI manifest annotation KEY=VALUE; repeatable' })
      .option('rm-annotation', { type: 'string', array: true, default: [], describe: 'remove an OCI manifest annotation; repeatable' })
      .option('verify', { type: 'boolean', default: false, describe: 'recompute every digest of the output while writing it; exit 5 (and no output) if any fails' })
      .option('dry-run', { alias: ['dryrun', 'z'], type: 'boolean', default: false, describe: 'show what would change, write nothing' })
      .group(
        EDIT_SPECS.map((s) => s.flag),
        'Edits (applied in the order given):',
      );
    for (const s of EDIT_SPECS) y.option(s.flag, { type: s.value ? 'string' : 'boolean', describe: s.help, ...(s.value ? { requiresArg: true } : {}) });
    return y;
  },
  async run(args, ctx) {
    const { edits, tokens, warnings } = extractEdits(ctx.argv);
    if (!args.quiet) for (const w of warnings) writeStderr(`copyedit: warning: ${escapeControl(w)}\n`);
    const set = Object.fromEntries(((args.annotation as string[]) ?? []).map((a) => splitKeyValue('annotation', a)));
    const remove = (args['rm-annotation'] as string[]) ?? [];
    if (args.gzip && args.zstd) throw new UsageError('choose one of --gzip and --zstd');
    const compress = args.gzip ? 'gzip' : args.zstd ? 'zstd' : undefined;
    const inputs = (args.inputs as string[]).map(String);
    const outDir = args['out-dir'] as string | undefined;
    if (inputs.length > 1 || outDir !== undefined) {
      if (args.output !== undefined) throw new UsageError('-o names one output; for several archives use --out-dir DIR');
      if (outDir === undefined) throw new UsageError(`${inputs.length} inputs: name a directory for the results with --out-dir DIR`);
      if (args['dry-run']) throw new UsageError('--dry-run takes one archive at a time');
      const jobs = planJobs(expandInputs(inputs), outDir);
      await mkdir(outDir, { recursive: true }).catch((e: unknown) => {
        throw ioError('create', outDir, e);
      });
      const child = [
        ...tokens,
        ...((args.image as string[]) ?? []).map((i) => `--image=${i}`),
        ...((args.tag as string[]) ?? []).map((t) => `--tag=${t}`),
        ...(args['keep-original'] ? ['--keep-original'] : []),
        ...(args.history === false ? ['--no-history'] : []),
        ...((args.annotation as string[]) ?? []).map((a) => `--annotation=${a}`),
        ...remove.map((a) => `--rm-annotation=${a}`),
        ...(compress ? [`--${compress}`] : []),
        ...(args.fsync === false ? ['--no-fsync'] : []),
        ...(args.verify ? ['--verify'] : []),
        ...(args.debug ? ['--debug'] : []),
      ];
      if (edits.length === 0 && !(args.tag as string[])?.length && !Object.keys(set).length && !remove.length) {
        throw new UsageError('no edits given; see copyedit edit --help');
      }
      const results = await runBatch(jobs, child, { ...(args.jobs ? { jobs: Number(args.jobs) } : {}), failFast: args['fail-fast'] === true, quiet: args.quiet });
      if (args.json) await writeStdout(`${jsonText(results)}\n`);
      else writeStderr(`${formatBatch(results)}\n`);
      return batchExitCode(results);
    }
    return runEdit(
      {
        input: inputs[0]!,
        output: args.output === undefined ? '' : String(args.output),
        edits,
        images: (args.image as string[]) ?? [],
        tags: (args.tag as string[]) ?? [],
        keepOriginal: args['keep-original'] === true,
        history: args.history !== false,
        annotations: { set, remove },
        dryRun: args['dry-run'] === true,
        verify: args.verify === true,
        ...(compress ? { compress } : {}),
        fsync: args.fsync !== false,
      },
      args,
    );
  },
};

/** Shared by the flag form, the sentence form and daemon mode. */
export async function runEdit(opts: EditArchiveOptions & { output: string | import('node:stream').Writable }, o: CommonOptions): Promise<number> {
  const hasAnnotations = Object.keys(opts.annotations?.set ?? {}).length > 0 || (opts.annotations?.remove?.length ?? 0) > 0;
  if (opts.edits.length === 0 && !opts.tags?.length && !hasAnnotations) {
    throw new UsageError('no edits given; see copyedit edit --help for --rm-volume, --entrypoint and the rest');
  }
  if (!opts.dryRun && opts.output === '') throw new UsageError('name the output with -o FILE (or -o - for standard output), or use --dry-run');
  let progress: Progress | undefined;
  const report = await editArchive({
    ...opts,
    onInput: (src) => {
      progress = startProgress(basename(src.label), src.bytesRead, src.size, !o.quiet && !o.json);
    },
  }).finally(() => progress?.stop());
  const stdoutFree = opts.output !== '-';
  const print = async (text: string, toStdout: boolean) => (toStdout ? writeStdout(text) : writeStderr(text));
  if (o.json) await print(`${jsonReport(report)}\n`, stdoutFree);
  else if (!o.quiet || opts.dryRun) await print(`${formatReport(report, opts.dryRun === true)}\n`, opts.dryRun === true && stdoutFree);
  if (report.verification && !o.quiet && !o.json) writeStderr(`${formatVerifiedLine(escapeDeep(report.verification))}\n`);
  return ExitCode.OK;
}
