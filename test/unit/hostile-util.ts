/**
 * Shared by the hostile-input and fuzz tests: run one edit and check the promises copyedit makes
 * about files whatever the input: the input is untouched, the output is either complete or as it
 * was, and no temporary file is left behind.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { checkArchive } from './check.js';
import { readTar } from './fixtures.js';

export const BIN = new URL('../../../bin/copyedit.js', import.meta.url).pathname;

export interface FileState {
  readonly exists: boolean;
  readonly hash?: string;
  readonly mtimeMs?: number;
}

export async function fileState(path: string): Promise<FileState> {
  try {
    const [st, data] = await Promise.all([stat(path), readFile(path)]);
    return { exists: true, hash: createHash('sha256').update(data).digest('hex'), mtimeMs: st.mtimeMs };
  } catch {
    return { exists: false };
  }
}

/** Names in `dir` that a run must never leave: copyedit's temporary outputs. */
export async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.includes('copyedit-tmp'));
}

/** checkArchive, with a failure to read or parse reported as a problem instead of thrown. */
export async function problemsOf(archive: Buffer): Promise<string[]> {
  try {
    return checkArchive(await readTar(archive));
  } catch (e) {
    return [`check failed: ${(e as Error).message}`];
  }
}

/** The file entries of an archive that are not JSON (layers and the like), by name. */
export async function opaqueEntries(archive: Buffer): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const [name, e] of await readTar(archive)) {
    if (e.header.type !== 'file' || e.data.length === 0) continue;
    const first = e.data.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
    if (first === 0x7b || first === 0x5b) continue;
    out.set(name, e.data);
  }
  return out;
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Run the CLI asynchronously (so several can run at once). */
export function runCli(args: readonly string[], o: { stdin?: Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: o.env ?? process.env });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.on('error', () => {});
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`copyedit ${args.join(' ')} did not finish in ${o.timeoutMs ?? 30000} ms`));
    }, o.timeoutMs ?? 30000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err });
    });
    child.stdin.end(o.stdin ?? Buffer.alloc(0));
  });
}

/** Run `fn` over `items` with at most `limit` at once. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A stack trace in CLI output: "    at fn (file:line)". */
export const STACK = /\n\s+at [^\n]*(:\d+:\d+|\(native\))/;
