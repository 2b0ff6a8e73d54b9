import { loadExpected } from '../../samples.js';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { Digest, inspectArchive, normalizeReference } from '../../../src/index.js';
import { ociLayout, sha } from '../fixtures.js';

const SAMPLES = new URL('../../../../samples/', import.meta.url).pathname;

const loaded = loadExpected();
if ('error' in loaded) throw new Error(loaded.error);
const EXPECTED = loaded.samples;
const norm = (tags: readonly string[]) => [...new Set(tags.map((t) => normalizeReference(t)))].sort();

describe('inspect matches what the engines reported (samples/expected.json)', () => {
  it('has samples to compare', () => assert.ok(EXPECTED.length >= 12));
  for (const s of EXPECTED) {
    it(s.file, async () => {
      const r = await inspectArchive(join(SAMPLES, s.file));
      assert.deepEqual(r.images.map((i) => i.id).sort(), s.images.map((i) => i.imageId).sort());
      for (const want of s.images) {
        const got = r.images.find((i) => i.id === want.imageId)!;
        assert.equal(got.shortId, want.imageId.slice(7, 19));
        assert.deepEqual(norm(got.tags), norm(want.repoTags));
        assert.deepEqual(
          got.layers.map((l) => l.diffId),
          want.diffIds,
        );
        assert.equal(got.architecture, want.architecture);
        assert.equal(got.os, want.os);
        assert.deepEqual(got.config.entrypoint, want.entrypoint);
        assert.deepEqual(got.config.cmd, want.cmd);
        assert.deepEqual([...got.config.volumes].sort(), [...want.volumes].sort());
        assert.deepEqual([...got.config.exposedPorts].sort(), [...want.exposedPorts].sort());
        assert.deepEqual(got.config.env, want.env);
        assert.deepEqual(got.config.labels, want.labels);
        assert.equal(got.config.user, want.user);
        assert.equal(got.config.workingDir, want.workingDir);
        if ('manifestDigest' in want) assert.equal(got.manifestDigest, want.manifestDigest);
        if ('indexDigest' in want) assert.equal(got.indexDigest, want.indexDigest);
        if (want.layerDigests)
          assert.deepEqual(
            got.layers.map((l) => l.blobDigest),
            want.layerDigests,
          );
        if (want.layerMediaTypes)
          assert.deepEqual(
            got.layers.map((l) => l.mediaType),
            want.layerMediaTypes,
          );
        if (want.absentManifests)
          assert.deepEqual(
            r.absentManifests.map((a) => ({ digest: a.digest, platform: a.platform })),
            want.absentManifests,
          );
        // ChainIDs by the image-spec formula, computed here independently
        let chain = '';
        got.layers.forEach((l, i) => {
          chain = i === 0 ? l.diffId! : `sha256:${sha(`${chain} ${l.diffId}`)}`;
          assert.equal(l.chainId, chain);
        });
        // uncompressed layouts: the stored blob is the DiffID's tar
        if (!want.layerDigests)
          assert.deepEqual(
            got.layers.map((l) => l.blobDigest),
            want.diffIds,
          );
      }
    });
  }
  it('gives no manifest or index digest where the layout has none', async () => {
    const r = await inspectArchive(join(SAMPLES, 'docker20-legacy.tar'));
    assert.equal(r.layout, 'docker-legacy');
    assert.equal(r.images[0]!.manifestDigest, null);
    assert.equal(r.images[0]!.indexDigest, null);
    assert.deepEqual(
      r.images[0]!.layers.map((l) => [l.size, l.compression, l.mediaType]),
      [
        [6144, 'none', null],
        [2048, 'none', null],
        [2048, 'none', null],
        [2048, 'none', null],
      ],
    );
  });
  it('reports the layer sizes from the manifest for gzip layers', async () => {
    const r = await inspectArchive(join(SAMPLES, 'containerd-gzip-index.tar'));
    assert.deepEqual(
      r.images[0]!.layers.map((l) => [l.size, l.compression]),
      [
        [344, 'gzip'],
        [129, 'gzip'],
        [130, 'gzip'],
        [129, 'gzip'],
      ],
    );
    assert.equal(r.images[0]!.manifests[0]!.platform, 'linux/amd64');
    assert.deepEqual(r.images[0]!.manifests[0]!.indexes, ['sha256:0581389f6de18b0f56562364ec26669dda291d4617a8def12484811027445534']);
  });
});

describe('inspect: attestations and the JSON shape', () => {
  it('lists a buildx attestation manifest with the image it describes', async () => {
    const f = await ociLayout({ multiPlatform: true, gzip: true });
    const r = await inspectArchive(Readable.from([f.archive]));
    assert.equal(r.images.length, 1);
    const img = r.images[0]!;
    assert.equal(img.id, `sha256:${sha(f.config)}`);
    assert.equal(img.manifestDigest, `sha256:${sha(f.manifest)}`);
    assert.equal(img.attestations.length, 1);
    assert.equal(img.attestations[0]!.present, true);
    assert.equal(img.attestations[0]!.refersTo, img.manifestDigest);
    assert.equal(img.attestations[0]!.index, img.indexDigest);
    assert.deepEqual(
      r.absentManifests.map((a) => a.platform),
      [{ os: 'linux', architecture: 'arm64' }],
    );
  });
  it('keeps every documented key, null when unknown', async () => {
    const r = await inspectArchive(join(SAMPLES, 'podman.tar'));
    assert.deepEqual(Object.keys(r), ['schemaVersion', 'archive', 'compression', 'layout', 'images', 'targets', 'artifacts', 'absentManifests', 'notes']);
    assert.deepEqual(Object.keys(r.images[0]!), [
      'id',
      'shortId',
      'containerdId',
      'tags',
      'configEntry',
      'configSize',
      'created',
      'architecture',
      'os',
      'variant',
      'config',
      'manifestDigest',
      'indexDigest',
      'manifests',
      'layers',
      'attestations',
    ]);
    assert.deepEqual(Object.keys(r.images[0]!.config), ['entrypoint', 'cmd', 'env', 'volumes', 'exposedPorts', 'user', 'workingDir', 'labels', 'stopSignal', 'healthcheck']);
    assert.deepEqual(Object.keys(r.images[0]!.layers[0]!), ['entry', 'size', 'mediaType', 'compression', 'blobDigest', 'diffId', 'chainId']);
    assert.equal(r.images[0]!.variant, null);
    assert.ok(Digest.tryParse(r.images[0]!.layers[3]!.chainId));
  });
});
