/**
 * The yargs-free parser of common command lines (src/cli/fast-argv.ts) against yargs itself: on a
 * generated corpus of command lines, whatever the fast parser accepts, yargs parses to the same
 * values; and the lines users type most (the README's) are accepted, so the fast path is taken.
 * In the slow group: the corpus takes some 4 s on 2 cores.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { extractEdits } from '../../src/cli/argv.js';
import { fastParse } from '../../src/cli/fast-argv.js';
import { runYargs } from '../../src/cli/main.js';
import { GLOBAL_OPTIONS, type OptionTable, readValues } from '../../src/cli/options.js';
import type { Command } from '../../src/cli/commands/types.js';
import { rng } from '../unit/rng.js';

const values = (c: Command, parsed: Record<string, unknown>) => ({ command: c.name, ...readValues({ ...GLOBAL_OPTIONS, ...c.options }, parsed) });

async function viaYargs(argv: readonly string[]): Promise<unknown> {
  let seen: unknown;
  await runYargs(argv, async (c, parsed) => {
    seen = values(c, parsed);
    return 0;
  });
  return seen;
}

function viaFast(argv: readonly string[]): unknown {
  const f = fastParse(extractEdits(argv).rest, COMMANDS);
  return f && values(f.command, f.parsed);
}

/**
 * The pieces a command line is made of: `good` spells each option of the command the usual ways,
 * `odd` holds what only yargs should read (wrong values, `=` on switches, unknown flags, `--`).
 */
function pieces(c: Command): { good: string[][]; odd: string[][]; positional: string[][] } {
  const good: string[][] = [['--rm-volume', 'all'], ['--cmd', '--serve'], ['--entrypoint=["/app"]'], ['--rm-port=all']];
  const odd: string[][] = [['--'], ['--help'], ['-qz'], ['--unknown'], ['--outDir', 'x'], ['--no-output'], ['--no-q']];
  const positional: string[][] = [['a.tar'], ['-'], ['123'], ['b c.tar'], ['edit'], ['true']];
  const table: OptionTable = { ...GLOBAL_OPTIONS, ...c.options };
  for (const [name, s] of Object.entries(table)) {
    if (s.positional) {
      for (const v of s.choices ?? []) positional.push([v]);
      continue;
    }
    const spellings = [`--${name}`, ...(typeof s.alias === 'string' ? [s.alias] : (s.alias ?? [])).map((a) => (a.length === 1 ? `-${a}` : `--${a}`))];
    for (const f of spellings) {
      if (s.type === 'boolean') {
        good.push([f], [`--no-${name}`]);
        odd.push([`${f}=true`], [`${f}=false`]);
        continue;
      }
      const ok = s.choices ? [...s.choices] : s.type === 'number' ? ['4', '0', '12'] : ['v1', 'x:1', '-', 'k=v', 'a b', 'true', '7'];
      const bad = s.choices ? ['bogus'] : s.type === 'number' ? ['x', '-1', '1e3', '0x10'] : ['', '--x', '-q'];
      for (const v of ok) good.push([f, v], [`${f}=${v}`]);
      for (const v of bad) odd.push([f, v], [`${f}=${v}`]);
      odd.push([f]);
    }
  }
  return { good, odd, positional };
}

describe('fast command-line parser', () => {
  it('whatever it accepts, yargs parses to the same values (generated corpus)', async () => {
    const rand = rng(0x5eed);
    let accepted = 0;
    let total = 0;
    for (const c of COMMANDS) {
      const { good, odd, positional } = pieces(c);
      const pick = (xs: string[][]) => xs[Math.floor(rand() * xs.length)]!;
      const slots = (c.command.match(/</g) ?? []).length;
      for (let n = 0; n < 300; n++) {
        const parts: string[][] = [];
        const k = Math.floor(rand() * 5);
        for (let j = 0; j < k; j++) parts.push(pick(rand() < 0.1 ? odd : good));
        // the right number of positionals, mostly; sometimes one too many or too few
        const p = Math.max(0, slots + (rand() < 0.15 ? (rand() < 0.5 ? -1 : 1) : 0) + (c.command.includes('..') && rand() < 0.3 ? 1 : 0));
        for (let j = 0; j < p; j++) parts.splice(Math.floor(rand() * (parts.length + 1)), 0, pick(positional));
        const argv = [c.name, ...parts.flat()];
        total++;
        const fast = viaFast(argv);
        if (fast === undefined) continue;
        accepted++;
        const slow = await viaYargs(argv).catch((e: Error) => ({ error: e.message }));
        assert.deepEqual(fast, slow, `argv: ${JSON.stringify(argv)}`);
      }
    }
    // the corpus must exercise the fast path, not only the fallback
    assert.ok(accepted > total / 5, `accepted ${accepted} of ${total}`);
  });

  it('takes the command lines of the README (no yargs needed)', () => {
    const lines = [
      ['edit', 'in.tar', '-o', 'out.tar', '--rm-volume', 'all', '--entrypoint', '["/app"]'],
      ['edit', '-', '-o', '-', '--rm-port', 'all'],
      ['edit', 'in.tar', '-o', 'out.tar', '--rm-volume', 'all', '--no-fsync'],
      ['edit', 'in.tar', '-o', 'out.tar', '--verify', '--tag', 'app:2', '--keep-original', '-q'],
      ['edit', 'a.tar', 'b.tar', '--out-dir', 'out', '-j', '2', '--rm-volume', 'all'],
      ['edit', 'in.tar', '-o', 'out/', '--format', 'oci-dir', '--cmd', '/start.sh'],
      ['inspect', 'in.tar', '--json'],
      ['inspect', 'in.tar', '-f', '{{.Config.Entrypoint}}'],
      ['verify', 'out.tar'],
      ['diff', 'in.tar', 'out.tar', '--no-trunc'],
      ['completion', 'bash'],
    ];
    for (const l of lines) assert.ok(viaFast(l), l.join(' '));
  });

  it('leaves errors and help to yargs', () => {
    for (const l of [
      ['edit', 'in.tar', '--rm-volumes', 'all'],
      ['edit', '--help'],
      ['edit', 'in.tar', '-o'],
      ['edit', 'in.tar', '--format', 'tgz'],
      ['edit'],
      ['diff', 'a.tar'],
      ['edit', 'in.tar', '-o', 'a', '-o', 'b'],
    ]) {
      assert.equal(viaFast(l), undefined, l.join(' '));
    }
  });
});
