import { createHash } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * What lets a later run tell a killed run's temporaries (files and directories) from those of a run
 * still going: the pid and a hash of the host name in their names, their owner, their age.
 */
export const HOST = createHash('sha256').update(hostname()).digest('hex').slice(0, 4);

/** A temporary older than this, whose process is gone, is stale. */
export const STALE_MS = 15 * 60 * 1000;

/** Whether a process with this id exists (EPERM: it does, someone else's). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Ours to remove: made on this host by a process that is gone, owned by us, untouched for STALE_MS. */
export function stale(pid: number, host: string, st: { uid: number; mtimeMs: number }, now: number): boolean {
  if (host !== HOST || now - st.mtimeMs < STALE_MS) return false;
  if (process.getuid && st.uid !== process.getuid()) return false;
  return pid !== process.pid && !alive(pid);
}
