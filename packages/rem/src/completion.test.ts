import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { COMMANDS, completionScript } from './completion.js';
import { RemError } from './errors.js';

/** Every command and alias the CLI (src/cli.ts) registers. */
const CLI_COMMANDS = [
  'add',
  'create',
  'new',
  'list',
  'ls',
  'show',
  'get',
  'update',
  'edit',
  'complete',
  'done',
  'uncomplete',
  'delete',
  'rm',
  'remove',
  'lists',
  'list-mgmt',
  'lm',
  'search',
  'stats',
  'today',
  'overdue',
  'upcoming',
  'export',
  'import',
  'completion',
  'mcp',
];

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * Runs the bash completion function the way bash would on TAB, with `rem lists` answering two
 * lists, and returns the candidates.
 */
function completeInBash(words: string[]): string[] {
  const program = [
    completionScript('bash'),
    "rem() { printf 'Reminders\\nWork\\n'; }",
    `COMP_WORDS=(${words.map(shellQuote).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    '_rem',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash expansion, not a template
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const output = execFileSync('bash', ['--norc', '--noprofile'], { input: program, encoding: 'utf8' });
  return output.split('\n').filter((line) => line !== '');
}

describe('completionScript', () => {
  describe.each(['bash', 'zsh', 'fish'])('when asked for %s', (shell) => {
    it('mentions every command and alias of the CLI', () => {
      const script = completionScript(shell);
      const missing = CLI_COMMANDS.filter(
        (name) => !new RegExp(`(^|[\\s'"|(])${name}[\\s:|)]`, 'm').test(script),
      );
      expect(missing).toEqual([]);
    });

    it('mentions every option of every command', () => {
      const script = completionScript(shell);
      const options = COMMANDS.flatMap((command) => command.options);
      const missing = options.filter((option) =>
        shell === 'fish' ? !script.includes(` -l ${option.slice(2)}`) : !script.includes(option),
      );
      expect(missing).toEqual([]);
    });
  });

  describe('when asked for bash', () => {
    it('passes a bash syntax check', () => {
      expect(() =>
        execFileSync('bash', ['-n'], { input: completionScript('bash'), encoding: 'utf8', stdio: 'pipe' }),
      ).not.toThrow();
    });

    it('registers the function for rem', () => {
      expect(completionScript('bash')).toMatch(/^complete -F _rem rem$/m);
    });

    it('completes command names from a prefix', () => {
      expect(completeInBash(['rem', 'up'])).toEqual(['update', 'upcoming']);
    });

    it('completes the options of the command being typed', () => {
      expect(completeInBash(['rem', 'add', '--d'])).toEqual(['--due']);
    });

    it('completes list names after --list from rem lists', () => {
      expect(completeInBash(['rem', 'add', '--list', ''])).toEqual(['Reminders', 'Work']);
    });

    it('completes priorities after -p', () => {
      expect(completeInBash(['rem', 'add', '-p', 'h'])).toEqual(['high']);
    });

    it('completes the list-mgmt subcommands', () => {
      expect(completeInBash(['rem', 'lm', ''])).toEqual(
        expect.arrayContaining(['create', 'rename', 'delete']),
      );
    });

    it('completes the shells of the completion command', () => {
      expect(completeInBash(['rem', 'completion', ''])).toEqual(
        expect.arrayContaining(['bash', 'zsh', 'fish']),
      );
    });
  });

  describe('when asked for zsh', () => {
    it('starts with the compdef tag zsh needs to autoload it', () => {
      expect(completionScript('zsh').startsWith('#compdef rem\n')).toBe(true);
    });

    it('describes each command', () => {
      expect(completionScript('zsh')).toContain("'add:add a reminder'");
    });
  });

  describe('when asked for fish', () => {
    it('writes only comments and complete commands for rem', () => {
      const lines = completionScript('fish').trimEnd().split('\n');
      expect(lines.filter((line) => !line.startsWith('#') && !line.startsWith('complete -c rem '))).toEqual(
        [],
      );
    });
  });

  describe('when asked for another shell', () => {
    it('refuses with REM_INVALID_INPUT naming the shells it knows', () => {
      let caught: unknown;
      try {
        completionScript('powershell');
      } catch (error) {
        caught = error;
      }
      expect(RemError.isInstance(caught)).toBe(true);
      expect(caught).toMatchObject({
        code: 'REM_INVALID_INPUT',
        message: 'no completion for shell "powershell"; use bash, zsh or fish',
        details: { field: 'shell', given: 'powershell' },
      });
    });
  });
});
