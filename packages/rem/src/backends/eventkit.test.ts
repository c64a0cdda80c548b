import { type ChildProcessWithoutNullStreams, execFile, spawn as spawnProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReminderBackend } from '../types.js';
import {
  createEventKitBackend,
  type EventKitBackendOptions,
  type EventKitCompile,
  type EventKitCompileRequest,
  type EventKitSpawn,
} from './eventkit.js';
import { EVENTKIT_HELPER_SOURCE } from './eventkit-helper.swift.js';

const here = dirname(fileURLToPath(import.meta.url));
const fakeHelperPath = join(here, 'fake-eventkit-helper.test-helpers.mjs');
const packageDir = join(here, '..', '..');
const { REM_EVENTKIT_HELPER: _inheritedHelper, ...cleanEnv } = process.env;
const helperHash = createHash('sha256').update(EVENTKIT_HELPER_SOURCE).digest('hex').slice(0, 12);

const backends: ReminderBackend[] = [];
const directories: string[] = [];

afterEach(async () => {
  await Promise.all(backends.splice(0).map((backend) => backend.close()));
  await Promise.all(
    directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })),
  );
});

async function makeDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'rem-eventkit-'));
  directories.push(directory);
  return directory;
}

/** A backend over the fake helper; `flags` are FAKE_EVENTKIT_* variables. */
async function createFakeBackend(
  flags: Record<string, string> = {},
  options: EventKitBackendOptions = {},
): Promise<ReminderBackend> {
  const backend = await createEventKitBackend({
    helperCommand: [process.execPath, fakeHelperPath],
    env: { ...cleanEnv, ...flags },
    ...options,
  });
  backends.push(backend);
  return backend;
}

/** The real spawn, remembering each child so a test can look at its exit. */
function recordingSpawn(children: ChildProcessWithoutNullStreams[]): EventKitSpawn {
  return (command, args, spawnOptions) => {
    const child = spawnProcess(command, [...args], { env: spawnOptions.env });
    children.push(child);
    return child;
  };
}

describe('createEventKitBackend', () => {
  describe('when the helper is running', () => {
    it('names itself eventkit and says what EventKit can store', async () => {
      const backend = await createFakeBackend();
      expect(backend.name).toBe('eventkit');
      expect(backend.capabilities).toEqual({
        flagged: false,
        url: true,
        tags: false,
        repeat: true,
        listManagement: true,
      });
    });

    it('lists the lists sorted by name', async () => {
      const backend = await createFakeBackend({ FAKE_EVENTKIT_LISTS: 'Work,Errands,Reminders' });
      const lists = await backend.lists();
      expect(lists.map((list) => list.name)).toEqual(['Errands', 'Reminders', 'Work']);
      expect(lists[0]).toMatchObject({ handle: expect.any(String), color: '#1BADF8' });
    });

    it('creates, reads, updates and deletes a reminder', async () => {
      const backend = await createFakeBackend({ FAKE_EVENTKIT_LISTS: 'Reminders,Work' });
      const created = await backend.create({
        title: 'Buy milk',
        list: 'Reminders',
        notes: '2 litres',
        due: '2026-01-06T09:00:00+01:00',
        priority: 1,
        url: 'https://example.com/milk',
        repeat: 'FREQ=WEEKLY;BYDAY=MO',
      });
      expect(created).toMatchObject({
        uid: expect.any(String),
        title: 'Buy milk',
        notes: '2 litres',
        list: 'Reminders',
        due: '2026-01-06T09:00:00+01:00',
        priority: 1,
        flagged: false,
        completed: false,
        url: 'https://example.com/milk',
        tags: [],
        repeat: 'FREQ=WEEKLY;BYDAY=MO',
        revision: expect.any(String),
      });

      expect(await backend.reminders()).toEqual([created]);
      expect(await backend.reminders({ lists: ['Work'] })).toEqual([]);

      const updated = await backend.update({ ...created, completed: true, list: 'Work' });
      expect(updated).toMatchObject({ uid: created.uid, completed: true, list: 'Work' });
      expect(updated.completedAt).not.toBeNull();
      expect(updated.revision).not.toBe(created.revision);
      expect(await backend.reminders({ lists: ['Work'] })).toEqual([updated]);

      await backend.delete([updated]);
      expect(await backend.reminders()).toEqual([]);
    });

    it('creates, renames and deletes lists', async () => {
      const backend = await createFakeBackend();
      await backend.createList('Groceries');
      await backend.create({ title: 'Eggs', list: 'Groceries' });
      const renamed = await backend.renameList('Groceries', 'Shopping');
      expect(renamed.name).toBe('Shopping');
      expect((await backend.reminders({ lists: ['Shopping'] })).map((reminder) => reminder.title)).toEqual([
        'Eggs',
      ]);
      await backend.deleteList('Shopping');
      expect((await backend.lists()).map((list) => list.name)).toEqual(['Reminders']);
      expect(await backend.reminders()).toEqual([]);
    });
  });

  describe('when the reminder changed since it was read', () => {
    it('refuses the update with REM_CONFLICT and keeps the newer version', async () => {
      const backend = await createFakeBackend();
      const original = await backend.create({ title: 'Call Sam', list: 'Reminders' });
      const newer = await backend.update({ ...original, title: 'Call Sam today' });
      await expect(backend.update({ ...original, title: 'Call Sam tomorrow' })).rejects.toMatchObject({
        name: 'RemError',
        code: 'REM_CONFLICT',
      });
      expect(await backend.reminders()).toEqual([newer]);
    });
  });

  describe('when a list or a reminder does not exist', () => {
    it('rejects a create in an unknown list with REM_UNKNOWN_LIST naming the lists', async () => {
      const backend = await createFakeBackend();
      await expect(backend.create({ title: 'Lost', list: 'Nowhere' })).rejects.toMatchObject({
        code: 'REM_UNKNOWN_LIST',
        message: expect.stringContaining('Reminders'),
      });
    });

    it('rejects reading an unknown list with REM_UNKNOWN_LIST', async () => {
      const backend = await createFakeBackend();
      await expect(backend.reminders({ lists: ['Nowhere'] })).rejects.toMatchObject({
        code: 'REM_UNKNOWN_LIST',
      });
    });

    it('rejects a delete with an unknown uid with REM_NOT_FOUND and deletes nothing', async () => {
      const backend = await createFakeBackend();
      const kept = await backend.create({ title: 'Keep me', list: 'Reminders' });
      await expect(backend.delete([kept, { ...kept, uid: 'NO-SUCH-UID' }])).rejects.toMatchObject({
        code: 'REM_NOT_FOUND',
        message: expect.stringContaining('NO-SUCH-UID'),
      });
      expect(await backend.reminders()).toEqual([kept]);
    });

    it('rejects creating a list that exists with REM_LIST_EXISTS', async () => {
      const backend = await createFakeBackend();
      await expect(backend.createList('Reminders')).rejects.toMatchObject({ code: 'REM_LIST_EXISTS' });
    });
  });

  describe('when a record carries a flag or tags', () => {
    it('refuses it with REM_UNSUPPORTED instead of dropping it', async () => {
      const backend = await createFakeBackend();
      await expect(
        backend.create({ title: 'Flagged', list: 'Reminders', flagged: true }),
      ).rejects.toMatchObject({
        code: 'REM_UNSUPPORTED',
      });
      await expect(
        backend.create({ title: 'Tagged', list: 'Reminders', tags: ['home'] }),
      ).rejects.toMatchObject({
        code: 'REM_UNSUPPORTED',
      });
      expect(await backend.reminders()).toEqual([]);
    });
  });

  describe('when many requests are in flight', () => {
    it('answers each with its own result although the helper answers out of order', async () => {
      const backend = await createFakeBackend({ FAKE_EVENTKIT_DELAY_MS: '40' });
      const titles = Array.from({ length: 20 }, (_, index) => `Task ${index}`);
      const created = await Promise.all(titles.map((title) => backend.create({ title, list: 'Reminders' })));
      expect(created.map((reminder) => reminder.title)).toEqual(titles);
      expect(new Set(created.map((reminder) => reminder.uid)).size).toBe(20);
      expect((await backend.reminders()).length).toBe(20);
    });
  });

  describe('when the helper crashes mid-request', () => {
    it('rejects with REM_BACKEND_FAILED carrying its stderr, and the next call starts it again', async () => {
      const children: ChildProcessWithoutNullStreams[] = [];
      const backend = await createFakeBackend(
        { FAKE_EVENTKIT_CRASH_ON: 'create' },
        { spawn: recordingSpawn(children) },
      );
      const failure = backend.create({ title: 'Doomed', list: 'Reminders' });
      await expect(failure).rejects.toMatchObject({
        code: 'REM_BACKEND_FAILED',
        message: expect.stringContaining('simulated crash while handling create'),
      });
      await expect(failure).rejects.toMatchObject({ message: expect.stringContaining('code 70') });

      expect((await backend.lists()).map((list) => list.name)).toEqual(['Reminders']);
      expect(children).toHaveLength(2);
      expect(children[0]?.exitCode).toBe(70);
    });
  });

  describe('when Reminders access is denied', () => {
    it('rejects with REM_BACKEND_UNAVAILABLE saying where to allow it', async () => {
      await expect(createFakeBackend({ FAKE_EVENTKIT_DENY: '1' })).rejects.toMatchObject({
        code: 'REM_BACKEND_UNAVAILABLE',
        message: expect.stringContaining('System Settings > Privacy & Security > Reminders'),
      });
    });
  });

  describe('when the helper cannot be started', () => {
    it('rejects with REM_BACKEND_FAILED naming the command', async () => {
      const directory = await makeDirectory();
      const missing = join(directory, 'no-such-helper');
      await expect(createEventKitBackend({ helperPath: missing, env: cleanEnv })).rejects.toMatchObject({
        code: 'REM_BACKEND_FAILED',
        message: expect.stringContaining(missing),
      });
    });
  });

  describe('when not on macOS and no helper is given', () => {
    it('rejects with REM_BACKEND_UNAVAILABLE pointing to the other backends, without compiling', async () => {
      const compiles: EventKitCompileRequest[] = [];
      await expect(
        createEventKitBackend({
          platform: 'linux',
          env: cleanEnv,
          compile: async (request) => {
            compiles.push(request);
          },
        }),
      ).rejects.toMatchObject({
        name: 'RemError',
        code: 'REM_BACKEND_UNAVAILABLE',
        message: 'the eventkit backend needs macOS (EventKit); on this system use --backend vdir or caldav',
      });
      expect(compiles).toEqual([]);
    });
  });

  describe('when REM_EVENTKIT_HELPER names an executable', () => {
    it('runs it on any system instead of compiling', async () => {
      const directory = await makeDirectory();
      const wrapper = join(directory, 'helper');
      await writeFile(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${fakeHelperPath}" "$@"\n`);
      await chmod(wrapper, 0o755);
      const backend = await createEventKitBackend({
        platform: 'linux',
        env: { ...cleanEnv, REM_EVENTKIT_HELPER: wrapper },
      });
      backends.push(backend);
      expect((await backend.lists()).map((list) => list.name)).toEqual(['Reminders']);
    });
  });

  describe('when on macOS without a helper override', () => {
    /** A compile that writes a stub binary, and a spawn that runs the fake helper in its place. */
    function fakeToolchain(): {
      compiles: EventKitCompileRequest[];
      spawned: string[];
      compile: EventKitCompile;
      spawn: EventKitSpawn;
    } {
      const compiles: EventKitCompileRequest[] = [];
      const spawned: string[] = [];
      return {
        compiles,
        spawned,
        compile: async (request) => {
          compiles.push(request);
          await writeFile(request.outputPath, '#!/bin/sh\n', { mode: 0o755 });
        },
        spawn: (command, _args, spawnOptions) => {
          spawned.push(command);
          return spawnProcess(process.execPath, [fakeHelperPath], { env: spawnOptions.env });
        },
      };
    }

    it('compiles the helper once into a hash-named binary in the cache and reuses it', async () => {
      const cacheDir = await makeDirectory();
      const toolchain = fakeToolchain();
      const options: EventKitBackendOptions = {
        platform: 'darwin',
        cacheDir,
        env: cleanEnv,
        compile: toolchain.compile,
        spawn: toolchain.spawn,
      };
      const binaryPath = join(cacheDir, `eventkit-helper-${helperHash}`);

      const first = await createEventKitBackend(options);
      backends.push(first);
      expect(toolchain.compiles).toHaveLength(1);
      const [request] = toolchain.compiles;
      expect(request?.sourcePath).toBe(`${binaryPath}.swift`);
      expect(request?.outputPath).not.toBe(binaryPath);
      expect(request?.outputPath.startsWith(cacheDir)).toBe(true);
      expect(await readFile(`${binaryPath}.swift`, 'utf8')).toBe(EVENTKIT_HELPER_SOURCE);
      expect(toolchain.spawned).toEqual([binaryPath]);
      expect((await first.lists()).map((list) => list.name)).toEqual(['Reminders']);

      const second = await createEventKitBackend(options);
      backends.push(second);
      expect(toolchain.compiles).toHaveLength(1);
      expect(toolchain.spawned).toEqual([binaryPath, binaryPath]);
      expect((await readdir(cacheDir)).sort()).toEqual([
        `eventkit-helper-${helperHash}`,
        `eventkit-helper-${helperHash}.swift`,
      ]);
    });

    it('reports a failed compile as REM_BACKEND_FAILED and leaves no binary behind', async () => {
      const cacheDir = await makeDirectory();
      const toolchain = fakeToolchain();
      await expect(
        createEventKitBackend({
          platform: 'darwin',
          cacheDir,
          env: cleanEnv,
          spawn: toolchain.spawn,
          compile: async (request) => {
            await writeFile(request.outputPath, 'half a binary', { mode: 0o755 });
            throw new Error('error: cannot find type EKReminder in scope');
          },
        }),
      ).rejects.toMatchObject({
        code: 'REM_BACKEND_FAILED',
        message: expect.stringContaining('cannot find type EKReminder'),
      });
      expect(await readdir(cacheDir)).toEqual([`eventkit-helper-${helperHash}.swift`]);
      expect(toolchain.spawned).toEqual([]);
    });

    it('asks for the Xcode command line tools when xcrun is missing', async () => {
      const cacheDir = await makeDirectory();
      const emptyPath = await makeDirectory();
      await expect(
        createEventKitBackend({ platform: 'darwin', cacheDir, env: { ...cleanEnv, PATH: emptyPath } }),
      ).rejects.toMatchObject({
        code: 'REM_BACKEND_UNAVAILABLE',
        message: expect.stringContaining('xcode-select --install'),
      });
    });
  });

  describe('when the backend is closed', () => {
    it('ends the helper and refuses later calls', async () => {
      const children: ChildProcessWithoutNullStreams[] = [];
      const backend = await createFakeBackend({}, { spawn: recordingSpawn(children) });
      await backend.lists();
      await backend.close();
      expect(children[0]?.exitCode).toBe(0);
      await expect(backend.lists()).rejects.toMatchObject({ code: 'REM_BACKEND_FAILED' });
      expect(children).toHaveLength(1);
    });

    it('answers the requests already sent before the helper exits', async () => {
      const backend = await createFakeBackend({ FAKE_EVENTKIT_DELAY_MS: '100' });
      const pending = backend.create({ title: 'Last words', list: 'Reminders' });
      await backend.close();
      await expect(pending).resolves.toMatchObject({ title: 'Last words' });
    });

    it('kills a helper that does not exit within the timeout', async () => {
      const children: ChildProcessWithoutNullStreams[] = [];
      const backend = await createFakeBackend(
        { FAKE_EVENTKIT_IGNORE_EOF: '1' },
        { spawn: recordingSpawn(children), closeTimeoutMs: 200 },
      );
      await backend.close();
      expect(children[0]?.signalCode).toBe('SIGKILL');
    });
  });

  describe('when the program forgets to close the backend', () => {
    it('waits for a pending request, then lets the process exit', async () => {
      const directory = await makeDirectory();
      const script = join(directory, 'forgetful.mjs');
      await writeFile(
        script,
        [
          'const [moduleUrl, helper] = process.argv.slice(2);',
          'const { createEventKitBackend } = await import(moduleUrl);',
          'const backend = await createEventKitBackend({',
          '  helperCommand: [process.execPath, helper],',
          "  env: { ...process.env, FAKE_EVENTKIT_DELAY_MS: '300' },",
          '});',
          'backend.lists().then((lists) => process.stdout.write(JSON.stringify(lists.map((list) => list.name))));',
          '',
        ].join('\n'),
      );
      const moduleUrl = pathToFileURL(join(here, 'eventkit.ts')).href;
      const output = await new Promise<string>((resolve, reject) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', script, moduleUrl, fakeHelperPath],
          { cwd: packageDir, env: cleanEnv, timeout: 20_000 },
          (error, stdout, stderr) =>
            error === null ? resolve(stdout) : reject(new Error(`${error.message}\n${stderr}`)),
        );
      });
      expect(output).toBe('["Reminders"]');
    });
  });
});

describe('EVENTKIT_HELPER_SOURCE', () => {
  it('handles every operation the backend sends', () => {
    for (const operation of [
      'lists',
      'reminders',
      'create',
      'update',
      'delete',
      'createList',
      'renameList',
      'deleteList',
    ]) {
      expect(EVENTKIT_HELPER_SOURCE).toContain(`case "${operation}":`);
    }
  });

  it('announces itself with the ready line the backend waits for', () => {
    expect(EVENTKIT_HELPER_SOURCE).toContain('emit(["ready": true, "access": "granted"])');
    expect(EVENTKIT_HELPER_SOURCE).toContain('emit(["ready": true, "access": "denied"])');
  });
});
