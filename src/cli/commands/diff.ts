import { ExitCode } from '../../errors.js';
import { diffArchives } from '../../inspect/index.js';
import { formatDiff } from '../show/diff.js';
import { styleFor } from '../show/style.js';
import { escapeDeep, jsonText, writeStdout } from '../out.js';
import { defineCommand } from './types.js';

export const diffCommand = defineCommand({
  command: 'diff <a> <b>',
  describe: "show what differs between two archives' images: image IDs, tags, config fields, layers",
  options: {
    a: { positional: true, type: 'string', describe: 'first archive (or - for standard input)' },
    b: { positional: true, type: 'string', describe: 'second archive (or - for standard input, if a is not)' },
    trunc: { type: 'boolean', default: true, describe: 'shorten layer digests to 12 hex digits (--no-trunc: in full)' },
    'exit-code': { type: 'boolean', default: false, describe: 'exit 1 when the images differ, 0 when identical (as git diff --exit-code)' },
  },
  async run(args) {
    const d = await diffArchives(String(args.a), String(args.b));
    if (args.json) await writeStdout(`${jsonText(d)}\n`);
    else if (!args.quiet) await writeStdout(`${formatDiff(escapeDeep(d), styleFor(process.stdout), !args.trunc)}\n`);
    // as `git diff --exit-code`: 1 when they differ
    return args['exit-code'] && !d.identical ? 1 : ExitCode.OK;
  },
} as const);
