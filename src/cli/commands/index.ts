import { completionCommand } from './completion.js';
import { catCommand, exportCommand, lsCommand } from './content.js';
import { diffCommand } from './diff.js';
import { editCommand } from './edit.js';
import { inspectCommand } from './inspect.js';
import { verifyCommand } from './verify.js';
import type { Command } from './types.js';

/** Every subcommand; a new command is one module plus one line here. */
export const COMMANDS: readonly Command[] = [editCommand, inspectCommand, verifyCommand, diffCommand, exportCommand, catCommand, lsCommand, completionCommand(() => COMMANDS)];
