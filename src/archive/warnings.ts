/**
 * What the loaders (docker load, containerd, podman, skopeo) would refuse or read differently in an
 * archive that copyedit reads: said in the model's notes and the report, never refused here.
 */
import type { JsonObject } from '../json/lossless.js';
import { field, isJsonObject } from '../json/lossless.js';
import type { ArchiveModel, ImageModel } from './model.js';
import { type EntryRecord, resolveRelative } from './tar/entry.js';

/** podman and skopeo refuse bigger manifest.json and config entries (containers/image limits). */
export const PODMAN_MAX_MANIFEST_JSON = 1 << 20;
export const PODMAN_MAX_CONFIG = 4 << 20;

/** What loaders disagree on or refuse in the entries themselves: duplicates, links. */
export function entryWarnings(entries: readonly EntryRecord[]): string[] {
  const out: string[] = [];
  const copies = new Map<string, EntryRecord[]>();
  for (const e of entries) {
    if (e.header.type === 'directory') continue;
    const list = copies.get(e.path);
    if (list) list.push(e);
    else copies.set(e.path, [e]);
    if (e.header.type === 'link') {
      out.push(`${e.name} is a hard link to ${e.header.linkname}: containerd ignores hard links and podman/skopeo refuse them; docker load accepts it`);
    } else if (e.header.type === 'symlink' && resolveRelative(e.path, e.header.linkname ?? '') === undefined) {
      out.push(`${e.name} is a symbolic link to ${JSON.stringify(e.header.linkname)}, outside the archive; copyedit copies it unchanged and never follows it`);
    }
  }
  for (const [path, list] of copies) {
    if (list.length < 2) continue;
    const first = list[0]!;
    const last = list[list.length - 1]!;
    const differ =
      first.header.type !== last.header.type || first.header.size !== last.header.size || first.header.linkname !== last.header.linkname
        ? 'the copies differ'
        : first.data && last.data
          ? first.data.equals(last.data)
            ? undefined
            : 'the copies differ'
          : 'the copies were not compared';
    if (differ) {
      const ours = list.every((e) => e.data) ? 'copyedit keeps only the last copy' : 'copyedit passes every copy through';
      out.push(`${path} appears ${list.length} times in the archive and ${differ}: docker load uses the LAST copy, podman and skopeo the FIRST (${ours}); save the image again to get one copy`);
    }
  }
  return out;
}

/** What docker load or podman would refuse in a readable image: untagged RepoTags, port ranges, sizes. */
export function imageWarnings(model: Pick<ArchiveModel, 'images' | 'manifestJson'>): string[] {
  const out: string[] = [];
  const mj = model.manifestJson;
  if (mj?.entry.data && mj.entry.data.length > PODMAN_MAX_MANIFEST_JSON) {
    out.push(`manifest.json is ${mj.entry.data.length} bytes: podman and skopeo refuse one over 1 MiB (docker load accepts it)`);
  }
  mj?.items.forEach((item, i) => {
    for (const t of item.repoTags) {
      const slash = t.lastIndexOf('/');
      if (t.includes('@') || t.lastIndexOf(':') <= slash) {
        out.push(`manifest.json[${i}] RepoTag ${JSON.stringify(t)} has no :tag, and docker load refuses the archive for it; give a tag with --tag ${t.split('@')[0]}:latest`);
      }
    }
  });
  for (const img of model.images) {
    const name = img.tags[0] ?? img.id.short;
    if (img.configBytes.length > PODMAN_MAX_CONFIG) {
      out.push(`image ${name}: its config ${img.configEntry.name} is ${img.configBytes.length} bytes: podman and skopeo refuse one over 4 MiB (docker load accepts it)`);
    }
  }
  return out;
}

/**
 * What Docker 29 would refuse in each image's ExposedPorts, as the configs will be written
 * (`configs` maps an edited config's old digest to its new content; an edit may fix them).
 */
export function portNotes(images: readonly ImageModel[], configs: ReadonlyMap<string, JsonObject> = new Map()): string[] {
  return images.flatMap((img) => exposedPortWarnings(img.tags[0] ?? img.id.short, configs.get(img.id.toString()) ?? img.config));
}

/** ExposedPorts keys Docker 29 refuses (`8000-8010/tcp`, `abc/tcp`); one line each, prefixed `image NAME: ExposedPorts`. */
export function exposedPortWarnings(name: string, config: JsonObject): string[] {
  const rc = field(config, 'config');
  const exposed = isJsonObject(rc) ? field(rc, 'ExposedPorts') : undefined;
  const ports = isJsonObject(exposed) ? Object.keys(exposed) : [];
  return ports
    .filter((p) => !/^[0-9]{1,5}(\/(tcp|udp|sctp))?$/i.test(p))
    .map((p) => {
      const why = /^[0-9]+-[0-9]+/.test(p) ? 'is a port range' : 'is not a port number';
      return `image ${name}: ExposedPorts key ${JSON.stringify(p)} ${why}, which Docker 29 refuses to load; remove it with --rm-port '${p.replace(/\/.*$/, '')}*'`;
    });
}
