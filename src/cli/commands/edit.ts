import type { Argv } from 'yargs';
import { type ConfigEdit, EDIT_SPECS } from '../../edit/index.js';
import { ExitCode, UsageError } from '../../errors.js';
import { editArchive } from '../../pipeline.js';
import { extractEdits } from '../argv.js';
import { formatReport, jsonReport } from '../report.js';
import type { Command, CommonOptions } from './types.js';

export const editCommand: Command = {
  command: 'edit <input>',
  describe: 'edit image configs in an archive and write a new archive',
  builder(y: Argv) {
    y.positional('input', { type: 'string', describe: 'archive file, or - for standard input (gzip/zstd/xz/bzip2 are undone)' })
      .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'output archive, or - for standard output' })
      .option('image', { type: 'string', array: true, default: [], describe: 'edit only this image (tag, reference or ID prefix); repeatable' })
      .group(
        EDIT_SPECS.map((s) => s.flag),
        'Edits (applied in the order given):',
      );
    for (const s of EDIT_SPECS) y.option(s.flag, { type: s.value ? 'string' : 'boolean', describe: s.help, ...(s.value ? { requiresArg: true } : {}) });
    return y;
  },
  async run(args, ctx) {
    const { edits } = extractEdits(ctx.argv);
    return runEdit(String(args.input), String(args.output), edits, (args.image as string[]) ?? [], args);
  },
};

/** Shared by the flag form and the sentence form. */
export async function runEdit(input: string, output: string, edits: ConfigEdit[], images: string[], o: CommonOptions): Promise<number> {
  if (edits.length === 0) throw new UsageError('no edits given; see copyedit edit --help for --rm-volume, --entrypoint and the rest');
  const report = await editArchive({ input, output, edits, images });
  const toStdout = output !== '-';
  if (o.json) (toStdout ? process.stdout : process.stderr).write(`${jsonReport(report)}\n`);
  else if (!o.quiet) process.stderr.write(`${formatReport(report)}\n`);
  return ExitCode.OK;
}
