/**
 * Issue 20: the example in the header comment of src/index.ts and every ```ts example of
 * docs/API.md type-check, with the TypeScript compiler API, against the BUILT declarations
 * (dist/src/index.d.ts) imported as 'image-copyedit', as a user's program sees them; a program that
 * imports an internal does not. (test/slow/api-docs.test.ts also runs the docs' examples; the
 * exported names are pinned by test/unit/api-surface.test.ts.) In the slow group: one compile with
 * @types/node takes some 3 s.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const ROOT = new URL('../../../', import.meta.url).pathname;

/** The example of the header comment of src/index.ts: its lines indented by four after ` * `. */
function headerExample(): string {
  const src = readFileSync(join(ROOT, 'src/index.ts'), 'utf8');
  const header = src.slice(0, src.indexOf('*/'));
  const lines = header
    .split('\n')
    .filter((l) => l.startsWith(' *     '))
    .map((l) => l.slice(' *     '.length));
  return lines.join('\n');
}

function docExamples(): string[] {
  const doc = readFileSync(join(ROOT, 'docs/API.md'), 'utf8');
  return [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/**
 * Type-check programs that import 'image-copyedit'. They are given to the compiler as files of
 * the package itself (under its root, not written to disk), so the name resolves, through the
 * package's own "exports", to the built declarations: what `npm install` gives a user.
 */
function typeCheck(sources: readonly { name: string; code: string }[]): string[] {
  const dir = join(ROOT, 'dist', 'api-check');
  const files = new Map(sources.map((s) => [join(dir, `${s.name}.ts`), s.code]));
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [join(ROOT, 'node_modules', '@types')],
  };
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => files.has(f) || fileExists.call(host, f);
  host.readFile = (f) => files.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, lang, ...rest) => {
    const code = files.get(f);
    return code !== undefined ? ts.createSourceFile(f, code, lang, true) : getSourceFile.call(host, f, lang, ...rest);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  return [...files.keys()].flatMap((f) => {
    const sf = program.getSourceFile(f);
    if (!sf) return [`${f}: not read`];
    return [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)].map((d) => {
      const at = d.start !== undefined ? sf.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
      return `${f.slice(dir.length + 1)}:${at}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
  });
}

describe('the library surface (src/index.ts): its examples', () => {
  it('the header example and the docs/API.md examples type-check against the built declarations; a use of an internal does not', () => {
    const header = headerExample();
    assert.match(header, /import .* from 'image-copyedit'/);
    const docs = docExamples();
    assert.ok(docs.length >= 3, `found ${docs.length} examples in docs/API.md`);
    // one program for all (a program costs seconds): the last file shows the check can fail
    const internal = "import { WriteBehind } from 'image-copyedit';\nexport const w: unknown = WriteBehind;\n";
    const errors = typeCheck([{ name: 'header', code: header }, ...docs.map((code, i) => ({ name: `api-${i + 1}`, code })), { name: 'internal', code: internal }]);
    assert.deepEqual(errors, [`internal.ts:1: Module '"image-copyedit"' has no exported member 'WriteBehind'.`]);
  });
});
