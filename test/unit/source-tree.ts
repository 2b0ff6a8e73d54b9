/**
 * The TypeScript sources of src/, read once and parsed with the compiler's own parser, for the
 * tests that check the code's shape (layering.test.ts, size.test.ts). Paths are relative to src/
 * (`archive/graph.ts`).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

export const ROOT = new URL('../../../', import.meta.url).pathname;
export const SRC = join(ROOT, 'src');

export interface SourceFile {
  /** Relative to src/, with forward slashes: `archive/graph.ts`. */
  readonly path: string;
  readonly text: string;
  readonly ast: ts.SourceFile;
}

let cached: readonly SourceFile[] | undefined;

/** Every src/**\/*.ts file (declaration files excepted), sorted by path. */
export function sourceFiles(): readonly SourceFile[] {
  cached ??= readdirSync(SRC, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => f.split('\\').join('/'))
    .sort()
    .map((path) => {
      const text = readFileSync(join(SRC, path), 'utf8');
      return { path, text, ast: ts.createSourceFile(path, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS) };
    });
  return cached;
}

export { ts };
