import type { Argv } from 'yargs';
import { ExitCode } from '../../errors.js';
import { inspectArchive } from '../../inspect/index.js';
import { formatInspect } from '../show/inspect.js';
import { styleFor } from '../show/style.js';
import type { Command } from './types.js';
import { escapeDeep, jsonText, writeStdout } from '../out.js';

export const inspectCommand: Command = {
  command: 'inspect <archive>',
  describe: 'show every image in an archive: tags, IDs, manifest/index digests, runtime config, layers with their digests',
  builder(y: Argv) {
    return y
      .positional('archive', { type: 'string', describe: 'archive file, or - for standard input (gzip/zstd/xz/bzip2 are undone)' })
      .option('trunc', { type: 'boolean', default: true, describe: 'shorten layer digests to 12 hex digits, like docker (--no-trunc: in full)' });
  },
  async run(args) {
    const report = await inspectArchive(String(args.archive));
    if (args.json) await writeStdout(`${jsonText(report)}\n`);
    else if (!args.quiet) await writeStdout(`${formatInspect(escapeDeep(report), styleFor(process.stdout), args.trunc === false)}\n`);
    return ExitCode.OK;
  },
};
