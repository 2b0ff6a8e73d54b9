import type { Argv } from 'yargs';
import { GLOBAL_OPTIONS, type GlobalValues, type OptionTable, type Values, declare, readValues } from '../options.js';

/** Options every command has. */
export type CommonOptions = GlobalValues;

/**
 * A CLI command in its own module, its options in one typed table (src/cli/options.ts). `run`
 * gets the values typed by that table, returns the exit code, throws CopyeditError for user
 * mistakes (main prints those without a stack) and never calls process.exit.
 */
export interface CommandSpec<T extends OptionTable> {
  /** yargs command string, e.g. `inspect <archive>`. */
  readonly command: string;
  readonly describe: string;
  /** Positionals and flags, read and typed through the table. */
  readonly options: T;
  /** Declared for --help, suggestions and completion, but read by the command itself (edit flags, in order). */
  readonly passthrough?: OptionTable;
  /** `--help` examples: [command line ($0 is copyedit), what it does]. */
  readonly examples?: readonly (readonly [string, string])[];
  run(args: Values<T> & GlobalValues, context: CommandContext): Promise<number>;
}

/** A command as main.ts drives it, whatever its table. */
export interface Command {
  readonly command: string;
  readonly name: string;
  readonly describe: string;
  readonly options: OptionTable;
  readonly passthrough: OptionTable;
  builder(y: Argv): Argv;
  runParsed(parsed: Readonly<Record<string, unknown>>, context: CommandContext): Promise<number>;
}

export function defineCommand<T extends OptionTable>(spec: CommandSpec<T>): Command {
  const passthrough = spec.passthrough ?? {};
  return {
    command: spec.command,
    name: spec.command.split(' ')[0]!,
    describe: spec.describe,
    options: spec.options,
    passthrough,
    builder: (y) => {
      const d = declare(declare(y, spec.options), passthrough);
      for (const [cmd, what] of spec.examples ?? []) d.example(cmd, what);
      return d;
    },
    runParsed: (parsed, context) => spec.run({ ...readValues(spec.options, parsed), ...readValues(GLOBAL_OPTIONS, parsed) }, context),
  };
}

export interface CommandContext {
  /** The original argv (edit flags are read from it in order). */
  readonly argv: readonly string[];
}
