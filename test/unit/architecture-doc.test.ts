/**
 * Issue 20: docs/ARCHITECTURE.md names files; every one it names must exist, or the map leads
 * nowhere after a move. Checked: every `src/...`, `test/...`, `scripts/...` and `bin/...` path
 * (a `{a,b}` group is each of its names, a `*` or a trailing `/` a directory that must exist), and
 * a bare file name in backquotes (`bytes.ts`) after such a path in the same table row or paragraph,
 * which the doc writes for a file next to the one named before it.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = new URL('../../../', import.meta.url).pathname;
const DOC = 'docs/ARCHITECTURE.md';

/** A path of the repository named somewhere in the text, not inside another (`dist/src/...` is not one). */
const PATH = /(?<![\w/.-])(?:src|test|scripts|bin)\/[\w./{},*-]*/g;
/** A file name alone in backquotes: a sibling of the path named before it in its row or paragraph. */
const SIBLING = /`([\w.-]+\.(?:ts|mjs|cjs|js|sh))`/g;

/** Every path the doc names, as written, with the line it is on. */
export function namedPaths(text: string): { path: string; line: number }[] {
  const out: { path: string; line: number }[] = [];
  let dir: string | undefined;
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('|')) dir = undefined; // a new paragraph or table row
    const found: { at: number; path: string; full: boolean }[] = [];
    for (const m of line.matchAll(PATH)) found.push({ at: m.index, path: m[0].replace(/[.,]+$/, ''), full: true });
    for (const m of line.matchAll(SIBLING)) found.push({ at: m.index, path: m[1]!, full: false });
    for (const f of found.sort((a, b) => a.at - b.at)) {
      if (f.full) {
        dir = f.path.endsWith('/') ? f.path : posix.dirname(f.path);
        out.push({ path: f.path, line: i + 1 });
      } else if (dir !== undefined && !found.some((g) => g.full && g.at <= f.at && g.path.endsWith(f.path))) {
        out.push({ path: posix.join(dir, f.path), line: i + 1 });
      }
    }
  });
  return out;
}

/** `a/{b,c}.ts` -> `a/b.ts`, `a/c.ts`. */
function expand(path: string): string[] {
  const m = /\{([^}]*)\}/.exec(path);
  if (!m) return [path];
  return m[1]!.split(',').flatMap((alt) => expand(path.slice(0, m.index) + alt + path.slice(m.index + m[0].length)));
}

/** Does a path exist: a file, a directory (trailing `/`), or a directory with a `*` in it. */
function exists(path: string): boolean {
  if (path.endsWith('/*') || path.endsWith('/')) {
    const dir = join(ROOT, path.replace(/\/\*?$/, ''));
    return existsSync(dir) && statSync(dir).isDirectory();
  }
  return existsSync(join(ROOT, path));
}

describe(DOC, () => {
  const text = readFileSync(join(ROOT, DOC), 'utf8');

  it('names only paths that exist', () => {
    const named = namedPaths(text);
    assert.ok(named.length > 30, `found only ${named.length} paths`);
    const missing = named.flatMap(({ path, line }) =>
      expand(path)
        .filter((p) => !exists(p))
        .map((p) => `line ${line}: ${p}`),
    );
    assert.deepEqual(missing, [], `${DOC} names paths that do not exist: move the doc with the code`);
  });

  it('reads paths as the doc writes them (full, siblings, groups)', () => {
    const sample = namedPaths('| x | `src/io/source.ts`, `bytes.ts` | `src/archive/{layout,graph}.ts` and dist/src/cli/x.cjs |');
    assert.deepEqual(
      sample.flatMap((p) => expand(p.path)),
      ['src/io/source.ts', 'src/io/bytes.ts', 'src/archive/layout.ts', 'src/archive/graph.ts'],
    );
  });
});
