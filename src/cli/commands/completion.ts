import { ExitCode } from '../../errors.js';
import { writeStdout } from '../out.js';
import { GLOBAL_FLAGS, commandFlags } from '../suggest.js';
import { type Command, defineCommand } from './types.js';

/**
 * The completion command for a command list. The list is passed in (index.ts passes its own
 * COMMANDS, read when the command runs) because the list holds this command: importing it from
 * here would be an import cycle.
 */
export const completionCommand = (commands: () => readonly Command[]): Command =>
  defineCommand({
    command: 'completion <shell>',
    describe: 'print a shell completion script: source <(copyedit completion bash), or for zsh: source <(copyedit completion zsh)',
    options: {
      shell: { positional: true, type: 'string', choices: ['bash', 'zsh'], describe: 'the shell: bash or zsh' },
    },
    async run(args) {
      const table = commands().map((c) => ({ name: c.name, flags: commandFlags(c).filter((f) => f.length > 1) }));
      await writeStdout(args.shell === 'zsh' ? zshScript(table) : bashScript(table));
      return ExitCode.OK;
    },
  } as const);

type Table = readonly { name: string; flags: readonly string[] }[];

/** bash: commands first, then the flags of the command typed (each as --flag), else file names. */
export function bashScript(table: Table): string {
  const global = GLOBAL_FLAGS.map((f) => `--${f}`).join(' ');
  const cases = table.map((c) => `    ${c.name}) flags="${[...c.flags.map((f) => `--${f}`), global].join(' ')}" ;;`).join('\n');
  return `# bash completion for copyedit (copyedit completion bash)
_copyedit() {
  local cur cmd flags i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -*) ;;
      *) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  if [[ -z "$cmd" ]]; then
    COMPREPLY=( $(compgen -W "${table.map((c) => c.name).join(' ')} ${global}" -- "$cur") )
    return
  fi
  case "$cmd" in
${cases}
    *) flags="${global}" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$flags" -- "$cur") )
  else
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
}
complete -o filenames -F _copyedit copyedit
`;
}

/** zsh: the same table through _arguments-free _describe/_files, so it needs no compinit extras. */
export function zshScript(table: Table): string {
  const global = GLOBAL_FLAGS.map((f) => `--${f}`).join(' ');
  const cases = table.map((c) => `    ${c.name}) flags=(${[...c.flags.map((f) => `--${f}`), global].join(' ')}) ;;`).join('\n');
  return `#compdef copyedit
# zsh completion for copyedit (copyedit completion zsh)
_copyedit() {
  local cmd="" w
  local -a flags
  for w in \${words[2,CURRENT-1]}; do
    [[ "$w" == -* ]] || { cmd="$w"; break; }
  done
  if [[ -z "$cmd" ]]; then
    compadd -- ${table.map((c) => c.name).join(' ')} ${global}
    return
  fi
  case "$cmd" in
${cases}
    *) flags=(${global}) ;;
  esac
  if [[ "$PREFIX" == -* ]]; then
    compadd -- $flags
  else
    _files
  fi
}
if (( $+functions[compdef] )); then compdef _copyedit copyedit; fi
`;
}
