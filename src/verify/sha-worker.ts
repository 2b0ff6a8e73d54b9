/**
 * Worker thread that computes sha256 for the main thread, so hashing a layer overlaps with reading
 * and writing it (the main thread's copy loop and sha256 each take about one core).
 * The main thread copies chunks into slots of a shared buffer; messages: {id, slot, len} adds those
 * bytes (answered {ack: slot}, the slot is free again); {id, end} answers {id, hex}.
 */
import { type Hash, createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

const { shared, slotSize } = workerData as { shared: SharedArrayBuffer; slotSize: number };
const hashes = new Map<number, Hash>();
parentPort!.on('message', (m: { id: number; slot?: number; len?: number; end?: boolean }) => {
  let h = hashes.get(m.id);
  if (!h) {
    h = createHash('sha256');
    hashes.set(m.id, h);
  }
  if (m.slot !== undefined) {
    h.update(new Uint8Array(shared, m.slot * slotSize, m.len));
    parentPort!.postMessage({ ack: m.slot });
  }
  if (m.end) {
    parentPort!.postMessage({ id: m.id, hex: h.digest('hex') });
    hashes.delete(m.id);
  }
});
