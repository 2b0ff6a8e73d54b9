import { ExitCode, VerifyError } from '../../errors.js';
import { verifyArchive } from '../../verify/index.js';
import { styleFor } from '../show/style.js';
import { formatVerify, plural } from '../show/verify.js';
import { escapeDeep, jsonText, writeStdout } from '../out.js';
import { defineCommand } from './types.js';

export const verifyCommand = defineCommand({
  command: 'verify <archive>',
  describe: 'recompute every digest in an archive (blob names, descriptors and sizes, DiffIDs, manifest.json); exit 5 on any mismatch',
  options: {
    archive: { positional: true, type: 'string', describe: 'archive file, or - for standard input (gzip/zstd/xz/bzip2 are undone)' },
    strict: { type: 'boolean', default: false, describe: 'also fail (exit 5) when a check could not be made, e.g. a zstd layer on a Node without zstd' },
  },
  async run(args) {
    const report = await verifyArchive(String(args.archive));
    if (args.json) await writeStdout(`${jsonText(report)}\n`);
    else if (!args.quiet || !report.ok) await writeStdout(`${formatVerify(escapeDeep(report), styleFor(process.stdout))}\n`);
    // each failure is listed once, in the report on stdout; stderr gets one line for scripts
    if (!report.ok) throw new VerifyError(`${report.label}: ${plural(report.issues.length, 'digest check')} failed (listed ${args.json ? 'in the report' : 'above'})`);
    if (args.strict && report.unverified.length) {
      throw new VerifyError(`${report.label}: ${plural(report.unverified.length, 'check')} could not be made (--strict): ${report.unverified[0]}`);
    }
    return ExitCode.OK;
  },
} as const);
