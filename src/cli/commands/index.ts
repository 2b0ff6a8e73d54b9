import { editCommand } from './edit.js';
import type { Command } from './types.js';

/** Every subcommand; a new command is one module plus one line here. */
export const COMMANDS: readonly Command[] = [editCommand];
