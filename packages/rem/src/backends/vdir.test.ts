import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createReminders, shortId } from '../reminders.js';
import type { ReminderBackend, ReminderRecord } from '../types.js';
import { createVdirBackend, VDIR_INDEX_FILE, VDIR_JOURNAL_FILE } from './vdir.js';

const execFileAsync = promisify(execFile);
const packageRoot = fileURLToPath(new URL('../..', import.meta.url));
const vdirModuleUrl = new URL('./vdir.ts', import.meta.url).href;

const directories: string[] = [];
const backends: ReminderBackend[] = [];

afterEach(async () => {
  for (const backend of backends.splice(0)) await backend.close();
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

async function makeDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'rem-vdir-test-'));
  directories.push(directory);
  return directory;
}

async function openBackend(root: string, now?: () => Date): Promise<ReminderBackend> {
  const backend = await createVdirBackend(now === undefined ? { root } : { root, now });
  backends.push(backend);
  return backend;
}

/** A root with the given (empty) list folders. */
async function makeRoot(...lists: string[]): Promise<string> {
  const root = join(await makeDirectory(), 'calendars');
  for (const list of lists) await mkdir(join(root, list), { recursive: true });
  return root;
}

async function icsFiles(folder: string): Promise<string[]> {
  return (await readdir(folder)).filter((name) => name.endsWith('.ics') && !name.startsWith('.')).sort();
}

async function captureError(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

function todoText(uid: string, summary: string, extraLines: string[] = []): string {
  return [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Someone else//EN',
    'BEGIN:VTODO',
    `UID:${uid}`,
    `SUMMARY:${summary}`,
    ...extraLines,
    'END:VTODO',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
}

describe('createVdirBackend', () => {
  describe('when the root folder does not exist', () => {
    it('has no lists and no reminders', async () => {
      const backend = await openBackend(join(await makeDirectory(), 'missing'));

      expect(await backend.lists()).toEqual([]);
      expect(await backend.reminders()).toEqual([]);
    });

    it('creates the root with the first list', async () => {
      const root = join(await makeDirectory(), 'missing', 'calendars');
      const backend = await openBackend(root);

      await backend.createList('inbox');

      expect((await stat(join(root, 'inbox'))).isDirectory()).toBe(true);
      expect(await backend.lists()).toEqual([{ name: 'inbox', handle: 'inbox', color: null }]);
    });
  });

  describe('when the root holds folders, metadata and other files', () => {
    it('lists the visible folders sorted by name, with displayname and color', async () => {
      const root = await makeRoot('work', 'b-folder', '.hidden', 'Errands');
      await writeFile(join(root, 'b-folder', 'displayname'), 'Home\n');
      await writeFile(join(root, 'b-folder', 'color'), '#ff0000\n');
      await writeFile(join(root, 'stray.ics'), todoText('stray', 'Not in a list'));
      const backend = await openBackend(root);

      expect(await backend.lists()).toEqual([
        { name: 'Errands', handle: 'Errands', color: null },
        { name: 'Home', handle: 'b-folder', color: '#ff0000' },
        { name: 'work', handle: 'work', color: null },
      ]);
    });

    it('reads only .ics files that are not hidden', async () => {
      const root = await makeRoot('work');
      await writeFile(join(root, 'work', 'a.ics'), todoText('a', 'Visible'));
      await writeFile(join(root, 'work', '.b.ics'), todoText('b', 'Hidden'));
      await writeFile(join(root, 'work', 'notes.txt'), todoText('c', 'Not ics'));
      const backend = await openBackend(root);

      const records = await backend.reminders();

      expect(records.map((record) => record.title)).toEqual(['Visible']);
    });
  });

  describe('when a reminder is created, read, updated, moved and deleted', () => {
    it('stores each step in the folders', async () => {
      const root = await makeRoot('work', 'home');
      const now = new Date('2026-11-25T10:00:00Z');
      const backend = await openBackend(root, () => now);

      const created = await backend.create({
        title: 'Buy milk',
        list: 'work',
        due: '2026-12-01T10:00:00Z',
        priority: 1,
        tags: ['shop'],
      });
      expect(created).toMatchObject({ title: 'Buy milk', list: 'work', priority: 1, tags: ['shop'] });
      expect(Date.parse(created.createdAt ?? '')).toBe(now.getTime());
      expect(created.revision).toMatch(/^[0-9a-f]+-[0-9a-f]{16}$/);
      expect(await icsFiles(join(root, 'work'))).toEqual([`${created.uid}.ics`]);

      const [read] = await backend.reminders();
      expect(read).toEqual(created);

      const updated = await backend.update({ ...created, title: 'Buy oat milk' });
      expect(updated.title).toBe('Buy oat milk');
      expect(updated.revision).not.toBe(created.revision);
      expect(await readFile(join(root, 'work', `${created.uid}.ics`), 'utf8')).toContain(
        'SUMMARY:Buy oat milk',
      );

      const moved = await backend.update({ ...updated, list: 'home' });
      expect(moved.list).toBe('home');
      expect(await icsFiles(join(root, 'work'))).toEqual([]);
      expect(await icsFiles(join(root, 'home'))).toEqual([`${created.uid}.ics`]);
      expect(await backend.reminders({ lists: ['home'] })).toEqual([moved]);

      await backend.delete([moved]);
      expect(await icsFiles(join(root, 'home'))).toEqual([]);
      expect(await backend.reminders()).toEqual([]);
    });

    it('leaves no temp files behind', async () => {
      const root = await makeRoot('work');
      const backend = await openBackend(root);

      const created = await backend.create({ title: 'One', list: 'work' });
      await backend.update({ ...created, title: 'Two' });
      await backend.close();

      expect(await readdir(join(root, 'work'))).toEqual([`${created.uid}.ics`]);
      const left = (await readdir(root)).filter(
        (name) => name !== VDIR_INDEX_FILE && name !== VDIR_JOURNAL_FILE,
      );
      expect(left).toEqual(['work']);
    });
  });

  describe('when creating into a list that does not exist', () => {
    it('throws REM_UNKNOWN_LIST naming the lists there are', async () => {
      const root = await makeRoot('work', 'home');
      const backend = await openBackend(root);

      const error = await captureError(() => backend.create({ title: 'Lost', list: 'garden' }));

      expect(error).toMatchObject({
        code: 'REM_UNKNOWN_LIST',
        message: 'no list "garden"; lists are: home, work (or create it with: rem lm create "garden")',
        details: { given: 'garden', known: ['home', 'work'] },
      });
    });
  });

  describe('when a file already has the name a new reminder would get', () => {
    it('picks another name and leaves the existing file alone', async () => {
      const root = await makeRoot('work');
      const existing = todoText('someone-else', 'Existing');
      await writeFile(join(root, 'work', 'taken.ics'), existing);
      const backend = await openBackend(root);

      const created = await backend.create({ uid: 'taken', title: 'New', list: 'work' });

      expect(await readFile(join(root, 'work', 'taken.ics'), 'utf8')).toBe(existing);
      expect(await icsFiles(join(root, 'work'))).toHaveLength(2);
      expect((await backend.reminders()).map((record) => record.uid).sort()).toEqual(
        [created.uid, 'someone-else'].sort(),
      );
    });
  });

  describe('when creating with a uid that is already stored', () => {
    it('throws REM_INVALID_INPUT', async () => {
      const root = await makeRoot('work');
      const backend = await openBackend(root);
      await backend.create({ uid: 'same', title: 'First', list: 'work' });

      const error = await captureError(() => backend.create({ uid: 'same', title: 'Second', list: 'work' }));

      expect(error).toMatchObject({ code: 'REM_INVALID_INPUT' });
      expect(await icsFiles(join(root, 'work'))).toEqual(['same.ics']);
    });
  });

  describe('when a uid contains characters a file name cannot hold', () => {
    it('names the file after a sanitized uid and keeps the uid inside', async () => {
      const root = await makeRoot('work');
      const backend = await openBackend(root);

      const created = await backend.create({ uid: '../odd/uid:1', title: 'Odd', list: 'work' });

      expect(created.uid).toBe('../odd/uid:1');
      expect(await icsFiles(join(root, 'work'))).toEqual(['_odd_uid_1.ics']);
    });
  });

  describe('when deleting an unknown uid among known ones', () => {
    it('throws REM_NOT_FOUND and deletes nothing', async () => {
      const root = await makeRoot('work');
      const backend = await openBackend(root);
      const kept = await backend.create({ title: 'Keep me', list: 'work' });

      const error = await captureError(() => backend.delete([kept, { ...kept, uid: 'no-such-uid' }]));

      expect(error).toMatchObject({ code: 'REM_NOT_FOUND', details: { given: ['no-such-uid'] } });
      expect(await backend.reminders()).toEqual([kept]);
    });
  });

  describe('when updating an unknown uid', () => {
    it('throws REM_NOT_FOUND', async () => {
      const root = await makeRoot('work');
      const backend = await openBackend(root);
      const record = await backend.create({ title: 'Known', list: 'work' });

      const error = await captureError(() => backend.update({ ...record, uid: 'no-such-uid' }));

      expect(error).toMatchObject({ code: 'REM_NOT_FOUND' });
    });
  });

  describe('when the file changes between read and update', () => {
    it('refuses the update and the delete with REM_CONFLICT and keeps the other write', async () => {
      const root = await makeRoot('work');
      const backend = await openBackend(root);
      const created = await backend.create({ title: 'Original', list: 'work' });
      const path = join(root, 'work', `${created.uid}.ics`);
      const otherWrite = todoText(created.uid, 'Changed elsewhere');
      await writeFile(path, otherWrite);

      const updateError = await captureError(() => backend.update({ ...created, title: 'Mine' }));
      const deleteError = await captureError(() => backend.delete([created]));

      expect(updateError).toMatchObject({ code: 'REM_CONFLICT' });
      expect((updateError as Error).message).toMatch(/changed since it was read.*retry/);
      expect(deleteError).toMatchObject({ code: 'REM_CONFLICT' });
      expect(await readFile(path, 'utf8')).toBe(otherWrite);
    });

    it('accepts an update made with the fresh revision', async () => {
      const root = await makeRoot('work');
      const backend = await openBackend(root);
      const created = await backend.create({ title: 'Original', list: 'work' });
      await writeFile(join(root, 'work', `${created.uid}.ics`), todoText(created.uid, 'Changed elsewhere'));

      const [fresh] = await backend.reminders();
      const updated = await backend.update({ ...(fresh as ReminderRecord), title: 'Mine' });

      expect(updated.title).toBe('Mine');
    });
  });

  describe('when a second process reads a warm index', () => {
    it('returns the same records as the process that built it', async () => {
      const root = await makeRoot('work', 'home');
      const writer = await openBackend(root);
      for (let index = 0; index < 5; index += 1) {
        await writer.create({ title: `Task ${index}`, list: index % 2 === 0 ? 'work' : 'home', tags: ['x'] });
      }
      const written = await writer.reminders();
      await writer.close();

      const reader = await openBackend(root);

      expect(existsSync(join(root, VDIR_INDEX_FILE)) || existsSync(join(root, VDIR_JOURNAL_FILE))).toBe(true);
      expect(await reader.reminders()).toEqual(written);
      expect(await reader.reminders({ lists: ['home'] })).toEqual(
        written.filter((record) => record.list === 'home'),
      );
    });
  });

  describe('when a file is edited by another program after indexing', () => {
    it('reads the new content even when the size stays the same', async () => {
      const root = await makeRoot('work');
      const first = await openBackend(root);
      const created = await first.create({ title: 'Alpha', list: 'work' });
      await first.reminders();
      await first.close();
      const path = join(root, 'work', `${created.uid}.ics`);
      const original = await readFile(path, 'utf8');
      await writeFile(path, original.replace('SUMMARY:Alpha', 'SUMMARY:Omega'));
      const later = new Date(Date.now() + 5_000);
      await utimes(path, later, later);

      const second = await openBackend(root);
      const [record] = await second.reminders();

      expect(record?.title).toBe('Omega');
    });

    it('reads a file replaced atomically with the same size and mtime', async () => {
      const root = await makeRoot('work');
      const path = join(root, 'work', 'fixed.ics');
      // Whole seconds, so utimes can give the replacement exactly the same mtime.
      const mtime = new Date('2026-11-20T10:00:00Z');
      await writeFile(path, todoText('fixed', 'Alpha'));
      await utimes(path, mtime, mtime);
      const first = await openBackend(root);
      expect((await first.reminders()).map((record) => record.title)).toEqual(['Alpha']);
      await first.close();
      const replacement = join(root, 'work', '.replacement.tmp');
      await writeFile(replacement, todoText('fixed', 'Omega'));
      await utimes(replacement, mtime, mtime);
      await rename(replacement, path);

      const second = await openBackend(root);
      const [record] = await second.reminders();

      expect((await stat(path)).mtime).toEqual(mtime);
      expect(record?.title).toBe('Omega');
    });

    it('drops a file that was removed and adds one that appeared', async () => {
      const root = await makeRoot('work');
      const first = await openBackend(root);
      const removed = await first.create({ title: 'Removed', list: 'work' });
      await first.close();
      await rm(join(root, 'work', `${removed.uid}.ics`));
      await writeFile(join(root, 'work', 'added.ics'), todoText('added', 'Added'));

      const second = await openBackend(root);

      expect((await second.reminders()).map((record) => record.title)).toEqual(['Added']);
    });
  });

  describe('when the index is corrupt', () => {
    it('ignores it and writes a valid one', async () => {
      const root = await makeRoot('work');
      await writeFile(join(root, 'work', 'a.ics'), todoText('a', 'Alpha'));
      await writeFile(join(root, VDIR_INDEX_FILE), '{"version":1,"entries":{"work/a.ics":[');
      const backend = await openBackend(root);

      const records = await backend.reminders();
      await backend.close();

      expect(records.map((record) => record.title)).toEqual(['Alpha']);
      const index: unknown = JSON.parse(await readFile(join(root, VDIR_INDEX_FILE), 'utf8'));
      expect(index).toEqual({ version: 3, entries: [['work/a.ics', expect.any(Array)]] });
    });

    it('rebuilds an index of the previous format (entries keyed by file) on the next read', async () => {
      const root = await makeRoot('work');
      await writeFile(join(root, 'work', 'a.ics'), todoText('a', 'Alpha'));
      const info = await stat(join(root, 'work', 'a.ics'));
      // Version 2 with an entry that matches the file's stat but holds another title.
      const entry = [
        info.mtimeMs,
        info.size,
        info.ino,
        'x',
        ['a', 'Stale', null, null, false, 0, false, false, null, null, [], null, null, null],
      ];
      await writeFile(
        join(root, VDIR_INDEX_FILE),
        JSON.stringify({ version: 2, entries: { 'work/a.ics': entry } }),
      );
      const backend = await openBackend(root);

      const records = await backend.reminders();
      await backend.close();

      expect(records.map((record) => record.title)).toEqual(['Alpha']);
      const index = JSON.parse(await readFile(join(root, VDIR_INDEX_FILE), 'utf8')) as { version: number };
      expect(index.version).toBe(3);
    });
  });

  describe('when a file does not parse', () => {
    it('skips it, keeps it, and reads it once it is fixed', async () => {
      const root = await makeRoot('work');
      const path = join(root, 'work', 'broken.ics');
      await writeFile(path, 'this is not iCalendar');
      await writeFile(join(root, 'work', 'fine.ics'), todoText('fine', 'Fine'));
      const backend = await openBackend(root);

      expect((await backend.reminders()).map((record) => record.title)).toEqual(['Fine']);
      expect(existsSync(path)).toBe(true);

      await writeFile(path, todoText('fixed', 'Fixed now'));

      expect((await backend.reminders()).map((record) => record.title).sort()).toEqual(['Fine', 'Fixed now']);
    });
  });

  describe('when lists are created, renamed and deleted', () => {
    it('creates a folder and refuses a name that exists', async () => {
      const root = await makeRoot('work');
      const backend = await openBackend(root);

      expect(await backend.createList('home')).toEqual({ name: 'home', handle: 'home', color: null });
      expect((await backend.lists()).map((list) => list.name)).toEqual(['home', 'work']);
      expect(await captureError(() => backend.createList('work'))).toMatchObject({ code: 'REM_LIST_EXISTS' });
    });

    it.each(['a/b', '.hidden', 'nul\0name', '', '   '])('refuses the name %j', async (name) => {
      const backend = await openBackend(await makeRoot());

      expect(await captureError(() => backend.createList(name))).toMatchObject({ code: 'REM_INVALID_INPUT' });
    });

    it('renames the folder of a list without displayname, and its reminders follow', async () => {
      const root = await makeRoot('work');
      const backend = await openBackend(root);
      await backend.create({ title: 'Follow me', list: 'work' });

      expect(await backend.renameList('work', 'office')).toEqual({
        name: 'office',
        handle: 'office',
        color: null,
      });
      expect(existsSync(join(root, 'work'))).toBe(false);
      expect((await backend.reminders()).map((record) => record.list)).toEqual(['office']);
    });

    it('rewrites displayname and keeps the folder of a synced list', async () => {
      const root = await makeRoot('f3a1');
      await writeFile(join(root, 'f3a1', 'displayname'), 'Work');
      const backend = await openBackend(root);
      await backend.create({ title: 'Stay', list: 'Work' });

      const renamed = await backend.renameList('Work', 'Office');

      expect(renamed).toEqual({ name: 'Office', handle: 'f3a1', color: null });
      expect(await readFile(join(root, 'f3a1', 'displayname'), 'utf8')).toBe('Office');
      expect((await backend.reminders()).map((record) => record.list)).toEqual(['Office']);
    });

    it('refuses to rename onto an existing list', async () => {
      const backend = await openBackend(await makeRoot('work', 'home'));

      expect(await captureError(() => backend.renameList('work', 'home'))).toMatchObject({
        code: 'REM_LIST_EXISTS',
      });
    });

    it('deletes the folder with its reminders', async () => {
      const root = await makeRoot('work', 'home');
      const backend = await openBackend(root);
      await backend.create({ title: 'Gone', list: 'work' });
      await backend.create({ title: 'Stays', list: 'home' });

      await backend.deleteList('work');

      expect(existsSync(join(root, 'work'))).toBe(false);
      expect((await backend.reminders()).map((record) => record.title)).toEqual(['Stays']);
      expect(await captureError(() => backend.deleteList('work'))).toMatchObject({
        code: 'REM_UNKNOWN_LIST',
      });
    });
  });

  describe('when reminders are asked for an unknown list', () => {
    it('throws REM_UNKNOWN_LIST', async () => {
      const backend = await openBackend(await makeRoot('work'));

      expect(await captureError(() => backend.reminders({ lists: ['nope'] }))).toMatchObject({
        code: 'REM_UNKNOWN_LIST',
        details: { given: 'nope', known: ['work'] },
      });
    });
  });

  describe('when two processes add reminders at once', () => {
    it('loses none of them', async () => {
      const directory = await makeDirectory();
      const root = join(directory, 'calendars');
      await mkdir(join(root, 'shared'), { recursive: true });
      const scriptPath = join(directory, 'add-fifty.mts');
      await writeFile(
        scriptPath,
        [
          `const { createVdirBackend } = await import(${JSON.stringify(vdirModuleUrl)});`,
          'const backend = await createVdirBackend({ root: process.argv[2] });',
          'const tag = process.argv[3];',
          'await Promise.all(Array.from({ length: 50 }, (_, index) =>',
          "  backend.create({ title: tag + ' ' + index, list: 'shared' })));",
          'await backend.close();',
        ].join('\n'),
      );
      const run = (tag: string) =>
        execFileAsync(process.execPath, ['--import', 'tsx', scriptPath, root, tag], { cwd: packageRoot });

      await Promise.all([run('first'), run('second')]);

      const backend = await openBackend(root);
      const records = await backend.reminders();
      expect(await readdir(join(root, 'shared'))).toHaveLength(100);
      expect(records).toHaveLength(100);
      expect(new Set(records.map((record) => record.title)).size).toBe(100);
    });
  });

  const todomanPath = '/usr/bin/todoman';
  const hasTodoman = existsSync(todomanPath);
  const requireTodoman = process.env.BALLAST_REQUIRE_TODOMAN === '1';

  // Skipped only when todoman is missing and not required; `apt-get install todoman` un-skips it.
  describe.skipIf(!hasTodoman && !requireTodoman)(
    `when todoman shares the folder${hasTodoman ? '' : ' (skipped: /usr/bin/todoman is missing; apt-get install todoman)'}`,
    () => {
      let directory = '';
      let root = '';
      let configPath = '';

      beforeAll(() => {
        if (!hasTodoman) {
          throw new Error(
            'BALLAST_REQUIRE_TODOMAN=1 but /usr/bin/todoman is missing; install it with apt-get install todoman',
          );
        }
      });

      async function setUp(): Promise<void> {
        directory = await makeDirectory();
        root = join(directory, 'calendars');
        await mkdir(join(root, 'work'), { recursive: true });
        // todoman loads its configuration as a Python module, so the file must end in .py.
        configPath = join(directory, 'config.py');
        await writeFile(
          configPath,
          `path = "${root}/*"\ndate_format = "%Y-%m-%d"\ntime_format = "%H:%M"\ndefault_list = "work"\n`,
        );
      }

      async function todoman(args: string[], timeZone = 'UTC'): Promise<string> {
        const { stdout } = await execFileAsync(todomanPath, ['--config', configPath, ...args], {
          env: {
            HOME: directory,
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            TZ: timeZone,
            LC_ALL: 'C.UTF-8',
          },
        });
        return stdout;
      }

      interface TodomanTodo {
        id: number;
        summary: string;
        due: number | null;
        priority: number;
        completed: boolean;
        location: string;
      }

      async function todomanList(): Promise<TodomanTodo[]> {
        return JSON.parse(await todoman(['--porcelain', 'list', '--status', 'ANY'])) as TodomanTodo[];
      }

      it('reads a todo todoman created', async () => {
        await setUp();
        await todoman(
          ['new', '-l', 'work', 'Buy milk', '--due', '2026-12-01 10:00', '--priority', 'high'],
          'Europe/Berlin',
        );
        const backend = await openBackend(root);

        const [record] = await backend.reminders();

        expect(record).toMatchObject({ title: 'Buy milk', list: 'work', priority: 4, completed: false });
        expect(Date.parse(record?.due ?? '')).toBe(Date.parse('2026-12-01T10:00:00+01:00'));
      });

      it('has todoman list a reminder it created', async () => {
        await setUp();
        const backend = await openBackend(root);
        await backend.create({ title: 'Call mum', list: 'work', due: '2026-12-02T18:30:00Z', priority: 1 });

        const todos = await todomanList();

        expect(todos).toHaveLength(1);
        expect(todos[0]).toMatchObject({
          summary: 'Call mum',
          due: Date.parse('2026-12-02T18:30:00Z') / 1000,
          priority: 1,
          completed: false,
        });
      });

      it('sees a todo completed by todoman done as completed', async () => {
        await setUp();
        const backend = await openBackend(root);
        const created = await backend.create({ title: 'Finish report', list: 'work' });
        const [todo] = await todomanList();

        await todoman(['done', String(todo?.id)]);
        const [record] = await backend.reminders();

        expect(record).toMatchObject({ uid: created.uid, completed: true });
        expect(record?.completedAt).not.toBeNull();
      });

      it("keeps todoman's own properties when it updates a todoman file", async () => {
        await setUp();
        await todoman(['new', '-l', 'work', 'Fix tap', '--location', 'Kitchen', '--priority', 'low']);
        const backend = await openBackend(root);
        const [record] = await backend.reminders();

        await backend.update({ ...(record as ReminderRecord), title: 'Fix the tap', tags: ['house'] });
        const [fileName] = await icsFiles(join(root, 'work'));
        const text = await readFile(join(root, 'work', fileName ?? ''), 'utf8');
        const todos = await todomanList();

        expect(text).toContain('PRODID:io.barrera.todoman');
        expect(text).toContain('LOCATION:Kitchen');
        expect(text).toMatch(/SEQUENCE:\d/);
        expect(todos).toHaveLength(1);
        expect(todos[0]).toMatchObject({ summary: 'Fix the tap', location: 'Kitchen', priority: 9 });
      });
    },
  );
});

describe('createVdirBackend journal', () => {
  describe('when a process changes a few reminders', () => {
    it('appends them to the journal instead of rewriting the index, and every reader applies it', async () => {
      const root = await makeRoot('work');
      const seed = await openBackend(root);
      for (let index = 0; index < 300; index += 1) {
        await writeFile(join(root, 'work', `seed-${index}.ics`), todoText(`seed-${index}`, `Seed ${index}`));
      }
      expect(await seed.reminders()).toHaveLength(300);
      await seed.close();
      // 300 parsed files are past the fold limit: the index is written whole.
      const indexBefore = await readFile(join(root, VDIR_INDEX_FILE), 'utf8');
      expect(existsSync(join(root, VDIR_JOURNAL_FILE))).toBe(false);

      const adder = await openBackend(root);
      const created = await adder.create({ title: 'Journaled', list: 'work' });
      await adder.close();
      const changer = await openBackend(root);
      const [first] = (await changer.reminders()).filter((record) => record.uid === 'seed-0');
      await changer.update({
        ...(first as ReminderRecord),
        completed: true,
        completedAt: '2026-11-25T10:00:00Z',
      });
      await changer.close();

      expect(await readFile(join(root, VDIR_INDEX_FILE), 'utf8')).toBe(indexBefore);
      const journal = await readFile(join(root, VDIR_JOURNAL_FILE), 'utf8');
      expect(journal.trim().split('\n')).toHaveLength(2);

      const reader = await openBackend(root);
      const records = await reader.reminders();
      await reader.close();
      expect(records).toHaveLength(301);
      expect(records.find((record) => record.uid === created.uid)?.revision).toBe(created.revision);
      expect(records.find((record) => record.uid === 'seed-0')?.completed).toBe(true);
    });
  });

  describe('when the journal grows past its limit', () => {
    it('folds it into the index on the next read', async () => {
      const root = await makeRoot('work');
      const adder = await openBackend(root);
      for (let index = 0; index < 260; index += 1)
        await adder.create({ title: `Added ${index}`, list: 'work' });
      await adder.close();
      expect((await readFile(join(root, VDIR_JOURNAL_FILE), 'utf8')).trim().split('\n')).toHaveLength(260);

      const reader = await openBackend(root);
      expect(await reader.reminders()).toHaveLength(260);
      await reader.close();
      expect(existsSync(join(root, VDIR_JOURNAL_FILE))).toBe(false);
      const index = JSON.parse(await readFile(join(root, VDIR_INDEX_FILE), 'utf8')) as { entries: unknown[] };
      expect(index.entries).toHaveLength(260);
    });
  });

  describe('when a journal line is torn', () => {
    it('skips it and still reads the file', async () => {
      const root = await makeRoot('work');
      const adder = await openBackend(root);
      const created = await adder.create({ title: 'Torn', list: 'work' });
      await adder.close();
      await writeFile(join(root, VDIR_JOURNAL_FILE), '["work/x.ics",[1,2\n');
      const reader = await openBackend(root);
      const records = await reader.reminders();
      await reader.close();
      expect(records.map((record) => record.title)).toEqual([created.title]);
    });
  });
});

describe('createVdirBackend without a stat per file', () => {
  /** A root with two reminders in `work`, indexed and closed. */
  async function indexedRoot(): Promise<{ root: string; records: ReminderRecord[] }> {
    const root = await makeRoot('work', 'home');
    const writer = await openBackend(root);
    await writer.create({ title: 'Alpha', list: 'work' });
    await writer.create({ title: 'Beta', list: 'work' });
    const records = await writer.reminders();
    await writer.close();
    return { root, records };
  }

  describe('when every file is indexed', () => {
    it('indexed() names what reminders() lists, and confirm() gives their records back', async () => {
      const { root, records } = await indexedRoot();
      const backend = await openBackend(root);

      const indexed = await backend.indexed?.();
      const entries = indexed?.entries ?? [];

      expect(entries.map(({ uid, title }) => ({ uid, title }))).toEqual(
        records.map(({ uid, title }) => ({ uid, title })),
      );
      expect(indexed?.confirm(entries)).toEqual(records);
    });
  });

  describe('when a file was edited in place after indexing', () => {
    it('confirm() refuses that file and still vouches for the others', async () => {
      const { root, records } = await indexedRoot();
      const [alpha, beta] = records as [ReminderRecord, ReminderRecord];
      const backend = await openBackend(root);
      const indexed = await backend.indexed?.();
      const entry = (uid: string) => indexed?.entries.filter((candidate) => candidate.uid === uid) ?? [];
      const path = join(root, 'work', `${alpha.uid}.ics`);
      await writeFile(path, (await readFile(path, 'utf8')).replace('SUMMARY:Alpha', 'SUMMARY:Gamma'));
      const later = new Date(Date.now() + 5_000);
      await utimes(path, later, later);

      expect(indexed?.confirm(entry(alpha.uid))).toBeUndefined();
      expect(indexed?.confirm([...entry(alpha.uid), ...entry(beta.uid)])).toBeUndefined();
      expect(indexed?.confirm(entry(beta.uid))).toEqual([beta]);
    });

    it('rem complete by id reads the file as it is now and completes that', async () => {
      const { root, records } = await indexedRoot();
      const alpha = records.find((record) => record.title === 'Alpha') as ReminderRecord;
      const path = join(root, 'work', `${alpha.uid}.ics`);
      await writeFile(path, (await readFile(path, 'utf8')).replace('SUMMARY:Alpha', 'SUMMARY:Gamma'));
      const later = new Date(Date.now() + 5_000);
      await utimes(path, later, later);
      const reminders = createReminders({ backend: await openBackend(root) });

      const [done] = await reminders.complete([shortId(alpha.uid)]);

      expect(done).toMatchObject({ title: 'Gamma', completed: true });
      expect(await readFile(path, 'utf8')).toMatch(/SUMMARY:Gamma\r\n[\s\S]*STATUS:COMPLETED/);
    });
  });

  describe('when a file is not in the index yet', () => {
    it('indexed() reads it, as a full listing would, and indexes it', async () => {
      const { root } = await indexedRoot();
      await writeFile(join(root, 'home', 'added.ics'), todoText('added', 'Added'));
      const backend = await openBackend(root);

      const indexed = await backend.indexed?.();
      const added = indexed?.entries.filter((entry) => entry.uid === 'added') ?? [];

      expect(added.map((entry) => entry.title)).toEqual(['Added']);
      expect(indexed?.entries.map((entry) => entry.uid).sort()).toEqual(
        (await backend.reminders()).map((record) => record.uid).sort(),
      );
      expect(indexed?.confirm(added)).toEqual([expect.objectContaining({ title: 'Added', list: 'home' })]);
    });
  });

  describe('when another program moved a file after it was listed', () => {
    it('update finds it again and writes it where the record says', async () => {
      const { root } = await indexedRoot();
      const backend = await openBackend(root);
      const alpha = (await backend.reminders()).find((record) => record.title === 'Alpha') as ReminderRecord;
      await rename(join(root, 'work', `${alpha.uid}.ics`), join(root, 'home', `${alpha.uid}.ics`));

      const updated = await backend.update({ ...alpha, title: 'Alpha, edited' });

      expect(updated).toMatchObject({ title: 'Alpha, edited', list: 'work' });
      expect(await icsFiles(join(root, 'home'))).toEqual([]);
      expect((await backend.reminders()).map((record) => record.title).sort()).toEqual([
        'Alpha, edited',
        'Beta',
      ]);
    });
  });

  describe('when another program changed a file after it was listed', () => {
    it('update refuses with REM_CONFLICT rather than write over it', async () => {
      const { root } = await indexedRoot();
      const backend = await openBackend(root);
      const [alpha] = (await backend.reminders()) as [ReminderRecord];
      const path = join(root, 'work', `${alpha.uid}.ics`);
      const theirs = todoText(alpha.uid, 'Theirs');
      await writeFile(path, theirs);

      const error = await captureError(() => backend.update({ ...alpha, completed: true }));

      expect(error).toMatchObject({ code: 'REM_CONFLICT' });
      expect(await readFile(path, 'utf8')).toBe(theirs);
    });
  });

  describe('when a plain file another program wrote is completed', () => {
    it('changes the completion lines and keeps every other line as it was written', async () => {
      const root = await makeRoot('work');
      const path = join(root, 'work', 'theirs.ics');
      const theirs = todoText('theirs', 'Keep me', [
        'x-lower-case:kept as written',
        'DESCRIPTION:a description long enough that the other program folded it at forty',
        ' characters, which ical.js would refold',
        'STATUS:NEEDS-ACTION',
      ]);
      await writeFile(path, theirs);
      const backend = await openBackend(root);
      const [record] = (await backend.reminders()) as [ReminderRecord];

      const updated = await backend.update({ ...record, completed: true, completedAt: null });
      const text = await readFile(path, 'utf8');

      expect(updated).toMatchObject({ completed: true, title: 'Keep me' });
      expect(text).toContain('\r\nx-lower-case:kept as written\r\n');
      expect(text).toContain('folded it at forty\r\n characters, which');
      expect(text).toMatch(/\r\nSTATUS:COMPLETED\r\n/);
      expect((await backend.reminders())[0]).toEqual(updated);
    });
  });
});
