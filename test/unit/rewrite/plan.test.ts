/**
 * Issue 10: the graph, the fold and the plan tested directly in memory (no files, no CLI):
 * scanArchive -> buildModel (graph, targets) -> editModel (request) -> planRewrite (entries).
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { type ArchiveModel, buildModel, removeVolumes, scanArchive } from '../../../src/index.js';
import { editModel } from '../../../src/pipeline.js';
import { planRewrite } from '../../../src/rewrite/inplace.js';
import { OciBuilder, named } from '../oci-builder.js';

async function model(archive: Buffer): Promise<ArchiveModel> {
  const entries = await scanArchive(Readable.from([archive]), async (_e, body) => {
    for await (const _ of body) void _;
  });
  return buildModel(entries, 'memory');
}

describe('graph, fold and plan in memory', () => {
  it('the graph: roles, platforms, subject, one node per digest; the targets: one per name target', async () => {
    const b = new OciBuilder();
    const amd = await b.image('linux', 'amd64');
    const arm = await b.image('linux', 'arm64');
    const top = named(b.index([amd.desc, arm.desc, b.attestation(amd.desc)]), 'docker.io/example/m:1');
    const sbom = b.artifact('application/spdx+json', '{}', amd.desc);
    const m = await model(await b.archive([top, top, sbom]));
    assert.equal(m.graph.roots.length, 3);
    const roles = [...m.graph.nodes.values()].map((n) => (n.kind === 'index' ? 'index' : n.role)).sort();
    assert.deepEqual(roles, ['artifact', 'attestation', 'image', 'image', 'index']);
    assert.equal(m.graph.parents.get(top.digest)!.length, 2, 'index.json names the index twice: read once, two edges');
    assert.equal(m.targets.length, 1);
    assert.deepEqual(
      m.targets[0]!.platforms.map((p) => p.platform?.architecture),
      ['amd64', 'arm64'],
    );
    assert.deepEqual(
      m.artifacts.map((d) => d.digest.toString()),
      [sbom.digest],
    );
  });

  it('the fold and the plan: new config -> manifest -> index -> index.json; old blobs dropped; the referrer re-pointed', async () => {
    const b = new OciBuilder();
    const amd = await b.image('linux', 'amd64');
    const arm = await b.image('linux', 'arm64');
    const top = named(b.index([amd.desc, arm.desc]), 'docker.io/example/m:1');
    const sbom = b.artifact('application/spdx+json', '{}', top);
    const m = await model(await b.archive([top, sbom]));
    const { request, reports } = editModel(m, [removeVolumes('all')], { platforms: [{ os: 'linux', architecture: 'arm64' }] });
    assert.equal(reports.length, 1);
    assert.deepEqual([...request.configs.keys()], [arm.config.digest]);
    const plan = planRewrite(m, request);
    assert.deepEqual([...plan.renamed.keys()], [arm.config.digest]);
    const names = plan.entries.map((e) => e.header.name);
    assert.ok(!names.includes(`blobs/sha256/${arm.config.digest.slice(7)}`), 'old arm64 config dropped');
    assert.ok(!names.includes(`blobs/sha256/${arm.desc.digest.slice(7)}`), 'old arm64 manifest dropped');
    assert.ok(names.includes(`blobs/sha256/${amd.config.digest.slice(7)}`), 'amd64 config kept as it was');
    assert.ok(plan.dropped.includes(`blobs/sha256/${top.digest.slice(7)}`), 'old index dropped');
    const indexJson = JSON.parse(plan.entries.find((e) => e.header.name === 'index.json')!.data.toString());
    const newTop = indexJson.manifests[0].digest as string;
    assert.notEqual(newTop, top.digest);
    const ref = JSON.parse(plan.entries.find((e) => e.header.name === `blobs/sha256/${indexJson.manifests[1].digest.slice(7)}`)!.data.toString());
    assert.equal(ref.subject.digest, newTop, 'the SBOM names the new index');
    assert.equal(plan.targets.get(m.targets[0]!)!.digest.toString(), newTop);
  });
});
