import { ExitCode, UsageError } from '../../errors.js';
import { inspectArchive } from '../../inspect/index.js';
import { dockerView, parseTemplate, renderTemplate } from '../show/format.js';
import { formatInspect } from '../show/inspect.js';
import { styleFor } from '../show/style.js';
import { escapeDeep, jsonText, writeStdout } from '../out.js';
import { defineCommand } from './types.js';

export const inspectCommand = defineCommand({
  command: 'inspect <archive>',
  describe: 'show every image in an archive: tags, IDs, manifest/index digests, runtime config, layers with their digests',
  options: {
    archive: { positional: true, type: 'string', describe: 'archive file, or - for standard input (gzip/zstd/xz/bzip2 are undone)' },
    trunc: { type: 'boolean', default: true, describe: 'shorten layer digests to 12 hex digits, like docker (--no-trunc: in full)' },
    format: {
      type: 'string',
      alias: 'f',
      describe: "one line per image from a Go-style template: '{{.Config.Entrypoint}}', '{{json .Config}}', '{{.Id}}' (see README for the subset)",
    },
  },
  async run(args) {
    const format = args.format !== undefined ? parseTemplate(args.format) : undefined;
    if (format && args.json) throw new UsageError("choose one of --format and --json ({{json .Inspect}} gives one image's JSON per line)");
    const report = await inspectArchive(String(args.archive));
    if (format) await writeStdout(report.images.map((img) => `${renderTemplate(format, dockerView(img))}\n`).join(''));
    else if (args.json) await writeStdout(`${jsonText(report)}\n`);
    else if (!args.quiet) await writeStdout(`${formatInspect(escapeDeep(report), styleFor(process.stdout), !args.trunc)}\n`);
    return ExitCode.OK;
  },
} as const);
