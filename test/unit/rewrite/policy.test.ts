/**
 * The rewrite's policies hold whatever caused a digest to change (issue "One rewriter"): a
 * generated corpus of every statement an archive can make about bytes (BuildKit attestations, SBOM
 * and signature referrers, SOCI v2 indexes, eStargz and zstd:chunked layer annotations, a referrer
 * whose subject is a config), each under every cause of change (an edit, a recompression, a
 * conversion, both). The output is read with the tests' own tar reader, never src/.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type EditArchiveOptions, editArchive, setEntrypoint, verifyArchive } from '../../../src/index.js';
import { readTar } from '../fixtures.js';
import { type Desc, MT, OciBuilder, named } from '../oci-builder.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'copyedit-policy-'));
});
after(() => rm(dir, { recursive: true, force: true }));

/** The causes of change: each changes the image manifest's digest. */
const CAUSES: Record<string, Omit<EditArchiveOptions, 'input' | 'output'> & { recodes: boolean }> = {
  edit: { edits: [setEntrypoint(['/x'])], recodes: false },
  gzip: { edits: [], layerCompression: 'gzip', recodes: true },
  'oci-zstd': { edits: [], format: 'oci', layerCompression: 'zstd', recodes: true },
  'edit-docker-gzip': { edits: [setEntrypoint(['/x'])], format: 'docker', layerCompression: 'gzip', recodes: true },
};

const STARGZ = { 'containerd.io/snapshot/stargz/toc.digest': `sha256:${'1'.repeat(64)}`, 'io.containers.estargz.uncompressed-size': '1536' };
const CHUNKED = {
  'io.github.containers.zstd-chunked.manifest-checksum': `sha256:${'2'.repeat(64)}`,
  'io.github.containers.zstd-chunked.manifest-position': '10:20:30:1',
  'io.github.containers.zstd-chunked.tarsplit-position': '40:50:60',
};
const KEEP = { 'containerd.io/uncompressed': 'kept', 'org.example.layer': 'kept' };

/** One shape: an archive holding `app` (an image, named) and the statement under test. */
interface Shape {
  readonly archive: Buffer;
  readonly app: Desc;
  readonly statement: Desc;
  /** Blobs only the statement references (they must leave with it). */
  readonly own: readonly string[];
}

async function shape(kind: string, layerAnnotations: Record<string, string> = {}): Promise<Shape> {
  const b = new OciBuilder();
  const img = await b.image('linux', 'amd64');
  // the layer descriptor with the annotations under test (the manifest rebuilt around it)
  const layerDesc = { ...img.layers[0]!, annotations: { ...layerAnnotations, ...KEEP } };
  const sociLink = kind === 'soci' ? { 'com.amazon.soci.index-digest': `sha256:${'5'.repeat(64)}` } : {};
  const m = { schemaVersion: 2, mediaType: MT.manifest, config: img.config, layers: [layerDesc], ...(kind === 'soci' ? { annotations: sociLink } : {}) };
  const app: Desc = { ...b.blob(m, MT.manifest), platform: { os: 'linux', architecture: 'amd64' } };
  const own = (d: Desc) => {
    const json = JSON.parse(b.blobs.get(d.digest.slice(7))!.toString()) as { layers?: Desc[] };
    return [d.digest, ...(json.layers ?? []).map((l) => l.digest)];
  };
  if (kind === 'attestation') {
    const att = b.attestation(app);
    const top = named(b.index([app, att]), 'docker.io/example/app:1');
    return { archive: await b.archive([top]), app, statement: att, own: own(att) };
  }
  if (kind === 'soci') {
    const soci = b.artifact('application/vnd.amazon.soci.index.v2+json', 'ztoc bytes');
    const sociDesc = { ...soci, annotations: { 'com.amazon.soci.image-manifest-digest': app.digest } };
    const top = named(b.index([{ ...app, annotations: sociLink }, sociDesc]), 'docker.io/example/app:1');
    return { archive: await b.archive([top]), app, statement: sociDesc, own: own(soci) };
  }
  const root = named(app, 'docker.io/example/app:1');
  if (kind === 'sbom' || kind === 'signature') {
    const type = kind === 'sbom' ? 'application/spdx+json' : 'application/vnd.dev.cosign.artifact.sig.v1+json';
    // a JSON payload, as cosign's simplesigning and notation's JWS envelopes are (kept in memory by
    // the one-pass edit, so it can leave with its referrer; a conversion's two passes drop any kind)
    const ref = b.artifact(type, JSON.stringify({ critical: { image: { 'docker-manifest-digest': app.digest } }, kind }), app);
    return { archive: await b.archive([root, ref]), app, statement: ref, own: own(ref) };
  }
  // a referrer whose subject is the image config (the spec forbids it; archives hold it)
  const ref = b.artifact('application/vnd.example.note', 'about the config', img.config);
  return { archive: await b.archive([root, ref]), app, statement: ref, own: own(ref) };
}

let n = 0;
async function run(s: Shape, cause: string) {
  const { recodes: _r, ...opts } = CAUSES[cause]!;
  const input = join(dir, `in${++n}.tar`);
  const output = join(dir, `out${n}.tar`);
  await writeFile(input, s.archive);
  const report = await editArchive({ input, output, fsync: false, history: false, ...opts });
  const out = await readTar(await readFile(output));
  const blob = (d: string) => out.get(`blobs/sha256/${d.replace('sha256:', '')}`)?.data;
  const json = (d: string) => JSON.parse(blob(d)!.toString()) as Record<string, unknown>;
  const index = JSON.parse(out.get('index.json')!.data.toString()) as { manifests: Desc[] };
  const verified = await verifyArchive(output);
  return { report, blob, json, index, verified };
}

/** Every manifest the output's index.json reaches, with the index that lists it. */
function walk(r: Awaited<ReturnType<typeof run>>): { desc: Desc; doc: Record<string, unknown> }[] {
  const out: { desc: Desc; doc: Record<string, unknown> }[] = [];
  const visit = (d: Desc) => {
    const doc = r.json(d.digest);
    out.push({ desc: d, doc });
    if (Array.isArray(doc.manifests)) for (const c of doc.manifests as Desc[]) if (r.blob(c.digest)) visit(c);
  };
  for (const d of r.index.manifests) visit(d);
  return out;
}

describe('statements about old bytes never survive a change, whatever caused it', () => {
  for (const cause of Object.keys(CAUSES)) {
    it(`${cause}: an attestation of a changed manifest is dropped with its blobs, with one wording`, async () => {
      const s = await shape('attestation');
      const r = await run(s, cause);
      assert.ok(r.verified.ok, JSON.stringify(r.verified.issues));
      const all = walk(r);
      assert.ok(!all.some((x) => x.desc.digest === s.statement.digest), 'the attestation is still listed');
      assert.ok(!all.some((x) => x.desc.annotations?.['vnd.docker.reference.type']), 'an attestation entry is still listed');
      for (const d of s.own) assert.equal(r.blob(d), undefined, `${d} of the dropped attestation is still in the output`);
      assert.ok(
        r.report.warnings.some((w) => /: dropped attestation manifest sha256:[0-9a-f]+: it describes sha256:[0-9a-f]+ as it was before the change$/.test(w)),
        r.report.warnings.join('\n'),
      );
    });

    it(`${cause}: an SBOM referrer follows its subject, with the same warning as an edit's`, async () => {
      const s = await shape('sbom');
      const r = await run(s, cause);
      assert.ok(r.verified.ok, JSON.stringify(r.verified.issues));
      const app = r.index.manifests.find((d) => d.annotations?.['io.containerd.image.name'])!;
      const ref = r.index.manifests.find((d) => !d.annotations?.['io.containerd.image.name'])!;
      assert.notEqual(app.digest, s.app.digest);
      assert.equal((r.json(ref.digest).subject as Desc).digest, app.digest, 'the referrer names the new manifest');
      const w = `referrer ${s.statement.digest} (application/spdx+json) now names the changed manifest ${app.digest} as its subject`;
      assert.ok(r.report.warnings.includes(w), `${w}\nnot in\n${r.report.warnings.join('\n')}`);
    });

    it(`${cause}: a signature referrer is dropped with its payload`, async () => {
      const s = await shape('signature');
      const r = await run(s, cause);
      assert.ok(r.verified.ok, JSON.stringify(r.verified.issues));
      assert.equal(r.index.manifests.length, 1, 'only the image is left');
      for (const d of s.own) assert.equal(r.blob(d), undefined, `${d} of the dropped signature is still in the output`);
      assert.ok(
        r.report.warnings.some((w) => w.startsWith(`dropped referrer ${s.statement.digest}: it is a signature (`)),
        r.report.warnings.join('\n'),
      );
    });

    it(`${cause}: a SOCI v2 index of a changed manifest is dropped, and the manifest no longer names it`, async () => {
      const s = await shape('soci');
      const r = await run(s, cause);
      assert.ok(r.verified.ok, JSON.stringify(r.verified.issues));
      for (const x of walk(r)) {
        assert.equal(x.desc.annotations?.['com.amazon.soci.image-manifest-digest'], undefined, 'a SOCI index entry is still listed');
        assert.equal(x.desc.annotations?.['com.amazon.soci.index-digest'], undefined, 'a descriptor still names the SOCI index');
        assert.equal((x.doc.annotations as Record<string, string> | undefined)?.['com.amazon.soci.index-digest'], undefined, 'the manifest still names the SOCI index');
      }
      // the ztoc is binary: a one-pass edit has written it before index.json drops it, and says so
      for (const d of s.own) {
        if (cause === 'edit' && d !== s.statement.digest && r.blob(d))
          assert.ok(
            r.report.warnings.some((w) => w.includes('no longer referenced stay in the output') && w.includes(d.slice(7))),
            r.report.warnings.join('\n'),
          );
        else assert.equal(r.blob(d), undefined, `${d} of the dropped SOCI index is still in the output`);
      }
      assert.ok(
        r.report.warnings.some((w) => /: dropped SOCI index sha256:[0-9a-f]+: it describes sha256:[0-9a-f]+ as it was before the change$/.test(w)),
        r.report.warnings.join('\n'),
      );
    });

    for (const [name, annotations] of Object.entries({ estargz: STARGZ, 'zstd:chunked': CHUNKED })) {
      it(`${cause}: ${name} layer annotations go exactly when the layer's bytes change`, async () => {
        const s = await shape('plain', annotations);
        const r = await run(s, cause);
        assert.ok(r.verified.ok, JSON.stringify(r.verified.issues));
        const m = walk(r).find((x) => Array.isArray(x.doc.layers))!;
        const got = (m.doc.layers as Desc[])[0]!.annotations ?? {};
        const recodes = CAUSES[cause]!.recodes;
        assert.deepEqual(got, recodes ? KEEP : { ...annotations, ...KEEP });
        const said = r.report.warnings.some((w) => /removed .* they describe the layer's bytes before recompression/.test(w));
        assert.equal(said, recodes, r.report.warnings.join('\n'));
      });
    }

    it(`${cause}: a referrer whose subject is a config never names a blob the output lacks`, async () => {
      const s = await shape('config-subject');
      const r = await run(s, cause);
      assert.ok(r.verified.ok, JSON.stringify(r.verified.issues));
      for (const d of r.index.manifests) {
        const subject = r.json(d.digest).subject as Desc | undefined;
        if (subject) assert.ok(r.blob(subject.digest), `referrer ${d.digest} names ${subject.digest}, which the output does not hold`);
      }
      const dropped = r.report.warnings.some((w) => w.startsWith(`dropped referrer ${s.statement.digest}: its subject`));
      assert.equal(dropped, cause.startsWith('edit'), r.report.warnings.join('\n'));
    });
  }
});
