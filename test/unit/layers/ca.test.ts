/**
 * `addCaCert` (`--add-ca-cert`): Debian-, Alpine-, RHEL- and SUSE-shaped images made here (their
 * bundle paths, symbolic links and certificate directories as the distributions lay them out):
 * each bundle that is a file gets the certificate appended (owner and mode kept), a bundle that is
 * a link is left to its target, the single-certificate file goes where the distribution keeps
 * them, in one layer on top; an image with no bundle is refused, naming the paths looked at.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { editArchive } from '../../../src/index.js';
import { readArchive } from '../../../src/inspect/index.js';
import { openImageContent } from '../../../src/content/image.js';
import { mergeLayers } from '../../../src/content/merge.js';
import { verifyArchive } from '../../../src/verify/index.js';
import { readTar } from '../fixtures.js';
import { type Op, dockerArchive, layerTar } from '../content/layer-gen.js';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIBcopyedit\n-----END CERTIFICATE-----\n';
const OLD = '-----BEGIN CERTIFICATE-----\nMIIBdistro\n-----END CERTIFICATE-----\n';
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-ca-'));
  await writeFile(join(dir, 'corp.pem'), CERT);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const dirs = (...ps: string[]): Op[] => ps.map((path) => ({ kind: 'dir', path }));
const SHAPES: Record<string, { layers: Op[][]; bundles: string[]; single: string | undefined }> = {
  debian: {
    layers: [
      [...dirs('etc', 'etc/ssl', 'etc/ssl/certs', 'usr', 'usr/local', 'usr/local/share', 'usr/local/share/ca-certificates'), { kind: 'file', path: 'etc/ssl/certs/ca-certificates.crt', content: OLD }],
    ],
    bundles: ['etc/ssl/certs/ca-certificates.crt'],
    single: 'usr/local/share/ca-certificates/corp.crt',
  },
  alpine: {
    layers: [
      [
        ...dirs('etc', 'etc/ssl', 'etc/ssl/certs'),
        { kind: 'file', path: 'etc/ssl/certs/ca-certificates.crt', content: OLD },
        { kind: 'symlink', path: 'etc/ssl/cert.pem', target: 'certs/ca-certificates.crt' },
      ],
      [...dirs('usr', 'usr/local', 'usr/local/share', 'usr/local/share/ca-certificates')],
    ],
    bundles: ['etc/ssl/certs/ca-certificates.crt'],
    single: 'usr/local/share/ca-certificates/corp.crt',
  },
  rhel: {
    layers: [
      [
        ...dirs(
          'etc',
          'etc/pki',
          'etc/pki/tls',
          'etc/pki/tls/certs',
          'etc/pki/ca-trust',
          'etc/pki/ca-trust/extracted',
          'etc/pki/ca-trust/extracted/pem',
          'etc/pki/ca-trust/source',
          'etc/pki/ca-trust/source/anchors',
        ),
        { kind: 'file', path: 'etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', content: OLD, mode: 0o444 },
        { kind: 'symlink', path: 'etc/pki/tls/certs/ca-bundle.crt', target: '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem' },
      ],
    ],
    bundles: ['etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem'],
    single: 'etc/pki/ca-trust/source/anchors/corp.crt',
  },
  suse: {
    layers: [[...dirs('var', 'var/lib', 'var/lib/ca-certificates'), { kind: 'file', path: 'var/lib/ca-certificates/ca-bundle.pem', content: OLD }]],
    bundles: ['var/lib/ca-certificates/ca-bundle.pem'],
    single: undefined,
  },
};

describe('--add-ca-cert', () => {
  for (const [name, shape] of Object.entries(SHAPES)) {
    it(`${name}: the bundle has the certificate appended, the single-certificate file is there, in one layer`, async () => {
      const input = join(dir, `${name}.tar`);
      await writeFile(input, dockerArchive([{ tag: `ca/${name}:1`, layers: shape.layers.map((ops) => layerTar(ops)) }]));
      const out = join(dir, `${name}-ca.tar`);
      await editArchive({ input, output: out, edits: [], addCaCert: join(dir, 'corp.pem'), sourceDateEpoch: 0 });
      assert.equal((await verifyArchive(out)).ok, true);
      const img = (await readArchive(out)).model.images[0]!;
      assert.equal(img.layers.length, shape.layers.length + 1);
      const top = await readTar((await readTar(await readFile(out))).get(img.layers.at(-1)!.entry!.name)!.data);
      assert.deepEqual([...top.keys()], [...shape.bundles, ...(shape.single ? [shape.single] : [])], 'the layer holds the bundles and the single file only');
      const content = await openImageContent(out);
      try {
        const fs = await mergeLayers(content.layers);
        for (const b of shape.bundles) assert.equal((await fs.readFile(b)).toString(), OLD + CERT);
        if (name === 'rhel') assert.equal(fs.stat('etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem')!.mode, 0o444, 'mode kept');
        if (name === 'alpine') assert.equal(fs.stat('etc/ssl/cert.pem')!.type, 'symlink', 'a bundle that is a link stays a link');
        if (shape.single) assert.equal((await fs.readFile(shape.single)).toString(), CERT);
      } finally {
        content.close();
      }
      const h = img.config.history as { created_by: string }[];
      assert.equal(h.at(-1)!.created_by, 'copyedit: ADD CA CERT corp.pem');
    });
  }

  it('no bundle: refused, naming the paths looked at; not a certificate: refused', async () => {
    const input = join(dir, 'none.tar');
    await writeFile(input, dockerArchive([{ tag: 'ca/none:1', layers: [layerTar([{ kind: 'file', path: 'hello', content: 'x' }])] }]));
    await assert.rejects(
      editArchive({ input, output: join(dir, 'none-out.tar'), edits: [], addCaCert: join(dir, 'corp.pem') }),
      /no CA bundle in the image \(looked at \/etc\/ssl\/certs\/ca-certificates\.crt, .*\/var\/lib\/ca-certificates\/ca-bundle\.pem\)/,
    );
    await writeFile(join(dir, 'not.pem'), 'hello');
    await assert.rejects(editArchive({ input, output: join(dir, 'none-out.tar'), edits: [], addCaCert: join(dir, 'not.pem') }), /no PEM certificate/);
  });
});
