import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { COMMANDS } from './completion.js';
import type { Reminder } from './types.js';

const cliPath = fileURLToPath(new URL('../dist/cli.cjs', import.meta.url));

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

let root: string;
/** XDG_CACHE_HOME of every run: the bin keeps V8's code cache there, out of the user's home. */
let cacheHome: string;

function rem(args: string[], input?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [cliPath, ...args],
      {
        env: {
          ...process.env,
          REM_BACKEND: 'vdir',
          REM_VDIR: root,
          NO_COLOR: '1',
          REM_DEFAULT_LIST: '',
          XDG_CACHE_HOME: cacheHome,
        },
        timeout: 20_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

async function remJson<T>(args: string[]): Promise<T> {
  const result = await rem([...args, '-o', 'json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

beforeAll(async () => {
  if (!existsSync(cliPath))
    throw new Error(`build @ballast/rem first (pnpm --filter @ballast/rem build): ${cliPath} is missing`);
  cacheHome = await mkdtemp(join(tmpdir(), 'rem-cli-cache-'));
});

afterAll(async () => {
  await rm(cacheHome, { recursive: true, force: true });
});

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'rem-cli-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('rem (CLI)', () => {
  describe("when it starts through V8's code cache", () => {
    const cacheFiles = async (): Promise<string[]> =>
      (await readdir(join(cacheHome, 'rem')).catch(() => [] as string[])).filter((name) =>
        name.endsWith('.v8cache'),
      );

    it('saves the cache on the first run and reuses it after, with the same output', async () => {
      await rm(join(cacheHome, 'rem'), { recursive: true, force: true });
      await rem(['lm', 'create', 'Work']);
      await rem(['add', 'Cached', '--list', 'Work']);
      const files = await cacheFiles();
      expect(files).toHaveLength(1);
      const path = join(cacheHome, 'rem', files[0] as string);
      const saved = await stat(path);

      const [first, second] = [await rem(['list', '-o', 'plain']), await rem(['list', '-o', 'plain'])];

      expect(first).toMatchObject({ code: 0, stderr: '' });
      expect(second).toEqual(first);
      expect(first.stdout).toContain('Cached');
      // Accepted, so not written again.
      expect((await stat(path)).mtimeMs).toBe(saved.mtimeMs);
    });

    it('runs past a corrupt cache and replaces it', async () => {
      await rem(['--version']);
      const [file] = await cacheFiles();
      const path = join(cacheHome, 'rem', file as string);
      await writeFile(path, 'not a V8 code cache');

      const result = await rem(['--version']);

      expect(result).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
      expect((await readFile(path)).toString('latin1')).not.toBe('not a V8 code cache');
    });
  });

  describe('when adding and listing', () => {
    it('prints JSON items with every field of the contract', async () => {
      await rem(['lm', 'create', 'Work']);
      const added = await remJson<Reminder>([
        'add',
        'Ship',
        'the',
        'release',
        '--list',
        'Work',
        '--due',
        '2026-12-01 14:30',
        '--priority',
        'high',
        '--notes',
        'after review',
        '--url',
        'https://example.com/r',
        '--flagged',
        '--repeat',
        'weekly',
        '--tag',
        'ops,release',
      ]);
      expect(added.title).toBe('Ship the release');
      expect(added.id).toMatch(/^[0-9a-f]{8}$/);
      const [listed] = await remJson<Reminder[]>(['list']);
      expect(Object.keys(listed ?? {}).sort()).toEqual(
        [
          'allDay',
          'completed',
          'completedAt',
          'createdAt',
          'due',
          'flagged',
          'id',
          'list',
          'notes',
          'priority',
          'priorityLabel',
          'repeat',
          'tags',
          'title',
          'uid',
          'updatedAt',
          'url',
        ].sort(),
      );
      expect(listed).toMatchObject({
        id: added.id,
        list: 'Work',
        priority: 1,
        priorityLabel: 'high',
        flagged: true,
        notes: 'after review',
        url: 'https://example.com/r',
        repeat: 'FREQ=WEEKLY',
        tags: ['ops', 'release'],
        allDay: false,
        completed: false,
      });
      expect(listed?.due).toMatch(/^2026-12-01T14:30:00[+-]\d{2}:\d{2}$/);
    });

    it('creates the Reminders list on the first add without --list', async () => {
      const added = await remJson<Reminder>(['add', 'Water plants']);
      expect(added.list).toBe('Reminders');
      expect(await readdir(root)).toContain('Reminders');
    });

    it('prints a table by default and plain tab-separated lines with -o plain', async () => {
      const added = await remJson<Reminder>(['add', 'Call Ana', '--due', 'tomorrow']);
      const table = await rem(['ls']);
      expect(table.stdout).toContain('Call Ana');
      expect(table.stdout).toContain('tomorrow');
      expect(table.stdout).not.toContain('\u001b[');
      const plain = await rem(['ls', '-o', 'plain']);
      expect(plain.stdout.trim().split('\t')).toEqual([
        added.id,
        '-',
        'Reminders',
        added.due ?? '',
        'none',
        'Call Ana',
      ]);
    });
  });

  describe('when ids are given by prefix', () => {
    it('completes several reminders at once and reopens them', async () => {
      const first = await remJson<Reminder>(['add', 'One']);
      const second = await remJson<Reminder>(['add', 'Two']);
      const done = await remJson<Reminder[]>(['done', first.id.slice(0, 6), second.id]);
      expect(done.map((reminder) => reminder.completed)).toEqual([true, true]);
      expect((await remJson<Reminder[]>(['list', '--completed'])).length).toBe(2);
      await remJson<Reminder[]>(['uncomplete', first.id]);
      const open = await remJson<Reminder[]>(['list', '--incomplete']);
      expect(open.map((reminder) => reminder.title)).toEqual(['One']);
    });

    it('changes nothing when one id of a batch is unknown, and exits 1 naming it', async () => {
      const first = await remJson<Reminder>(['add', 'One']);
      const result = await rem(['complete', first.id, 'zzzz']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('no reminder has id "zzzz"');
      expect(result.stderr).toContain('Nothing was changed');
      const [still] = await remJson<Reminder[]>(['list']);
      expect(still?.completed).toBe(false);
    });

    it('refuses an ambiguous prefix and lists the candidates', async () => {
      for (let index = 0; index < 40; index += 1) await writeReminderDirectly(index);
      const all = await remJson<Reminder[]>(['list']);
      // 40 ids over 16 hex digits: some first digit is shared (pigeonhole).
      const counts = new Map<string, number>();
      for (const reminder of all)
        counts.set(reminder.id[0] ?? '', (counts.get(reminder.id[0] ?? '') ?? 0) + 1);
      const [firstChar] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0] ?? ['0'];
      const sharing = all.filter((reminder) => reminder.id.startsWith(firstChar));
      expect(sharing.length).toBeGreaterThan(1);
      const result = await rem(['show', firstChar]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`matches ${sharing.length} reminders`);
      expect(result.stderr).toContain(sharing[0]?.id ?? '');
    });
  });

  describe('when the input is bad', () => {
    it('exits 2 on an unreadable date and names what would work', async () => {
      const result = await rem(['add', 'Thing', '--due', 'when pigs fly']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('could not read "when pigs fly" as a date');
      expect(result.stderr).toContain('tomorrow 9am');
      expect(await readdir(root).catch(() => [])).toEqual([]);
    });

    it('exits 1 on an unknown list and names the lists that exist', async () => {
      await rem(['lm', 'create', 'Home']);
      const result = await rem(['add', 'Thing', '--list', 'Wrok']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('no list "Wrok"; lists are: Home');
    });

    it('exits 2 on an unknown command or option', async () => {
      expect((await rem(['frobnicate'])).code).toBe(2);
      expect((await rem(['list', '--bogus'])).code).toBe(2);
      expect((await rem(['list', '-o', 'yaml'])).code).toBe(2);
    });

    it('reports errors as JSON on stderr with -o json', async () => {
      const result = await rem(['show', 'nope', '-o', 'json']);
      expect(result.code).toBe(1);
      expect(JSON.parse(result.stderr)).toMatchObject({ error: { code: 'REM_NOT_FOUND' } });
    });
  });

  describe('when reading the command line', () => {
    it('prints help to stdout and exits 0 for --help, help and a command --help', async () => {
      const help = await rem(['--help']);
      expect(help).toMatchObject({ code: 0, stderr: '' });
      expect(help.stdout).toContain('Usage: rem');
      expect((await rem(['help'])).stdout).toBe(help.stdout);
      const add = await rem(['add', '--help']);
      expect(add).toMatchObject({ code: 0, stderr: '' });
      expect(add.stdout).toContain('Usage: rem add|create|new [options] <title...>');
      expect(add.stdout).toContain('what to be reminded of');
      expect(add.stdout).toMatch(/-d, --due <when> +due: 2026-12-01/);
      expect((await rem(['help', 'add'])).stdout).toBe(add.stdout);
      const listDelete = await rem(['lm', 'delete', '-h']);
      expect(listDelete.code).toBe(0);
      expect(listDelete.stdout).toContain('--force');
    });

    it('lists every command and alias, and each command every option the completions offer', async () => {
      const help = (await rem(['--help'])).stdout;
      for (const command of COMMANDS) {
        expect(help).toContain([command.name, ...command.aliases].join('|'));
        const own = await rem([command.name, '--help']);
        expect(own.code).toBe(0);
        for (const option of command.options) expect(own.stdout, command.name).toContain(option);
      }
    });

    it('prints the help to stderr and exits 2 when no command is given', async () => {
      const result = await rem([]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('Usage: rem');
      expect((await rem(['lm'])).code).toBe(2);
    });

    it('prints the version', async () => {
      expect(await rem(['--version'])).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
    });

    it('names an unknown option, the command and the options it takes', async () => {
      const result = await rem(['list', '--bogus']);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^rem: unknown option "--bogus" for list; its options are: --list, /);
      expect(result.stderr).toContain('--due-before');
      expect((await rem(['ls', '--lst', 'Work'])).stderr).toContain('(did you mean "--list"?)');
    });

    it('suggests the command meant by a near miss and lists the commands', async () => {
      const result = await rem(['lsit']);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        /^rem: unknown command "lsit" \(did you mean "list"\?\); commands are: add, list, show, /,
      );
      const far = await rem(['frobnicate']);
      expect(far.stderr).toMatch(/^rem: unknown command "frobnicate"; commands are: add, /);
    });

    it('refuses a missing argument, a missing value, a bad choice and extra words with exit 2', async () => {
      const missing = await rem(['add']);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('missing <title...>');
      const noValue = await rem(['list', '--list']);
      expect(noValue.code).toBe(2);
      expect(noValue.stderr).toContain('--list needs a value');
      const choice = await rem(['export', '--format', 'xml']);
      expect(choice.code).toBe(2);
      expect(choice.stderr).toBe('rem: --format must be json, csv or ics; got "xml"\n');
      expect((await rem(['list', '-o', 'yaml'])).stderr).toContain('table, json or plain; got "yaml"');
      expect((await rem(['show', 'a', 'b'])).code).toBe(2);
      expect(await readdir(root).catch(() => [])).toEqual([]);
    });

    it('reports usage mistakes as JSON on stderr with -o json, wherever -o comes', async () => {
      for (const args of [
        ['frobnicate', '-o', 'json'],
        ['-o', 'json', 'ls', '--bogus'],
      ]) {
        const result = await rem(args);
        expect(result.code).toBe(2);
        expect(JSON.parse(result.stderr)).toMatchObject({ error: { code: 'REM_INVALID_INPUT' } });
      }
    });

    it('accepts rem options after the command as well as before it', async () => {
      expect(await remJson<Reminder[]>(['ls'])).toEqual([]);
      const listed = await rem(['ls', '-o', 'json']);
      expect(listed).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(listed.stdout)).toEqual([]);
      const elsewhere = await mkdtemp(join(tmpdir(), 'rem-cli-elsewhere-'));
      try {
        const added = await rem(['add', 'Elsewhere', '--vdir', elsewhere, '-o', 'plain']);
        expect(added.code).toBe(0);
        expect(await readdir(elsewhere)).toContain('Reminders');
        expect(await readdir(root).catch(() => [])).toEqual([]);
        const before = await rem(['--vdir', elsewhere, '-o', 'plain', 'ls']);
        expect(before.stdout).toContain('Elsewhere');
      } finally {
        await rm(elsewhere, { recursive: true, force: true });
      }
    });

    it('gathers repeated --tag values, split at commas', async () => {
      const added = await remJson<Reminder>(['add', 'Tagged', '--tag', 'a,b', '--tag', 'c']);
      expect(added.tags).toEqual(['a', 'b', 'c']);
      const [updated] = await remJson<Reminder[]>(['update', added.id, '-t', 'd, e']);
      expect(updated?.tags).toEqual(['d', 'e']);
    });

    it('takes --flagged as a flag on add and as true or false on update', async () => {
      const added = await remJson<Reminder>(['add', 'Flag', '-f']);
      expect(added.flagged).toBe(true);
      const [updated] = await remJson<Reminder[]>(['update', added.id, '--flagged', 'false']);
      expect(updated?.flagged).toBe(false);
      const bad = await rem(['update', added.id, '--flagged']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--flagged needs a value');
    });

    it('takes a value that starts with a dash, and words after -- as arguments', async () => {
      const result = await rem(['add', '--notes', '-x', '-o', 'json', '--', '-o', 'dash']);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ title: '-o dash', notes: '-x' });
    });
  });

  describe('when deleting', () => {
    it('refuses without --force when there is no terminal to ask, and deletes with it', async () => {
      const added = await remJson<Reminder>(['add', 'Old']);
      const refused = await rem(['rm', added.id]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('--force');
      expect((await remJson<Reminder[]>(['list'])).length).toBe(1);
      await remJson<Reminder[]>(['rm', added.id, '--force']);
      expect(await remJson<Reminder[]>(['list'])).toEqual([]);
    });
  });

  describe('when exporting and importing', () => {
    it('round-trips through CSV and skips uids that already exist', async () => {
      await rem(['lm', 'create', 'Work']);
      await remJson<Reminder>([
        'add',
        'Quote, "with" commas',
        '--list',
        'Work',
        '--notes',
        'line one\nline two',
      ]);
      const exported = await rem(['export', '--format', 'csv']);
      expect(exported.code).toBe(0);
      const file = join(root, '..', `${root.split('/').pop()}-export.csv`);
      await writeFile(file, exported.stdout);
      try {
        const again = await remJson<{ created: Reminder[]; skipped: unknown[] }>(['import', file]);
        expect(again.created).toEqual([]);
        expect(again.skipped.length).toBe(1);
        await rem(['lm', 'create', 'Copy']);
        const dry = await remJson<{ created: Reminder[]; dryRun: boolean }>([
          'import',
          file,
          '--list',
          'Copy',
          '--dry-run',
        ]);
        expect(dry.dryRun).toBe(true);
        expect((await remJson<Reminder[]>(['list', '--list', 'Copy'])).length).toBe(0);
      } finally {
        await rm(file, { force: true });
      }
    });

    it('imports JSON from stdin', async () => {
      const input = JSON.stringify([{ title: 'From stdin', due: '2026-12-24', priority: 'low' }]);
      const result = await rem(['import', '-', '-o', 'json'], input);
      expect(result.code).toBe(0);
      const [listed] = await remJson<Reminder[]>(['list']);
      expect(listed).toMatchObject({ title: 'From stdin', allDay: true, priorityLabel: 'low' });
    });
  });

  describe('when the reader of its output goes away early (`rem list | head -1`)', () => {
    it('stops quietly with exit code 0', async () => {
      await rem(['lm', 'create', 'Work']);
      const many = Array.from({ length: 600 }, (_, index) => ({ title: `Task ${index} ${'x'.repeat(200)}` }));
      expect((await rem(['import', '-', '--list', 'Work'], JSON.stringify(many))).code).toBe(0);

      const result = await new Promise<{ code: number | null; stderr: string; bytes: number }>((resolve) => {
        const child = spawn(process.execPath, [cliPath, 'list', '-o', 'json'], {
          env: { ...process.env, REM_BACKEND: 'vdir', REM_VDIR: root, XDG_CACHE_HOME: cacheHome },
        });
        let stderr = '';
        let bytes = 0;
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
        });
        child.stdout.once('data', (chunk: Buffer) => {
          bytes = chunk.length;
          child.stdout.destroy();
        });
        child.on('close', (code) => resolve({ code, stderr, bytes }));
      });

      // The JSON is ~150 KB, more than a pipe holds: the reader left while rem was still writing.
      expect(result.bytes).toBeGreaterThan(0);
      expect(result).toMatchObject({ code: 0, stderr: '' });
    });
  });

  describe('when asked for stats, lists and completions', () => {
    it('counts per list', async () => {
      await rem(['lm', 'create', 'A']);
      await rem(['add', 'x', '-l', 'A']);
      const lists = await remJson<Array<{ name: string; total: number }>>(['lists', '--count']);
      expect(lists).toEqual([{ name: 'A', color: null, total: 1, incomplete: 1 }]);
      const stats = await remJson<{ total: number; incomplete: number }>(['stats']);
      expect(stats).toMatchObject({ total: 1, incomplete: 1 });
    });

    it('prints a bash completion script', async () => {
      const result = await rem(['completion', 'bash']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('complete -F _rem rem');
    });
  });
});

/** Writes a VTODO file the way another tool would, to make many ids quickly. */
async function writeReminderDirectly(index: number): Promise<void> {
  const folder = join(root, 'Bulk');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(folder, { recursive: true });
  const uid = `bulk-${index}@example.com`;
  await writeFile(
    join(folder, `${uid}.ics`),
    `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\nUID:${uid}\r\nSUMMARY:Bulk ${index}\r\nDTSTAMP:20261101T000000Z\r\nEND:VTODO\r\nEND:VCALENDAR\r\n`,
  );
}
