/**
 * An independent consistency check of an archive, written for the tests without using src/: every
 * digest, size and path that a loader follows must hold. Returns the problems found.
 */
import { gunzipSync } from 'node:zlib';
import type * as tar from 'tar-stream';
import { sha } from './fixtures.js';

type Entries = Map<string, { header: tar.Header; data: Buffer }>;

export function checkArchive(entries: Entries): string[] {
  const problems: string[] = [];
  const get = (p: string) => {
    const e = entries.get(p) ?? entries.get(`./${p}`);
    if (e?.header.type === 'symlink') {
      const base = p.split('/').slice(0, -1);
      for (const seg of (e.header.linkname ?? '').split('/')) seg === '..' ? base.pop() : base.push(seg);
      return entries.get(base.join('/'));
    }
    return e;
  };
  for (const [name, e] of entries) {
    const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
    if (m && sha(e.data) !== m[1]) problems.push(`${name}: content hash ${sha(e.data)} does not match its name`);
  }
  const json = (p: string) => JSON.parse(get(p)!.data.toString()) as Record<string, unknown>;
  const seen = new Set<string>();
  const walk = (desc: Record<string, unknown>, where: string) => {
    const hex = String(desc.digest).replace('sha256:', '');
    if (seen.has(`${where}>${hex}`)) return; // an index may name one child many times
    seen.add(`${where}>${hex}`);
    const blob = get(`blobs/sha256/${hex}`);
    if (!blob) return; // absent platform
    if (blob.data.length !== desc.size) problems.push(`${where}: descriptor size ${String(desc.size)} != blob size ${blob.data.length} for ${hex}`);
    if (!/manifest|index/.test(String(desc.mediaType))) return; // a config or a layer: hash and size checked
    const doc = JSON.parse(blob.data.toString()) as Record<string, unknown>;
    if (Array.isArray(doc.manifests)) for (const d of doc.manifests) walk(d as Record<string, unknown>, hex);
    else if (doc.config) {
      walk(doc.config as Record<string, unknown>, hex);
      for (const l of (doc.layers as Record<string, unknown>[]) ?? []) walk(l, hex);
    }
  };
  if (get('index.json')) for (const d of json('index.json').manifests as Record<string, unknown>[]) walk(d, 'index.json');
  if (get('manifest.json')) {
    const items = JSON.parse(get('manifest.json')!.data.toString()) as { Config: string; Layers: string[] }[];
    for (const it of items) {
      const cfg = get(it.Config);
      if (!cfg) {
        problems.push(`manifest.json: Config ${it.Config} missing`);
        continue;
      }
      const hexInName = /([a-f0-9]{64})/.exec(it.Config)?.[1];
      if (hexInName && hexInName !== sha(cfg.data)) problems.push(`${it.Config}: name does not match content ${sha(cfg.data)}`);
      const diffIds = (JSON.parse(cfg.data.toString()) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
      if (diffIds.length !== it.Layers.length) problems.push(`manifest.json: ${it.Layers.length} layers, ${diffIds.length} diff_ids`);
      it.Layers.forEach((p, i) => {
        const l = get(p);
        if (!l) {
          problems.push(`manifest.json: layer ${p} missing`);
          return;
        }
        const raw = l.data[0] === 0x1f && l.data[1] === 0x8b ? gunzipSync(l.data) : l.data;
        if (`sha256:${sha(raw)}` !== diffIds[i]) problems.push(`${p}: DiffID ${sha(raw)} != ${diffIds[i]}`);
      });
    }
  }
  return problems;
}
