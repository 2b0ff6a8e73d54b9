import { type EntryRecord, resolveRelative } from '../archive/entry.js';
import { type Descriptor, type ManifestNode, buildGraph, isAttestation, platformString } from '../archive/graph.js';
import { Digest } from '../digest.js';
import { type Json, type JsonObject, field, isJsonObject, parseJson } from '../json/lossless.js';
import type { EntryHasher } from './hash.js';
import { type VerifyCounts, type VerifyIssue, type VerifyReport, describeIssue } from './report.js';

/** Entry names that promise a content digest, and whether a decompressed hash may fulfil it. */
const DIGEST_NAMES: readonly { re: RegExp; either: boolean }[] = [
  { re: /^blobs\/sha256\/([a-f0-9]{64})$/, either: false },
  { re: /^([a-f0-9]{64})\.json$/, either: false }, // Docker <= 24 and podman configs
  { re: /^sha256:([a-f0-9]{64})$/, either: false }, // crane configs
  // podman names a layer by its DiffID, crane by its compressed digest: either is the layer's own
  { re: /^([a-f0-9]{64})\.tar(\.gz)?$/, either: true },
];

/**
 * Check everything a loader relies on, given every entry of an archive and the hashes of their
 * bytes: names vs content, descriptors (digest and size), manifest.json paths and layer counts,
 * links, and every layer's DiffID. Pure: reads nothing but its arguments.
 */
export function verifyEntries(entries: readonly EntryRecord[], hashes: EntryHasher, label: string): VerifyReport {
  const issues: VerifyIssue[] = [];
  const said = new Set<string>();
  // manifest.json and index.json often name the same layer: say each problem once
  const issue = (i: VerifyIssue): void => {
    const key = describeIssue(i);
    if (!said.has(key)) {
      said.add(key);
      issues.push(i);
    }
  };
  const unverified = new Set<string>();
  const notes: string[] = [];
  const counts: VerifyCounts = { blobNames: 0, descriptors: 0, diffIds: 0, manifestJson: 0, links: 0 };
  const byPath = new Map<string, EntryRecord>();
  for (const e of entries) if (e.header.type !== 'directory') byPath.set(e.path, e);

  /** Follow links to the entry with the bytes; report links that leave the archive, dangle or loop. */
  const follow = (start: EntryRecord): EntryRecord | undefined => {
    let e: EntryRecord | undefined = start;
    const chain: string[] = [];
    while (e && (e.header.type === 'symlink' || e.header.type === 'link')) {
      if (chain.includes(e.path) || chain.length > 40) {
        issue({ entry: start.name, message: `links go round in a loop (${[...chain, e.path].join(' -> ')})` });
        return undefined;
      }
      chain.push(e.path);
      const link = e.header.linkname ?? '';
      const target = e.header.type === 'symlink' ? resolveRelative(e.path, link) : resolveRelative('', link);
      if (target === undefined) {
        issue({ entry: e.name, message: `is a link to ${JSON.stringify(link)}, outside the archive` });
        return undefined;
      }
      const next = byPath.get(target);
      if (!next) {
        issue({ entry: e.name, message: `is a link to ${JSON.stringify(link)}, which is not in the archive` });
        return undefined;
      }
      e = next;
    }
    return e;
  };
  const lookup = (path: string): EntryRecord | undefined => {
    const e = byPath.get(path);
    return e && follow(e);
  };
  const json = (e: EntryRecord, what: string): Json | undefined => {
    if (!e.data) {
      issue({ entry: e.name, message: `should be ${what} (JSON), but is not JSON or is too large to be one` });
      return undefined;
    }
    try {
      return parseJson(e.data);
    } catch (err) {
      issue({ entry: e.name, message: `${what} is not valid JSON (${(err as Error).message})` });
      return undefined;
    }
  };
  const diffIdsOf = (cfg: EntryRecord, where: string): Json[] | undefined => {
    const c = json(cfg, 'an image config');
    if (c === undefined) return undefined;
    const rootfs = isJsonObject(c) ? c.rootfs : undefined;
    if (isJsonObject(rootfs) && Array.isArray(rootfs.diff_ids)) return rootfs.diff_ids;
    issue({ entry: cfg.name, message: `is the image config named by ${where}, but has no rootfs.diff_ids list` });
    return undefined;
  };
  const checkDiffId = (layer: EntryRecord, want: Json | undefined, n: number, cfg: EntryRecord): void => {
    const d = Digest.tryParse(want);
    if (!d) {
      issue({ entry: cfg.name, message: `rootfs.diff_ids[${n}] is ${want === undefined ? 'missing' : `not a digest: ${JSON.stringify(want)}`}` });
      return;
    }
    const h = hashes.get(layer);
    if (!h) {
      unverified.add(`${layer.name}: its bytes were not hashed`);
      return;
    }
    if (!h.content) {
      if (h.corrupt) issue({ entry: layer.name, message: `layer ${n + 1} of ${cfg.name}: ${h.contentProblem}` });
      else unverified.add(`${layer.name}: DiffID ${d} not verified: ${h.contentProblem}`);
      return;
    }
    counts.diffIds++;
    if (!h.content.equals(d)) {
      const how = h.compression === 'none' ? 'its content' : `its ${h.compression}-decompressed content`;
      issue({ entry: layer.name, message: `${how} does not match DiffID ${n + 1} of ${cfg.name}`, expected: d.toString(), actual: h.content.toString() });
    }
  };

  // 1. names that promise a digest
  for (const e of entries) {
    if (e.header.type === 'symlink' || e.header.type === 'link') {
      counts.links++;
      follow(e);
      continue;
    }
    if (e.header.type !== 'file' && e.header.type !== 'contiguous-file') continue;
    if (/^blobs\/sha512\//.test(e.path)) {
      unverified.add(`${e.name}: sha512 blob names are not checked`);
      continue;
    }
    for (const { re, either } of DIGEST_NAMES) {
      const m = re.exec(e.path);
      if (!m) continue;
      const h = hashes.get(e);
      if (!h) {
        unverified.add(`${e.name}: its bytes were not hashed`);
        break;
      }
      counts.blobNames++;
      const want = `sha256:${m[1]}`;
      if (h.stored.toString() !== want && !(either && h.content?.toString() === want)) {
        issue({ entry: e.name, message: 'content does not match the digest in its name', expected: want, actual: h.stored.toString() });
      }
      break;
    }
  }

  // 2. the OCI graph: index.json -> indexes -> manifests -> config and layers
  /** Check one descriptor: its target is present (when `required`) and has the size it states. */
  const descriptor = (desc: Json | undefined, where: string, required: boolean, what: string): { entry: EntryRecord; desc: JsonObject } | undefined => {
    if (!isJsonObject(desc)) {
      issue({ entry: where, message: `has a ${what} descriptor that is not an object` });
      return undefined;
    }
    const d = Digest.tryParse(desc.digest);
    if (!d) {
      issue({ entry: where, message: `has a ${what} descriptor with an invalid digest ${JSON.stringify(desc.digest)}` });
      return undefined;
    }
    counts.descriptors++;
    const entry = lookup(`blobs/${d.algorithm}/${d.hex}`);
    if (!entry) {
      if (required) issue({ entry: where, message: `names ${what} ${d}, which is not in the archive` });
      else {
        const p = isJsonObject(desc.platform) ? ` (${[desc.platform.os, desc.platform.architecture, desc.platform.variant].filter(Boolean).join('/')})` : '';
        notes.push(`${where} names ${what} ${d}${p}, which is not in the archive (${what === 'layer' ? 'a non-distributable layer' : 'a platform left out of the export'})`);
      }
      return undefined;
    }
    const size = typeof desc.size === 'number' || (desc.size !== null && typeof desc.size === 'object') ? Number(desc.size) : undefined;
    if (size !== entry.header.size) {
      issue({ entry: where, message: `descriptor of ${what} ${d} states the wrong size`, expected: `${size ?? 'a size'} bytes`, actual: `${entry.header.size} bytes in ${entry.name}` });
    }
    return { entry, desc };
  };
  const idx = byPath.get('index.json');
  const mj = byPath.get('manifest.json');
  // containerd reads index.json when oci-layout exists; docker load reads only manifest.json
  if (idx && (byPath.has('oci-layout') || !mj)) {
    const doc = json(idx, 'the OCI index');
    if (isJsonObject(doc) && Array.isArray(field(doc, 'manifests'))) checkGraph({ entry: idx, doc });
    else if (doc !== undefined) issue({ entry: 'index.json', message: 'has no "manifests" list' });
  }

  /** index.json -> indexes -> manifests -> config and layers, through the one graph walker. */
  function checkGraph(index: { entry: EntryRecord; doc: JsonObject }): void {
    const blobs = new Map<string, EntryRecord>();
    for (const e of entries) {
      const m = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/.exec(e.path);
      const target = m && follow(e);
      if (m && target) blobs.set(`${m[1]}:${m[2]}`, target);
    }
    // blob names are checked against their content in step 1; here: what the documents promise
    const graph = buildGraph(index, blobs, { checkDigests: false, problem: (entry, message) => issue({ entry, message }) });
    const sized = (d: Descriptor, where: string, what: string): EntryRecord | undefined => {
      counts.descriptors++;
      const entry = blobs.get(d.digest.toString());
      if (entry && d.size !== entry.header.size) {
        issue({ entry: where, message: `descriptor of ${what} ${d.digest} states the wrong size`, expected: `${d.size ?? 'a size'} bytes`, actual: `${entry.header.size} bytes in ${entry.name}` });
      }
      return entry;
    };
    for (const root of graph.roots) {
      if (!sized(root, 'index.json', 'manifest')) issue({ entry: 'index.json', message: `names manifest ${root.digest}, which is not in the archive` });
    }
    for (const node of graph.nodes.values()) {
      if (node.kind === 'index') {
        for (const c of node.children) {
          if (!sized(c, node.entry.name, 'manifest') && !isAttestation(c)) {
            const p = c.platform ? ` (${platformString(c.platform)})` : '';
            notes.push(`${node.entry.name} names manifest ${c.digest}${p}, which is not in the archive (a platform left out of the export)`);
          }
        }
        continue;
      }
      checkManifest(node, sized);
    }
  }

  function checkManifest(node: ManifestNode, sized: (d: Descriptor, where: string, what: string) => EntryRecord | undefined): void {
    const cfg = node.config && sized(node.config, node.entry.name, 'config');
    if (node.config && !cfg && !(node.role !== 'image' && field(node.config.raw, 'data') !== undefined)) {
      issue({ entry: node.entry.name, message: `names config ${node.config.digest}, which is not in the archive` });
    }
    const layers = node.layers.map((l) => {
      const e = sized(l, node.entry.name, 'layer');
      if (e) return e;
      // non-distributable ("foreign") layers are fetched from their urls, and archives leave them out
      if (l.urls.length > 0 || /foreign|nondistributable/.test(l.mediaType ?? '')) unverified.add(`${node.entry.name}: layer ${l.digest} is non-distributable and absent, as such archives ship it`);
      else issue({ entry: node.entry.name, message: `names layer ${l.digest}, which is not in the archive` });
      return undefined;
    });
    // attestations carry in-toto statements and artifacts anything: only images have DiffIDs
    if (node.role !== 'image' || !cfg) return;
    const ids = diffIdsOf(cfg, node.entry.name);
    if (!ids) return;
    if (ids.length !== layers.length) {
      issue({ entry: node.entry.name, message: `lists ${layers.length} layers but its config ${cfg.name} has ${ids.length} DiffIDs`, expected: `${ids.length} layers`, actual: `${layers.length}` });
    }
    layers.forEach((l, i) => l && checkDiffId(l, ids[i], i, cfg));
  }

  // 3. manifest.json, as docker load and podman read it
  if (mj) {
    const doc = json(mj, 'manifest.json');
    if (doc !== undefined && !Array.isArray(doc)) issue({ entry: 'manifest.json', message: 'is not a JSON list of images' });
    (Array.isArray(doc) ? doc : []).forEach((item, i) => {
      const where = `manifest.json[${i}]`;
      if (!isJsonObject(item) || typeof item.Config !== 'string') {
        issue({ entry: where, message: 'has no "Config" path' });
        return;
      }
      counts.manifestJson++;
      const pathOf = (p: string, field: string): EntryRecord | undefined => {
        const norm = resolveRelative('', p);
        if (norm === undefined) {
          issue({ entry: where, message: `${field} ${JSON.stringify(p)} points outside the archive` });
          return undefined;
        }
        const e = byPath.get(norm);
        if (!e) {
          if (foreign(norm)) unverified.add(`${where}: ${field} ${norm} is a non-distributable layer, absent as such archives ship it`);
          else issue({ entry: where, message: `${field} names ${JSON.stringify(p)}, which is not in the archive` });
          return undefined;
        }
        return follow(e);
      };
      /** LayerSources says a missing blob is non-distributable (urls, foreign media type): absent by design. */
      const foreign = (path: string): boolean => {
        const m = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/.exec(path);
        const sources = isJsonObject(item.LayerSources) ? Object.values(item.LayerSources) : [];
        const src = m && sources.find((v) => isJsonObject(v) && field(v, 'digest') === `${m[1]}:${m[2]}`);
        if (!src || !isJsonObject(src)) return false;
        const urls = field(src, 'urls');
        return (Array.isArray(urls) && urls.length > 0) || /foreign|nondistributable/.test(String(field(src, 'mediaType') ?? ''));
      };
      const cfg = pathOf(item.Config, 'Config');
      const paths = Array.isArray(item.Layers) ? item.Layers : [];
      const layers = paths.map((p, j) => (typeof p === 'string' ? pathOf(p, `Layers[${j}]`) : undefined));
      const ids = cfg && diffIdsOf(cfg, where);
      if (ids && ids.length !== paths.length) {
        issue({ entry: where, message: `lists ${paths.length} layers but its config ${cfg.name} has ${ids.length} DiffIDs; docker load refuses this`, expected: `${ids.length} layers`, actual: `${paths.length}` });
      }
      if (ids && cfg) layers.forEach((l, j) => l && checkDiffId(l, ids[j], j, cfg));
      // Docker 25+: LayerSources maps a DiffID to the descriptor of its blob (compressed for foreign layers)
      if (isJsonObject(item.LayerSources)) {
        for (const [k, v] of Object.entries(item.LayerSources)) {
          descriptor(v, `${where}.LayerSources`, !(isJsonObject(v) && foreign(`blobs/${String(v.digest).replace(':', '/')}`)), 'layer');
          if (ids && !ids.includes(k)) {
            issue({ entry: `${where}.LayerSources`, message: `key ${k} is not one of the DiffIDs of its config ${cfg?.name ?? ''}` });
          }
        }
      }
    });
  }
  if (!mj && !idx) issue({ entry: label, message: 'has neither manifest.json nor index.json, so no engine can load it' });

  return { label, ok: issues.length === 0, counts, issues, unverified: [...unverified], notes };
}
