import type { Argv } from 'yargs';
import { EDIT_SPECS, splitKeyValue } from '../../edit/index.js';
import { ExitCode, UsageError } from '../../errors.js';
import { type EditArchiveOptions, editArchive } from '../../pipeline.js';
import { extractEdits } from '../argv.js';
import { formatReport, jsonReport } from '../report.js';
import type { Command, CommonOptions } from './types.js';

export const editCommand: Command = {
  command: 'edit <input>',
  describe: 'edit image configs in an archive and write a new archive',
  builder(y: Argv) {
    y.positional('input', { type: 'string', describe: 'archive file, or - for standard input (gzip/zstd/xz/bzip2 are undone)' })
      .option('output', { alias: 'o', type: 'string', describe: 'output archive, or - for standard output (required unless --dry-run)' })
      .option('image', { type: 'string', array: true, default: [], describe: 'edit only this image (tag, reference or ID prefix); repeatable' })
      .option('tag', { type: 'string', array: true, default: [], describe: 'give the edited image these tags instead of its own; repeatable' })
      .option('keep-original', { type: 'boolean', default: false, describe: 'keep the unedited image (and its tags) in the archive too; needs --tag' })
      .option('history', { type: 'boolean', default: true, describe: 'record the edit as an empty-layer history entry (--no-history: do not)' })
      .option('annotation', { type: 'string', array: true, default: [], describe: 'set an OCI manifest annotation KEY=VALUE; repeatable' })
      .option('rm-annotation', { type: 'string', array: true, default: [], describe: 'remove an OCI manifest annotation; repeatable' })
      .option('dry-run', { alias: ['dryrun', 'z'], type: 'boolean', default: false, describe: 'show what would change, write nothing' })
      .group(
        EDIT_SPECS.map((s) => s.flag),
        'Edits (applied in the order given):',
      );
    for (const s of EDIT_SPECS) y.option(s.flag, { type: s.value ? 'string' : 'boolean', describe: s.help, ...(s.value ? { requiresArg: true } : {}) });
    return y;
  },
  async run(args, ctx) {
    const { edits } = extractEdits(ctx.argv);
    const set = Object.fromEntries(((args.annotation as string[]) ?? []).map((a) => splitKeyValue('annotation', a)));
    const remove = (args['rm-annotation'] as string[]) ?? [];
    return runEdit(
      {
        input: String(args.input),
        output: args.output === undefined ? '' : String(args.output),
        edits,
        images: (args.image as string[]) ?? [],
        tags: (args.tag as string[]) ?? [],
        keepOriginal: args['keep-original'] === true,
        history: args.history !== false,
        annotations: { set, remove },
        dryRun: args['dry-run'] === true,
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
  const report = await editArchive(opts);
  const stdoutFree = opts.output !== '-';
  if (o.json) (stdoutFree ? process.stdout : process.stderr).write(`${jsonReport(report)}\n`);
  else if (!o.quiet || opts.dryRun) (opts.dryRun && stdoutFree ? process.stdout : process.stderr).write(`${formatReport(report, opts.dryRun === true)}\n`);
  return ExitCode.OK;
}
