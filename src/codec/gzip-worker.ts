/**
 * Worker thread of the parallel gzip (src/codec/pgzip.ts): deflates one block of a layer as raw
 * deflate primed with the previous 32 KiB of input, ended by a sync flush (the last block: the
 * final deflate block), as pigz does. Messages: {id, data, dict, level, last}; answers {id, out, data} (the block, given back).
 */
import { parentPort } from 'node:worker_threads';
import { deflateBlock } from './deflate-block.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// Each block leaves a dead 1 MiB output buffer (deflateRawSync allocates it) and few JS objects, so
// V8 collects only at its 64 MiB external-memory limit: 40 MiB more peak RSS per thread, measured.
// A young-generation collection every few blocks frees them (well under a millisecond in this
// small isolate). `gc` is exposed to a new context only; the flag changes nothing else.
// Where a Node refuses (no `gc` in the new context), the thread only keeps more memory.
const gc = ((): ((o?: { type: 'minor' | 'major' }) => void) => {
  try {
    setFlagsFromString('--expose-gc');
    const f = runInNewContext('typeof gc === "function" ? gc : undefined') as ((o?: { type: 'minor' | 'major' }) => void) | undefined;
    return f ?? (() => {});
  } catch {
    return () => {};
  }
})();
let blocks = 0;

interface Job {
  id: number;
  data: Uint8Array;
  dict?: Uint8Array;
  level: number;
  last: boolean;
}

parentPort!.on('message', (m: Job) => {
  const out = deflateBlock(m.data, m.dict, m.level, m.last);
  // transferred, not copied: cut to size first where deflate shrank the block (text: to a quarter)
  const own = out.byteOffset !== 0 || out.buffer.byteLength > out.length * 1.25 ? new Uint8Array(out) : out;
  // the input block goes back to be filled again
  parentPort!.postMessage({ id: m.id, out: own, data: m.data }, [m.data.buffer as ArrayBuffer, own.buffer as ArrayBuffer]);
  if (++blocks % 4 === 0) gc({ type: 'minor' });
});
