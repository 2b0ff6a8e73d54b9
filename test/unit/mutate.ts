/** Rewrite a tar entry by entry, keeping order and headers: to damage sample archives on purpose. */
import * as tar from 'tar-stream';

export interface TarItem {
  header: tar.Header;
  data: Buffer;
}

export async function tarItems(buf: Buffer): Promise<TarItem[]> {
  const ex = tar.extract();
  const out: TarItem[] = [];
  const done = (async () => {
    for await (const entry of ex) {
      const parts: Buffer[] = [];
      for await (const c of entry as AsyncIterable<Buffer>) parts.push(c);
      out.push({ header: entry.header, data: Buffer.concat(parts) });
    }
  })();
  ex.end(buf);
  await done;
  return out;
}

export async function packItems(items: TarItem[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  })();
  for (const it of items) {
    const isFile = it.header.type === 'file' || it.header.type === 'contiguous-file';
    const header = { ...it.header, size: isFile ? it.data.length : 0 };
    await new Promise<void>((res, rej) => pack.entry(header, isFile ? it.data : Buffer.alloc(0), (e) => (e ? rej(e) : res())));
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Apply `fn` to the items of `archive` and pack the result. */
export async function mutateTar(archive: Buffer, fn: (items: TarItem[]) => void): Promise<Buffer> {
  const items = await tarItems(archive);
  fn(items);
  return packItems(items);
}

export function item(items: TarItem[], test: (name: string, it: TarItem) => boolean): TarItem {
  const found = items.find((it) => test(it.header.name, it));
  if (!found) throw new Error('no such entry in the test archive');
  return found;
}
