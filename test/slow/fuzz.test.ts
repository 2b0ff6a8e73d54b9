/**
 * Fuzz the readers: random byte flips, zeroed blocks and truncations of every sample in samples/
 * and of the synthetic fixtures. Whatever the bytes, copyedit throws only CopyeditError subclasses,
 * never hangs, leaves no file behind, and any success is a consistent archive that keeps the layers.
 *
 * Deterministic by default; FUZZ_SEED=n picks another sequence, FUZZ_CASES=n changes the count.
 * A failure names seed and case, so `FUZZ_SEED=s FUZZ_ONLY=i` replays exactly that case.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { extractEdits } from '../../src/cli/argv.js';
import { CopyeditError, editArchive } from '../../src/index.js';
import { craneTarball, dockerLegacy, ociLayout, podmanArchive } from '../unit/fixtures.js';
import { STACK, fileState, leftovers, opaqueEntries, pool, problemsOf, runCli } from '../unit/hostile-util.js';
import { rng } from '../unit/rng.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261101);
const CASES = Number(process.env.FUZZ_CASES ?? 2500);
const ONLY = process.env.FUZZ_ONLY === undefined ? undefined : Number(process.env.FUZZ_ONLY);
const CASE_TIMEOUT_MS = 10000;
const SAMPLES = new URL('../../../samples/', import.meta.url).pathname;

interface Seed {
  readonly name: string;
  readonly bytes: Buffer;
  /** Compressed by a child process (xz, bzip2, zstd): slower, fuzzed less often. */
  readonly slow: boolean;
}

/** Derive case `i` from the seed alone, so any case can be replayed on its own. */
function mutate(seeds: readonly Seed[], i: number): { seed: Seed; bytes: Buffer; how: string } {
  const r = rng(SEED * 1000003 + i);
  const fast = seeds.filter((s) => !s.slow);
  const seed = r() < 0.05 ? seeds[Math.floor(r() * seeds.length)]! : fast[Math.floor(r() * fast.length)]!;
  const b = Buffer.from(seed.bytes);
  const kind = r();
  // tar headers sit on 512-byte boundaries: aim a third of the flips there
  const offset = () => (r() < 0.35 ? Math.floor(r() * (b.length / 512)) * 512 + Math.floor(r() * 512) : Math.floor(r() * b.length)) % b.length;
  if (kind < 0.5) {
    const n = 1 + Math.floor(r() * 8);
    const at: number[] = [];
    for (let k = 0; k < n; k++) {
      const o = offset();
      b[o] = Math.floor(r() * 256);
      at.push(o);
    }
    return { seed, bytes: b, how: `flip ${at.join(',')}` };
  }
  if (kind < 0.7) {
    const len = Math.floor(r() * b.length);
    return { seed, bytes: b.subarray(0, len), how: `truncate ${len}` };
  }
  if (kind < 0.8) {
    const len = Math.floor(r() * (b.length / 512)) * 512;
    return { seed, bytes: b.subarray(0, len), how: `truncate ${len} (block boundary)` };
  }
  if (kind < 0.9) {
    const o = Math.floor(r() * (b.length / 512)) * 512;
    b.fill(0, o, Math.min(o + 512, b.length));
    return { seed, bytes: b, how: `zero block at ${o}` };
  }
  // a digit in a JSON number or size field: the kind of flip that keeps JSON valid
  const digits: number[] = [];
  for (let k = 0; k < b.length; k++) if (b[k]! >= 0x30 && b[k]! <= 0x39) digits.push(k);
  const o = digits[Math.floor(r() * digits.length)] ?? 0;
  b[o] = 0x30 + Math.floor(r() * 10);
  return { seed, bytes: b, how: `digit at ${o}` };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`hang: ${what} did not finish in ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

describe('fuzz (issue 6)', () => {
  let dir: string;
  const seeds: Seed[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'copyedit-fuzz-'));
    if (existsSync(SAMPLES)) {
      for (const f of readdirSync(SAMPLES).sort()) {
        if (!/\.tar(\.(gz|xz|bz2|zst))?$/.test(f)) continue;
        seeds.push({ name: f, bytes: readFileSync(join(SAMPLES, f)), slow: /\.(xz|bz2|zst)$/.test(f) });
      }
    }
    const legacy = (await dockerLegacy()).archive;
    seeds.push(
      { name: 'synthetic docker-legacy', bytes: legacy, slow: false },
      { name: 'synthetic docker-legacy.gz', bytes: gzipSync(legacy), slow: false },
      { name: 'synthetic podman', bytes: (await podmanArchive()).archive, slow: false },
      { name: 'synthetic crane', bytes: (await craneTarball()).archive, slow: false },
      { name: 'synthetic docker-oci', bytes: (await ociLayout({ docker: true })).archive, slow: false },
      { name: 'synthetic containerd multi-platform', bytes: (await ociLayout({ gzip: true, multiPlatform: true })).archive, slow: false },
      { name: 'synthetic oci', bytes: (await ociLayout({ noManifestJson: true })).archive, slow: false },
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it(`${CASES} mutated archives in-process: only CopyeditError, no hang, nothing left behind, successes consistent`, async () => {
    const started = Date.now();
    const edits = extractEdits(['--rm-volume', 'all', '--add-port', '7000', '--env', 'FUZZ=1']).edits;
    const stats = { ok: 0, refused: new Map<number, number>(), slow: 0 };
    const ids = ONLY !== undefined ? [ONLY] : Array.from({ length: CASES }, (_, i) => i);
    await pool(ids, 4, async (i) => {
      const { seed, bytes, how } = mutate(seeds, i);
      const tag = `FUZZ_SEED=${SEED} FUZZ_ONLY=${i} (${seed.name}: ${how})`;
      if (seed.slow) stats.slow++;
      const outDir = join(dir, `c${i}`);
      await mkdir(outDir);
      const output = join(outDir, 'out.tar');
      let report: unknown;
      try {
        report = await withTimeout(editArchive({ input: Readable.from([bytes]), output, edits }), CASE_TIMEOUT_MS, tag);
      } catch (e) {
        if (!(e instanceof CopyeditError)) assert.fail(`${tag}: threw ${(e as Error)?.stack ?? String(e)}`);
        assert.doesNotMatch(e.message, /\n/, `${tag}: multi-line message`);
        stats.refused.set(e.exitCode, (stats.refused.get(e.exitCode) ?? 0) + 1);
        assert.equal(existsSync(output), false, `${tag}: output written for a refused input`);
        assert.deepEqual(await leftovers(outDir), [], `${tag}: temporary file left`);
        await rm(outDir, { recursive: true });
        return;
      }
      assert.ok(report);
      stats.ok++;
      const out = await readFile(output);
      await unlink(output);
      assert.deepEqual(await leftovers(outDir), [], `${tag}: temporary file left`);
      await rm(outDir, { recursive: true });
      // no worse than the input: every inconsistency in the output was there before
      const before = new Set(await problemsOf(bytes));
      const now = await problemsOf(out);
      const worse = now.filter((p) => !before.has(p));
      assert.deepEqual(worse, [], `${tag}: the output has new problems (input had ${JSON.stringify([...before])})`);
      const layersIn = await opaqueEntries(bytes).catch(() => new Map<string, Buffer>());
      const layersOut = await opaqueEntries(out);
      for (const [name, data] of layersIn) assert.ok(layersOut.get(name)?.equals(data), `${tag}: entry ${name} changed or went missing`);
    });
    const refused = [...stats.refused]
      .sort()
      .map(([code, n]) => `exit ${code}: ${n}`)
      .join(', ');
    console.log(`# fuzz seed ${SEED}: ${ids.length} cases from ${seeds.length} seeds (${stats.slow} via xz/bzip2/zstd) in ${Date.now() - started} ms; ${stats.ok} edited, refused ${refused}`);
  });

  it('a handful through the CLI: documented exit codes, no stack trace, input untouched', async () => {
    const ids = Array.from({ length: 8 }, (_, k) => 100000 + k * 7);
    await pool(ids, 4, async (i) => {
      const { seed, bytes, how } = mutate(seeds, i);
      const tag = `FUZZ_SEED=${SEED} case ${i} (${seed.name}: ${how})`;
      const caseDir = join(dir, `cli-${i}`);
      await mkdir(caseDir);
      const input = join(caseDir, 'in.tar');
      await writeFile(input, bytes);
      const before = await fileState(input);
      const output = join(caseDir, 'out', 'out.tar');
      await mkdir(join(caseDir, 'out'));
      const r = await runCli(['edit', input, '-o', output, '-q', '--rm-volume', 'all'], { timeoutMs: 20000 });
      assert.ok(r.code === 0 || r.code === 3, `${tag}: exit ${r.code}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, STACK, tag);
      if (r.code !== 0) assert.equal(existsSync(output), false, tag);
      assert.deepEqual(await leftovers(join(caseDir, 'out')), [], tag);
      assert.deepEqual(await fileState(input), before, `${tag}: input changed`);
    });
  });
});
