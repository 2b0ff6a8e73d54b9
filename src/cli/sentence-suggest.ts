/** Did-you-mean for the sentence form: a typo of a keyword (`REMOVE ALL VOLUMS`) gets the sentence as meant. */
import { closest } from './suggest.js';

/** Every keyword of the grammar, for did-you-mean on a typo (`REMOVE ALL VOLUMS`). */
const KEYWORDS = [
  'remove',
  'rm',
  'add',
  'append',
  'set',
  'override',
  'all',
  'volumes',
  'volume',
  'ports',
  'port',
  'labels',
  'label',
  'envs',
  'env',
  'vars',
  'var',
  'entrypoint',
  'cmd',
  'user',
  'workdir',
  'workingdir',
  'hostname',
  'domainname',
  'stopsignal',
  'healthcheck',
  'onbuild',
  'history',
  'arg',
  'squash',
  'format',
  'layer',
  'compression',
  'shell',
  'null',
  'no',
  'arch',
  'architecture',
  'author',
  'os',
  'variant',
  'source_date_epoch',
];

/**
 * The same words with each unknown keyword replaced by the closest one, or undefined when no word
 * is near a keyword (then it is not a typo of one). Values (paths, ports) are left as written.
 */
export function didYouMeanSentence(said: string): string | undefined {
  let changed = false;
  const words = said.split(' ').map((w) => {
    const lw = w.toLowerCase();
    if (KEYWORDS.includes(lw) || lw.length < 3 || /[^a-z_]/.test(lw)) return w;
    const near = closest(lw, KEYWORDS);
    if (!near) return w;
    changed = true;
    return w === w.toUpperCase() ? near.toUpperCase() : near;
  });
  return changed ? words.join(' ') : undefined;
}
