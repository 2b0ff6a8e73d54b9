import type { Argv } from 'yargs';
import { ExitCode } from '../../errors.js';
import { inspectArchive } from '../../inspect/index.js';
import { formatInspect } from '../show/inspect.js';
import { styleFor } from '../show/style.js';
import type { Command } from './types.js';

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
    if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else if (!args.quiet) process.stdout.write(`${formatInspect(report, styleFor(process.stdout), args.trunc === false)}\n`);
    return ExitCode.OK;
  },
};
