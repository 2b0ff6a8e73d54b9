import type { Argv } from 'yargs';
import { ExitCode, VerifyError } from '../../errors.js';
import { assertVerified, verifyArchive } from '../../verify/index.js';
import { styleFor } from '../show/style.js';
import { formatVerify } from '../show/verify.js';
import type { Command } from './types.js';

export const verifyCommand: Command = {
  command: 'verify <archive>',
  describe: 'recompute every digest in an archive (blob names, descriptors and sizes, DiffIDs, manifest.json); exit 5 on any mismatch',
  builder(y: Argv) {
    return y
      .positional('archive', { type: 'string', describe: 'archive file, or - for standard input (gzip/zstd/xz/bzip2 are undone)' })
      .option('strict', { type: 'boolean', default: false, describe: 'also fail (exit 5) when a check could not be made, e.g. a zstd layer on a Node without zstd' });
  },
  async run(args) {
    const report = await verifyArchive(String(args.archive));
    if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else if (!args.quiet || !report.ok) process.stdout.write(`${formatVerify(report, styleFor(process.stdout))}\n`);
    assertVerified(report);
    if (args.strict && report.unverified.length) {
      throw new VerifyError(`${report.label}: ${report.unverified.length} check${report.unverified.length === 1 ? '' : 's'} could not be made (--strict): ${report.unverified[0]}`);
    }
    return ExitCode.OK;
  },
};
