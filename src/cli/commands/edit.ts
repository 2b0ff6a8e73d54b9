import { EDIT_SPECS, splitKeyValue } from '../edit-specs.js';
import { type Platform, parsePlatform } from '../../archive/graph.js';
import { MAX_EPOCH, epochTime, strictSecrets } from '../../edit/history.js';
import { mkdir } from 'node:fs/promises';
import { basename } from 'node:path';
import { ExitCode, UsageError, ioError } from '../../errors.js';
import { checkTag } from '../../reference.js';
import { batchExitCode, expandInputs, formatBatch, planJobs, runBatch } from '../batch.js';
import { type Progress, startProgress } from '../progress.js';
import { type EditArchiveOptions, editArchive } from '../../pipeline.js';
import { LAYER_COMPRESSIONS, type LayerCompression, TARGET_FORMATS, type TargetFormat } from '../../convert/media.js';
import { extractEdits } from '../argv.js';
import { type DirOutput, dirOutputPath } from '../../io/dir-target.js';
import { sameFile } from '../../io/same-file.js';
import { formatReport, jsonReport } from '../report.js';
import type { DaemonFacts } from '../daemon.js';
import { type CommonOptions, defineCommand } from './types.js';
import { type OptionTable, childArgv } from '../options.js';
import { formatVerifiedLine } from '../show/verify.js';
import { layerAdditions, removePathsArg } from '../layer-args.js';
import { escapeControl, escapeDeep, jsonText, writeStderr, writeStdout } from '../out.js';

const EDITS = 'Edits (applied in the order given; each may be repeated, e.g. --label a=1 --label b=2):';

/** The edit command's options; edit flags themselves come from the edit library's table (EDIT_SPECS). */
export const EDIT_OPTIONS = {
  inputs: { positional: true, type: 'string', array: true, describe: 'archive file(s), or - for standard input (gzip/zstd/xz/bzip2 are undone), or docker://HOST/REPO:TAG (a registry)' },
  output: {
    type: 'string',
    alias: 'o',
    value: 'FILE|-|DIR/|docker://REF',
    describe: 'output archive, or - for standard output, or DIR/ for an OCI image layout directory, or docker://HOST/REPO:TAG (required unless --dry-run or --out-dir)',
  },
  'out-dir': { type: 'string', value: 'DIR', describe: 'batch: write each edited archive under this directory, same file name' },
  jobs: { type: 'number', alias: 'j', value: 'N', describe: 'batch: archives edited at once (default: number of CPUs)' },
  'fail-fast': { type: 'boolean', default: false, describe: 'batch: stop at the first failure (default: edit the others, report at the end)' },
  fsync: { type: 'boolean', default: true, child: true, describe: 'fsync the output before renaming it into place (--no-fsync: faster, but a crash may leave a torn file)' },
  gzip: { type: 'boolean', default: false, child: true, describe: 'gzip the output (default when -o ends in .tar.gz or .tgz)' },
  zstd: { type: 'boolean', default: false, child: true, describe: 'zstd-compress the output (default when -o ends in .tar.zst)' },
  image: { type: 'string', array: true, child: true, value: 'REF|ID', describe: 'edit only this image (tag, reference or ID prefix); repeatable' },
  tag: { type: 'string', array: true, child: true, value: 'NAME[:TAG]', describe: 'give the edited image these tags instead of its own; repeatable' },
  'keep-original': { type: 'boolean', default: false, child: true, describe: 'keep the unedited image (and its tags) in the archive too; needs --tag' },
  platform: { type: 'string', array: true, child: true, value: 'OS/ARCH[/VARIANT]', describe: 'edit only this platform (os/arch[/variant]) of a multi-platform image; repeatable' },
  'only-platform': {
    type: 'string',
    array: true,
    child: true,
    value: 'OS/ARCH[/VARIANT]',
    describe: 'keep only this platform (os/arch[/variant]) and edit it; the others leave with their blobs; repeatable',
  },
  'drop-absent': { type: 'boolean', default: false, child: true, describe: 'remove index entries whose manifests the archive does not hold' },
  'source-date-epoch': { type: 'string', child: true, value: 'SECONDS', describe: 'clamp created times and written tar entries to these seconds since 1970 (default: $SOURCE_DATE_EPOCH)' },
  history: { type: 'boolean', default: true, child: true, describe: 'record the edit as an empty-layer history entry (--no-history: do not)' },
  annotation: { type: 'string', array: true, child: true, value: 'KEY=VALUE', describe: 'set an OCI manifest annotation' },
  'rm-annotation': { type: 'string', array: true, child: true, value: 'KEY', describe: 'remove an OCI manifest annotation; repeatable' },
  verify: { type: 'boolean', default: false, child: true, describe: 'recompute every digest of the output while writing it; exit 5 (and no output) if any fails' },
  format: {
    type: 'string',
    choices: [...TARGET_FORMATS, 'oci-dir'],
    child: true,
    describe:
      "write the output in this layout: docker-legacy (Docker <= 24), docker (Docker 25+), oci (OCI image layout, OCI media types), oci-dir (the same as a directory: -o DIR); default: the input's. A pipe input is spooled to $TMPDIR first",
  },
  'layer-compression': {
    type: 'string',
    choices: LAYER_COMPRESSIONS,
    child: true,
    describe: 'recompress image layers: none, gzip or zstd (zstd needs OCI media types: --format oci); DiffIDs are checked and kept. A pipe input is spooled to $TMPDIR first',
  },
  'compression-level': {
    type: 'number',
    child: true,
    describe:
      'the level of --layer-compression: gzip 1-9 (default 3: about the size skopeo writes; 6, the zlib default, is 2% smaller and slower; every core deflates, pigz-style), zstd 1-19 (default 3)',
  },
  'add-file': {
    type: 'string',
    array: true,
    child: true,
    value: 'SRC:DEST',
    describe: 'add a file or directory (links kept, never followed) at DEST (absolute) in one new layer on top; repeatable (all in one layer)',
  },
  chown: { type: 'string', child: true, value: 'UID:GID', describe: 'owner of what --add-file adds (default 0:0, as Dockerfile COPY)' },
  chmod: { type: 'string', child: true, value: 'MODE', describe: "mode (octal) of what --add-file adds (default: the source's)" },
  'add-layer': { type: 'string', array: true, child: true, value: 'TAR|DIR', describe: 'add a tar (plain, gzip, zstd) or a directory as one new layer on top; repeatable' },
  'rm-path': {
    type: 'string',
    array: true,
    child: true,
    value: 'PATH|GLOB',
    describe: 'purge this path (a directory with its contents; * matches across /) from every layer: the layers holding it are rewritten, its bytes gone; repeatable',
  },
  'add-ca-cert': { type: 'string', child: true, value: 'CERT.pem', describe: "append a CA certificate to the image's trust bundles (Debian, Alpine, RHEL, SUSE, distroless paths) in one new layer" },
  'rebase-from': { type: 'string', child: true, value: 'OLD', describe: 'with --rebase-onto: the base image (archive or OCI directory) whose layers are the bottom of the image' },
  'rebase-onto': { type: 'string', child: true, value: 'NEW', describe: "replace --rebase-from's layers by this image's (archive or OCI directory); history rebuilt, base annotations set" },
  flatten: { type: 'boolean', default: false, child: true, describe: 'replace the layers by one: the merged filesystem (whiteouts applied), history reduced to one entry' },
  whiteout: { type: 'boolean', default: false, child: true, describe: '--rm-path hides the paths with one whiteout layer on top instead (layers unchanged, bytes still below)' },
  copy: {
    type: 'string',
    choices: ['stream', 'auto', 'reflink'],
    child: true,
    describe:
      'how a file output is made: auto (default) copies the input in the kernel (a reflink where the file system shares extents) and patches only the metadata when the input is a plain tar file, the output a file and no layer changes, streaming otherwise; stream writes every byte; reflink patches a reflinked copy or fails',
  },
  'dry-run': { type: 'boolean', alias: ['dryrun', 'z'], default: false, describe: 'show what would change, write nothing' },
  strict: {
    type: 'boolean',
    default: false,
    child: true,
    describe: 'fail (exit 4, nothing written) where --history-rm-arg would warn that a value stays in the metadata (Env, Labels, a record it cannot split)',
  },
  creds: { type: 'string', value: 'USER:PASSWORD', describe: 'docker:// references: log in with these (default: auth.json, then ~/.docker/config.json and its credential helpers)' },
  'cert-dir': { type: 'string', value: 'DIR', describe: 'docker:// references: CA certificates (*.crt) and a client *.cert/*.key pair, as skopeo reads them (also /etc/docker/certs.d/HOST/)' },
  'tls-verify': { type: 'boolean', default: true, describe: "docker:// references: verify the registry's certificate (--tls-verify=false: do not)" },
  'plain-http': { type: 'boolean', default: false, describe: 'docker:// references: plain HTTP (localhost and 127.0.0.0/8 fall back to it by themselves, as Docker does)' },
  'in-place': {
    type: 'boolean',
    default: false,
    describe: '-o may name the input itself (or a link to it): replace it atomically, the old file staying until the new one is complete (without it, copyedit refuses, as cp does)',
  },
} as const satisfies OptionTable;

/** Declared for --help, suggestions and completion; read in order by extractEdits. */
const EDIT_FLAGS: OptionTable = Object.fromEntries(EDIT_SPECS.map((s) => [s.flag, { type: s.value ? 'string' : 'boolean', describe: s.help, group: EDITS, ...(s.value ? { value: s.value } : {}) }]));

export const editCommand = defineCommand({
  command: 'edit <inputs..>',
  describe: 'edit image configs in an archive (or many) and write new archives',
  options: EDIT_OPTIONS,
  passthrough: EDIT_FLAGS,
  examples: [
    ['$0 edit in.tar -o out.tar --rm-volume all --rm-port all', ''],
    ['$0 edit in.tar -o out.tar --entrypoint \'["/app"]\' --env MODE=prod --env DEBUG=0 --label a=b', ''],
    ['docker save app:1 | $0 edit - -o - --rm-volume /data | docker load', ''],
    ['$0 edit in.tar -o out-oci/ --format oci --label a=b      # an OCI image layout directory', ''],
    ['$0 edit in.tar --dry-run --rm-volume all                 # writes nothing', ''],
  ],
  async run(args, ctx) {
    const epoch = epochOption(args['source-date-epoch'] ?? process.env.SOURCE_DATE_EPOCH);
    const extracted = extractEdits(createdNowIsEpoch(ctx.argv, epoch.sourceDateEpoch));
    const { tokens, warnings } = extracted;
    // --strict: a removed build argument's value still in the metadata is an error, not a warning
    const edits = args.strict ? extracted.edits.map(strictSecrets) : extracted.edits;
    if (!args.quiet) for (const w of warnings) writeStderr(`copyedit: warning: ${escapeControl(w)}\n`);
    const set = Object.fromEntries(args.annotation.map((a) => splitKeyValue('annotation', a)));
    const remove = args['rm-annotation'];
    if (args.gzip && args.zstd) throw new UsageError('choose one of --gzip and --zstd (or neither: -o ending in .tar.gz or .tar.zst picks it)');
    const compress = args.gzip ? 'gzip' : args.zstd ? 'zstd' : undefined;
    const inputs = args.inputs;
    const outDir = args['out-dir'];
    const addLayers = layerAdditions(args);
    const removePaths = removePathsArg(args);
    if ((args['rebase-from'] === undefined) !== (args['rebase-onto'] === undefined)) throw new UsageError('--rebase-from OLD and --rebase-onto NEW go together');
    const rebase = args['rebase-from'] !== undefined && args['rebase-onto'] !== undefined ? { from: args['rebase-from'], onto: args['rebase-onto'] } : undefined;
    if (inputs.length > 1 || outDir !== undefined) {
      if (args.output !== undefined) throw new UsageError('-o names one output; for several archives use --out-dir DIR');
      if (args.format === 'oci-dir') throw new UsageError('--format oci-dir writes one directory: edit one archive at a time, with -o DIR/');
      if (outDir === undefined) throw new UsageError(`${inputs.length} inputs: name a directory for the results with --out-dir DIR`);
      if (args['dry-run']) throw new UsageError('--dry-run takes one archive at a time: run it on each archive, without --out-dir');
      // options that only select or trim (--only-platform, --drop-absent) are work of their own
      if (
        edits.length === 0 &&
        !args.tag.length &&
        !Object.keys(set).length &&
        !remove.length &&
        !args.format &&
        !args['layer-compression'] &&
        !args['only-platform'].length &&
        !args['drop-absent'] &&
        !addLayers.length
      ) {
        throw new UsageError('no edits given; see copyedit edit --help for --rm-volume, --entrypoint and the rest');
      }
      const jobs = planJobs(expandInputs(inputs), outDir);
      await mkdir(outDir, { recursive: true }).catch((e: unknown) => {
        throw ioError('create', outDir, e);
      });
      // the child gets the edit flags as given, in order, and every option marked `child` in the table
      const child = [...tokens, ...childArgv(EDIT_OPTIONS, args), ...(args.debug ? ['--debug'] : [])];
      const results = await runBatch(jobs, child, { ...(args.jobs ? { jobs: args.jobs } : {}), failFast: args['fail-fast'], quiet: args.quiet });
      if (args.json) await writeStdout(`${jsonText(results)}\n`);
      else writeStderr(`${formatBatch(results)}\n`);
      return batchExitCode(results);
    }
    return runEdit(
      {
        input: inputs[0]!,
        output: args.format === 'oci-dir' && args.output !== undefined ? ociDirOutput(args.output) : (args.output ?? ''),
        edits,
        images: args.image,
        tags: args.tag,
        keepOriginal: args['keep-original'],
        platforms: args.platform.map((p) => platformArg('platform', p)),
        onlyPlatforms: args['only-platform'].map((p) => platformArg('only-platform', p)),
        dropAbsent: args['drop-absent'],
        ...epoch,
        history: args.history,
        annotations: { set, remove },
        dryRun: args['dry-run'],
        verify: args.verify,
        ...(compress ? { compress } : {}),
        ...(args.format ? { format: (args.format === 'oci-dir' ? 'oci' : args.format) as TargetFormat } : {}),
        ...(args['layer-compression'] ? { layerCompression: args['layer-compression'] as LayerCompression } : {}),
        ...(args['compression-level'] !== undefined ? { compressionLevel: args['compression-level'] as number } : {}),
        fsync: args.fsync,
        ...(args.copy ? { copy: args.copy as 'stream' | 'auto' | 'reflink' } : {}),
        ...registryArgs(args),
        ...(addLayers.length ? { addLayers } : {}),
        ...(removePaths ? { removePaths } : {}),
        ...(args.flatten ? { flatten: true } : {}),
        ...(args['add-ca-cert'] ? { addCaCert: args['add-ca-cert'] } : {}),
        ...(rebase ? { rebase } : {}),
      },
      args,
      { inPlace: args['in-place'] },
    );
  },
});

/** Shared by the flag form, the sentence form and daemon mode. */
export async function runEdit(opts: EditArchiveOptions, o: CommonOptions, how: { inPlace?: boolean; daemon?: DaemonFacts } = {}): Promise<number> {
  const daemon = how.daemon;
  const hasAnnotations = Object.keys(opts.annotations?.set ?? {}).length > 0 || (opts.annotations?.remove?.length ?? 0) > 0;
  // --only-platform and --drop-absent only select or trim, and that is a change of its own
  const trims = (opts.onlyPlatforms?.length ?? 0) > 0 || opts.dropAbsent === true;
  if (
    opts.edits.length === 0 &&
    !opts.tags?.length &&
    !hasAnnotations &&
    !opts.format &&
    !opts.layerCompression &&
    !trims &&
    !opts.addLayers?.length &&
    !opts.removePaths &&
    !opts.flatten &&
    !opts.addCaCert &&
    !opts.rebase
  ) {
    throw new UsageError('no edits given; see copyedit edit --help for --rm-volume, --entrypoint and the rest (or --format / --layer-compression to convert, --only-platform / --drop-absent to trim)');
  }
  if (opts.layerCompression === 'zstd' && opts.format === 'docker-legacy') {
    throw new UsageError('--layer-compression zstd: the docker-legacy layout (layer.tar files, no media types) cannot say a layer is zstd; add --format oci');
  }
  if (!opts.dryRun && opts.output === '') throw new UsageError('name the output with -o FILE (or -o - for standard output), or use --dry-run');
  if (!opts.dryRun && !how.inPlace) await refuseSameFile(opts);
  if (opts.compress && !opts.dryRun && (await dirOutputPath(opts.output)) !== undefined) {
    throw new UsageError(
      `--${opts.compress} compresses an archive file; an OCI image layout directory (${outputName(opts.output)}) is written as it is: drop --${opts.compress}, or name an archive file`,
    );
  }
  // the library refuses these with a RangeError; on the command line they are usage errors (exit 2)
  if (opts.keepOriginal && !opts.tags?.length) throw new UsageError('--keep-original needs --tag: the edited copy must be told apart from the original');
  for (const t of opts.tags ?? []) {
    const r = checkTag(t);
    if ('error' in r) throw new UsageError(`--tag ${r.error}`);
  }
  let progress: Progress | undefined;
  const report = await editArchive({
    ...opts,
    onInput: (src) => {
      progress = startProgress(basename(src.label), src.bytesRead, src.size, !o.quiet && !o.json);
    },
  }).finally(() => progress?.stop());
  const stdoutFree = opts.output !== '-';
  const print = async (text: string, toStdout: boolean) => (toStdout ? writeStdout(text) : writeStderr(text));
  if (o.json) await print(`${jsonReport(report, daemon)}\n`, stdoutFree);
  else if (!o.quiet || opts.dryRun) await print(`${formatReport(report, opts.dryRun === true, daemon?.store ?? undefined)}\n`, opts.dryRun === true && stdoutFree);
  if (report.verification && !o.quiet && !o.json) writeStderr(`${formatVerifiedLine(escapeDeep(report.verification))}\n`);
  return ExitCode.OK;
}

/**
 * `-o` naming the input (directly, or through a symbolic or hard link) replaces it: allowed with
 * --in-place only, as `cp` refuses to copy a file onto itself. The replacement is atomic either way
 * (a temporary file renamed over the name -o gives); through a hard link, only that name gets the
 * new file.
 */
async function refuseSameFile(opts: EditArchiveOptions): Promise<void> {
  const input = opts.input;
  const output = typeof opts.output === 'string' ? opts.output : 'dir' in opts.output ? opts.output.dir : undefined;
  if (typeof input !== 'string' || input === '-' || output === undefined || output === '-' || output === '') return;
  if (await sameFile(input, output)) {
    throw new UsageError(
      `-o ${output} is the input ${input === output ? 'itself' : `(${input}, through a link)`}; add --in-place to replace it (atomically: the input stays as it was until the new archive is complete), or name another output`,
    );
  }
}

/** The registry options, when a flag sets one. */
function registryArgs(args: { creds?: string | undefined; 'cert-dir'?: string | undefined; 'tls-verify': boolean; 'plain-http': boolean }): Pick<EditArchiveOptions, 'registry'> {
  const r = {
    ...(args.creds !== undefined ? { creds: args.creds } : {}),
    ...(args['cert-dir'] !== undefined ? { certDir: args['cert-dir'] } : {}),
    ...(args['tls-verify'] === false ? { tlsVerify: false } : {}),
    ...(args['plain-http'] ? { plainHttp: true } : {}),
  };
  return Object.keys(r).length ? { registry: r } : {};
}

/** `--format oci-dir -o DIR`: the directory, whether or not its name ends in `/`. */
function ociDirOutput(output: string): DirOutput {
  if (output === '-') throw new UsageError('--format oci-dir writes a directory, not standard output: name it with -o DIR');
  return { dir: output };
}

function outputName(output: EditArchiveOptions['output']): string {
  return typeof output === 'string' ? output : 'dir' in output ? output.dir : 'stream';
}

/** `linux/arm64/v8` from the command line; a usage error with the form otherwise. */
function platformArg(flag: string, value: string): Platform {
  const p = parsePlatform(value);
  if (!p) throw new UsageError(`--${flag} ${value}: a platform is os/architecture[/variant], e.g. linux/amd64 or linux/arm64/v8`);
  return p;
}

/** SOURCE_DATE_EPOCH: whole seconds since 1970, as the reproducible-builds convention writes it. */
export function epochOption(value: string | undefined): { sourceDateEpoch?: number } {
  if (value === undefined || value === '') return {};
  if (!/^\d{1,15}$/.test(value.trim())) throw new UsageError(`--source-date-epoch ${value}: give whole seconds since 1970, e.g. --source-date-epoch $(git log -1 --format=%ct)`);
  const seconds = Number(value.trim());
  if (seconds > MAX_EPOCH) throw new UsageError(`--source-date-epoch ${value}: after 9999-12-31T23:59:59Z (${MAX_EPOCH}), the last time an image's created (RFC 3339, four-digit year) can hold`);
  return { sourceDateEpoch: seconds };
}

/** With SOURCE_DATE_EPOCH, `--created now` means the epoch (as BuildKit reads it): reruns match. */
function createdNowIsEpoch(argv: readonly string[], epoch: number | undefined): readonly string[] {
  if (epoch === undefined) return argv;
  const stamp = epochTime(epoch);
  return argv.map((a, i) => (a.toLowerCase() === 'now' && argv[i - 1] === '--created' ? stamp : a.toLowerCase() === '--created=now' ? `--created=${stamp}` : a));
}
