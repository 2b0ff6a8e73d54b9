import type { InspectImage, InspectReport } from '../../inspect/index.js';
import { type Style, digestText, humanSize, table } from './style.js';

/** Nanoseconds as Docker prints durations: 30s, 1m30s. */
function duration(ns: number | null): string | undefined {
  if (ns === null || ns === 0) return undefined;
  const s = ns / 1e9;
  return s >= 60 && s % 60 === 0 ? `${s / 60}m` : s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

/** `tar`, `tar+gzip`, ... from the media type, else from the sniffed compression. */
function layerType(mediaType: string | null, compression: string | null): string {
  if (mediaType) {
    const m = /(?:rootfs\.diff\.|layer\.v1\.)(.*)$/.exec(mediaType);
    return m ? m[1]!.replace('tar.', 'tar+') : mediaType;
  }
  return compression === null ? '-' : compression === 'none' ? 'tar' : `tar+${compression}`;
}

export function formatInspect(r: InspectReport, s: Style, full: boolean): string {
  const n = r.targets.length;
  const configs = r.images.length === n ? '' : `, ${r.images.length} configs`;
  const out: string[] = [`${s.bold(r.archive)}  ${s.dim(`${r.layout} layout${r.compression !== 'none' ? `, ${r.compression}-compressed` : ''}, ${n} image${n === 1 ? '' : 's'}${configs}`)}`];
  // an index is one image: its platforms first, then each platform's config below
  for (const t of r.targets) {
    if (t.kind !== 'index') continue;
    const name = t.names.length ? t.names.join(', ') : '<untagged>';
    const att = t.attestations.length ? `, ${t.attestations.length} attestation${t.attestations.length === 1 ? '' : 's'}` : '';
    out.push(
      '',
      `${s.bold(name)}  ${s.dim(`image index ${digestText(t.digest, full)} (the ID on Docker's containerd store, nerdctl, ctr), ${t.platforms.length} platform${t.platforms.length === 1 ? '' : 's'} here${att}`)}`,
    );
    const rows = [
      ...t.platforms.map((p) => [`  ${p.platform ?? 'unknown'}`, `manifest ${digestText(p.manifest ?? '-', full)}`, `image ID ${digestText(p.id, full)}`]),
      ...t.absentPlatforms.map((p) => [`  ${p.platform ?? 'unknown'}`, `manifest ${digestText(p.manifest, full)}`, s.dim('not in this archive')]),
    ];
    out.push(...table(rows));
  }
  for (const img of r.images) out.push('', ...formatImage(img, s, full));
  if (r.artifacts.length) {
    out.push('', s.bold('artifacts and referrers (never edited):'));
    for (const a of r.artifacts)
      out.push(`  ${digestText(a.digest, full)}  ${a.artifactType ?? a.mediaType ?? ''}${a.subject ? `  refers to ${digestText(a.subject, full)}` : ''}${a.present ? '' : '  (not in this archive)'}`);
  }
  if (r.absentManifests.length) {
    out.push('', s.bold('not in this archive (named by an index, e.g. other platforms):'));
    for (const a of r.absentManifests) {
      const p = a.platform ? [a.platform.os, a.platform.architecture, a.platform.variant].filter(Boolean).join('/') : 'no platform';
      out.push(`  ${a.digest}  ${p}`);
    }
  }
  for (const n of r.notes) out.push(`${s.yellow('note:')} ${n}`);
  return out.join('\n');
}

function formatImage(img: InspectImage, s: Style, full: boolean): string[] {
  const c = img.config;
  const rows: string[][] = [];
  const add = (k: string, v: string | readonly string[] | undefined | null) => {
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) return;
    const vs = typeof v === 'string' ? [v] : v;
    vs.forEach((x, i) => {
      rows.push([i === 0 ? s.dim(k) : '', x]);
    });
  };
  add('image ID', `${img.id}  ${s.dim(`(docker images on the classic store, podman images: ${img.shortId})`)}`);
  if (img.containerdId)
    add(
      'containerd ID',
      `${img.containerdId}  ${s.dim(`(docker images on the containerd store, nerdctl, ctr: ${img.containerdId.slice(img.containerdId.indexOf(':') + 1, img.containerdId.indexOf(':') + 13)})`)}`,
    );
  add('config', `${img.configEntry}  ${s.dim(humanSize(img.configSize))}`);
  add('created', img.created);
  add('platform', [img.os, img.architecture, img.variant].filter(Boolean).join('/'));
  for (const m of img.manifests) {
    add('manifest', `${m.digest}  ${s.dim([m.mediaType, m.platform, humanSize(m.size)].filter(Boolean).join(', '))}`);
    if (m.indexes.length) add('index', m.indexes.map(String));
  }
  add('entrypoint', c.entrypoint ? JSON.stringify(c.entrypoint) : '(none)');
  add('cmd', c.cmd ? JSON.stringify(c.cmd) : '(none)');
  add('env', c.env);
  add('volumes', c.volumes.join('  '));
  add('ports', c.exposedPorts.join('  '));
  add('user', c.user);
  add('workdir', c.workingDir);
  add(
    'labels',
    Object.entries(c.labels).map(([k, v]) => `${k}=${v}`),
  );
  if (c.healthcheck) {
    const h = c.healthcheck;
    const opts = [
      duration(h.interval) && `interval ${duration(h.interval)}`,
      duration(h.timeout) && `timeout ${duration(h.timeout)}`,
      duration(h.startPeriod) && `start period ${duration(h.startPeriod)}`,
      h.retries ? `retries ${h.retries}` : undefined,
    ].filter(Boolean);
    add('healthcheck', `${h.test.join(' ')}${opts.length ? `  ${s.dim(`(${opts.join(', ')})`)}` : ''}`);
  }
  add('stop signal', c.stopSignal);
  add(
    'attestations',
    img.attestations.map((a) => `${a.digest}  ${s.dim([a.present ? 'present' : 'not in archive', ...a.predicateTypes].join(', '))}`),
  );
  const total = img.layers.reduce((n, l) => n + (l.size ?? 0), 0);
  add('layers', `${img.layers.length}, ${humanSize(total)} as stored`);
  const head = img.tags.length ? img.tags.join(', ') : `<untagged ${img.shortId}>`;
  const layerRows = [
    ['#', 'SIZE', 'TYPE', 'BLOB DIGEST', 'DIFFID', 'CHAINID'].map((h) => s.dim(h)),
    ...img.layers.map((l, i) => [String(i + 1), humanSize(l.size), layerType(l.mediaType, l.compression), digestText(l.blobDigest, full), digestText(l.diffId, full), digestText(l.chainId, full)]),
  ];
  return [s.bold(head), ...table(rows, '  '), ...table(layerRows, '    ')];
}
