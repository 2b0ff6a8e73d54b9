/**
 * The renderer for the docker-legacy layout (`--format docker-legacy`, Docker <= 24's save): per
 * image one `<v1id>/` folder per layer (VERSION, json, layer.tar), the config as `<id>.json`,
 * manifest.json and repositories. It holds one config per name, no manifests and no referrers.
 */
import { derivedHeader } from '../archive/entry.js';
import { platformString } from '../archive/graph.js';
import type { ArchiveModel, ImageModel, LayerInfo } from '../archive/model.js';
import { Digest, chainIds } from '../digest.js';
import { ArchiveError, EditError } from '../errors.js';
import { type Json, type JsonObject, field, jsonObject, parseJson, printJson } from '../json/lossless.js';
import { familiarName } from '../convert/media.js';
import type { LayerPlan } from './layers.js';
import { type OutputImage, splitTag } from './names.js';
import { Emitter, type Folds, type Rendered } from './oci.js';
import { dirHeader, fileHeader } from './request.js';

/** What `docker save` (<= 24) writes as the container_config of a layer below the top one. */
const EMPTY_CONTAINER_CONFIG =
  '{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null}';

interface Group {
  readonly img: ImageModel;
  readonly config: { digest: Digest; bytes: Buffer };
  /** Its layers in the output (the fold's layer list: added layers on top). */
  readonly layers: readonly LayerInfo[];
  readonly names: string[];
  readonly outputs: OutputImage[];
}

export function renderLegacy(model: ArchiveModel, folds: Folds, outputs: readonly OutputImage[], layers: LayerPlan, warnings: Set<string>): Rendered {
  const out = new Emitter();
  const roots = new Map<OutputImage, Digest | undefined>();
  if (model.artifacts.length) warnings.add(`${model.artifacts.length} OCI artifact(s) or referrer(s) named by index.json left out: the docker-legacy layout cannot hold them`);
  const groups = new Map<string, Group>();
  for (const o of outputs) {
    const fold = o.side === 'new' ? folds.edited : folds.original;
    const platforms = fold.keptPlatforms(o.target.platforms);
    if (platforms.length > 1) {
      const ps = platforms.map((p) => (p.platform ? platformString(p.platform) : 'unknown'));
      throw new EditError(
        `${o.names[0] ?? o.target.names[0] ?? platforms[0]!.image.id.short} is a multi-platform image (${ps.join(', ')}) and the docker-legacy layout holds one config per name; choose one with --only-platform ${ps[0]}`,
      );
    }
    const held = o.target.attestations.length;
    if (held) warnings.add(`${o.names[0] ?? 'an image'}: ${held} attestation manifest(s) left out: the docker-legacy layout cannot hold them`);
    const p = platforms[0];
    if (!p) continue;
    const config = fold.configOf(p.image);
    const g = groups.get(config.digest.toString()) ?? { img: p.image, config, layers: fold.layerList(p.image), names: [], outputs: [] };
    groups.set(config.digest.toString(), g);
    g.names.push(...o.names);
    g.outputs.push(o);
    roots.set(o, config.digest);
  }
  const items: Json[] = [];
  const repos: Record<string, Record<string, string>> = {};
  for (const g of groups.values()) {
    const item = writeImage(out, g, layers);
    items.push(item.json);
    for (const n of g.names) {
      const [repo, tag] = splitTag(familiarName(n));
      repos[repo] ??= {};
      if (item.top) repos[repo][tag] = item.top;
    }
  }
  const mj = printJson(items);
  const before = model.manifestJson?.entry;
  out.emit(before ? derivedHeader(before.header, 'manifest.json', mj.length) : fileHeader('manifest.json', mj.length), mj);
  if (Object.keys(repos).length) {
    const r = Buffer.from(JSON.stringify(repos));
    out.emit(fileHeader('repositories', r.length), r);
  }
  return { entries: out.entries, roots };
}

/** One image's `<v1id>/` folders and config; its manifest.json item and top layer's v1 ID. */
function writeImage(out: Emitter, g: Group, layers: LayerPlan): { json: JsonObject; top: string | undefined } {
  const { img, config } = g;
  const what = g.names[0] ?? config.digest.short;
  const diffIds = g.layers.map((l, i) => {
    if (!l.diffId) throw new ArchiveError(`layer ${i + 1} of ${what} has no DiffID in the config (rootfs.diff_ids); the docker-legacy layout names layers by them`, img.configEntry.name);
    return l.diffId;
  });
  const chain = chainIds(diffIds);
  const doc = parseJson(config.bytes) as JsonObject;
  let parent: string | undefined;
  const paths: string[] = [];
  g.layers.forEach((l, i) => {
    const last = i === g.layers.length - 1;
    const idDoc = jsonObject();
    idDoc.layer_id = chain[i]!.toString();
    if (parent) idDoc.parent = `sha256:${parent}`;
    if (last) idDoc.config = config.digest.toString();
    const v1 = Digest.of(printJson(idDoc)).hex;
    const path = `${v1}/layer.tar`;
    const placed = layers.legacy(l, path, `layer ${i + 1} (${l.entry?.name ?? diffIds[i]}) of ${what}`);
    if (placed.linkTo) out.emit({ ...fileHeader(path, 0), type: 'symlink', linkname: `../${placed.linkTo}`, mode: 0o777 }, Buffer.alloc(0));
    paths.push(path);
    out.emit(dirHeader(`${v1}/`), Buffer.alloc(0));
    out.emit(fileHeader(`${v1}/VERSION`, 3), Buffer.from('1.0'));
    const json = v1Json(doc, v1, parent, last);
    out.emit(fileHeader(`${v1}/json`, json.length), json);
    parent = v1;
  });
  const cfgName = `${config.digest.hex}.json`;
  out.emit(derivedHeader(img.configEntry.header, cfgName, config.bytes.length), config.bytes);
  const item = jsonObject();
  item.Config = cfgName;
  item.RepoTags = g.names.map(familiarName);
  item.Layers = paths;
  return { json: item, top: parent };
}

/** The legacy `<v1id>/json`: the config (less rootfs and history) for the top layer, a stub below it. */
function v1Json(config: JsonObject, id: string, parent: string | undefined, top: boolean): Buffer {
  const doc = jsonObject();
  doc.id = id;
  if (parent) doc.parent = parent;
  if (top) {
    for (const k of Object.keys(config)) {
      const f = k.toLowerCase();
      if (f === 'rootfs' || f === 'history' || f === 'id' || f === 'parent') continue;
      doc[k] = config[k]!;
    }
  } else {
    doc.created = '1970-01-01T00:00:00Z';
    doc.container_config = parseJson(EMPTY_CONTAINER_CONFIG) as JsonObject;
    const os = field(config, 'os');
    if (typeof os === 'string') doc.os = os;
  }
  return printJson(doc);
}
