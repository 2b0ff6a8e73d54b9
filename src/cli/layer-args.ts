/**
 * The command line of the layers copyedit adds: `--add-layer PATH` (one layer each, in order),
 * then one layer with every `--add-file SRC:DEST` (`--chown UID:GID`, `--chmod MODE` as
 * Dockerfile COPY has them). Strings become the library's typed values here, with UsageErrors.
 */
import { UsageError } from '../errors.js';
import { type AddedFile, type LayerAddition, addFiles, addLayer } from '../layers/build.js';

/** `SRC:DEST`, split where the absolute DEST begins (`:/`): SRC may hold a colon, DEST starts with `/`. */
export function parseAddFile(value: string): AddedFile {
  const at = value.indexOf(':/');
  if (at <= 0) throw new UsageError(`--add-file ${value}: give SRC:DEST with an absolute DEST, e.g. --add-file ./ca.pem:/usr/local/share/ca-certificates/ca.crt`);
  return { src: value.slice(0, at), dest: value.slice(at + 1) };
}

/** `--chown 1000:1000` (numeric: copyedit does not read the image's /etc/passwd). */
export function parseChown(value: string): { uid: number; gid: number } {
  const m = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(value.trim());
  if (!m) throw new UsageError(`--chown ${value}: give numeric UID:GID (e.g. --chown 1000:1000); user and group names are not looked up in the image`);
  const uid = Number(m[1]);
  return { uid, gid: m[2] !== undefined ? Number(m[2]) : uid };
}

/** `--chmod 0644` / `755`: octal, up to 07777. */
export function parseChmod(value: string): number {
  if (!/^[0-7]{1,4}$/.test(value.trim())) throw new UsageError(`--chmod ${value}: give an octal mode, e.g. --chmod 0644`);
  return Number.parseInt(value.trim(), 8);
}

/** The layers the flags ask for (none when neither --add-file nor --add-layer is given). */
export function layerAdditions(args: { 'add-file': readonly string[]; 'add-layer': readonly string[]; chown: string | undefined; chmod: string | undefined }): LayerAddition[] {
  const files = args['add-file'].map(parseAddFile);
  if (files.length === 0 && (args.chown !== undefined || args.chmod !== undefined)) throw new UsageError('--chown and --chmod apply to --add-file; give the files to add');
  const out = args['add-layer'].map((p) => addLayer(p));
  if (files.length) {
    out.push(addFiles(files, { ...(args.chown !== undefined ? { chown: parseChown(args.chown) } : {}), ...(args.chmod !== undefined ? { chmod: parseChmod(args.chmod) } : {}) }));
  }
  return out;
}

/** `--rm-path P` (repeatable) and `--whiteout`. */
export function removePathsArg(args: { 'rm-path': readonly string[]; whiteout: boolean }): { paths: string[]; whiteout?: boolean } | undefined {
  if (args['rm-path'].length === 0) {
    if (args.whiteout) throw new UsageError('--whiteout goes with --rm-path: give the paths to hide');
    return undefined;
  }
  for (const p of args['rm-path']) {
    if (!p.startsWith('/')) throw new UsageError(`--rm-path ${p}: give an absolute path or pattern in the image, e.g. /app/.env or /root/*.npmrc`);
    if (p.split('/').includes('..')) throw new UsageError(`--rm-path ${p}: '..' is not allowed; name the path inside the image directly`);
  }
  return { paths: [...args['rm-path']], ...(args.whiteout ? { whiteout: true } : {}) };
}
