import type { ChildProcess } from 'node:child_process';
import { childProcess } from '../lazy.js';
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode, UsageError } from '../errors.js';
import { globToRegExp } from '../edit/glob.js';
import { formatBytes, startProgress } from './progress.js';
import { escapeControl } from './out.js';
import { plural } from './show/verify.js';

export interface BatchJob {
  readonly input: string;
  readonly output: string;
}

export interface BatchResult {
  readonly job: BatchJob;
  readonly status: 'ok' | 'failed' | 'skipped';
  readonly exitCode: number;
  /** The child's --json report when it succeeded. */
  readonly report?: { images: { tags: string[]; changed: boolean; oldId: string; newId: string }[] };
  readonly error?: string;
}

/** Expand `*`/`?` in the file-name part of an input the shell did not expand (quoted globs). */
export function expandInputs(inputs: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of inputs) {
    const name = basename(p);
    if (!/[*?]/.test(name)) {
      out.push(p);
      continue;
    }
    const dir = dirname(p);
    const re = globToRegExp(name.replace(/%/g, '\\%'));
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((n) => re.test(n) && statSync(join(dir, n)).isFile());
    } catch {
      /* a missing directory matches nothing */
    }
    if (names.length === 0) throw new UsageError(`${p} matches no file; check the pattern and the directory (quote it so the shell passes it as written)`);
    out.push(...names.sort().map((n) => (dir === '.' && !p.startsWith('./') ? n : join(dir, n))));
  }
  return out;
}

export function planJobs(inputs: readonly string[], outDir: string): BatchJob[] {
  const seen = new Map<string, string>();
  return inputs.map((input) => {
    if (input === '-') throw new UsageError('standard input (-) cannot be part of a batch; give file names');
    const output = join(outDir, basename(input));
    const key = resolve(output);
    if (seen.has(key)) throw new UsageError(`${input} and ${seen.get(key)} would both be written to ${output}; edit them in two runs with different --out-dir`);
    seen.set(key, input);
    return { input, output };
  });
}

const BIN = fileURLToPath(new URL('../../../bin/copyedit.js', import.meta.url));

/**
 * Run one `copyedit edit` child process per archive, `jobs` at a time, so a batch uses every core
 * and each child keeps its own atomic output and signal handling. One failure does not stop the
 * others unless `failFast`.
 */
export async function runBatch(jobs: readonly BatchJob[], childArgs: readonly string[], o: { jobs?: number; failFast: boolean; quiet: boolean }): Promise<BatchResult[]> {
  const width = Math.max(1, Math.min(o.jobs ?? availableParallelism(), jobs.length));
  const results: BatchResult[] = new Array(jobs.length);
  const running = new Set<ChildProcess>();
  const cancelled = new Set<ChildProcess>();
  const sizes = jobs.map((j) => {
    try {
      return statSync(j.input).size;
    } catch {
      return 0;
    }
  });
  const total = sizes.reduce((a, b) => a + b, 0);
  let doneBytes = 0;
  let stopping = false;
  const progress = startProgress('batch', () => doneBytes, total, !o.quiet);
  let next = 0;
  const runOne = (i: number): Promise<void> =>
    new Promise((res) => {
      const job = jobs[i]!;
      const child = childProcess().spawn(process.execPath, [BIN, 'edit', job.input, '-o', job.output, '--json', ...childArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
      running.add(child);
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('close', (code) => {
        running.delete(child);
        doneBytes += sizes[i]!;
        if (code === 0) {
          let report: BatchResult['report'];
          try {
            report = JSON.parse(out) as BatchResult['report'];
          } catch {
            /* no report: still a success */
          }
          results[i] = { job, status: 'ok', exitCode: 0, ...(report ? { report } : {}) };
        } else {
          const msg =
            err
              .trim()
              .split('\n')
              .find((l) => l.startsWith('copyedit:')) ??
            err.trim().split('\n')[0] ??
            `exit ${code}`;
          results[i] = cancelled.has(child)
            ? { job, status: 'skipped', exitCode: 0, error: 'cancelled by --fail-fast; nothing was written' }
            : { job, status: 'failed', exitCode: code ?? ExitCode.INTERNAL, error: withoutPath(msg.replace(/^copyedit: (error: )?/, ''), job.input) };
          if (o.failFast && !stopping) {
            stopping = true;
            for (const c of running) {
              cancelled.add(c);
              c.kill('SIGTERM');
            }
          }
        }
        res();
      });
    });
  const lane = async () => {
    while (!stopping && next < jobs.length) await runOne(next++);
  };
  await Promise.all(Array.from({ length: width }, lane));
  progress.stop();
  for (let i = 0; i < jobs.length; i++) results[i] ??= { job: jobs[i]!, status: 'skipped', exitCode: 0, error: 'not started: --fail-fast stopped the batch' };
  return results;
}

/** The batch line names the archive already: `a.tar: a.tar: truncated` -> `a.tar: truncated`. */
function withoutPath(msg: string, input: string): string {
  return msg.startsWith(`${input}: `) ? msg.slice(input.length + 2) : msg;
}

export function formatBatch(results: readonly BatchResult[]): string {
  const lines = results.map((r) => {
    if (r.status === 'ok') {
      const imgs = r.report?.images ?? [];
      const changed = imgs.filter((i) => i.changed).length;
      return `ok       ${r.job.input} -> ${r.job.output} (${changed}/${imgs.length} images changed)`;
    }
    return `${r.status === 'failed' ? 'FAILED ' : 'skipped'}  ${r.job.input}: ${r.error ?? ''}`;
  });
  const n = (s: BatchResult['status']) => results.filter((r) => r.status === s).length;
  lines.push(`${plural(results.length, 'archive')}: ${n('ok')} written, ${n('failed')} failed, ${n('skipped')} skipped`);
  return lines.map(escapeControl).join('\n');
}

/** Exit code of a batch: 0 when all succeeded, else the first failure's code. */
export function batchExitCode(results: readonly BatchResult[]): number {
  return results.find((r) => r.status === 'failed')?.exitCode ?? (results.some((r) => r.status === 'skipped') ? ExitCode.EDIT : 0);
}

export { formatBytes };
