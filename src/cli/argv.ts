import type { ConfigEdit } from '../edit/index.js';
import { EDIT_SPECS, editSpec } from './edit-specs.js';
import { UsageError } from '../errors.js';
import { commandValueWarning } from './warn.js';

const VALUE_FLAGS = new Set(EDIT_SPECS.filter((s) => s.value !== undefined).map((s) => s.flag));
const SWITCHES = new Set(EDIT_SPECS.filter((s) => s.value === undefined).map((s) => s.flag));

/**
 * Take the edit flags out of argv, in the order given: order matters (`--rm-volume all --add-volume
 * /x` keeps /x), and a value is taken verbatim even when it starts with a dash (`--cmd --serve`).
 */
export function extractEdits(argv: readonly string[]): { edits: ConfigEdit[]; rest: string[]; tokens: string[]; warnings: string[] } {
  const edits: ConfigEdit[] = [];
  /** Legal values that are probably not what was meant (printed before the edit runs). */
  const warnings: string[] = [];
  const rest: string[] = [];
  /** The edit flags as `--flag=value` tokens, to hand to a child process unchanged. */
  const tokens: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!;
    if (tok === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const m = /^--([a-z][a-z-]*)(?:=(.*))?$/s.exec(tok);
    const flag = m?.[1];
    if (flag && VALUE_FLAGS.has(flag)) {
      let value = m[2];
      if (value === undefined) {
        if (i + 1 >= argv.length) throw new UsageError(`--${flag} needs a value: --${flag} <${editSpec(flag).value}> (see copyedit edit --help)`);
        value = argv[++i]!;
      }
      edits.push(editSpec(flag).parse(value));
      const w = flag === 'entrypoint' || flag === 'cmd' ? commandValueWarning(flag, value, 'flag') : undefined;
      if (w) warnings.push(w);
      tokens.push(`--${flag}=${value}`);
    } else if (flag && SWITCHES.has(flag)) {
      edits.push(editSpec(flag).parse(m[2]));
      tokens.push(`--${flag}`);
    } else rest.push(tok);
  }
  return { edits, rest, tokens, warnings };
}
