/**
 * One image's layers from an archive, a directory or a pipe, as re-openable `LayerSource`s, with
 * no unpacking: the archive is scanned once for its metadata (layers skipped by seeking, their
 * offsets noted), and each layer is then read in place.
 *
 * - A plain tar file: read in place (positioned reads). A compressed tar (`docker save | gzip`),
 *   standard input, a FIFO: spooled, decompressed, into one temporary file in $TMPDIR (a pipe's
 *   metadata may come after its layers), removed by `close()`.
 * - An OCI layout directory: its blob files are the layers (the scan reads the directory once).
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { platformMatches, parsePlatform, platformString } from '../archive/graph.js';
import { buildModel } from '../archive/layout.js';
import type { ImageModel, ImageTarget } from '../archive/model.js';
import { scanArchive } from '../archive/scan.js';
import { EditError, UsageError, ioError } from '../errors.js';
import type { ByteSource } from '../io/bytes.js';
import { openInput } from '../io/source.js';
import { selectTargets } from '../select.js';
import { type LayerSource, fileLayer } from './layer.js';

/** Which image and platform of an archive (both optional when the archive holds one). */
export interface ImageContentOptions {
  /** A tag, reference, or (prefix of) an image, index, manifest or config digest, as `--image` takes. */
  readonly image?: string;
  /** `os/arch[/variant]`; needed when the image holds several platforms. */
  readonly platform?: string;
}

/** One platform of one image, ready to merge. `close()` removes any temporary spool. */
export interface ImageContent {
  readonly layers: readonly LayerSource[];
  readonly image: ImageModel;
  /** What names the image in messages: its first name, else its short ID. */
  readonly name: string;
  close(): void;
}

/** Open `input` and find the layers of the image and platform asked for. */
export async function openImageContent(input: string | Readable, options: ImageContentOptions = {}): Promise<ImageContent> {
  const dir = typeof input === 'string' && input !== '-' && (await isDirectory(input));
  if (dir) return fromDirectory(input as string, options);
  const spool = await plainFile(input);
  try {
    return { ...(await fromTarFile(spool.path, spool.label, options)), close: spool.remove };
  } catch (e) {
    spool.remove();
    throw e;
  }
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** A plain tar file holding the input: the file itself, or a spool of its decompressed bytes. */
async function plainFile(input: string | Readable): Promise<{ path: string; label: string; remove: () => void }> {
  const src = await openInput(input);
  if (typeof input === 'string' && input !== '-' && src.compression === 'none') {
    const st = await stat(input).catch(() => undefined);
    if (st?.isFile()) {
      src.close();
      return { path: input, label: src.label, remove: () => {} };
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'copyedit-content-'));
  const path = join(dir, 'input.tar');
  // also on Ctrl-C: the CLI's signal handler exits through process.exit, which runs 'exit' listeners
  const onExit = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', onExit);
  const remove = () => {
    process.off('exit', onExit);
    onExit();
  };
  try {
    await pipeline(Readable.from(chunks(src.reader), { objectMode: false }), createWriteStream(path));
  } catch (e) {
    remove();
    throw e;
  } finally {
    src.close();
  }
  return { path, label: src.label, remove };
}

async function* chunks(src: ByteSource): AsyncGenerator<Buffer> {
  for (;;) {
    const c = await src.read(1 << 20);
    if (c.length === 0) return;
    yield Buffer.from(c);
  }
}

async function fromTarFile(path: string, label: string, options: ImageContentOptions): Promise<Omit<ImageContent, 'close'>> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw ioError('read', label, e);
  }
  const src = new SeekSource(fd);
  const offsets = new Map<number, number>();
  const entries = await scanArchive(
    src,
    async (entry, body) => {
      const before = src.position;
      for await (const c of body) {
        // the scan may have read the entry's first bytes already (to tell JSON from a layer)
        offsets.set(entry.index, src.position === before ? before - c.length : before);
        return;
      }
      offsets.set(entry.index, before);
    },
    label,
  ).finally(() => src.close());
  const model = buildModel(entries, label);
  const { image, name } = pick(model.targets, options);
  const layers = image.layers.map((l, i) => {
    if (!l.entry) throw new EditError(`layer ${i + 1} (${l.diffId?.toString() ?? l.digest?.toString() ?? '?'}) is not in the archive; copyedit needs every layer to read the image's files`, name);
    const at = offsets.get(l.entry.index);
    if (at === undefined) throw new EditError(`layer ${l.entry.name} was read as metadata, not as a layer`, name);
    return fileLayer(path, `${label}:${l.entry.name}`, at, l.entry.header.size);
  });
  return { layers, image, name };
}

async function fromDirectory(dir: string, options: ImageContentOptions): Promise<ImageContent> {
  const src = await openInput(dir);
  const entries = await scanArchive(src.reader, async () => {}, src.label).finally(() => src.close());
  const model = buildModel(entries, src.label);
  const { image, name } = pick(model.targets, options);
  const layers = image.layers.map((l, i) => {
    if (!l.entry) throw new EditError(`layer ${i + 1} (${l.digest?.toString() ?? '?'}) is not in the directory; copyedit needs every layer to read the image's files`, name);
    return fileLayer(join(dir, l.entry.path), `${dir}/${l.entry.path}`, 0, l.entry.header.size);
  });
  return { layers, image, name, close: () => {} };
}

/** The one image and platform asked for, or a refusal listing what the archive holds. */
function pick(targets: readonly ImageTarget[], options: ImageContentOptions): { image: ImageModel; name: string } {
  const chosen = selectTargets(targets, options.image === undefined ? [] : [options.image]);
  const nameOf = (t: ImageTarget) => t.names[0] ?? (t.node?.digest ?? t.platforms[0]?.image.id)?.short ?? '?';
  if (chosen.length !== 1) {
    throw new EditError(`the archive holds ${chosen.length} images (${chosen.map((c) => nameOf(c.target)).join(', ')}); name one with --image`);
  }
  const target = chosen[0]!.target;
  const name = nameOf(target);
  let platforms = target.platforms;
  if (options.platform !== undefined) {
    const want = parsePlatform(options.platform);
    if (!want) throw new UsageError(`--platform ${options.platform}: expected os/arch[/variant], e.g. linux/arm64`);
    platforms = platforms.filter((p) => platformMatches(p.platform, want));
  }
  const shownPlatforms = target.platforms.map((p) => (p.platform ? platformString(p.platform) : 'unknown')).join(', ');
  if (platforms.length === 0) throw new EditError(`no platform ${options.platform} in this image; it holds: ${shownPlatforms}`, name);
  if (platforms.length > 1) throw new EditError(`the image holds ${platforms.length} platforms (${shownPlatforms}); name one with --platform`, name);
  return { image: platforms[0]!.image, name };
}

/** A plain file read with positioned reads: it knows its position, and skips by moving it. */
class SeekSource implements ByteSource {
  readonly reusesBuffers = true;
  position = 0;
  private readonly buf = Buffer.allocUnsafe(1 << 20);

  constructor(private readonly fd: number) {}

  async read(max: number): Promise<Buffer> {
    const n = readSync(this.fd, this.buf, 0, Math.min(max, this.buf.length), this.position);
    this.position += n;
    return this.buf.subarray(0, n);
  }

  skip(n: number): boolean {
    this.position += n;
    return true;
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      // closed already
    }
  }
}
