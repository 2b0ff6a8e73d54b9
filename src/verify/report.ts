/** One digest, size or reference that does not hold. */
export interface VerifyIssue {
  /** The tar entry (or `manifest.json[i]`, `index.json`) where the problem shows. */
  readonly entry: string;
  /** What is wrong, in a sentence a user can act on. */
  readonly message: string;
  readonly expected?: string;
  readonly actual?: string;
}

/** How many checks of each kind were made (held or not). */
export interface VerifyCounts {
  /** Entries named by a digest (`blobs/sha256/<hex>`, `<hex>.json`, `sha256:<hex>`, `<hex>.tar`) whose content was hashed. */
  blobNames: number;
  /** Descriptors (in index.json, indexes, manifests, LayerSources) whose target and size were checked. */
  descriptors: number;
  /** Layers whose decompressed sha256 was compared with the config's DiffID. */
  diffIds: number;
  /** manifest.json Config/Layers paths and layer counts checked. */
  manifestJson: number;
  /** Symbolic and hard links followed. */
  links: number;
}

export interface VerifyReport {
  /** The archive, for messages. */
  readonly label: string;
  /** True when every check held (entries listed in `unverified` do not count against it). */
  readonly ok: boolean;
  readonly counts: VerifyCounts;
  readonly issues: readonly VerifyIssue[];
  /** Checks that could not be made, and why (e.g. a zstd layer on a Node without zstd). */
  readonly unverified: readonly string[];
  /** Observations that are not errors (a platform's manifest absent from an export). */
  readonly notes: readonly string[];
}

/** One line per issue: `entry: message (expected X, found Y)`. */
export function describeIssue(i: VerifyIssue): string {
  const diff = i.expected !== undefined || i.actual !== undefined ? ` (expected ${i.expected ?? '-'}, found ${i.actual ?? '-'})` : '';
  return `${i.entry}: ${i.message}${diff}`;
}
