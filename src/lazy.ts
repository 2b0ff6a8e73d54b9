/**
 * Node built-ins that only some runs need, loaded on first use. Every static import is loaded at
 * start-up, needed or not, and these five cost about 9 ms on top of the built-ins every edit needs
 * (median of 15 imports of each set; issue 11: start-up is the part of a big edit's time that `cat`
 * does not have): compression (zlib), child processes (daemon mode, xz/bzip2/zstd tools, batch),
 * the hashing thread (--verify), sockets (FIFOs, pipe waits) and terminals.
 * `require` of a built-in is synchronous, so call sites stay as they were.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const zlib = (): typeof import('node:zlib') => require('node:zlib');
export const childProcess = (): typeof import('node:child_process') => require('node:child_process');
export const workerThreads = (): typeof import('node:worker_threads') => require('node:worker_threads');
export const net = (): typeof import('node:net') => require('node:net');
export const tty = (): typeof import('node:tty') => require('node:tty');
