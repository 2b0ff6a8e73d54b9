/**
 * `--add-ca-cert cert.pem`: the image's trust bundles found in its merged filesystem (src/content),
 * each written again with the certificate appended, plus the single-certificate file where the
 * distribution keeps one, as one layer. A bundle that is a symbolic link is left alone (its target
 * is one of the paths looked at). No bundle: refused, naming the paths looked at.
 */
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { BLOCK, type Header, encodeHeader, padding } from '../archive/tar/header.js';
import { openImageContent } from '../content/image.js';
import { mergeLayers } from '../content/merge.js';
import { EditError, UsageError, ioError } from '../errors.js';

/** Bundles (Debian/Ubuntu/distroless and Alpine, Alpine's second, RHEL/Fedora/UBI, SUSE) and single-certificate directories. */
export const CA_BUNDLES = [
  'etc/ssl/certs/ca-certificates.crt',
  'etc/ssl/cert.pem',
  'etc/pki/tls/certs/ca-bundle.crt',
  'etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  'var/lib/ca-certificates/ca-bundle.pem',
] as const;
export const CA_DIRS = ['usr/local/share/ca-certificates', 'etc/pki/ca-trust/source/anchors', 'etc/pki/trust/anchors'] as const;

/** The certificate's PEM text, checked to hold at least one certificate, ending in a newline. */
export async function readCert(path: string): Promise<Buffer> {
  const pem = await readFile(path).catch((e) => Promise.reject(ioError('read', path, e)));
  if (!/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(pem.toString('latin1'))) {
    throw new UsageError(`--add-ca-cert ${path}: no PEM certificate in it (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)`);
  }
  return pem[pem.length - 1] === 0x0a ? pem : Buffer.concat([pem, Buffer.from('\n')]);
}

/** The layer's tar for one image: every bundle with `pem` appended, and `<name>.crt` in each certificate directory it has. */
export async function* caLayer(input: string, image: string, platform: string | undefined, certPath: string, epoch: number | undefined): AsyncIterable<Buffer> {
  const pem = await readCert(certPath);
  const name = `${posix.basename(certPath).replace(/\.(pem|crt|cer)$/i, '') || 'copyedit'}.crt`;
  const content = await openImageContent(input, { image, ...(platform ? { platform } : {}) });
  try {
    const fs = await mergeLayers(content.layers);
    let found = 0;
    const mtime = new Date((epoch ?? Math.floor(Date.now() / 1000)) * 1000);
    for (const p of CA_BUNDLES) {
      const e = fs.stat(p);
      if (e?.type !== 'file') continue;
      found++;
      const body = Buffer.concat([await fs.readFile(p), pem]);
      yield* file({ name: p, mode: e.mode, uid: e.uid, gid: e.gid, mtime }, body);
    }
    if (found === 0) {
      throw new EditError(`--add-ca-cert: no CA bundle in the image (looked at /${CA_BUNDLES.join(', /')}); add the certificate with --add-file to where its programs read it`, content.name);
    }
    for (const d of CA_DIRS) {
      const e = fs.stat(d, { follow: true });
      if (e?.type === 'directory') yield* file({ name: `${d}/${name}`, mode: 0o644, uid: 0, gid: 0, mtime }, pem);
    }
    yield Buffer.alloc(2 * BLOCK);
  } finally {
    content.close();
  }
}

function* file(h: Pick<Header, 'name' | 'mode' | 'uid' | 'gid' | 'mtime'>, body: Buffer): Iterable<Buffer> {
  yield encodeHeader({ ...h, size: body.length, type: 'file', linkname: '', uname: '', gname: '', devmajor: 0, devminor: 0 });
  yield body;
  if (padding(body.length)) yield Buffer.alloc(padding(body.length));
}
