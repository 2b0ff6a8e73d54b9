/**
 * TLS as Docker and skopeo set it up: the system CAs, plus `ca.crt`/`*.crt` and client
 * `*.cert`/`*.key` pairs from `--cert-dir` (skopeo's layout) or `/etc/docker/certs.d/<host>/`;
 * `tlsVerify: false` accepts any certificate (asked for, never by default).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { RegistryError } from '../errors.js';

export interface TlsOptions {
  /** Verify the registry's certificate (default true). */
  readonly tlsVerify?: boolean;
  /** A directory of `*.crt` CAs and `*.cert`/`*.key` client pairs, for every registry of the run. */
  readonly certDir?: string;
  /** Where Docker keeps per-registry certificates (default /etc/docker/certs.d). */
  readonly dockerCertsDir?: string;
}

export interface TlsSettings {
  readonly ca: string[];
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly rejectUnauthorized: boolean;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** The CA list and client certificate for `registry` (host[:port]). */
export function tlsSettings(registry: string, o: TlsOptions = {}): TlsSettings {
  const ca = [...rootCertificates];
  let cert: Buffer | undefined;
  let key: Buffer | undefined;
  const dirs = [o.certDir, join(o.dockerCertsDir ?? '/etc/docker/certs.d', registry)].filter((d): d is string => !!d);
  for (const dir of dirs) {
    for (const f of listDir(dir)) {
      const p = join(dir, f);
      try {
        if (f.endsWith('.crt')) ca.push(readFileSync(p, 'utf8'));
        else if (f.endsWith('.cert') && !cert) {
          const k = join(dir, `${f.slice(0, -'.cert'.length)}.key`);
          cert = readFileSync(p);
          key = readFileSync(k);
        }
      } catch (e) {
        throw new RegistryError(`cannot read the certificate ${p} (${(e as NodeJS.ErrnoException).code ?? e}); a client *.cert needs its *.key beside it`, registry);
      }
    }
  }
  return { ca, ...(cert && key ? { cert, key } : {}), rejectUnauthorized: o.tlsVerify !== false };
}
