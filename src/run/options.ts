/** The options and the report of `editArchive`: what a library user programs against. */
import type { Readable, Writable } from 'node:stream';
import type { Platform } from '../archive/graph.js';
import type { LayoutName } from '../archive/model.js';
import type { Digest } from '../digest.js';
import type { ConfigEdit } from '../edit/index.js';
import type { LayerCompression, TargetFormat } from '../convert/media.js';
import type { OutputCompression } from '../io/compress.js';
import type { DirOutput } from '../io/dir-target.js';
import type { Compression, InputSource } from '../io/source.js';
import type { JsonChange } from '../json/diff.js';
import type { ConvertedLayer } from '../rewrite/layers.js';
import type { VerifyReport } from '../verify/index.js';
import type { EngineIdChange } from '../inspect/engine-ids.js';
import type { LayerAddition } from '../layers/build.js';
import { optionKeys } from '../options-check.js';
import type { RegistryReport } from '../registry/push.js';
import type { RegistryOptions } from '../registry/transport.js';

export interface EditArchiveOptions {
  /** A path, `-` for standard input, or a readable stream of the (possibly compressed) archive. */
  readonly input: string | Readable;
  /**
   * A path (written atomically), `-` for standard output, or a writable stream; `{ dir }`, a path
   * ending in `/` or an existing empty directory: an OCI image layout directory (atomic too).
   */
  readonly output: string | Writable | DirOutput;
  /** Edits, applied in order to every selected image. */
  readonly edits: readonly ConfigEdit[];
  /** Which images to edit: tags, references or image IDs (prefixes). Default: all. */
  readonly images?: readonly string[];
  /** Edit only these platforms of a multi-platform image (default: all it holds). */
  readonly platforms?: readonly Platform[];
  /** Keep only these platforms in the output (and edit them); the others leave with their blobs. */
  readonly onlyPlatforms?: readonly Platform[];
  /** Remove index entries whose manifests the archive does not hold. */
  readonly dropAbsent?: boolean;
  /**
   * SOURCE_DATE_EPOCH (seconds): clamp the image's `created`, every history entry's `created` and
   * the mtime of every tar entry copyedit writes to this time, so reruns give identical archives.
   */
  readonly sourceDateEpoch?: number;
  /** New tags for the edited image (needs exactly one selected image). */
  readonly tags?: readonly string[];
  /** Keep the unedited image in the archive as well (needs `tags`). */
  readonly keepOriginal?: boolean;
  /** Append an `empty_layer` history entry describing the edit (default true). */
  readonly history?: boolean;
  /** Manifest annotations to set (OCI layouts) and to remove. */
  readonly annotations?: { readonly set?: Readonly<Record<string, string>>; readonly remove?: readonly string[] };
  /** Read and plan everything, write nothing. */
  readonly dryRun?: boolean;
  /** Compress the output; default: from the output name (`.tar.gz`, `.tgz`, `.tar.zst`), else none. */
  readonly compress?: OutputCompression;
  /** fsync the output file before it replaces the target (default true); false is faster, not crash-safe. */
  readonly fsync?: boolean;
  /** Called with the input source once it is open (for progress display). */
  readonly onInput?: (source: InputSource) => void;
  /** Hash the output as it is written and check every digest before committing it (VerifyError otherwise). */
  readonly verify?: boolean;
  /**
   * Write the output in this layout (default: the input's own): `docker-legacy` (Docker <= 24),
   * `docker` (Docker 25+: OCI layout plus manifest.json), `oci` (OCI image layout, OCI media types).
   */
  readonly format?: TargetFormat;
  /** Recompress image layers (DiffIDs unchanged, digests and media types updated up the graph). */
  readonly layerCompression?: LayerCompression;
  /** The level of `layerCompression`: gzip 1-9 (default 3), zstd 1-19 (default 3). */
  readonly compressionLevel?: number;
  /**
   * How a file output is made (default `auto`): `auto` copies the input in the kernel (a reflink
   * where the file system shares extents) and patches the metadata in place when the edit allows
   * it (a plain uncompressed tar file in, a regular file out, no layer bytes changed, every
   * replaced entry under 1 MiB), and streams otherwise; `stream` writes every byte; `reflink`
   * patches a reflinked copy or fails.
   */
  readonly copy?: 'auto' | 'stream' | 'reflink';
  /**
   * How to reach registries when `input` or `output` is a `docker://` reference: credentials
   * (`creds`, else auth.json / ~/.docker/config.json), TLS (`certDir`, `tlsVerify`), `plainHttp`.
   */
  readonly registry?: RegistryOptions;
  /**
   * New layers on top of every selected image (platform), in order, one layer each (`addFiles`,
   * `addLayer`): compressed as the image's other layers are (or as `layerCompression` says), a
   * history entry each. Runs as a conversion into the input's own layout (a pipe is spooled).
   */
  readonly addLayers?: readonly LayerAddition[];
  /**
   * Purge paths or patterns (`*` matches across `/`; a directory takes its contents) from every
   * layer of the selected images: exactly the layers holding a match are rewritten, so the bytes
   * are nowhere in the output (DiffIDs and everything above change); with `whiteout`, one
   * whiteout layer is added on top instead and the bytes stay below (a warning says so).
   */
  readonly removePaths?: { readonly paths: readonly string[]; readonly whiteout?: boolean };
  /**
   * Replace every selected image's (platform's) layers by one: its merged filesystem, whiteouts
   * and opaque directories applied as Docker's and containerd's appliers do (src/content); the
   * history reduced to one entry. Goes alone (not with addLayers or removePaths).
   */
  readonly flatten?: boolean;
  /**
   * A PEM certificate file: one layer per selected image with each trust bundle its merged
   * filesystem has (Debian/Ubuntu/distroless, Alpine, RHEL/Fedora/UBI, SUSE paths) written again
   * with the certificate appended, plus `<name>.crt` in the distribution's certificate directory;
   * an image with no bundle is refused (EditError naming the paths looked at).
   */
  readonly addCaCert?: string;
  /**
   * Rebase: `from` (OLD) and `onto` (NEW) are archives or OCI layout directories holding one image
   * (the platform of each selected image is picked from a multi-platform one). OLD's DiffIDs must
   * be the bottom of every selected image (EditError naming the first layer that differs); they
   * are replaced by NEW's layers, history rebuilt, `org.opencontainers.image.base.name` and
   * `base.digest` (NEW's config digest) set on the manifests.
   */
  readonly rebase?: { readonly from: string; readonly onto: string };
}

/** What a layout conversion or recompression did (only when one was asked for). */
export interface ConversionReport {
  /** The input's layout and the layout written. */
  readonly from: LayoutName;
  readonly to: TargetFormat;
  readonly layerCompression: LayerCompression | null;
  /** Image layers recompressed (planned, for --dry-run). */
  readonly layersRecompressed: number;
  /** Every image layer of the output (with digests after the write; null where not known on a dry run). */
  readonly layers: readonly ConvertedLayer[];
}

/** One platform of an edited image. */
export interface PlatformReport {
  /** `os/architecture[/variant]`, or null when neither the index nor the config says. */
  readonly platform: string | null;
  /** Config digest (the image ID Docker's classic store shows) before and after. */
  readonly oldId: Digest;
  readonly newId: Digest;
  readonly configChanges: readonly JsonChange[];
}

export interface ImageReport {
  /** The names the edit applies to (all the image's names unless it was selected by one). */
  readonly tags: readonly string[];
  /** Tags after the edit (same as `tags` unless retagged). */
  readonly newTags: readonly string[];
  /** Field-level changes of the config, for --dry-run and --json. */
  readonly configChanges: readonly JsonChange[];
  /** Image ID: the config digest of a single-platform image; the index digest of a multi-platform one. */
  readonly oldId: Digest;
  readonly newId: Digest;
  /** What the name points at: the index or manifest digest (the config digest in layouts without index.json). */
  readonly oldDigest: Digest;
  readonly newDigest: Digest;
  readonly changed: boolean;
  readonly edits: readonly string[];
  readonly warnings: readonly string[];
  /** Every platform edited (one for a single-platform image). */
  readonly platforms: readonly PlatformReport[];
  /** Other names of the same image, left on the unedited image because it was selected by name. */
  readonly otherNames: readonly string[];
  /** The ID each kind of engine shows, before and after (src/inspect/engine-ids.ts): from oldId/newId/oldDigest/newDigest and the model. */
  readonly ids?: EngineIdChange;
}

export interface EditArchiveReport {
  readonly layout: LayoutName;
  /** How the input was compressed. */
  readonly compression: Compression;
  /** How the output was compressed (none for --dry-run). */
  readonly outputCompression: OutputCompression;
  readonly images: readonly ImageReport[];
  /** Archive-level observations (platforms absent from the archive, attestations dropped). */
  readonly warnings: readonly string[];
  readonly droppedEntries: readonly string[];
  /** What `verify` checked in the output (only with `verify`, not for --dry-run). */
  readonly verification?: VerifyReport;
  /** With `format` or `layerCompression`: the layout written and the layers recompressed. */
  readonly conversion?: ConversionReport;
  /** With a `docker://` input or output: what moved, each way, and what was pushed. */
  readonly registry?: RegistryReport;
}

/** Every key of EditArchiveOptions (the compiler checks the list is complete and exact), for the run-time check of unknown keys. */
export const EDIT_ARCHIVE_OPTIONS = optionKeys<EditArchiveOptions>({
  input: true,
  output: true,
  edits: true,
  images: true,
  platforms: true,
  onlyPlatforms: true,
  dropAbsent: true,
  sourceDateEpoch: true,
  tags: true,
  keepOriginal: true,
  history: true,
  annotations: true,
  dryRun: true,
  compress: true,
  fsync: true,
  onInput: true,
  verify: true,
  format: true,
  layerCompression: true,
  compressionLevel: true,
  copy: true,
  registry: true,
  addLayers: true,
  removePaths: true,
  flatten: true,
  addCaCert: true,
  rebase: true,
});
