import type { Argv } from 'yargs';

/** Options every command has. */
export interface CommonOptions {
  debug: boolean;
  quiet: boolean;
  json: boolean;
}

/**
 * A CLI command in its own module. `run` returns the exit code; it throws CopyeditError for
 * user mistakes (main prints those without a stack) and never calls process.exit.
 */
export interface Command {
  /** yargs command string, e.g. `inspect <archive>`. */
  readonly command: string;
  readonly describe: string;
  builder(y: Argv): Argv;
  run(args: Record<string, unknown> & CommonOptions, context: CommandContext): Promise<number>;
}

export interface CommandContext {
  /** The original argv (edit flags are read from it in order). */
  readonly argv: readonly string[];
}
