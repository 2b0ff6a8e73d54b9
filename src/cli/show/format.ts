import type { InspectImage } from '../../inspect/index.js';
import { UsageError } from '../../errors.js';
import { escapeControl } from '../out.js';
import { closest } from '../suggest.js';

/**
 * `inspect --format`: the subset of Go templates that `docker inspect -f` users type.
 *   {{.Id}}  {{.Config.Entrypoint}}  {{.Config.Labels.key}}  {{json .Config}}  {{json .}}
 * Values print as Go's fmt does (`[a b]`, `map[k:v]`, `<no value>` for a missing map key or null);
 * anything else (range, if, pipes, other functions) is a usage error.
 */

type Value = unknown;
/** Objects that are maps in Go (any key may be asked for); every other object is a struct (a typo is an error). */
const MAPS = new WeakSet<object>();
const asMap = <T extends object>(o: T): T => {
  MAPS.add(o);
  return o;
};

/** A Docker-like view of one image (the names `docker inspect` uses), plus our whole inspect object under `.Inspect`. */
export function dockerView(img: InspectImage): Record<string, Value> {
  return {
    Id: img.id,
    RepoTags: img.tags,
    Created: img.created,
    Os: img.os,
    Architecture: img.architecture,
    Variant: img.variant,
    Config: dockerConfig(img),
    RootFS: { Type: 'layers', Layers: img.layers.map((l) => l.diffId) },
    Inspect: markMaps(img),
  };
}

/**
 * `.Config` as Docker 28 prints it (`docker image inspect`, either image store): the OCI image
 * config's field order, and a field with no value (no volumes, no ports, no labels, an empty user,
 * a null entrypoint) left out of `{{json .Config}}` as Go's omitempty leaves it out. It can still be
 * asked for: `{{.Config.Volumes}}` prints `map[]` and `{{json .Config.Volumes}}` `null`, as Docker
 * prints a nil map. (Docker 20.10 printed `"Volumes":null`; Docker 28 prints no key.)
 */
function dockerConfig(img: InspectImage): Record<string, Value> {
  const c = img.config;
  const nilMap = () => {
    const m = asMap({});
    Object.defineProperty(m, 'toJSON', { value: () => null, enumerable: false });
    return m;
  };
  const set = (xs: readonly string[]) => (xs.length ? asMap(Object.fromEntries(xs.map((x) => [x, asMap({})]))) : nilMap());
  const labels = Object.keys(c.labels).length ? asMap({ ...c.labels }) : nilMap();
  const fields: [string, Value, boolean][] = [
    ['User', c.user, c.user !== ''],
    ['ExposedPorts', set(c.exposedPorts), c.exposedPorts.length > 0],
    ['Env', c.env, c.env.length > 0],
    ['Entrypoint', c.entrypoint, c.entrypoint !== null && c.entrypoint.length > 0],
    ['Cmd', c.cmd, c.cmd !== null && c.cmd.length > 0],
    ['Volumes', set(c.volumes), c.volumes.length > 0],
    ['WorkingDir', c.workingDir, c.workingDir !== ''],
    ['Labels', labels, Object.keys(c.labels).length > 0],
    ['StopSignal', c.stopSignal, c.stopSignal !== null && c.stopSignal !== ''],
    ['Healthcheck', c.healthcheck, c.healthcheck !== null],
  ];
  const o: Record<string, Value> = {};
  for (const [k, v, present] of fields) Object.defineProperty(o, k, { value: v, enumerable: present, writable: false, configurable: false });
  return o;
}

/** In our own JSON, `labels` objects are maps; the rest are structs. Generic over the shape. */
function markMaps<T>(v: T, key = ''): T {
  if (Array.isArray(v)) for (const x of v) markMaps(x);
  else if (v !== null && typeof v === 'object') {
    if (/labels|annotations/i.test(key)) MAPS.add(v);
    for (const [k, x] of Object.entries(v)) markMaps(x, k);
  }
  return v;
}

type Part = { text: string } | { path: string[]; json: boolean; source: string };

/** Parse once; a template outside the subset is refused before any archive is read. */
export function parseTemplate(t: string): Part[] {
  const parts: Part[] = [];
  const re = /\{\{-?\s*(.*?)\s*-?\}\}/gs;
  let last = 0;
  for (const m of t.matchAll(re)) {
    if (m.index! > last) parts.push({ text: t.slice(last, m.index) });
    last = m.index! + m[0].length;
    const body = m[1]!;
    const am = /^(json\s+)?(\.|(?:\.[A-Za-z_][\w-]*)+)$/.exec(body);
    if (!am) {
      throw new UsageError(`--format: {{${body}}} is outside the supported subset: {{.Field.Path}} and {{json .Field.Path}} (no range, if, pipes or other functions); for more, use --json with jq`);
    }
    parts.push({ path: am[2] === '.' ? [] : am[2]!.slice(1).split('.'), json: am[1] !== undefined, source: body });
  }
  if (last < t.length) parts.push({ text: t.slice(last) });
  if (parts.some((p) => 'text' in p && p.text.includes('{{'))) throw new UsageError(`--format: an unclosed {{ in ${JSON.stringify(t)}`);
  return parts;
}

export function renderTemplate(parts: readonly Part[], view: Record<string, Value>): string {
  return parts
    .map((p) => {
      if ('text' in p) return p.text;
      const v = lookup(view, p.path, p.source);
      return p.json ? jsonCompact(v) : goText(v);
    })
    .join('');
}

const MISSING = Symbol('missing');

function lookup(view: Value, path: readonly string[], source: string): Value {
  let v: Value = view;
  for (let i = 0; i < path.length; i++) {
    const k = path[i]!;
    if (v === null || v === undefined || v === MISSING) return MISSING;
    if (typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`--format {{${source}}}: .${path.slice(0, i).join('.')} has no fields`);
    const o = v as Record<string, Value>;
    if (Object.hasOwn(o, k)) v = o[k];
    else if (MAPS.has(o)) v = MISSING;
    else {
      const where = i === 0 ? 'an image' : `.${path.slice(0, i).join('.')}`;
      const names = Object.getOwnPropertyNames(o);
      const near = closest(k, names);
      throw new UsageError(`--format {{${source}}}: ${where} has no field ${k}${near ? `; did you mean ${near}?` : ''} Fields: ${names.join(', ')}`);
    }
  }
  return v;
}

/** As Go's fmt prints a value: strings raw, slices `[a b]`, maps `map[k:v]` (keys sorted). */
function goText(v: Value): string {
  if (v === MISSING || v === null || v === undefined) return '<no value>';
  if (typeof v === 'string') return escapeControl(v);
  if (Array.isArray(v)) return `[${v.map(goText).join(' ')}]`;
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, Value>);
    if (!MAPS.has(v)) return `{${entries.map(([, x]) => goText(x)).join(' ')}}`;
    return `map[${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, x]) => `${escapeControl(k)}:${goText(x)}`)
      .join(' ')}]`;
  }
  return String(v);
}

/** `{{json x}}`: compact JSON, with the characters a terminal could act on escaped. */
function jsonCompact(v: Value): string {
  // eslint-disable-next-line no-control-regex
  return (JSON.stringify(v === MISSING ? null : v) ?? 'null').replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
