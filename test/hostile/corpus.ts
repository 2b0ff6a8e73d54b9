/**
 * The hostile-input corpus: broken, truncated and malicious archives, generated from the synthetic
 * fixtures on every run (no binaries are committed). Each case says what copyedit must do with it:
 * refuse with an exit code and a message, or succeed with a warning.
 *
 *   node dist/test/hostile/corpus.js DIR    writes every case to DIR (to try them by hand)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { tarReaderCases } from './tar-cases.js';
import { type Entry, dockerLegacy, imageConfig, layer, makeTar, ociLayout, readTar, sha } from '../unit/fixtures.js';

/**
 * Refused: `exit` is a documented exit code and the message matches `message`; nothing is written.
 * Accepted (`exit` 0): the output passes checkArchive and the report holds `warnings`.
 */
export interface Expectation {
  readonly exit: number;
  readonly message?: RegExp;
  readonly warnings?: readonly RegExp[];
  /** Byte strings that must appear unchanged in the output (lossless numbers). */
  readonly outputContains?: readonly string[];
  /** Byte strings that must not appear in the output. */
  readonly notInOutput?: readonly string[];
  /** The tags the edit reports, all images together (in-process runs). */
  readonly tags?: readonly string[];
  /** checkArchive's findings on the output must equal those on the input: a broken layer stays as broken, no worse. */
  readonly sameProblems?: boolean;
}

export interface HostileCase {
  readonly name: string;
  /** File name to write it under (the extension matters to nobody: compression is sniffed). */
  readonly file: string;
  readonly bytes: Buffer;
  /** Edit flags for `copyedit edit`; default `--rm-volume all`. */
  readonly args?: readonly string[];
  readonly expect: Expectation;
}

const ARCHIVE = 3;

/** podman-style parts: `<diffid>.tar` layers, `<id>.json` config, manifest.json last. */
async function podmanParts(o: { config?: Buffer; configExtra?: Record<string, unknown>; diffIds?: string[] } = {}) {
  const layers = [await layer('hello.txt', 'hello\n'), await layer('etc/app/app.conf', 'mode=prod\n')];
  const diffIds = o.diffIds ?? layers.map(sha);
  const config = o.config ?? Buffer.from(JSON.stringify(imageConfig(diffIds, o.configExtra)));
  const id = sha(config);
  const layerEntries: Entry[] = layers.map((l) => ({ name: `${sha(l)}.tar`, data: l }));
  const item = { Config: `${id}.json`, RepoTags: ['docker.io/example/app:1.0'], Layers: layers.map((l) => `${sha(l)}.tar`) };
  return { layers, config, id, layerEntries, item, configEntry: { name: `${id}.json`, data: config } as Entry };
}

async function withManifest(manifest: string | Buffer, parts?: Awaited<ReturnType<typeof podmanParts>>): Promise<Buffer> {
  const p = parts ?? (await podmanParts());
  return makeTar([...p.layerEntries, p.configEntry, { name: 'manifest.json', data: manifest }]);
}

/** Offset of the tar header whose name starts with `name`. */
function headerOffset(tar: Buffer, name: string): number {
  for (let off = 0; off + 512 <= tar.length; off += 512) {
    if (tar.subarray(off, off + name.length).toString('latin1') === name && tar[off + 257] === 0x75 /* ustar */) return off;
  }
  throw new Error(`no header for ${name}`);
}

function compressWith(cmd: string, data: Buffer): Buffer | undefined {
  const r = spawnSync(cmd, ['-c', '-q'], { input: data, maxBuffer: 1 << 26 });
  return r.status === 0 ? r.stdout : undefined;
}

export async function hostileCases(): Promise<HostileCase[]> {
  const legacy = (await dockerLegacy()).archive;
  const podman = await podmanParts();
  const cases: HostileCase[] = [];
  const add = (c: HostileCase) => cases.push(c);

  // --- not an archive at all
  add({ name: 'empty file', file: 'empty.tar', bytes: Buffer.alloc(0), expect: { exit: ARCHIVE, message: /is empty: expected a tar archive/ } });
  add({
    name: 'text, not a tar',
    file: 'text.tar',
    bytes: Buffer.from('this is not a tar archive\n'.repeat(100)),
    expect: { exit: ARCHIVE, message: /is not a valid tar archive .* at its start; expected the output of docker save/ },
  });
  add({ name: 'only zeros (an empty tar)', file: 'zeros.tar', bytes: Buffer.alloc(10240), expect: { exit: ARCHIVE, message: /is not a tar archive, or holds no entries/ } });
  const noise = Buffer.alloc(8192);
  let x = 12345;
  for (let i = 0; i < noise.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    noise[i] = x >>> 24;
  }
  add({ name: 'random bytes', file: 'noise.tar', bytes: noise, expect: { exit: ARCHIVE, message: /is not a valid tar archive/ } });

  // --- truncated
  const mj = headerOffset(legacy, 'manifest.json');
  add({ name: 'truncated mid-header', file: 'cut-header.tar', bytes: legacy.subarray(0, mj + 200), expect: { exit: ARCHIVE, message: /is (truncated|not a valid tar archive)/ } });
  const firstLayer = headerOffset(legacy, `${legacy.subarray(0, 100).toString('latin1').split('/')[0]!}/layer.tar`);
  add({
    name: 'truncated mid-layer',
    file: 'cut-layer.tar',
    bytes: legacy.subarray(0, firstLayer + 512 + 700),
    expect: { exit: ARCHIVE, message: /is truncated after entry ".*layer\.tar": the archive ends in the middle of an entry/ },
  });
  add({
    name: 'truncated at an entry boundary (manifest.json lost)',
    file: 'cut-boundary.tar',
    bytes: legacy.subarray(0, mj),
    expect: { exit: ARCHIVE, message: /has neither manifest\.json nor index\.json/ },
  });
  add({ name: 'truncated mid manifest.json', file: 'cut-manifest.tar', bytes: legacy.subarray(0, mj + 512 + 20), expect: { exit: ARCHIVE, message: /is truncated after entry "manifest\.json"/ } });

  // --- outer compression broken
  const gz = gzipSync(legacy);
  const badCrc = Buffer.from(gz);
  badCrc[badCrc.length - 8]! ^= 0xff;
  add({ name: 'gzip with a bad CRC', file: 'bad-crc.tar.gz', bytes: badCrc, expect: { exit: ARCHIVE, message: /gzip data is corrupt or truncated \(.*\); download or save the archive again/ } });
  add({ name: 'gzip truncated', file: 'cut.tar.gz', bytes: gz.subarray(0, gz.length >> 1), expect: { exit: ARCHIVE, message: /gzip data is corrupt or truncated|is truncated/ } });
  const gzBody = Buffer.from(gz);
  for (let i = 40; i < 60; i++) gzBody[i] = 0xff;
  add({ name: 'gzip with a corrupt body', file: 'bad-body.tar.gz', bytes: gzBody, expect: { exit: ARCHIVE, message: /gzip data is corrupt or truncated/ } });
  for (const [tool, kind] of [
    ['xz', 'xz'],
    ['bzip2', 'bzip2'],
    ['zstd', 'zstd'],
  ] as const) {
    const c = compressWith(tool, legacy);
    if (!c) continue; // the tool is not installed here
    add({
      name: `${kind} truncated`,
      file: `cut.tar.${tool}`,
      bytes: c.subarray(0, c.length >> 1),
      // zstd: the zstd program's words on Node 20; zlib's on Node 22.15+, which decompresses zstd itself
      expect: {
        exit: ARCHIVE,
        message: new RegExp(`${kind} data is corrupt or truncated \\((?:${tool}: .+${kind === 'zstd' ? '|unexpected end of file' : ''})\\); download or save the archive again`),
      },
    });
    const bad = Buffer.from(c);
    for (let i = 30; i < 50; i++) bad[i]! ^= 0x5a;
    add({ name: `${kind} corrupt`, file: `bad.tar.${tool}`, bytes: bad, expect: { exit: ARCHIVE, message: new RegExp(`${kind} data is corrupt or truncated|is not a valid tar|is truncated`) } });
  }

  // --- manifest.json missing or malformed
  add({
    name: 'no manifest.json, no index.json',
    file: 'no-manifest.tar',
    bytes: await makeTar([...podman.layerEntries, podman.configEntry]),
    expect: { exit: ARCHIVE, message: /has neither manifest\.json nor index\.json/ },
  });
  add({
    name: 'only a repositories file (v1 format)',
    file: 'v1.tar',
    bytes: await makeTar([...podman.layerEntries, podman.configEntry, { name: 'repositories', data: '{"a":{"1":"x"}}' }]),
    expect: { exit: ARCHIVE, message: /pre-2016 Docker v1 save format/ },
  });
  add({
    name: 'manifest.json is not JSON',
    file: 'mj-garbage.tar',
    bytes: await withManifest('this is not json'),
    expect: { exit: ARCHIVE, message: /manifest\.json: is not valid JSON \(unexpected character "t" at line 1, offset 0\); the archive is damaged: save or download it again/ },
  });
  add({
    name: 'manifest.json is broken JSON',
    file: 'mj-broken.tar',
    bytes: await withManifest('[{"Config": "x.json",'),
    expect: { exit: ARCHIVE, message: /manifest\.json: is not valid JSON \(.* at line 1, offset \d+\); the archive is damaged/ },
  });
  add({ name: 'manifest.json is null', file: 'mj-null.tar', bytes: await withManifest('null'), expect: { exit: ARCHIVE, message: /manifest\.json: must hold a JSON array of images/ } });
  add({
    name: 'manifest.json is an object',
    file: 'mj-object.tar',
    bytes: await withManifest(JSON.stringify(podman.item)),
    expect: { exit: ARCHIVE, message: /manifest\.json: must hold a JSON array of images/ },
  });
  add({
    name: 'manifest.json Config is a number',
    file: 'mj-config-number.tar',
    bytes: await withManifest(JSON.stringify([{ ...podman.item, Config: 5 }])),
    expect: { exit: ARCHIVE, message: /manifest\.json\[0\]: has no "Config" string/ },
  });
  add({
    name: 'manifest.json Layers is a string',
    file: 'mj-layers-string.tar',
    bytes: await withManifest(JSON.stringify([{ ...podman.item, Layers: 'a.tar' }])),
    expect: { exit: ARCHIVE, message: /manifest\.json\[0\]: "Layers" is not a list of strings/ },
  });
  add({
    name: 'manifest.json RepoTags holds a number',
    file: 'mj-tags-number.tar',
    bytes: await withManifest(JSON.stringify([{ ...podman.item, RepoTags: [1] }])),
    expect: { exit: ARCHIVE, message: /manifest\.json\[0\]: "RepoTags" is not a list of strings/ },
  });
  add({ name: 'manifest.json item is null', file: 'mj-item-null.tar', bytes: await withManifest('[null]'), expect: { exit: ARCHIVE, message: /manifest\.json\[0\]: is not an object/ } });
  add({
    name: 'manifest.json with a byte-order mark',
    file: 'mj-bom.tar',
    bytes: await withManifest(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify([podman.item]))])),
    expect: { exit: ARCHIVE, message: /manifest\.json: is not valid JSON \(starts with a UTF-8 byte-order mark/ },
  });
  add({
    name: 'Config names a missing entry',
    file: 'missing-config.tar',
    bytes: await withManifest(JSON.stringify([{ ...podman.item, Config: `${sha('nope')}.json` }])),
    expect: { exit: ARCHIVE, message: /manifest\.json: names config ".*\.json", which is not in the archive/ },
  });
  add({
    name: 'Layers names a missing entry',
    file: 'missing-layer.tar',
    bytes: await withManifest(JSON.stringify([{ ...podman.item, Layers: [podman.item.Layers[0], 'gone/layer.tar'] }])),
    expect: { exit: ARCHIVE, message: /manifest\.json: names layer "gone\/layer\.tar", which is not in the archive/ },
  });
  add({
    name: 'more Layers than diff_ids',
    file: 'layer-count.tar',
    bytes: await withManifest(JSON.stringify([{ ...podman.item, Layers: [...podman.item.Layers, podman.item.Layers[0]] }])),
    expect: { exit: ARCHIVE, message: /manifest\.json: lists 3 layers for .* but its config has 2 diff_ids; docker load would refuse it/ },
  });

  // --- configs that are not what they claim
  {
    const p = await podmanParts({ config: Buffer.from('{"architecture":"amd64","x":"\xff\xfe"}', 'latin1') });
    add({
      name: 'config is not valid UTF-8',
      file: 'config-utf8.tar',
      bytes: await withManifest(JSON.stringify([p.item]), p),
      expect: { exit: ARCHIVE, message: /[0-9a-f]{64}\.json: image config is not valid JSON \(is not valid UTF-8\)/ },
    });
  }
  {
    const p = await podmanParts({ config: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(imageConfig([sha('a')])))]) });
    add({
      name: 'config with a byte-order mark',
      file: 'config-bom.tar',
      bytes: await withManifest(JSON.stringify([p.item]), p),
      expect: { exit: ARCHIVE, message: /[0-9a-f]{64}\.json: image config is not valid JSON \(starts with a UTF-8 byte-order mark/ },
    });
  }
  {
    const p = await podmanParts({ config: Buffer.from('\x00\x01binary config') });
    add({
      name: 'config is binary',
      file: 'config-binary.tar',
      bytes: await withManifest(JSON.stringify([p.item]), p),
      expect: { exit: ARCHIVE, message: /[0-9a-f]{64}\.json: image config is not JSON \(it does not start with \{ or \[\)/ },
    });
  }
  {
    const p = await podmanParts({ config: Buffer.from('[1,2,3]') });
    add({ name: 'config is a JSON array', file: 'config-array.tar', bytes: await withManifest(JSON.stringify([p.item]), p), expect: { exit: ARCHIVE, message: /image config is not a JSON object/ } });
  }

  // --- layer bytes that do not match their DiffID: the edit passes layers through untouched
  {
    const p = await podmanParts();
    const wrong = await layer('evil.txt', 'not what the DiffID promised\n');
    const entries = [{ name: p.layerEntries[0]!.name, data: wrong }, p.layerEntries[1]!, p.configEntry, { name: 'manifest.json', data: JSON.stringify([p.item]) }];
    add({ name: 'layer content does not match its DiffID', file: 'bad-diffid.tar', bytes: await makeTar(entries), expect: { exit: 0, sameProblems: true } });
  }

  // --- duplicates
  {
    const p = await podmanParts();
    const good = JSON.stringify([p.item]);
    const bad = JSON.stringify([{ ...p.item, RepoTags: ['docker.io/example/other:9'] }]);
    add({
      name: 'duplicate manifest.json, copies differ',
      file: 'dup-manifest.tar',
      bytes: await makeTar([...p.layerEntries, p.configEntry, { name: 'manifest.json', data: bad }, { name: 'manifest.json', data: good }]),
      expect: {
        exit: 0,
        warnings: [/manifest\.json appears 2 times in the archive and the copies differ: docker load uses the LAST copy, podman and skopeo the FIRST \(copyedit keeps only the last copy\)/],
      },
    });
    add({
      name: 'duplicate layer entry, identical size',
      file: 'dup-layer.tar',
      bytes: await makeTar([...p.layerEntries, p.layerEntries[0]!, p.configEntry, { name: 'manifest.json', data: good }]),
      expect: { exit: 0, warnings: [/\.tar appears 2 times in the archive and the copies were not compared/] },
    });
    add({
      name: 'duplicate config entry, identical',
      file: 'dup-config.tar',
      bytes: await makeTar([...p.layerEntries, p.configEntry, p.configEntry, { name: 'manifest.json', data: good }]),
      expect: { exit: 0 },
    });
  }

  // --- names that escape, links that lead nowhere
  {
    const p = await podmanParts();
    const mjEntry = { name: 'manifest.json', data: JSON.stringify([p.item]) };
    add({
      name: "entry name with '..'",
      file: 'dotdot.tar',
      bytes: await makeTar([{ name: '../../etc/evil', data: 'x' }, ...p.layerEntries, p.configEntry, mjEntry]),
      expect: { exit: ARCHIVE, message: /\.\.\/\.\.\/etc\/evil: entry name escapes the archive root \('\.\.'\); refusing/ },
    });
    add({
      name: "entry name with '..' in the middle",
      file: 'dotdot-mid.tar',
      bytes: await makeTar([...p.layerEntries, { name: 'blobs/../../x', data: 'x' }, p.configEntry, mjEntry]),
      expect: { exit: ARCHIVE, message: /blobs\/\.\.\/\.\.\/x: entry name escapes the archive root/ },
    });
    add({
      name: 'absolute entry name',
      file: 'absolute.tar',
      bytes: await makeTar([...p.layerEntries, { name: '/etc/passwd', data: 'root:x:0:0' }, p.configEntry, mjEntry]),
      expect: { exit: ARCHIVE, message: /\/etc\/passwd: absolute entry name; a docker save archive only holds relative names/ },
    });
    const outside = { ...p.item, Layers: [p.item.Layers[0], 'v1/layer.tar'] };
    add({
      name: 'layer is a symlink out of the archive',
      file: 'symlink-out.tar',
      bytes: await makeTar([...p.layerEntries, { name: 'v1/layer.tar', type: 'symlink', linkname: '../../../etc/passwd' }, p.configEntry, { name: 'manifest.json', data: JSON.stringify([outside]) }]),
      expect: { exit: ARCHIVE, message: /v1\/layer\.tar: a layer named by manifest\.json is a link to "\.\.\/\.\.\/\.\.\/etc\/passwd", outside the archive/ },
    });
    add({
      name: 'layer is an absolute symlink',
      file: 'symlink-abs.tar',
      bytes: await makeTar([...p.layerEntries, { name: 'v1/layer.tar', type: 'symlink', linkname: '/etc/passwd' }, p.configEntry, { name: 'manifest.json', data: JSON.stringify([outside]) }]),
      expect: { exit: ARCHIVE, message: /v1\/layer\.tar: a layer named by manifest\.json is a link to "\/etc\/passwd", outside the archive/ },
    });
    const loop = { ...p.item, Layers: [p.item.Layers[0], 'a/layer.tar'] };
    add({
      name: 'symlink loop',
      file: 'symlink-loop.tar',
      bytes: await makeTar([
        ...p.layerEntries,
        { name: 'a/layer.tar', type: 'symlink', linkname: '../b/layer.tar' },
        { name: 'b/layer.tar', type: 'symlink', linkname: '../a/layer.tar' },
        p.configEntry,
        { name: 'manifest.json', data: JSON.stringify([loop]) },
      ]),
      expect: { exit: ARCHIVE, message: /a\/layer\.tar: a layer named by manifest\.json leads into a loop of symbolic links \(a\/layer\.tar -> b\/layer\.tar -> a\/layer\.tar\)/ },
    });
    add({
      name: 'unreferenced symlink out of the archive',
      file: 'symlink-stray.tar',
      bytes: await makeTar([...p.layerEntries, { name: 'stray', type: 'symlink', linkname: '/etc/shadow' }, p.configEntry, mjEntry]),
      expect: { exit: 0, warnings: [/stray is a symbolic link to "\/etc\/shadow", outside the archive; copyedit copies it unchanged and never follows it/] },
    });
    const viaHardlink = { ...p.item, Layers: [p.item.Layers[0], 'v1/layer.tar'] };
    add({
      name: 'layer is a hard link',
      file: 'hardlink.tar',
      bytes: await makeTar([...p.layerEntries, { name: 'v1/layer.tar', type: 'link', linkname: p.item.Layers[1]! }, p.configEntry, { name: 'manifest.json', data: JSON.stringify([viaHardlink]) }]),
      expect: {
        exit: 0,
        sameProblems: true /* check.ts does not follow hard links */,
        warnings: [/v1\/layer\.tar is a hard link to [0-9a-f]{64}\.tar: containerd ignores hard links and podman\/skopeo refuse them/],
      },
    });
  }

  // --- sizes podman refuses
  {
    const p = await podmanParts({ configExtra: { config: { ...(imageConfig([]).config as object), Labels: { big: 'x'.repeat(4.5 * 1024 * 1024) }, Volumes: { '/data': {} } } } });
    add({
      name: 'config over 4 MiB',
      file: 'big-config.tar',
      bytes: await withManifest(JSON.stringify([p.item]), p),
      expect: { exit: 0, warnings: [/its config [0-9a-f]{64}\.json is \d+ bytes: podman and skopeo refuse one over 4 MiB/] },
    });
  }
  {
    const p = await podmanParts();
    add({
      name: 'manifest.json over 1 MiB',
      file: 'big-manifest.tar',
      bytes: await withManifest(JSON.stringify([{ ...p.item, 'x-vendor-notes': 'n'.repeat(1100 * 1024) }]), p),
      expect: { exit: 0, warnings: [/manifest\.json is \d+ bytes: podman and skopeo refuse one over 1 MiB/] },
    });
  }

  // --- numbers JSON.parse would round, kept byte-exact through an edit
  {
    const base = JSON.stringify(imageConfig((await podmanParts()).layers.map(sha)));
    const numbers = '"x-big":123456789012345678901234567890,"x-max":9007199254740993,"x-exp":1e+23,"x-exp2":1.0E-7,"x-neg":-0.0,"x-frac":0.1000000000000000055511151231257827';
    const config = Buffer.from(`{${numbers},${base.slice(1)}`);
    const p = await podmanParts({ config });
    const item = { ...p.item, 'x-count': 'MANIFESTNUM' };
    const manifest = JSON.stringify([item]).replace('"MANIFESTNUM"', '18446744073709551615');
    add({
      name: 'numbers beyond 2^53 and exponents survive',
      file: 'bignum.tar',
      bytes: await withManifest(manifest, p),
      args: ['--rm-volume', 'all', '--env', 'A=1'],
      expect: { exit: 0, outputContains: [numbers, '"x-count":18446744073709551615'] },
    });
  }
  {
    // an out-of-range number in index.json (Docker 25+ layout): it must come back as written
    const entries = await rewriteEntries((await ociLayout({ docker: true })).archive, (name, data) =>
      name === 'index.json' ? data.toString().replace('{', '{"x-serial":340282366920938463463374607431768211456,') : data,
    );
    add({
      name: 'big number in index.json (Docker 25+ layout)',
      file: 'bignum-oci.tar',
      bytes: await makeTar(entries),
      expect: { exit: 0, outputContains: ['"x-serial":340282366920938463463374607431768211456'] },
    });
  }

  // --- values loaders refuse
  {
    const p = await podmanParts();
    add({
      name: 'RepoTag without a tag',
      file: 'untagged.tar',
      bytes: await withManifest(JSON.stringify([{ ...p.item, RepoTags: ['docker.io/example/app'] }]), p),
      expect: {
        exit: 0,
        warnings: [/manifest\.json\[0\] RepoTag "docker\.io\/example\/app" has no :tag, and docker load refuses the archive for it; give a tag with --tag docker\.io\/example\/app:latest/],
      },
    });
  }
  {
    const rc = { ...(imageConfig([]).config as Record<string, unknown>), ExposedPorts: { '8000-8010/tcp': {}, '80/tcp': {} } };
    const p = await podmanParts({ configExtra: { config: rc } });
    add({
      name: 'ExposedPorts range key',
      file: 'port-range.tar',
      bytes: await withManifest(JSON.stringify([p.item]), p),
      expect: { exit: 0, warnings: [/ExposedPorts key "8000-8010\/tcp" is a port range, which Docker 29 refuses to load; remove it with --rm-port '8000-8010\*'/] },
    });
  }

  // --- edits that name nothing (a warning, not a failure)
  add({
    name: 'removing a volume that does not exist',
    file: 'no-such-volume.tar',
    bytes: legacy,
    args: ['--rm-volume', '/nonexistent'],
    expect: { exit: 0, warnings: [/no volume matches \/nonexistent|nonexistent/] },
  });
  add({ name: 'removing a port that does not exist', file: 'no-such-port.tar', bytes: legacy, args: ['--rm-port', '12345'], expect: { exit: 0, warnings: [/no exposed port matches 12345/] } });

  // --- OCI layout damage
  {
    const entries = await rewriteEntries((await ociLayout({ noManifestJson: true })).archive, (name, data) => (name === 'index.json' ? '{"schemaVersion":2}' : data));
    add({
      name: 'index.json without manifests',
      file: 'oci-no-manifests.tar',
      bytes: await makeTar(entries),
      expect: { exit: ARCHIVE, message: /index\.json: is not an OCI image index \(no "manifests" array\)/ },
    });
  }

  // --- tar structure read as Go's archive/tar reads it (issue 9)
  for (const c of await tarReaderCases()) add(c);
  return cases;
}

/** The entries of a tar, with `change` applied to each file's bytes. */
async function rewriteEntries(tar: Buffer, change: (name: string, data: Buffer) => Buffer | string): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (const [name, e] of await readTar(tar)) entries.push(e.header.type === 'directory' ? { name, type: 'directory' } : { name, data: change(name, e.data) });
  return entries;
}

/** Write every case into `dir` (for trying them by hand with the CLI). */
async function writeCorpus(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (const c of await hostileCases()) writeFileSync(join(dir, c.file), c.bytes);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node dist/test/hostile/corpus.js DIR');
    process.exit(2);
  }
  await writeCorpus(dir);
}
