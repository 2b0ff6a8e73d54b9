import { escapeControl } from './out.js';

/**
 * A one-line progress display on stderr for long work: bytes done / total, rate, ETA. Only on a
 * terminal; silent when stderr is piped or with --quiet, so scripts never see it.
 */
export interface Progress {
  stop(): void;
}

const NONE: Progress = { stop() {} };

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function progressLine(label: string, done: number, total: number | undefined, seconds: number): string {
  const rate = seconds > 0 ? done / seconds : 0;
  const parts = [escapeControl(label), total ? `${formatBytes(done)} / ${formatBytes(total)}` : formatBytes(done)];
  if (total) parts.push(`${Math.min(100, Math.floor((done / total) * 100))}%`);
  parts.push(`${formatBytes(rate)}/s`);
  if (total && rate > 0) parts.push(`ETA ${Math.max(0, Math.ceil((total - done) / rate))}s`);
  return parts.join('  ');
}

/** Start redrawing every 250 ms once the work has taken more than a second. */
export function startProgress(label: string, done: () => number, total: number | undefined, enabled: boolean): Progress {
  const err = process.stderr;
  if (!enabled || !err.isTTY) return NONE;
  const t0 = Date.now();
  let drawn = false;
  const timer = setInterval(() => {
    const s = (Date.now() - t0) / 1000;
    if (s < 1) return;
    const line = progressLine(label, done(), total, s).slice(0, Math.max(20, (err.columns || 80) - 1));
    err.write(`\r${line}\u001b[K`);
    drawn = true;
  }, 250);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      if (drawn) err.write('\r\u001b[K');
    },
  };
}
