import { ExitCode, UsageError } from '../../errors.js';
import { catImageFile, exportImage, listImageDir } from '../../content/index.js';
import type { MergedEntry } from '../../content/merge.js';
import { escapeControl, jsonText, writeStdout } from '../out.js';
import { defineCommand } from './types.js';

const ARCHIVE = { positional: true, type: 'string', describe: 'archive file, OCI layout directory, or - for standard input (gzip/zstd/xz/bzip2 are undone)' } as const;
const IMAGE = { type: 'string', value: 'IMAGE', describe: 'which image of the archive: a tag, reference or digest (prefix); needed when it holds several' } as const;
const PLATFORM = { type: 'string', value: 'OS/ARCH[/VARIANT]', describe: 'which platform of a multi-platform image' } as const;

function epoch(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--source-date-epoch ${v}: expected whole seconds since 1970 (as SOURCE_DATE_EPOCH)`);
  return Number(v);
}

export const exportCommand = defineCommand({
  command: 'export <archive>',
  describe: "write an image's merged filesystem (its layers applied, whiteouts and all) as one tar, like docker export of a container made from it; nothing is unpacked",
  options: {
    archive: ARCHIVE,
    output: { type: 'string', alias: 'o', value: 'FILE', describe: 'where the tar goes (- for standard output)' },
    image: IMAGE,
    platform: PLATFORM,
    'source-date-epoch': { type: 'string', value: 'SECONDS', describe: 'clamp every mtime to this time (default: $SOURCE_DATE_EPOCH if set)' },
  },
  examples: [['$0 export app.tar -o rootfs.tar', 'the merged filesystem of the one image in app.tar']],
  async run(args) {
    if (args.output === undefined) throw new UsageError('export needs -o FILE (or -o - for standard output)');
    const sde = epoch(args['source-date-epoch'] ?? process.env.SOURCE_DATE_EPOCH);
    const report = await exportImage(String(args.archive), args.output, {
      ...(args.image !== undefined ? { image: args.image } : {}),
      ...(args.platform !== undefined ? { platform: args.platform } : {}),
      ...(sde !== undefined ? { sourceDateEpoch: sde } : {}),
    });
    if (args.json) process.stderr.write(`${jsonText(report)}\n`);
    else if (!args.quiet && args.output !== '-')
      process.stderr.write(`${escapeControl(report.image)}: ${report.entries} entries, ${report.contentBytes} bytes of content from ${report.layers} layers -> ${escapeControl(args.output)}\n`);
    return ExitCode.OK;
  },
} as const);

export const catCommand = defineCommand({
  command: 'cat <archive> <path>',
  describe: "print one file of an image's merged filesystem (symbolic links followed inside the image's root only)",
  options: { archive: ARCHIVE, path: { positional: true, type: 'string', describe: 'the file, e.g. /etc/os-release' }, image: IMAGE, platform: PLATFORM },
  async run(args) {
    await catImageFile(String(args.archive), String(args.path), process.stdout, {
      ...(args.image !== undefined ? { image: args.image } : {}),
      ...(args.platform !== undefined ? { platform: args.platform } : {}),
    });
    return ExitCode.OK;
  },
} as const);

export const lsCommand = defineCommand({
  command: 'ls <archive> [path]',
  describe: "list one directory of an image's merged filesystem (default /), like ls; -l with mode, owner, size, time and link target",
  options: {
    archive: ARCHIVE,
    path: { positional: true, type: 'string', describe: 'the directory (default /)' },
    long: { type: 'boolean', alias: 'l', default: false, describe: 'long listing: mode, owner, size, mtime, link target' },
    image: IMAGE,
    platform: PLATFORM,
  },
  async run(args) {
    const entries = await listImageDir(String(args.archive), args.path ?? '/', {
      ...(args.image !== undefined ? { image: args.image } : {}),
      ...(args.platform !== undefined ? { platform: args.platform } : {}),
    });
    if (args.json) await writeStdout(`${jsonText(entries)}\n`);
    else await writeStdout(entries.map((e) => `${args.long ? longLine(e) : escapeControl(e.path.slice(e.path.lastIndexOf('/') + 1))}\n`).join(''));
    return ExitCode.OK;
  },
} as const);

const TYPE_CHAR: Record<string, string> = { directory: 'd', symlink: 'l', 'character-device': 'c', 'block-device': 'b', fifo: 'p', link: '-', file: '-', 'contiguous-file': '-' };

/** `ls -l`'s columns: mode, owner, size (or device numbers), mtime (UTC), name, link target. */
export function longLine(e: MergedEntry): string {
  const m = e.mode;
  const rwx = (s: number, x: number, special: number, ch: string) => `${m & s ? 'r' : '-'}${m & (s >> 1) ? 'w' : '-'}${m & special ? (m & x ? ch : ch.toUpperCase()) : m & x ? 'x' : '-'}`;
  const mode = `${TYPE_CHAR[e.type] ?? '?'}${rwx(0o400, 0o100, 0o4000, 's')}${rwx(0o40, 0o10, 0o2000, 's')}${rwx(0o4, 0o1, 0o1000, 't')}`;
  const size = e.type === 'character-device' || e.type === 'block-device' ? `${e.devmajor}, ${e.devminor}` : String(e.size);
  const name = escapeControl(e.path.slice(e.path.lastIndexOf('/') + 1));
  const link = e.type === 'symlink' ? ` -> ${escapeControl(e.linkname)}` : e.type === 'link' ? ` => /${escapeControl(e.linkname)}` : '';
  return `${mode} ${e.uid}/${e.gid} ${size.padStart(9)} ${e.mtime.toISOString().slice(0, 16).replace('T', ' ')} ${name}${link}`;
}
