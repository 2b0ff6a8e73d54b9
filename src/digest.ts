import { createHash } from 'node:crypto';

/**
 * A content digest such as `sha256:4f1d...`. A value type: construct with `Digest.parse` (validated)
 * or `Digest.of` (computed), compare with `equals`, print with `toString`.
 */
export class Digest {
  private constructor(
    readonly algorithm: 'sha256' | 'sha512',
    readonly hex: string,
  ) {}

  static readonly PATTERN = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

  /** Parse `sha256:<64 hex>`; returns undefined when `s` is not a well-formed digest. */
  static tryParse(s: unknown): Digest | undefined {
    if (typeof s !== 'string' || !Digest.PATTERN.test(s)) return undefined;
    const i = s.indexOf(':');
    return new Digest(s.slice(0, i) as 'sha256' | 'sha512', s.slice(i + 1));
  }

  static parse(s: unknown, what = 'digest'): Digest {
    const d = Digest.tryParse(s);
    if (!d) throw new TypeError(`${what} ${JSON.stringify(s)} is not of the form sha256:<64 hex digits>`);
    return d;
  }

  static sha256Hex(hex: string): Digest {
    if (!/^[a-f0-9]{64}$/.test(hex)) throw new TypeError(`not a sha256 hex digest: ${hex}`);
    return new Digest('sha256', hex);
  }

  /** The digest of the given bytes (sha256 unless another algorithm is asked for). */
  static of(bytes: Uint8Array, algorithm: 'sha256' | 'sha512' = 'sha256'): Digest {
    return new Digest(algorithm, createHash(algorithm).update(bytes).digest('hex'));
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
