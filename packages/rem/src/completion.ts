import { RemError } from './errors.js';

/** The shells `rem completion` writes scripts for. */
export type Shell = 'bash' | 'zsh' | 'fish';

/** Every command with its aliases and options, the source of the completion scripts. */
export const COMMANDS: ReadonlyArray<{ name: string; aliases: string[]; options: string[]; about: string }> =
  [
    {
      name: 'add',
      aliases: ['create', 'new'],
      about: 'add a reminder',
      options: ['--list', '--due', '--priority', '--notes', '--url', '--flagged', '--repeat', '--tag'],
    },
    {
      name: 'list',
      aliases: ['ls'],
      about: 'list reminders',
      options: [
        '--list',
        '--incomplete',
        '--completed',
        '--flagged',
        '--due-before',
        '--due-after',
        '--search',
      ],
    },
    { name: 'show', aliases: ['get'], about: 'show one reminder', options: [] },
    {
      name: 'update',
      aliases: ['edit'],
      about: 'change a reminder',
      options: [
        '--title',
        '--name',
        '--list',
        '--due',
        '--priority',
        '--notes',
        '--url',
        '--flagged',
        '--repeat',
        '--tag',
      ],
    },
    { name: 'complete', aliases: ['done'], about: 'mark reminders done', options: [] },
    { name: 'uncomplete', aliases: [], about: 'mark reminders not done', options: [] },
    { name: 'delete', aliases: ['rm', 'remove'], about: 'delete reminders', options: ['--force'] },
    { name: 'lists', aliases: [], about: 'show lists', options: ['--count'] },
    { name: 'list-mgmt', aliases: ['lm'], about: 'create, rename or delete lists', options: ['--force'] },
    { name: 'search', aliases: [], about: 'search titles and notes', options: ['--list', '--incomplete'] },
    { name: 'stats', aliases: [], about: 'counts and completion', options: [] },
    { name: 'today', aliases: [], about: 'due today', options: [] },
    { name: 'overdue', aliases: [], about: 'past due', options: [] },
    { name: 'upcoming', aliases: [], about: 'due in the next days', options: ['--days'] },
    {
      name: 'export',
      aliases: [],
      about: 'write json, csv or ics',
      options: ['--format', '--output-file', '--list', '--incomplete'],
    },
    {
      name: 'import',
      aliases: [],
      about: 'read json, csv or ics',
      options: ['--dry-run', '--list', '--format'],
    },
    { name: 'completion', aliases: [], about: 'print a shell completion script', options: [] },
    { name: 'mcp', aliases: [], about: 'serve the operations over MCP (stdio)', options: [] },
  ];

const GLOBAL_OPTIONS = [
  '--output',
  '--backend',
  '--vdir',
  '--caldav-url',
  '--no-color',
  '--help',
  '--version',
];

function bash(): string {
  const names = COMMANDS.flatMap((command) => [command.name, ...command.aliases]).join(' ');
  const cases = COMMANDS.map(
    (command) =>
      `    ${[command.name, ...command.aliases].join('|')}) options="${command.options.join(' ')}" ;;`,
  ).join('\n');
  return `# rem bash completion: source <(rem completion bash)
_rem() {
  local current previous command options
  current="\${COMP_WORDS[COMP_CWORD]}"
  previous="\${COMP_WORDS[COMP_CWORD-1]}"
  command="\${COMP_WORDS[1]}"
  case "$previous" in
    -l|--list) COMPREPLY=($(compgen -W "$(rem lists -o plain 2>/dev/null)" -- "$current")); return ;;
    -o|--output) COMPREPLY=($(compgen -W "table json plain" -- "$current")); return ;;
    -p|--priority) COMPREPLY=($(compgen -W "high medium low none" -- "$current")); return ;;
    --backend) COMPREPLY=($(compgen -W "vdir caldav eventkit memory" -- "$current")); return ;;
    --format) COMPREPLY=($(compgen -W "json csv ics" -- "$current")); return ;;
  esac
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${names} ${GLOBAL_OPTIONS.join(' ')}" -- "$current")); return
  fi
  # bash takes the first matching pattern, so these come before the generated ones.
  case "$command" in
    list-mgmt|lm) options="create rename delete --force" ;;
    completion) options="bash zsh fish" ;;
${cases}
  esac
  COMPREPLY=($(compgen -W "$options ${GLOBAL_OPTIONS.join(' ')}" -- "$current"))
}
complete -F _rem rem
`;
}

function zsh(): string {
  const lines = COMMANDS.flatMap((command) =>
    [command.name, ...command.aliases].map((name) => `    '${name}:${command.about}'`),
  ).join('\n');
  return `#compdef rem
# rem zsh completion: rem completion zsh > "\${fpath[1]}/_rem"
_rem() {
  local -a commands
  commands=(
${lines}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case "$words[CURRENT-1]" in
    -l|--list) compadd -- \${(f)"$(rem lists -o plain 2>/dev/null)"}; return ;;
    -o|--output) compadd table json plain; return ;;
    -p|--priority) compadd high medium low none; return ;;
    --backend) compadd vdir caldav eventkit memory; return ;;
    --format) compadd json csv ics; return ;;
  esac
  case "$words[2]" in
${COMMANDS.map((command) => `    ${[command.name, ...command.aliases].join('|')}) compadd -- ${[...command.options, ...GLOBAL_OPTIONS].join(' ')} ;;`).join('\n')}
  esac
}
compdef _rem rem
`;
}

function fish(): string {
  const lines: string[] = [
    '# rem fish completion: rem completion fish > ~/.config/fish/completions/rem.fish',
    'complete -c rem -f',
  ];
  for (const command of COMMANDS) {
    for (const name of [command.name, ...command.aliases]) {
      lines.push(`complete -c rem -n '__fish_use_subcommand' -a ${name} -d '${command.about}'`);
    }
    for (const option of command.options) {
      lines.push(
        `complete -c rem -n '__fish_seen_subcommand_from ${[command.name, ...command.aliases].join(' ')}' -l ${option.slice(2)}`,
      );
    }
  }
  lines.push(
    "complete -c rem -s o -l output -xa 'table json plain'",
    "complete -c rem -l backend -xa 'vdir caldav eventkit memory'",
    "complete -c rem -s l -l list -xa '(rem lists -o plain 2>/dev/null)'",
    "complete -c rem -s p -l priority -xa 'high medium low none'",
  );
  return `${lines.join('\n')}\n`;
}

/**
 * The completion script for a shell.
 * @param shell bash, zsh or fish
 * @returns the script text
 * @throws RemError REM_INVALID_INPUT for another shell
 */
export function completionScript(shell: string): string {
  if (shell === 'bash') return bash();
  if (shell === 'zsh') return zsh();
  if (shell === 'fish') return fish();
  throw new RemError('REM_INVALID_INPUT', `no completion for shell "${shell}"; use bash, zsh or fish`, {
    details: { field: 'shell', given: shell },
  });
}
