/**
 * Real-engine test harness: starts (or reuses) the private engine set of scripts/engines/start.sh
 * and runs docker 20.10 / docker 26 / docker 28 (classic and containerd image store) / ctr 1.6 and 2.1 /
 * podman / skopeo against it.
 *
 * The suite uses the engine state of scripts/engines/start.sh: $COPYEDIT_ENGINE_STATE, default
 * /tmp/copyedit-engines, the same daemons as the README's try-it section (one set, not two; the
 * old COPYEDIT_TEST_ENGINE_STATE is still read when COPYEDIT_ENGINE_STATE is unset). Every test
 * tags with a name of its own run and removes what it loaded (`samples/make-samples.sh` uses a
 * state of its own, so loading never moves its tags).
 * The daemons are left running (start.sh reuses them: ~0.1 s); stop them with
 *   scripts/engines/stop.sh [--purge]   (with the same COPYEDIT_ENGINE_STATE)
 * or set COPYEDIT_TEST_STOP_ENGINES=1 to stop them when a test file ends.
 *
 * When the engines cannot start (not installed, not root), engine tests are SKIPPED with the reason,
 * unless CI=true: then they FAIL, because CI must prove that the output loads.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readFileSync, readSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export const ROOT = new URL('../../../', import.meta.url).pathname.replace(/\/$/, '');
export const BIN = join(ROOT, 'bin', 'copyedit.js');
export const SAMPLES = join(ROOT, 'samples');
/** The edit every sample goes through in the engine suite, and the entrypoint it sets. */
export const EDITS = ['--rm-volume', 'all', '--rm-port', 'all', '--entrypoint', '["/bin/echo","edited"]'];
export const NEW_ENTRYPOINT = ['/bin/echo', 'edited'];
export const STATE = process.env.COPYEDIT_ENGINE_STATE || process.env.COPYEDIT_TEST_ENGINE_STATE || '/tmp/copyedit-engines';

/** A random suffix for names made by this run (tags, namespaces, temp dirs). */
export const RUN_ID = `${process.pid.toString(36)}${randomBytes(3).toString('hex')}`;

export interface Engines {
  readonly state: string;
  readonly env: Readonly<Record<string, string>>;
  readonly docker20: { bin: string; host: string };
  readonly docker26: { bin: string; host: string };
  /** Docker 28.5, classic image store */
  readonly docker28: { bin: string; host: string };
  /** Docker 28.5, containerd image store (its containerd 2.1 is ctr21's) */
  readonly docker28c: { bin: string; host: string; config: string };
  readonly ctr: { bin: string; address: string };
  /** ctr 2.1 on the containerd that docker28c manages (docker's own namespace: moby) */
  readonly ctr21: { bin: string; address: string };
  readonly podman: { bin: string; flags: string[]; runFlags: string[] };
  readonly skopeo: { bin: string };
}

export interface Run {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly cmd: string;
  /** Error of spawn itself (ENOENT, ETIMEDOUT). */
  readonly error?: Error;
}

const DEFAULT_TIMEOUT = 120_000;

/** Run a program (no shell); never throws. */
export function run(bin: string, args: readonly string[], opts: { input?: string | Buffer; timeout?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Run {
  const r: SpawnSyncReturns<string> = spawnSync(bin, args as string[], {
    encoding: 'utf8',
    input: opts.input,
    timeout: opts.timeout ?? DEFAULT_TIMEOUT,
    env: opts.env ?? process.env,
    cwd: opts.cwd ?? ROOT,
    maxBuffer: 64 * 1024 * 1024,
    killSignal: 'SIGKILL',
  });
  return {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    cmd: [bin, ...args].map(shq).join(' '),
    ...(r.error ? { error: r.error } : {}),
  };
}

/** Shell-quote one word. */
export function shq(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A one-line description of a run's failure, for assertion messages. */
export function describeRun(r: Run): string {
  const why = r.error ? `spawn error ${r.error.message}` : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
  const lines = r.stderr.trim().split('\n');
  const err = (lines.length > 8 ? [...lines.slice(0, 3), '...', ...lines.slice(-5)] : lines).join('\n    ');
  return `${r.cmd}\n  -> ${why}${err ? `\n    ${err}` : ''}`;
}

/** Assert a run succeeded; returns it. */
export function ok(r: Run, what = 'command'): Run {
  assert.ok(r.status === 0 && !r.error, `${what} failed:\n${describeRun(r)}`);
  return r;
}

// ------------------------------------------------------------------ engine start-up

type Started = { ok: true; engines: Engines } | { ok: false; reason: string };
let started: Started | undefined;

function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=(?:'([^']*)'|"([^"]*)"|(\S*))\s*$/.exec(line);
    if (m) env[m[1]!] = m[2] ?? m[3] ?? m[4] ?? '';
  }
  return env;
}

function startEngines(): Started {
  if (process.platform !== 'linux') return { ok: false, reason: `engines need Linux (this is ${process.platform})` };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return { ok: false, reason: 'not running as root' };
  const script = join(ROOT, 'scripts', 'engines', 'start.sh');
  if (!existsSync(script)) return { ok: false, reason: `${script} is missing` };
  const r = run('bash', [script], { env: { ...process.env, COPYEDIT_ENGINE_STATE: STATE }, timeout: 240_000 });
  if (r.status !== 0 || r.error) {
    const last = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ');
    return { ok: false, reason: `scripts/engines/start.sh failed (${r.error?.message ?? `exit ${r.status}`}): ${last}` };
  }
  const envFile = join(STATE, 'env');
  if (!existsSync(envFile)) return { ok: false, reason: `start.sh did not write ${envFile}` };
  const env = parseEnvFile(readFileSync(envFile, 'utf8'));
  const need = [
    'DOCKER20_HOST',
    'DOCKER20_BIN',
    'DOCKER26_HOST',
    'DOCKER26_BIN',
    'DOCKER28_HOST',
    'DOCKER28C_HOST',
    'DOCKER28_BIN',
    'DOCKER28_CONFIG',
    'CONTAINERD_ADDRESS',
    'CTR_BIN',
    'CONTAINERD21_ADDRESS',
    'CTR21_BIN',
    'PODMAN_BIN',
    'PODMAN_FLAGS',
    'SKOPEO_BIN',
  ];
  const missing = need.filter((k) => !env[k]);
  if (missing.length) return { ok: false, reason: `${envFile} lacks ${missing.join(', ')}` };
  const engines: Engines = {
    state: STATE,
    env,
    docker20: { bin: env.DOCKER20_BIN!, host: env.DOCKER20_HOST! },
    docker26: { bin: env.DOCKER26_BIN!, host: env.DOCKER26_HOST! },
    docker28: { bin: env.DOCKER28_BIN!, host: env.DOCKER28_HOST! },
    docker28c: { bin: env.DOCKER28_BIN!, host: env.DOCKER28C_HOST!, config: env.DOCKER28_CONFIG! },
    ctr: { bin: env.CTR_BIN!, address: env.CONTAINERD_ADDRESS! },
    ctr21: { bin: env.CTR21_BIN!, address: env.CONTAINERD21_ADDRESS! },
    podman: { bin: env.PODMAN_BIN!, flags: env.PODMAN_FLAGS!.split(/\s+/).filter(Boolean), runFlags: (env.PODMAN_RUN_FLAGS ?? '').split(/\s+/).filter(Boolean) },
    skopeo: { bin: env.SKOPEO_BIN! },
  };
  // a last sanity check: every daemon answers
  for (const [name, r2] of [
    ['docker 20.10', run(engines.docker20.bin, ['-H', engines.docker20.host, 'version', '--format', '{{.Server.Version}}'], { timeout: 30_000 })],
    ['docker 26', run(engines.docker26.bin, ['-H', engines.docker26.host, 'version', '--format', '{{.Server.Version}}'], { timeout: 30_000 })],
    ['docker 28 (classic store)', run(engines.docker28.bin, ['-H', engines.docker28.host, 'version', '--format', '{{.Server.Version}}'], { timeout: 30_000 })],
    ['docker 28 (containerd store)', run(engines.docker28c.bin, ['-H', engines.docker28c.host, 'version', '--format', '{{.Server.Version}}'], { timeout: 30_000 })],
    ['containerd', run(engines.ctr.bin, ['--address', engines.ctr.address, 'version'], { timeout: 30_000 })],
    ['containerd 2.1', run(engines.ctr21.bin, ['--address', engines.ctr21.address, 'version'], { timeout: 30_000 })],
  ] as const) {
    if (r2.status !== 0) return { ok: false, reason: `${name} does not answer: ${describeRun(r2)}` };
  }
  if (process.env.COPYEDIT_TEST_STOP_ENGINES === '1') {
    process.once('exit', () => {
      spawnSync('bash', [join(ROOT, 'scripts', 'engines', 'stop.sh')], { env: { ...process.env, COPYEDIT_ENGINE_STATE: STATE }, stdio: 'ignore', timeout: 60_000 });
    });
  }
  return { ok: true, engines };
}

/** Start (once per process) or reuse the engines. */
export function getEngines(): Started {
  started ??= startEngines();
  return started;
}

/**
 * Guard for an engine test: returns the engines, or skips the test (fails it when CI=true) with
 * the reason. Use: `const e = requireEngines(t); if (!e) return;`
 */
export function requireEngines(t: TestContext): Engines | undefined {
  const s = getEngines();
  if (s.ok) return s.engines;
  if (process.env.CI === 'true') assert.fail(`engine suite cannot run, and CI=true requires it: ${s.reason}`);
  t.skip(`engine suite skipped: ${s.reason}; run scripts/engines/install.sh as root to enable it`);
  return undefined;
}

// ------------------------------------------------------------------ engine commands

export type DockerName = 'docker20' | 'docker26';
/** Every docker daemon of the suite (DockerName: the two older ones, which edits/compat cover). */
export type AnyDocker = DockerName | 'docker28' | 'docker28c';

export function docker(e: Engines, which: AnyDocker, args: readonly string[], opts: { timeout?: number; env?: NodeJS.ProcessEnv } = {}): Run {
  const d = e[which];
  return run(d.bin, ['-H', d.host, ...args], opts);
}

export function ctr(e: Engines, ns: string, args: readonly string[], opts: { timeout?: number; which?: 'ctr' | 'ctr21' } = {}): Run {
  const c = e[opts.which ?? 'ctr'];
  return run(c.bin, ['--address', c.address, '-n', ns, ...args], opts);
}

export function ctr21(e: Engines, ns: string, args: readonly string[], opts: { timeout?: number } = {}): Run {
  return ctr(e, ns, args, { ...opts, which: 'ctr21' });
}

export function podman(e: Engines, args: readonly string[], opts: { timeout?: number } = {}): Run {
  return run(e.podman.bin, [...e.podman.flags, ...args], opts);
}

export function skopeo(e: Engines, args: readonly string[], opts: { timeout?: number } = {}): Run {
  return run(e.skopeo.bin, args, opts);
}

/** `docker image inspect` of one reference, parsed; undefined when the image is not there. */
export function dockerInspect(e: Engines, which: AnyDocker, ref: string, platform?: string): InspectedImage | undefined {
  const r = docker(e, which, ['image', 'inspect', ...(platform ? ['--platform', platform] : []), ref]);
  if (r.status !== 0) return undefined;
  return (JSON.parse(r.stdout) as InspectedImage[])[0];
}

export function podmanInspect(e: Engines, ref: string): InspectedImage | undefined {
  const r = podman(e, ['image', 'inspect', ref]);
  if (r.status !== 0) return undefined;
  return (JSON.parse(r.stdout) as InspectedImage[])[0];
}

/** The fields of docker/podman `image inspect` the tests look at. */
export interface InspectedImage {
  Id: string;
  RepoTags?: string[] | null;
  Architecture?: string;
  Os?: string;
  Config: {
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Env?: string[] | null;
    Labels?: Record<string, string> | null;
    WorkingDir?: string;
    User?: string;
    Volumes?: Record<string, unknown> | null;
    ExposedPorts?: Record<string, unknown> | null;
  };
  RootFS: { Type: string; Layers?: string[] };
}

/** `Loaded image: X` / `Loaded image ID: sha256:..` / podman's `Loaded image(s): a,b` lines. */
export function loadedRefs(output: string): string[] {
  const refs: string[] = [];
  for (const line of output.split('\n')) {
    const m = /^Loaded image(?: ID)?(?:\(s\))?:\s*(.+?)\s*$/.exec(line.trim());
    if (m)
      refs.push(
        ...m[1]!
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      );
  }
  return refs;
}

/** Remove images by ID from a docker daemon; ignores absent ones. */
export function dockerRmi(e: Engines, which: AnyDocker, ids: Iterable<string>): void {
  const list = [...new Set(ids)];
  if (list.length) docker(e, which, ['rmi', '-f', ...list]);
}

export function podmanRmi(e: Engines, ids: Iterable<string>): void {
  const list = [...new Set(ids)];
  if (list.length) podman(e, ['rmi', '-f', ...list]);
}

// ------------------------------------------------------------------ the CLI

export interface CliReport {
  layout: string;
  compression: string;
  images: { tags: string[]; newTags?: string[]; oldId: string; newId: string; changed: boolean; edits: string[]; warnings: string[] }[];
  warnings: string[];
  droppedEntries: string[];
}

/** Run the CLI (node bin/copyedit.js ARGS). */
export function cli(args: readonly string[], opts: { input?: Buffer; timeout?: number } = {}): Run {
  return run(process.execPath, [BIN, ...args], opts);
}

/** Run `copyedit edit IN -o OUT --json EDITS...`, assert success, return the parsed report. */
export function cliEdit(input: string, output: string, edits: readonly string[]): CliReport {
  const r = ok(cli(['edit', input, '-o', output, '--json', ...edits]), 'copyedit edit');
  let rep: CliReport;
  try {
    rep = JSON.parse(r.stdout) as CliReport;
  } catch (e) {
    assert.fail(`copyedit --json printed no JSON report on stdout (${(e as Error).message}):\n${r.stdout.slice(0, 500)}`);
  }
  assert.ok(Array.isArray(rep.images) && rep.images.length > 0, `report lists no images: ${r.stdout.slice(0, 500)}`);
  for (const img of rep.images) {
    assert.match(img.oldId, /^sha256:[0-9a-f]{64}$/);
    assert.match(img.newId, /^sha256:[0-9a-f]{64}$/);
  }
  return rep;
}

// ------------------------------------------------------------------ files

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `copyedit-etest-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export type Compression = 'none' | 'gzip' | 'zstd' | 'xz' | 'bzip2';

/** Outer compression of a file, by magic number. */
export function compressionOf(path: string): Compression {
  const fd = openSync(path, 'r');
  const b = Buffer.alloc(6);
  try {
    readSync(fd, b, 0, 6, 0);
  } finally {
    closeSync(fd);
  }
  if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (b.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  return 'none';
}

/** Entry names of a tar (any compression GNU tar undoes). */
export function tarNames(path: string): string[] {
  const r = ok(run('tar', ['-taf', path]), 'tar -t');
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((n) => n.replace(/^\.\//, ''));
}

/** One entry's content from a tar (any compression GNU tar undoes). */
export function tarFile(path: string, name: string): string {
  return ok(run('tar', ['-xaOf', path, name]), `tar -x ${name}`).stdout;
}
