import { createHash } from 'node:crypto';

/** The digest algorithms of the OCI image spec that copyedit reads, verifies and writes. */
export type DigestAlgorithm = 'sha256' | 'sha512';

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

/**
 * A content digest such as `sha256:4f1d...`. A value type: construct with `Digest.parse` (validated)
 * or `Digest.of` (computed), compare with `equals`, print with `toString`.
 */
export class Digest {
  private constructor(
    readonly algorithm: DigestAlgorithm,
    readonly hex: string,
  ) {}

  static readonly PATTERN = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

  /** Parse `sha256:<64 hex>` or `sha512:<128 hex>`; returns undefined when `s` is not a well-formed digest. */
  static tryParse(s: unknown): Digest | undefined {
    if (typeof s !== 'string' || !Digest.PATTERN.test(s)) return undefined;
    const i = s.indexOf(':');
    return new Digest(s.slice(0, i) as DigestAlgorithm, s.slice(i + 1));
  }

  static parse(s: unknown, what = 'digest'): Digest {
    const d = Digest.tryParse(s);
    if (!d) throw new TypeError(`${what} ${JSON.stringify(s)} is not of the form sha256:<64 hex digits> or sha512:<128 hex digits>`);
    return d;
  }

  static sha256Hex(hex: string): Digest {
    if (!/^[a-f0-9]{64}$/.test(hex)) throw new TypeError(`not a sha256 hex digest: ${hex}`);
    return new Digest('sha256', hex);
  }

  /** A digest from its parts, e.g. a hex name under `blobs/<algorithm>/`. */
  static fromHex(algorithm: DigestAlgorithm, hex: string): Digest {
    if (HEX_LENGTH[algorithm] === undefined || !new RegExp(`^[a-f0-9]{${HEX_LENGTH[algorithm]}}$`).test(hex)) {
      throw new TypeError(`not a ${algorithm} hex digest: ${hex}`);
    }
    return new Digest(algorithm, hex);
  }

  /**
   * The digest an entry name promises: `blobs/sha256/<64 hex>`, `blobs/sha512/<128 hex>` (OCI
   * layouts) or `sha256:<hex>`/`sha512:<hex>` (crane); undefined for any other name.
   */
  static fromEntryPath(path: string): Digest | undefined {
    const m = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/.exec(path);
    return m ? Digest.tryParse(`${m[1]}:${m[2]}`) : Digest.tryParse(path);
  }

  /**
   * The digest of the given bytes, sha256 unless asked otherwise. A blob that replaces one named by
   * a sha512 descriptor is hashed with sha512 (`Digest.of(bytes, old.algorithm)`), so the new
   * descriptor, its `blobs/sha512/<hex>` name and verification agree.
   */
  static of(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): Digest {
    if (HEX_LENGTH[algorithm] === undefined) throw new TypeError(`unsupported digest algorithm ${String(algorithm)}`);
    return new Digest(algorithm, createHash(algorithm).update(bytes).digest('hex'));
  }

  /** Whether `bytes` hash to this digest, with this digest's own algorithm. */
  matches(bytes: Uint8Array): boolean {
    return createHash(this.algorithm).update(bytes).digest('hex') === this.hex;
  }

  /** The entry name of this blob in an OCI layout: `blobs/sha512/<hex>`. */
  get blobPath(): string {
    return `blobs/${this.algorithm}/${this.hex}`;
  }

  equals(other: Digest | undefined): boolean {
    return !!other && other.algorithm === this.algorithm && other.hex === this.hex;
  }

  /** First 12 hex digits, as `docker images` shows an image ID. */
  get short(): string {
    return this.hex.slice(0, 12);
  }

  toString(): string {
    return `${this.algorithm}:${this.hex}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

/**
 * ChainID of a layer stack (image-spec config.md): ChainID(L0) = DiffID(L0),
 * ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(Ln)).
 */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev ? Digest.of(Buffer.from(`${prev} ${d}`)) : d);
  }
  return out;
}
