import type { Argv } from 'yargs';
import { ExitCode } from '../../errors.js';
import { diffArchives } from '../../inspect/index.js';
import { formatDiff } from '../show/diff.js';
import { styleFor } from '../show/style.js';
import type { Command } from './types.js';

export const diffCommand: Command = {
  command: 'diff <a> <b>',
  describe: "show what differs between two archives' images: image IDs, tags, config fields, layers",
  builder(y: Argv) {
    return y
      .positional('a', { type: 'string', describe: 'first archive (or - for standard input)' })
      .positional('b', { type: 'string', describe: 'second archive (or - for standard input, if a is not)' })
      .option('trunc', { type: 'boolean', default: true, describe: 'shorten layer digests to 12 hex digits (--no-trunc: in full)' });
  },
  async run(args) {
    const d = await diffArchives(String(args.a), String(args.b));
    if (args.json) process.stdout.write(`${JSON.stringify(d, null, 2)}\n`);
    else if (!args.quiet) process.stdout.write(`${formatDiff(d, styleFor(process.stdout), args.trunc === false)}\n`);
    return ExitCode.OK;
  },
};
