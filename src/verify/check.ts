import { type EntryRecord, resolveRelative } from '../archive/tar/entry.js';
import { type Descriptor, type ManifestNode, buildGraph, isAttestation, platformString } from '../archive/graph.js';
import { Digest } from '../digest.js';
import { type Json, type JsonObject, field, isJsonObject, parseJson } from '../json/lossless.js';
import { type EntryHasher, storedDigest } from './hash.js';
import { type VerifyCounts, type VerifyIssue, type VerifyReport, describeIssue } from './report.js';

/** Entry names that promise a content digest, and whether a decompressed hash may fulfil it. */
const DIGEST_NAMES: readonly { re: RegExp; either: boolean }[] = [
  { re: /^blobs\/sha256\/([a-f0-9]{64})$/, either: false },
  { re: /^([a-f0-9]{64})\.json$/, either: false }, // Docker <= 24 and podman configs
  { re: /^sha256:([a-f0-9]{64})$/, either: false }, // crane configs
  // podman names a layer by its DiffID, crane by its compressed digest: either is the layer's own
  { re: /^([a-f0-9]{64})\.tar(\.gz)?$/, either: true },
];
const BLOB_PATH = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/;

/**
 * Check everything a loader relies on, given every entry of an archive and the hashes of their
 * bytes: names vs content, descriptors (digest and size), manifest.json paths and layer counts,
 * links, and every layer's DiffID. Pure: reads nothing but its arguments.
 */
export function verifyEntries(entries: readonly EntryRecord[], hashes: EntryHasher, label: string): VerifyReport {
  const c = new Checker(entries, hashes);
  c.checkNames();
  const idx = c.byPath.get('index.json');
  const mj = c.byPath.get('manifest.json');
  // containerd reads index.json when oci-layout exists; docker load reads only manifest.json
  if (idx && (c.byPath.has('oci-layout') || !mj)) c.checkIndex(idx);
  if (mj) c.checkManifestJson(mj);
  if (!mj && !idx) c.issue({ entry: label, message: 'has neither manifest.json nor index.json, so no engine can load it' });
  return { label, ok: c.issues.length === 0, counts: c.counts, issues: c.issues, unverified: [...c.unverified], notes: c.notes };
}

/** The findings of one verification, and the steps that make them. */
class Checker {
  readonly issues: VerifyIssue[] = [];
  readonly unverified = new Set<string>();
  readonly notes: string[] = [];
  readonly counts: VerifyCounts = { blobNames: 0, descriptors: 0, diffIds: 0, manifestJson: 0, links: 0 };
  readonly byPath = new Map<string, EntryRecord>();
  private readonly said = new Set<string>();

  constructor(
    private readonly entries: readonly EntryRecord[],
    private readonly hashes: EntryHasher,
  ) {
    for (const e of entries) if (e.header.type !== 'directory') this.byPath.set(e.path, e);
  }

  /** manifest.json and index.json often name the same layer: say each problem once. */
  issue(i: VerifyIssue): void {
    const key = describeIssue(i);
    if (this.said.has(key)) return;
    this.said.add(key);
    this.issues.push(i);
  }

  /** Follow links to the entry with the bytes; report links that leave the archive, dangle or loop. */
  follow(start: EntryRecord): EntryRecord | undefined {
    let e: EntryRecord | undefined = start;
    const chain: string[] = [];
    while (e && (e.header.type === 'symlink' || e.header.type === 'link')) {
      if (chain.includes(e.path) || chain.length > 40) {
        this.issue({ entry: start.name, message: `links go round in a loop (${[...chain, e.path].join(' -> ')})` });
        return undefined;
      }
      chain.push(e.path);
      const link = e.header.linkname ?? '';
      const target = e.header.type === 'symlink' ? resolveRelative(e.path, link) : resolveRelative('', link);
      if (target === undefined) {
        this.issue({ entry: e.name, message: `is a link to ${JSON.stringify(link)}, outside the archive` });
        return undefined;
      }
      const next = this.byPath.get(target);
      if (!next) {
        this.issue({ entry: e.name, message: `is a link to ${JSON.stringify(link)}, which is not in the archive` });
        return undefined;
      }
      e = next;
    }
    return e;
  }

  private json(e: EntryRecord, what: string): Json | undefined {
    if (!e.data) {
      this.issue({ entry: e.name, message: `should be ${what} (JSON), but is not JSON or is too large to be one` });
      return undefined;
    }
    try {
      return parseJson(e.data);
    } catch (err) {
      this.issue({ entry: e.name, message: `${what} is not valid JSON (${(err as Error).message})` });
      return undefined;
    }
  }

  private diffIdsOf(cfg: EntryRecord, where: string): Json[] | undefined {
    const c = this.json(cfg, 'an image config');
    if (c === undefined) return undefined;
    const rootfs = isJsonObject(c) ? field(c, 'rootfs') : undefined;
    const ids = isJsonObject(rootfs) ? field(rootfs, 'diff_ids') : undefined;
    if (Array.isArray(ids)) return ids;
    this.issue({ entry: cfg.name, message: `is the image config named by ${where}, but has no rootfs.diff_ids list` });
    return undefined;
  }

  /** The layer's decompressed hash against the config's DiffID. */
  private checkDiffId(layer: EntryRecord, want: Json | undefined, n: number, cfg: EntryRecord): void {
    const d = Digest.tryParse(want);
    if (!d) {
      this.issue({ entry: cfg.name, message: `rootfs.diff_ids[${n}] is ${want === undefined ? 'missing' : `not a digest: ${JSON.stringify(want)}`}` });
      return;
    }
    const h = this.hashes.get(layer);
    if (!h) {
      this.unverified.add(`${layer.name}: its bytes were not hashed`);
      return;
    }
    if (!h.content) {
      if (h.corrupt) this.issue({ entry: layer.name, message: `layer ${n + 1} of ${cfg.name}: ${h.contentProblem}` });
      else this.unverified.add(`${layer.name}: DiffID ${d} not verified: ${h.contentProblem}`);
      return;
    }
    this.counts.diffIds++;
    if (!h.content.equals(d)) {
      const how = h.compression === 'none' ? 'its content' : `its ${h.compression}-decompressed content`;
      this.issue({ entry: layer.name, message: `${how} does not match DiffID ${n + 1} of ${cfg.name}`, expected: d.toString(), actual: h.content.toString() });
    }
  }

  /** 1. Names that promise a digest, and every link. */
  checkNames(): void {
    for (const e of this.entries) {
      if (e.header.type === 'symlink' || e.header.type === 'link') {
        this.counts.links++;
        this.follow(e);
        continue;
      }
      if (e.header.type !== 'file' && e.header.type !== 'contiguous-file') continue;
      const m512 = /^blobs\/sha512\/([a-f0-9]{128})$/.exec(e.path);
      if (m512) {
        const got = storedDigest(this.hashes.get(e), 'sha512');
        if (!got) {
          this.unverified.add(`${e.name}: its bytes were not hashed with sha512`);
          continue;
        }
        this.counts.blobNames++;
        if (got.hex !== m512[1]) this.issue({ entry: e.name, message: 'content does not match the digest in its name', expected: `sha512:${m512[1]}`, actual: got.toString() });
        continue;
      }
      const rule = DIGEST_NAMES.map(({ re, either }) => ({ m: re.exec(e.path), either })).find((r) => r.m);
      if (!rule) continue;
      const h = this.hashes.get(e);
      if (!h) {
        this.unverified.add(`${e.name}: its bytes were not hashed`);
        continue;
      }
      this.counts.blobNames++;
      const want = `sha256:${rule.m![1]}`;
      if (h.stored.toString() !== want && !(rule.either && h.content?.toString() === want)) {
        this.issue({ entry: e.name, message: 'content does not match the digest in its name', expected: want, actual: h.stored.toString() });
      }
    }
  }

  /** 2. index.json -> indexes -> manifests -> config and layers, through the one graph walker. */
  checkIndex(idx: EntryRecord): void {
    const doc = this.json(idx, 'the OCI index');
    if (!isJsonObject(doc) || !Array.isArray(field(doc, 'manifests'))) {
      if (doc !== undefined) this.issue({ entry: 'index.json', message: 'has no "manifests" list' });
      return;
    }
    const blobs = new Map<string, EntryRecord>();
    for (const e of this.entries) {
      const m = BLOB_PATH.exec(e.path);
      const target = m && this.follow(e);
      if (m && target) blobs.set(`${m[1]}:${m[2]}`, target);
    }
    // blob names are checked against their content in step 1; here: what the documents promise
    const graph = buildGraph({ entry: idx, doc }, blobs, { checkDigests: false, problem: (entry, message) => this.issue({ entry, message }) });
    const sized = (d: Descriptor, where: string, what: string): EntryRecord | undefined => {
      this.counts.descriptors++;
      const entry = blobs.get(d.digest.toString());
      if (entry && d.size !== entry.header.size) {
        this.issue({
          entry: where,
          message: `descriptor of ${what} ${d.digest} states the wrong size`,
          expected: `${d.size ?? 'a size'} bytes`,
          actual: `${entry.header.size} bytes in ${entry.name}`,
        });
      }
      return entry;
    };
    for (const root of graph.roots) {
      if (!sized(root, 'index.json', 'manifest')) this.issue({ entry: 'index.json', message: `names manifest ${root.digest}, which is not in the archive` });
    }
    for (const node of graph.nodes.values()) {
      if (node.kind === 'manifest') {
        this.checkManifest(node, sized);
        continue;
      }
      for (const c of node.children) {
        if (sized(c, node.entry.name, 'manifest') || isAttestation(c)) continue;
        const p = c.platform ? ` (${platformString(c.platform)})` : '';
        this.notes.push(`${node.entry.name} names manifest ${c.digest}${p}, which is not in the archive (a platform left out of the export)`);
      }
    }
  }

  private checkManifest(node: ManifestNode, sized: (d: Descriptor, where: string, what: string) => EntryRecord | undefined): void {
    const cfg = node.config && sized(node.config, node.entry.name, 'config');
    if (node.config && !cfg && !(node.role !== 'image' && field(node.config.raw, 'data') !== undefined)) {
      this.issue({ entry: node.entry.name, message: `names config ${node.config.digest}, which is not in the archive` });
    }
    const layers = node.layers.map((l) => {
      const e = sized(l, node.entry.name, 'layer');
      if (e) return e;
      // non-distributable ("foreign") layers are fetched from their urls, and archives leave them out
      if (l.urls.length > 0 || /foreign|nondistributable/.test(l.mediaType ?? ''))
        this.unverified.add(`${node.entry.name}: layer ${l.digest} is non-distributable and absent, as such archives ship it`);
      else this.issue({ entry: node.entry.name, message: `names layer ${l.digest}, which is not in the archive` });
      return undefined;
    });
    // attestations carry in-toto statements and artifacts anything: only images have DiffIDs
    if (node.role !== 'image' || !cfg) return;
    const ids = this.diffIdsOf(cfg, node.entry.name);
    if (!ids) return;
    if (ids.length !== layers.length) {
      this.issue({
        entry: node.entry.name,
        message: `lists ${layers.length} layers but its config ${cfg.name} has ${ids.length} DiffIDs`,
        expected: `${ids.length} layers`,
        actual: `${layers.length}`,
      });
    }
    layers.forEach((l, i) => {
      if (l) this.checkDiffId(l, ids[i], i, cfg);
    });
  }

  /** 3. manifest.json, as docker load and podman read it. */
  checkManifestJson(mj: EntryRecord): void {
    const doc = this.json(mj, 'manifest.json');
    if (doc !== undefined && !Array.isArray(doc)) this.issue({ entry: 'manifest.json', message: 'is not a JSON list of images' });
    (Array.isArray(doc) ? doc : []).forEach((item, i) => {
      this.checkItem(item, `manifest.json[${i}]`);
    });
  }

  private checkItem(item: Json, where: string): void {
    const config = isJsonObject(item) ? field(item, 'Config') : undefined;
    if (!isJsonObject(item) || typeof config !== 'string') {
      this.issue({ entry: where, message: 'has no "Config" path' });
      return;
    }
    this.counts.manifestJson++;
    const sourcesJson = field(item, 'LayerSources');
    const sources = isJsonObject(sourcesJson) ? sourcesJson : undefined;
    const cfg = this.itemPath(config, 'Config', where, sources);
    const layersJson = field(item, 'Layers');
    const paths = Array.isArray(layersJson) ? layersJson : [];
    const layers = paths.map((p, j) => (typeof p === 'string' ? this.itemPath(p, `Layers[${j}]`, where, sources) : undefined));
    const ids = cfg && this.diffIdsOf(cfg, where);
    if (ids && ids.length !== paths.length) {
      this.issue({
        entry: where,
        message: `lists ${paths.length} layers but its config ${cfg.name} has ${ids.length} DiffIDs; docker load refuses this`,
        expected: `${ids.length} layers`,
        actual: `${paths.length}`,
      });
    }
    if (ids && cfg) {
      layers.forEach((l, j) => {
        if (l) this.checkDiffId(l, ids[j], j, cfg);
      });
    }
    // Docker 25+: LayerSources maps a DiffID to the descriptor of its blob (compressed for foreign layers)
    for (const [k, v] of Object.entries(sources ?? {})) {
      this.layerSource(v, `${where}.LayerSources`, !(isJsonObject(v) && foreignLayer(`blobs/${String(field(v, 'digest')).replace(':', '/')}`, sources)));
      if (ids && !ids.includes(k)) this.issue({ entry: `${where}.LayerSources`, message: `key ${k} is not one of the DiffIDs of its config ${cfg?.name ?? ''}` });
    }
  }

  /** A path named by manifest.json, followed through links; absent non-distributable layers are by design. */
  private itemPath(p: string, what: string, where: string, sources: JsonObject | undefined): EntryRecord | undefined {
    const norm = resolveRelative('', p);
    if (norm === undefined) {
      this.issue({ entry: where, message: `${what} ${JSON.stringify(p)} points outside the archive` });
      return undefined;
    }
    const e = this.byPath.get(norm);
    if (e) return this.follow(e);
    if (foreignLayer(norm, sources)) this.unverified.add(`${where}: ${what} ${norm} is a non-distributable layer, absent as such archives ship it`);
    else this.issue({ entry: where, message: `${what} names ${JSON.stringify(p)}, which is not in the archive` });
    return undefined;
  }

  /** One LayerSources descriptor: its blob is present (when `required`) and has the size it states. */
  private layerSource(desc: Json | undefined, where: string, required: boolean): void {
    if (!isJsonObject(desc)) {
      this.issue({ entry: where, message: 'has a layer descriptor that is not an object' });
      return;
    }
    const d = Digest.tryParse(field(desc, 'digest'));
    if (!d) {
      this.issue({ entry: where, message: `has a layer descriptor with an invalid digest ${JSON.stringify(field(desc, 'digest') ?? null)}` });
      return;
    }
    this.counts.descriptors++;
    const found = this.byPath.get(`blobs/${d.algorithm}/${d.hex}`);
    const entry = found && this.follow(found);
    if (!entry) {
      if (required) this.issue({ entry: where, message: `names layer ${d}, which is not in the archive` });
      else this.notes.push(`${where} names layer ${d}, which is not in the archive (a non-distributable layer)`);
      return;
    }
    const sz = field(desc, 'size');
    const size = typeof sz === 'number' || (sz !== null && typeof sz === 'object' && !Array.isArray(sz)) ? Number(sz) : undefined;
    if (size !== entry.header.size) {
      this.issue({ entry: where, message: `descriptor of layer ${d} states the wrong size`, expected: `${size ?? 'a size'} bytes`, actual: `${entry.header.size} bytes in ${entry.name}` });
    }
  }
}

/** LayerSources says a missing blob is non-distributable (urls, foreign media type): absent by design. */
function foreignLayer(path: string, sources: JsonObject | undefined): boolean {
  const m = BLOB_PATH.exec(path);
  const src = m && Object.values(sources ?? {}).find((v) => isJsonObject(v) && field(v, 'digest') === `${m[1]}:${m[2]}`);
  if (!src || !isJsonObject(src)) return false;
  const urls = field(src, 'urls');
  return (Array.isArray(urls) && urls.length > 0) || /foreign|nondistributable/.test(String(field(src, 'mediaType') ?? ''));
}
