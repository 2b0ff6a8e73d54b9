/**
 * `rebase` (`--rebase-from OLD --rebase-onto NEW`, each an archive or an OCI layout directory
 * holding one image): OLD's DiffIDs must be the bottom of every selected image (refused naming
 * the first layer that differs); they are replaced by NEW's layers (copied in, decompressed and
 * checked against NEW's DiffIDs, then written as the image's other layers are), the image's own
 * layers and config kept, `rootfs` and `history` rebuilt (NEW's history, then the image's own
 * entries above OLD's), and the manifests annotated with the base's name and config digest.
 */
import type { ArchiveModel } from '../archive/model.js';
import { type ImageContent, openImageContent } from '../content/image.js';
import type { ConfigEdit } from '../edit/index.js';
import { rebaseLayers } from '../edit/layer.js';
import { EditError } from '../errors.js';
import type { Json } from '../json/lossless.js';
import type { LayerAddition } from '../layers/build.js';

export const BASE_NAME = 'org.opencontainers.image.base.name';
export const BASE_DIGEST = 'org.opencontainers.image.base.digest';

/** One image of OLD or NEW, the platform asked for when it holds several. */
async function open(path: string, platform: string | undefined): Promise<ImageContent> {
  try {
    return await openImageContent(path);
  } catch (e) {
    if (!(e instanceof EditError) || platform === undefined) throw e;
    return openImageContent(path, { platform });
  }
}

/** The additions (NEW's layers), the config edit, the annotations, and what to close once the layers are written. */
export async function rebasePlan(
  rebase: { readonly from: string; readonly onto: string },
  model: ArchiveModel,
  selected: readonly { image: string; platform?: string; chain: string }[],
): Promise<{ additions: LayerAddition[]; edits: ConfigEdit[]; annotations: Record<string, string>; close(): void }> {
  const opened: ImageContent[] = [];
  const close = () => {
    for (const c of opened) c.close();
  };
  try {
    const additions: LayerAddition[] = [];
    const byChain = new Map<string, { oldLayers: number; oldHistory: number; diffIds: string[]; history: Json[] }>();
    const seen = new Set<string>();
    let base: ImageContent | undefined;
    for (const s of selected) {
      const img = model.images.find((i) => i.id.toString() === s.image)!;
      const old = await open(rebase.from, s.platform);
      opened.push(old);
      const nw = await open(rebase.onto, s.platform);
      opened.push(nw);
      base ??= nw;
      const what = img.tags[0] ?? img.id.short;
      old.image.layers.forEach((l, i) => {
        const mine = img.layers[i]?.diffId;
        if (!mine || !l.diffId || !mine.equals(l.diffId)) {
          throw new EditError(`--rebase-from ${rebase.from} is not ${what}'s base: its layer ${i + 1} is ${l.diffId ?? 'without a DiffID'}, the image's is ${mine ?? 'missing'}`);
        }
      });
      const diffIds = nw.image.layers.map((l, i) => {
        if (!l.diffId) throw new EditError(`--rebase-onto ${rebase.onto}: layer ${i + 1} has no DiffID in its config`);
        const id = l.diffId.toString();
        if (!seen.has(id)) additions.push({ kind: 'source', layer: nw.layers[i]!, diffId: id, what: 'REBASE' });
        seen.add(id);
        return id;
      });
      const hist = (c: { config: Record<string, unknown> }) => (Array.isArray(c.config.history) ? (c.config.history as Json[]) : []);
      byChain.set(s.chain, { oldLayers: old.image.layers.length, oldHistory: hist(old.image).length, diffIds, history: hist(nw.image) });
    }
    const edits = byChain.size ? [rebaseLayers(byChain, `REBASE ONTO ${base?.name ?? rebase.onto}`)] : [];
    const annotations: Record<string, string> = base ? { [BASE_NAME]: base.name, [BASE_DIGEST]: base.image.id.toString() } : {};
    return { additions, edits, annotations, close };
  } catch (e) {
    close();
    throw e;
  }
}
