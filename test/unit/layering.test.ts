/**
 * Issue 20: the layering docs/ARCHITECTURE.md promises, checked on every `import` of src/.
 *
 * - No import cycle between files, type-only imports included (a cycle makes the load order, and
 *   so what a module sees of another at start-up, depend on which one is imported first).
 * - No edge between folders that LAYERS does not allow, as Go's depguard does: a folder may import
 *   only folders listed BEFORE it in the table (lowest layers first), so the table itself cannot
 *   hold a cycle. A folder is a directory of src/ (`archive/tar` is its own, as a Go package is);
 *   a file directly in src/ is a unit of its own, named without `.ts` (`errors`, `pipeline`).
 *   A folder without a row of its own follows its parent's row (`cli/commands` is `cli`).
 *
 * Imports counted: `import ... from`, `import type`, `import '...'`, `export ... from`, `import()`
 * and `typeof import('...')` of relative paths. KNOWN_EXCEPTIONS lists what is still wrong and who
 * will fix it; an exception that no longer occurs fails too, so the list only shrinks.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, it } from 'node:test';
import { SRC, sourceFiles, ts } from './source-tree.js';

/** Lowest first; each row names the folders it may import, all of them rows above it ('*': every row above). */
const LAYERS: readonly (readonly [string, readonly string[]])[] = [
  ['errors', []],
  ['lazy', []],
  // compression: detect, decompress, compress (gzip, zstd, xz, bzip2); media types over it
  ['codec', ['errors', 'lazy']],
  ['media-types', ['codec']],
  ['digest', []],
  ['reference', []],
  ['options-check', []],
  ['json', ['errors']],
  // the tar format: headers and entry records, below the I/O that reads and writes them
  ['archive/tar', ['errors']],
  // bytes in and out: files, pipes, descriptors, OCI layout directories (as tar streams / entries)
  ['io', ['errors', 'lazy', 'codec', 'media-types', 'archive/tar']],
  // scan, graph, model, layouts, the tar writer
  ['archive', ['errors', 'digest', 'reference', 'options-check', 'media-types', 'json', 'archive/tar', 'io']],
  ['edit', ['errors', 'json']],
  ['select', ['errors', 'reference', 'archive']],
  ['verify', ['errors', 'lazy', 'digest', 'codec', 'media-types', 'json', 'archive/tar', 'io', 'archive']],
  // layer recompression and media types, below the rewrite that uses them
  ['convert', ['errors', 'lazy', 'digest', 'reference', 'codec', 'media-types', 'json', 'archive/tar', 'io', 'archive']],
  // layer content: a layer's inner tar as entries, the merged filesystem of an image (issue 21)
  ['content', ['errors', 'lazy', 'digest', 'reference', 'codec', 'media-types', 'json', 'archive/tar', 'io', 'archive', 'select']],
  // layers copyedit makes (--add-file, --add-layer, --rm-path, --flatten): tars written into spools, DiffIDs hashed
  ['layers', ['errors', 'lazy', 'digest', 'reference', 'codec', 'media-types', 'json', 'archive/tar', 'io', 'archive', 'select', 'edit', 'convert', 'content']],
  // the one fold and its renderers
  ['rewrite', ['errors', 'digest', 'reference', 'media-types', 'json', 'archive/tar', 'io', 'archive', 'convert']],
  ['inspect', ['errors', 'digest', 'reference', 'json', 'archive/tar', 'io', 'archive', 'verify']],
  // registries: HTTP(S), auth, the image read as an archive model, the fold's result as uploads
  ['registry', ['errors', 'digest', 'media-types', 'json', 'archive/tar', 'archive', 'rewrite']],
  // the passes of editArchive: the output run, the one-pass edit, the conversion's two passes
  ['run', ['*']],
  ['pipeline', ['*']],
  // the package root: what a library user imports
  ['index', ['*']],
  ['cli', ['*']],
];

/**
 * What is still wrong (none today: the rewriters were unified into src/rewrite/). Whoever adds
 * one says why; a line that no longer occurs fails the test.
 */
const KNOWN_EXCEPTIONS: readonly ({ readonly cycle: readonly string[] } | { readonly edge: string })[] = [];

/** The folder (unit) of a file: its directory under src/, or its own name for a file directly in src/. */
export function unitOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path.replace(/\.ts$/, '') : path.slice(0, slash);
}

/** The LAYERS row a unit follows: its own, else its nearest parent's. */
function rowOf(unit: string): number {
  for (let u = unit; ; u = u.slice(0, u.lastIndexOf('/'))) {
    const i = LAYERS.findIndex(([name]) => name === u);
    if (i >= 0) return i;
    if (!u.includes('/')) return -1;
  }
}

/** The relative module specifiers a file imports, however it imports them. */
function specifiers(sf: ts.SourceFile): string[] {
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      out.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteralLike(node.arguments[0])) {
      out.push(node.arguments[0].text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      out.push(node.argument.literal.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      out.push(node.moduleReference.expression.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out.filter((s) => s.startsWith('.'));
}

/** file -> the src files it imports (paths relative to src/). */
export function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const f of sourceFiles()) {
    const to = new Set<string>();
    for (const spec of specifiers(f.ast)) {
      const target = posix.join(posix.dirname(f.path), spec);
      // a relative import that leaves src/ (package.json, help.json) is data, not a layer
      if (target.startsWith('..')) continue;
      const file = target.replace(/\.js$/, '.ts');
      const resolved = existsSync(join(SRC, file)) ? file : existsSync(join(SRC, target, 'index.ts')) ? `${target}/index.ts` : undefined;
      assert.ok(resolved, `${f.path} imports '${spec}', which is no file of src/`);
      to.add(resolved);
    }
    graph.set(f.path, [...to].sort());
  }
  return graph;
}

/** Strongly connected components with more than one file (or a file importing itself), Tarjan's. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const strong = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v)?.includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) strong(v);
  return out;
}

/** One cycle through the first file of a component, as `a -> b -> a`, to print. */
function cyclePath(graph: ReadonlyMap<string, readonly string[]>, scc: readonly string[]): string {
  const inside = new Set(scc);
  const start = scc[0]!;
  const prev = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    for (const w of graph.get(v) ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u: string | undefined = v; u !== undefined && u !== start; u = prev.get(u)) path.splice(1, 0, u);
        return [...path, start].join(' -> ');
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return scc.join(' <-> ');
}

/** File edges that cross folders in a way LAYERS does not allow, as `from -> to`. */
function forbiddenEdges(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const out: string[] = [];
  for (const [from, tos] of graph) {
    const row = rowOf(unitOf(from));
    assert.ok(row >= 0, `${from}: its folder '${unitOf(from)}' has no row in LAYERS; add one`);
    for (const to of tos) {
      const target = rowOf(unitOf(to));
      assert.ok(target >= 0, `${to}: its folder '${unitOf(to)}' has no row in LAYERS; add one`);
      if (target === row) continue;
      const allowed = LAYERS[row]![1];
      if (target < row && (allowed.includes('*') || allowed.includes(LAYERS[target]![0]))) continue;
      out.push(`${from} -> ${to}`);
    }
  }
  return out.sort();
}

describe('layering (docs/ARCHITECTURE.md)', () => {
  const graph = importGraph();
  const knownCycles = KNOWN_EXCEPTIONS.flatMap((e) => ('cycle' in e ? [[...e.cycle].sort().join(' <-> ')] : []));
  const knownEdges = KNOWN_EXCEPTIONS.flatMap((e) => ('edge' in e ? [e.edge] : []));

  it('the table is a layering: every row names only rows above it', () => {
    LAYERS.forEach(([name, allowed], i) => {
      for (const a of allowed) {
        if (a === '*') continue;
        const j = LAYERS.findIndex(([n]) => n === a);
        assert.ok(j >= 0 && j < i, `LAYERS: '${name}' may import '${a}', which is not a row above it`);
      }
    });
  });

  it('reads the imports of every file (the parse finds what is there)', () => {
    assert.ok(graph.size > 50, `only ${graph.size} files`);
    // one of each kind: static, type-only, re-export
    assert.ok(graph.get('archive/model.ts')?.includes('archive/graph.ts'), 'import type');
    assert.ok(graph.get('index.ts')?.includes('edit/index.ts'), 'export * from');
    assert.ok(graph.get('archive/scan.ts')?.includes('io/bytes.ts'), 'import');
  });

  it('has no import cycle between files', () => {
    const found = cycles(graph);
    const bad = found.filter((scc) => !knownCycles.includes(scc.join(' <-> ')));
    assert.deepEqual(
      bad.map((scc) => cyclePath(graph, scc)),
      [],
      'import cycles (break each by moving what both sides need into a module below both)',
    );
    const gone = knownCycles.filter((k) => !found.some((scc) => scc.join(' <-> ') === k));
    assert.deepEqual(gone, [], 'KNOWN_EXCEPTIONS names cycles that no longer occur: remove them from the list');
  });

  it('has no folder edge that LAYERS does not allow', () => {
    const found = forbiddenEdges(graph);
    const bad = found.filter((e) => !knownEdges.includes(e));
    assert.deepEqual(bad, [], 'imports that go up or sideways (move the code down, or add the edge to LAYERS if the architecture says so)');
    const gone = knownEdges.filter((e) => !found.includes(e));
    assert.deepEqual(gone, [], 'KNOWN_EXCEPTIONS names edges that no longer occur: remove them from the list');
  });
});
