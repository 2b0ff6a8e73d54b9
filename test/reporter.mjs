// A compact reporter for node:test: a dot per test (s skipped, t todo, X failed), what test files
// print (the engine matrix), then each failure in full and each distinct skip and todo reason once
// (a todo's failure is expected, and not a failure of the run). The counts
// are written to $COPYEDIT_TEST_COUNTS (JSON) for test/run.mjs, which prints the summary last.
import { writeFileSync } from 'node:fs';
import { inspect } from 'node:util';

export default async function* compact(source) {
  const failures = [];
  const skips = new Map();
  const todos = new Map();
  const isTodo = (data) => data.todo !== undefined && data.todo !== false;
  const todo = (data, outcome) => {
    const key = `${typeof data.todo === 'string' ? data.todo : '(no reason given)'} (${data.name}: ${outcome})`;
    todos.set(key, (todos.get(key) ?? 0) + 1);
    return dot('t');
  };
  const counts = { pass: 0, fail: 0, skipped: 0, cancelled: 0, todo: 0 };
  let column = 0;
  const dot = (c) => {
    column++;
    return column % 80 === 0 ? `${c}\n` : c;
  };
  for await (const { type, data } of source) {
    if (type === 'test:pass') {
      if (data.details?.type === 'suite') continue;
      if (isTodo(data)) yield todo(data, 'passes now');
      else if (data.skip !== undefined && data.skip !== false) {
        const why = typeof data.skip === 'string' ? data.skip : '(no reason given)';
        skips.set(why, (skips.get(why) ?? 0) + 1);
        yield dot('s');
      } else yield dot('.');
    } else if (type === 'test:fail') {
      const err = data.details?.error;
      // a suite fails because a test in it did: that test is listed already
      if (data.details?.type === 'suite' && err?.failureType === 'subtestsFailed') continue;
      if (isTodo(data)) {
        yield todo(data, 'fails, as expected');
        continue;
      }
      failures.push({ name: data.name, file: data.file, error: err });
      yield dot('X');
    } else if (type === 'test:stdout' || type === 'test:stderr') {
      column = 0;
      yield `\n${data.message.trimEnd()}\n`;
    } else if (type === 'test:diagnostic') {
      const m = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ([\d.]+)$/.exec(data.message);
      if (m) {
        if (m[1] in counts && data.nesting === 0) counts[m[1]] += Number(m[2]);
      } else if (data.nesting === 0 || !/^\s/.test(data.message)) {
        column = 0;
        yield `\n# ${data.message}\n`;
      }
    }
  }
  yield '\n';
  for (const f of failures) {
    const cause = f.error?.cause ?? f.error;
    yield `\nFAILED ${f.name}${f.file ? `  (${f.file})` : ''}\n${inspect(cause, { depth: 4 }).replace(/^/gm, '  ')}\n`;
  }
  for (const [why, n] of skips) yield `skipped ${n}: ${why}\n`;
  for (const [why, n] of todos) yield `todo ${n}: ${why}\n`;
  if (process.env.COPYEDIT_TEST_COUNTS) writeFileSync(process.env.COPYEDIT_TEST_COUNTS, JSON.stringify(counts));
}
