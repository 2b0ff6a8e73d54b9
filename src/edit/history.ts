/**
 * Edits of an image's history and times: build arguments that leaked into the metadata, the
 * vendor's build steps, and reproducible creation times (SOURCE_DATE_EPOCH).
 *
 * A `RUN` with build arguments is recorded as `|N NAME=value ... /bin/sh -c cmd` (BuildKit prefixes
 * `RUN `), in `history[].created_by` and, from the classic builder, in `container_config.Cmd` as
 * separate elements (`["|2","TOKEN=abc","X=1","/bin/sh","-c","cmd"]`). A value that holds a blank
 * cannot be told apart from the command in that form; such a record is left as it is.
 */
import { type Json, type JsonObject, field, fieldKey, isJsonObject, jsonObject } from '../json/lossless.js';
import { shallow } from './runtime.js';
import { type Selector, selects } from './selector.js';
import type { ConfigEdit } from './types.js';
import { EditError } from '../errors.js';

const ARG = /^[A-Za-z_][A-Za-z0-9_]*=/;

/**
 * The command after the arguments must start as a shell invocation does (an absolute `sh`, `bash`,
 * `ash`, `dash`, `zsh`, `ksh` or `mksh` with `-c`, Windows' `cmd /S /C`): otherwise a value may hold
 * a blank, and where it ends cannot be told (`|1 TOKEN=A VALUE WITH BLANKS /bin/sh -c x`), so the
 * record is left as it is. Only a value that itself holds a shell invocation could still be misread.
 */
const SHELL = String.raw`\/(?:\S*\/)?(?:sh|bash|ash|dash|zsh|ksh|mksh) -c |cmd \/S \/C `;
const SHELL_START = new RegExp(`^(?:${SHELL})`);
const SHELL_ANYWHERE = new RegExp(`(?:^| )(?:${SHELL})`, 'g');
/**
 * An exec-form RUN (`RUN ["/bin/busybox","true"]`) is recorded as its words joined: the command
 * then starts with its absolute executable. Taken as the command's start only when it is the one
 * word of the rest that starts with `/`: otherwise the last value may hold " /" and end at any of
 * them (`|1 TOKEN=key /opt/x /bin/busybox true`), and the record is left as it is, warned.
 */
function execStart(rest: string): boolean {
  return /^\/[^\s/]/.test(rest) && rest.split(' ').filter((w) => w.startsWith('/')).length === 1;
}

/** A shell start, when no later word starts one too (`|1 TOKEN=a /b -c c /bin/sh -c x` is unclear). */
function shellStart(rest: string): boolean {
  return SHELL_START.test(rest) && (rest.match(SHELL_ANYWHERE) ?? []).length === 1;
}

/** A `|N NAME=value ... cmd` record: its parts, and whether its arguments can be told from the command. */
function argsRecord(text: string): { prefix: string; args: string[]; rest: string; clear: boolean } | undefined {
  const m = /^((?:RUN )?)\|(\d+) /.exec(text);
  if (!m) return undefined;
  const n = Number(m[2]);
  const words = text.slice(m[0].length).split(' ');
  if (!ARG.test(words[0] ?? '')) return undefined;
  if (words.length < n || !words.slice(0, n).every((w) => ARG.test(w))) {
    // a value with blanks (`|1 TOKEN=A B C /bin/sh -c x`): the names up to the command, unclear
    const end = words.findIndex((w) => w.startsWith('/'));
    return { prefix: m[1]!, args: words.slice(0, end < 0 ? words.length : end).filter((w) => ARG.test(w)), rest: '', clear: false };
  }
  const rest = words.slice(n).join(' ');
  return { prefix: m[1]!, args: words.slice(0, n), rest, clear: shellStart(rest) || execStart(rest) };
}

/**
 * `RUN |2 A=1 B=2 /bin/sh -c x` without the selected arguments; undefined when nothing matched, or
 * when the record's arguments cannot be told from its command (see SHELL_START): left as it is.
 */
export function stripArgsFromText(text: string, drop: (name: string) => boolean): string | undefined {
  const r = argsRecord(text);
  if (!r?.clear) return undefined;
  const kept = r.args.filter((w) => !drop(w.slice(0, w.indexOf('='))));
  if (kept.length === r.args.length) return undefined;
  return kept.length ? `${r.prefix}|${kept.length} ${kept.join(' ')} ${r.rest}` : `${r.prefix}${r.rest}`;
}

/** The classic builder's `container_config.Cmd` form: `["|2","A=1","B=2","/bin/sh","-c","cmd"]`. */
export function stripArgsFromCmd(cmd: readonly Json[], drop: (name: string) => boolean): Json[] | undefined {
  const head = cmd[0];
  const m = typeof head === 'string' ? /^\|(\d+)$/.exec(head) : null;
  if (!m) return undefined;
  const n = Number(m[1]);
  const args = cmd.slice(1, 1 + n);
  if (args.length < n || !args.every((a) => typeof a === 'string' && ARG.test(a))) return undefined;
  const kept = (args as string[]).filter((a) => !drop(a.slice(0, a.indexOf('='))));
  if (kept.length === args.length) return undefined;
  return kept.length ? [`|${kept.length}`, ...kept, ...cmd.slice(1 + n)] : cmd.slice(1 + n);
}

/** The `NAME=value` arguments of a record (text or Cmd form) that `drop` selects. */
function selectedArgs(v: Json | undefined, drop: (name: string) => boolean): string[] {
  const words = typeof v === 'string' ? (argsRecord(v)?.args ?? []) : Array.isArray(v) && typeof v[0] === 'string' && /^\|\d+$/.test(v[0]) ? v.slice(1, 1 + Number(v[0].slice(1))) : [];
  return words.filter((w): w is string => typeof w === 'string' && ARG.test(w) && drop(w.slice(0, w.indexOf('='))));
}

/**
 * Values shorter than this are not looked for elsewhere in the config: `V=1` would be "found" in
 * any string holding a 1. A secret is longer.
 */
const MIN_TRACKED = 4;

/** Where `value` still appears in `doc`, as JSON paths (`config.Env[2]`, `config.Labels["k"]`). */
function placesOf(doc: Json, value: string, path = ''): string[] {
  if (typeof doc === 'string') return doc.includes(value) ? [path || '(the document)'] : [];
  if (Array.isArray(doc)) return doc.flatMap((v, i) => placesOf(v, value, `${path}[${i}]`));
  if (!isJsonObject(doc)) return [];
  const out: string[] = [];
  for (const k of Object.keys(doc)) {
    const key = /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? (path ? `${path}.${k}` : k) : `${path}[${JSON.stringify(k)}]`;
    if (k.includes(value)) out.push(`${key} (the key)`);
    out.push(...placesOf(doc[k] as Json, value, key));
  }
  return out;
}

/** The warnings that say where a removed argument's value still is; `--strict` makes them errors. */
export const SECRET_REMAINS = 'still holds the value of';

/**
 * Remove build arguments from the history (`created_by`) and from `container_config.Cmd`, so their
 * values appear nowhere in the config. The number of non-empty history entries does not change.
 * Where a value stays (a record whose arguments cannot be told from its command, left exactly as it
 * was; Env, Labels or any other string of the config holding it), a warning names each place.
 */
export function removeHistoryArgs(sel: Selector, shown?: string): ConfigEdit {
  const drop = selects(sel);
  const what = sel === 'all' ? 'all build arguments' : sel instanceof RegExp ? `build arguments matching ${shown ?? String(sel)}` : `build argument${sel.length === 1 ? '' : 's'} ${sel.join(', ')}`;
  return {
    name: 'history-rm-arg',
    description: `remove ${what} from the history`,
    apply(image) {
      let hits = 0;
      const removed = new Map<string, string>(); // value -> argument name
      const note = (args: string[]) => {
        for (const a of args) removed.set(a.slice(a.indexOf('=') + 1), a.slice(0, a.indexOf('=')));
      };
      const unclear: string[] = [];
      const out = shallow(image);
      const hk = fieldKey(image, 'history');
      const history = hk === undefined ? undefined : image[hk];
      if (hk !== undefined && Array.isArray(history)) {
        out[hk] = history.map((h, i) => {
          if (!isJsonObject(h)) return h;
          const k = fieldKey(h, 'created_by');
          const text = k === undefined ? undefined : h[k];
          const next = typeof text === 'string' ? stripArgsFromText(text, drop) : undefined;
          if (next === undefined || k === undefined) {
            const r = typeof text === 'string' ? argsRecord(text) : undefined;
            const names = r && !r.clear ? r.args.filter((w) => drop(w.slice(0, w.indexOf('=')))).map((w) => w.slice(0, w.indexOf('='))) : [];
            if (names.length) unclear.push(`${hk}[${i}].${k}`);
            return h;
          }
          note(selectedArgs(text, drop));
          hits++;
          const copy = shallow(h);
          copy[k] = next;
          return copy;
        });
      }
      const ck = fieldKey(image, 'container_config');
      const cc = ck === undefined ? undefined : image[ck];
      if (ck !== undefined && isJsonObject(cc)) {
        const cmdKey = fieldKey(cc, 'Cmd');
        const cmd = cmdKey === undefined ? undefined : cc[cmdKey];
        const next = Array.isArray(cmd) ? stripArgsFromCmd(cmd, drop) : undefined;
        if (next && cmdKey !== undefined) {
          note(selectedArgs(cmd, drop));
          hits++;
          const copy = shallow(cc);
          copy[cmdKey] = next;
          out[ck] = copy;
        }
      }
      const warnings: string[] = [];
      for (const place of unclear) {
        warnings.push(
          `${place} ${SECRET_REMAINS} ${what}: a value there holds a blank, so where it ends cannot be told from the command; the record is left exactly as it was (edit the history with --squash-history, or rebuild without the argument)`,
        );
      }
      const config = hits ? out : image;
      for (const [value, name] of removed) {
        if (value.length < MIN_TRACKED) continue;
        const places = placesOf(config, value).filter((p) => !unclear.includes(p));
        if (places.length) warnings.push(`${places.join(', ')} ${SECRET_REMAINS} build argument ${name}: --history-rm-arg removes it from the build records only; edit or remove those too`);
      }
      if (!hits && !unclear.length && sel !== 'all') warnings.push(`no history entry records ${what}`);
      return { config, warnings };
    },
  };
}

/**
 * `--strict`: an edit whose warnings say a removed build argument's value is still in the metadata
 * fails instead (EditError, exit 4), before anything is written.
 */
export function strictSecrets(edit: ConfigEdit): ConfigEdit {
  if (edit.name !== 'history-rm-arg') return edit;
  return {
    ...edit,
    apply(image) {
      const r = edit.apply(image);
      const left = r.warnings.filter((w) => w.includes(SECRET_REMAINS));
      if (left.length) throw new EditError(`--strict: ${left[0]}${left.length > 1 ? ` (and ${left.length - 1} more)` : ''}`);
      return r;
    },
  };
}

/**
 * Replace the history with one entry per layer: empty entries (ENV, LABEL, CMD ...) go, every layer
 * keeps its `created` time and loses the step that made it, so `docker history` no longer shows the
 * vendor's build steps. moby's rule (non-empty entries = layers) still holds.
 */
export function squashHistory(): ConfigEdit {
  return {
    name: 'history-squash',
    description: 'squash the history to one entry per layer',
    apply(image) {
      const hk = fieldKey(image, 'history');
      const history = hk === undefined ? undefined : image[hk];
      if (hk === undefined || !Array.isArray(history)) return { config: image, warnings: ['the image has no history to squash'] };
      const next = history
        .filter((h) => !(isJsonObject(h) && field(h, 'empty_layer') === true))
        .map((h) => {
          const e = jsonObject();
          const created = isJsonObject(h) ? field(h, 'created') : undefined;
          if (typeof created === 'string') e.created = created;
          e.created_by = 'layer (history squashed by copyedit)';
          return e;
        });
      const out = shallow(image);
      out[hk] = next;
      return { config: out, warnings: [] };
    },
  };
}

/**
 * The last second an image's `created` can carry: RFC 3339 has four-digit years (Go's
 * MarshalJSON refuses year 10000), 9999-12-31T23:59:59Z.
 */
export const MAX_EPOCH = 253402300799;

/** RFC 3339 as Docker writes it, without fractional seconds when there are none. */
export function epochTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * SOURCE_DATE_EPOCH: the image's `created` and every history entry's `created` later than the
 * epoch become the epoch (earlier times stay), as BuildKit and the reproducible-builds convention do.
 */
export function clampTimes(epochSeconds: number): ConfigEdit {
  if (!Number.isSafeInteger(epochSeconds) || epochSeconds < 0) throw new RangeError(`SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, not ${epochSeconds}`);
  if (epochSeconds > MAX_EPOCH) throw new RangeError(`SOURCE_DATE_EPOCH ${epochSeconds} is after 9999-12-31T23:59:59Z (${MAX_EPOCH}), the last time an image's created (RFC 3339) can hold`);
  const limit = epochSeconds * 1000;
  const stamp = epochTime(epochSeconds);
  const clamp = (v: Json | undefined): Json | undefined => {
    if (typeof v !== 'string') return undefined;
    const t = Date.parse(v);
    return Number.isNaN(t) || t <= limit ? undefined : stamp;
  };
  return {
    name: 'source-date-epoch',
    description: `clamp times to ${stamp}`,
    apply(image) {
      let hits = 0;
      const out = shallow(image);
      const ck = fieldKey(image, 'created');
      const c = ck === undefined ? undefined : clamp(image[ck]);
      if (ck !== undefined && c !== undefined) {
        out[ck] = c;
        hits++;
      }
      const hk = fieldKey(image, 'history');
      const history = hk === undefined ? undefined : image[hk];
      if (hk !== undefined && Array.isArray(history)) {
        out[hk] = history.map((h) => {
          const k = isJsonObject(h) ? fieldKey(h, 'created') : undefined;
          const v = k === undefined ? undefined : clamp((h as JsonObject)[k]);
          if (k === undefined || v === undefined) return h;
          hits++;
          const copy = shallow(h as JsonObject);
          copy[k] = v;
          return copy;
        });
      }
      return { config: hits ? out : image, warnings: [] };
    },
  };
}
