import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RemError } from '../errors.js';
import type { ReminderBackend } from '../types.js';
import { createCaldavBackend } from './caldav.js';
import { type RunningRadicale, radicaleForTests, startRadicale } from './radicale.test-helpers.js';

const radicale = radicaleForTests();

async function caught(promise: Promise<unknown>): Promise<RemError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RemError) return error;
    throw error;
  }
  throw new Error('expected a RemError, got none');
}

/** A fetch that records `METHOD path` of every request before sending it for real. */
function recordingFetch(): { fetch: typeof fetch; requests: string[] } {
  const requests: string[] = [];
  return {
    requests,
    fetch: (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      requests.push(`${init?.method ?? 'GET'} ${new URL(url).pathname}`);
      return fetch(input, init);
    },
  };
}

describe('createCaldavBackend', () => {
  describe('when the URL is on iCloud', () => {
    it.each([
      'https://caldav.icloud.com/',
      'https://p42-caldav.icloud.com/123/calendars/',
      'https://icloud.com',
    ])('refuses %s and points to the eventkit backend', async (url) => {
      const error = await caught(createCaldavBackend({ url, username: 'ana', password: 'secret' }));
      expect(error.code).toBe('REM_BACKEND_UNAVAILABLE');
      expect(error.message).toContain('iOS 13');
      expect(error.message).toContain('eventkit');
    });

    it('accepts a host that only ends in icloud.com', async () => {
      const backend = await createCaldavBackend({ url: 'https://noticloud.com/dav/' });
      expect(backend.name).toBe('caldav');
    });
  });

  describe('when the URL is not an http URL', () => {
    it('throws REM_INVALID_INPUT naming it', async () => {
      const error = await caught(createCaldavBackend({ url: 'dav.example.com' }));
      expect(error.code).toBe('REM_INVALID_INPUT');
      expect(error.message).toContain('"dav.example.com"');
    });

    it('refuses another scheme', async () => {
      const error = await caught(createCaldavBackend({ url: 'ftp://dav.example.com/' }));
      expect(error.code).toBe('REM_INVALID_INPUT');
      expect(error.message).toContain('ftp://dav.example.com/');
    });
  });

  describe('when the server does not answer', () => {
    it.each([
      ['node:http', undefined],
      ['an injected fetch', fetch],
    ])(
      'throws a retryable REM_BACKEND_FAILED naming the URL without credentials (%s)',
      async (_, fetchFunction) => {
        const cacheDir = mkdtempSync(join(tmpdir(), 'rem-caldav-'));
        try {
          // Port 9 (discard) is closed on loopback.
          const backend = await createCaldavBackend({
            url: 'http://ana:secret@127.0.0.1:9/',
            cacheDir,
            ...(fetchFunction === undefined ? {} : { fetch: fetchFunction }),
          });
          const error = await caught(backend.lists());
          expect(error.code).toBe('REM_BACKEND_FAILED');
          expect(error.isRetryable).toBe(true);
          expect(error.message).toContain('127.0.0.1:9');
          expect(error.message).not.toContain('secret');
        } finally {
          rmSync(cacheDir, { recursive: true, force: true });
        }
      },
    );
  });

  describe.skipIf(radicale.skip !== undefined)(radicale.label, () => {
    let server: RunningRadicale;
    let cacheDir: string;
    let user: string;
    let userNumber = 0;
    const opened: ReminderBackend[] = [];

    beforeAll(async () => {
      server = await startRadicale();
    });

    afterAll(async () => {
      await server?.stop();
    });

    beforeEach(() => {
      cacheDir = mkdtempSync(join(tmpdir(), 'rem-caldav-'));
      // Each case has its own user, so its own calendar home.
      userNumber += 1;
      user = `user${userNumber}`;
    });

    afterEach(async () => {
      for (const backend of opened.splice(0)) await backend.close();
      rmSync(cacheDir, { recursive: true, force: true });
    });

    async function open(options: { cacheDir?: string; fetch?: typeof fetch } = {}): Promise<ReminderBackend> {
      const backend = await createCaldavBackend({
        url: server.url,
        username: user,
        password: 'any',
        cacheDir: options.cacheDir ?? cacheDir,
        ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      });
      opened.push(backend);
      return backend;
    }

    /** A cache folder of another process or machine (removed with the case's own). */
    function otherCacheDir(): string {
      return mkdtempSync(join(cacheDir, 'other-'));
    }

    /** Another CalDAV client: raw requests as the same user. */
    async function dav(
      method: string,
      path: string,
      body?: string,
      headers: Record<string, string> = {},
    ): Promise<Response> {
      return fetch(new URL(path, server.url), {
        method,
        headers: { authorization: `Basic ${btoa(`${user}:any`)}`, ...headers },
        ...(body === undefined ? {} : { body }),
      });
    }

    async function makeCalendar(slug: string, name: string, component = 'VTODO'): Promise<string> {
      const response = await dav(
        'MKCALENDAR',
        `/${user}/${slug}/`,
        '<?xml version="1.0"?><c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">' +
          `<d:set><d:prop><d:displayname>${name}</d:displayname><c:supported-calendar-component-set>` +
          `<c:comp name="${component}"/></c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>`,
      );
      expect(response.status).toBe(201);
      return new URL(`/${user}/${slug}/`, server.url).href;
    }

    function vtodo(uid: string, summary: string): string {
      return [
        'BEGIN:VCALENDAR',
        'VERSION:2.0',
        'PRODID:-//other client//EN',
        'BEGIN:VTODO',
        `UID:${uid}`,
        'DTSTAMP:20260101T000000Z',
        `SUMMARY:${summary}`,
        'X-OTHER-CLIENT:kept',
        'END:VTODO',
        'END:VCALENDAR',
        '',
      ].join('\r\n');
    }

    describe('when discovering the calendars', () => {
      it('lists the calendars that hold VTODOs, sorted by name, with their URL as handle', async () => {
        const work = await makeCalendar('work', 'Work');
        const errands = await makeCalendar('errands', 'Errands &amp; shopping');
        await makeCalendar('events', 'Events', 'VEVENT');
        const backend = await open();
        expect(await backend.lists()).toEqual([
          { name: 'Errands & shopping', handle: errands, color: null },
          { name: 'Work', handle: work, color: null },
        ]);
      });

      it('caches discovery on disk so a new process sends one PROPFIND for the lists', async () => {
        await makeCalendar('work', 'Work');
        await (await open()).lists();
        const recorder = recordingFetch();
        const backend = await open({ fetch: recorder.fetch });
        expect((await backend.lists()).map((list) => list.name)).toEqual(['Work']);
        expect(recorder.requests).toEqual([`PROPFIND /${user}/`]);
      });

      it('writes the cache without the password, readable by the owner only', async () => {
        await makeCalendar('work', 'Work');
        await (await open()).lists();
        const files = readdirSync(cacheDir);
        expect(files).toHaveLength(1);
        const file = join(cacheDir, files[0] ?? '');
        expect(readFileSync(file, 'utf8')).not.toContain('any');
        expect(statSync(file).mode & 0o777).toBe(0o600);
      });
    });

    describe('when adding, reading, updating and deleting a reminder', () => {
      it('stores every field and reads it back with the ETag as revision', async () => {
        await makeCalendar('work', 'Work');
        const backend = await open();
        const created = await backend.create({
          title: 'Ship the release',
          list: 'Work',
          notes: 'after the review',
          due: '2026-12-01T09:30:00Z',
          priority: 1,
          flagged: true,
          url: 'https://example.com/release',
          tags: ['ops', 'q4'],
          repeat: 'FREQ=WEEKLY;BYDAY=MO',
        });
        expect(created.revision).toMatch(/^"/);
        expect(created).toMatchObject({
          title: 'Ship the release',
          list: 'Work',
          notes: 'after the review',
          priority: 1,
          flagged: true,
          url: 'https://example.com/release',
          tags: ['ops', 'q4'],
          repeat: 'FREQ=WEEKLY;BYDAY=MO',
          completed: false,
        });
        expect(Date.parse(created.due ?? '')).toBe(Date.parse('2026-12-01T09:30:00Z'));

        // A fresh instance with an empty cache reads what the server holds.
        const other = await open({ cacheDir: otherCacheDir() });
        const [read] = await other.reminders();
        expect(read).toEqual(created);
      });

      it('updates in place and deletes under the current revision', async () => {
        await makeCalendar('work', 'Work');
        const backend = await open();
        const created = await backend.create({ title: 'Draft', list: 'Work' });
        const updated = await backend.update({ ...created, title: 'Final', completed: true });
        expect(updated.title).toBe('Final');
        expect(updated.completed).toBe(true);
        expect(updated.revision).not.toBe(created.revision);
        const reread = await (await open()).reminders();
        expect(reread.map((reminder) => [reminder.title, reminder.completed])).toEqual([['Final', true]]);

        await backend.delete([updated]);
        expect(await backend.reminders()).toEqual([]);
        expect((await dav('GET', `/${user}/work/${created.uid}.ics`)).status).toBe(404);
      });

      it('keeps the properties another client wrote when updating', async () => {
        await makeCalendar('work', 'Work');
        await dav('PUT', `/${user}/work/foreign.ics`, vtodo('foreign', 'From elsewhere'), {
          'content-type': 'text/calendar',
        });
        const backend = await open();
        const [record] = await backend.reminders();
        if (record === undefined) throw new Error('no reminder read');
        await backend.update({ ...record, title: 'Renamed here' });
        const stored = await (await dav('GET', `/${user}/work/foreign.ics`)).text();
        expect(stored).toContain('SUMMARY:Renamed here');
        expect(stored).toContain('X-OTHER-CLIENT:kept');
      });

      it('moves a reminder to another list', async () => {
        await makeCalendar('work', 'Work');
        await makeCalendar('home', 'Home');
        const backend = await open();
        const created = await backend.create({ title: 'Water plants', list: 'Work' });
        const moved = await backend.update({ ...created, list: 'Home' });
        expect(moved.list).toBe('Home');
        expect(moved.uid).toBe(created.uid);
        const reread = await (await open({ cacheDir: otherCacheDir() })).reminders();
        expect(reread.map((reminder) => [reminder.list, reminder.title])).toEqual([['Home', 'Water plants']]);
      });

      it('throws REM_NOT_FOUND for an unknown uid and deletes nothing', async () => {
        await makeCalendar('work', 'Work');
        const backend = await open();
        const kept = await backend.create({ title: 'Keep me', list: 'Work' });
        const error = await caught(backend.delete([kept, { ...kept, uid: 'no-such-uid' }]));
        expect(error.code).toBe('REM_NOT_FOUND');
        expect(error.message).toContain('no-such-uid');
        expect((await backend.reminders()).map((reminder) => reminder.title)).toEqual(['Keep me']);
      });

      it('reads only the lists asked for', async () => {
        await makeCalendar('work', 'Work');
        await makeCalendar('home', 'Home');
        const backend = await open();
        await backend.create({ title: 'At work', list: 'Work' });
        await backend.create({ title: 'At home', list: 'Home' });
        const recorder = recordingFetch();
        const fresh = await open({
          cacheDir: otherCacheDir(),
          fetch: recorder.fetch,
        });
        expect((await fresh.reminders({ lists: ['Home'] })).map((reminder) => reminder.title)).toEqual([
          'At home',
        ]);
        expect(recorder.requests.filter((request) => request.includes('/work/'))).toEqual([]);
        const error = await caught(fresh.reminders({ lists: ['Garden'] }));
        expect(error.code).toBe('REM_UNKNOWN_LIST');
      });

      it('names the known lists when the list does not exist', async () => {
        await makeCalendar('work', 'Work');
        await makeCalendar('home', 'Home');
        const backend = await open();
        const error = await caught(backend.create({ title: 'Lost', list: 'Garden' }));
        expect(error.code).toBe('REM_UNKNOWN_LIST');
        expect(error.message).toContain('no list "Garden"; lists are: Home, Work');
        expect(error.details).toEqual({ given: 'Garden', known: ['Home', 'Work'] });
      });
    });

    describe('when the revision is stale', () => {
      it('refuses the update with REM_CONFLICT and keeps the server copy', async () => {
        await makeCalendar('work', 'Work');
        const backend = await open();
        const created = await backend.create({ title: 'Original', list: 'Work' });
        await backend.update({ ...created, title: 'Changed by someone else' });
        const error = await caught(backend.update({ ...created, title: 'Mine' }));
        expect(error.code).toBe('REM_CONFLICT');
        const [stored] = await backend.reminders();
        expect(stored?.title).toBe('Changed by someone else');
      });

      it('refuses the delete with REM_CONFLICT', async () => {
        await makeCalendar('work', 'Work');
        const backend = await open();
        const created = await backend.create({ title: 'Original', list: 'Work' });
        await backend.update({ ...created, title: 'Changed' });
        const error = await caught(backend.delete([created]));
        expect(error.code).toBe('REM_CONFLICT');
        expect(await backend.reminders()).toHaveLength(1);
      });
    });

    describe('when the cache is warm', () => {
      it('reads unchanged calendars with a single PROPFIND', async () => {
        await makeCalendar('work', 'Work');
        await makeCalendar('home', 'Home');
        const first = await open();
        await first.create({ title: 'One', list: 'Work' });
        await first.create({ title: 'Two', list: 'Home' });
        const expected = await first.reminders();
        const recorder = recordingFetch();
        const warm = await open({ fetch: recorder.fetch });
        expect(await warm.reminders()).toEqual(expected);
        expect(recorder.requests).toEqual([`PROPFIND /${user}/`]);
      });

      it('sees a change made by another client, fetching only the calendar that changed', async () => {
        await makeCalendar('work', 'Work');
        await makeCalendar('home', 'Home');
        const first = await open();
        await first.create({ title: 'Existing', list: 'Home' });
        await first.reminders();
        const put = await dav('PUT', `/${user}/work/other.ics`, vtodo('other', 'Added elsewhere'), {
          'content-type': 'text/calendar',
          'if-none-match': '*',
        });
        expect(put.status).toBe(201);

        const recorder = recordingFetch();
        const warm = await open({ fetch: recorder.fetch });
        const titles = (await warm.reminders()).map((reminder) => `${reminder.list}: ${reminder.title}`);
        expect(titles).toEqual(['Home: Existing', 'Work: Added elsewhere']);
        expect(recorder.requests).toEqual([`PROPFIND /${user}/`, `REPORT /${user}/work/`]);
      });

      it('sees a deletion and an edit made by another client', async () => {
        await makeCalendar('work', 'Work');
        const first = await open();
        const gone = await first.create({ title: 'Will vanish', list: 'Work' });
        const edited = await first.create({ title: 'Will change', list: 'Work' });
        await first.reminders();
        expect((await dav('DELETE', `/${user}/work/${gone.uid}.ics`)).status).toBe(200);
        const text = await (await dav('GET', `/${user}/work/${edited.uid}.ics`)).text();
        await dav(
          'PUT',
          `/${user}/work/${edited.uid}.ics`,
          text.replace('SUMMARY:Will change', 'SUMMARY:Changed'),
          {
            'content-type': 'text/calendar',
          },
        );
        const titles = (await (await open()).reminders()).map((reminder) => reminder.title);
        expect(titles).toEqual(['Changed']);
      });

      it('reads its own writes back without refetching their content', async () => {
        await makeCalendar('work', 'Work');
        const first = await open();
        await first.reminders();
        const created = await first.create({ title: 'Mine', list: 'Work' });
        const recorder = recordingFetch();
        const warm = await open({ fetch: recorder.fetch });
        expect(await warm.reminders()).toEqual([created]);
        expect(recorder.requests).toEqual([`PROPFIND /${user}/`, `REPORT /${user}/work/`]);
        // The sync-collection REPORT saw the same ETag; a second read needs only the PROPFIND.
        recorder.requests.length = 0;
        await (await open({ fetch: recorder.fetch })).reminders();
        expect(recorder.requests).toEqual([`PROPFIND /${user}/`]);
      });
    });

    describe('when a cached calendar disappears', () => {
      it('reads the calendars again once and writes to the one now holding that name', async () => {
        await makeCalendar('old-work', 'Work');
        await (await open()).lists();
        expect((await dav('DELETE', `/${user}/old-work/`)).status).toBe(200);
        const replacement = await makeCalendar('new-work', 'Work');
        const recorder = recordingFetch();
        const backend = await open({ fetch: recorder.fetch });
        const created = await backend.create({ title: 'Lands in the new one', list: 'Work' });
        expect(recorder.requests).toEqual([
          `PUT /${user}/old-work/${created.uid}.ics`,
          `PROPFIND /${user}/`,
          `PUT /${user}/new-work/${created.uid}.ics`,
        ]);
        expect((await dav('GET', new URL(`${created.uid}.ics`, replacement).pathname)).status).toBe(200);
      });

      it('discovers again when the cached calendar home is gone', async () => {
        await makeCalendar('work', 'Work');
        await (await open()).lists();
        const [file] = readdirSync(cacheDir);
        const cachePath = join(cacheDir, file ?? '');
        const cache = JSON.parse(readFileSync(cachePath, 'utf8')) as { homeUrl: string };
        cache.homeUrl = new URL('/moved-away/', server.url).href;
        writeFileSync(cachePath, JSON.stringify(cache));
        const backend = await open();
        expect((await backend.lists()).map((list) => list.name)).toEqual(['Work']);
      });
    });

    describe('when managing lists', () => {
      it('creates, renames and deletes a list', async () => {
        const backend = await open();
        const created = await backend.createList('Groceries & more');
        expect(created.name).toBe('Groceries & more');
        await backend.create({ title: 'Milk', list: 'Groceries & more' });
        const other = await open({ cacheDir: otherCacheDir() });
        expect(await other.lists()).toEqual([created]);

        const renamed = await backend.renameList('Groceries & more', 'Shopping');
        expect(renamed).toEqual({ name: 'Shopping', handle: created.handle, color: null });
        expect((await other.lists()).map((list) => list.name)).toEqual(['Shopping']);
        expect((await other.reminders()).map((reminder) => reminder.list)).toEqual(['Shopping']);

        await backend.deleteList('Shopping');
        expect(await other.lists()).toEqual([]);
        expect(await other.reminders()).toEqual([]);
      });

      it('refuses a list name that exists with REM_LIST_EXISTS', async () => {
        await makeCalendar('work', 'Work');
        await makeCalendar('home', 'Home');
        const backend = await open();
        expect((await caught(backend.createList('Work'))).code).toBe('REM_LIST_EXISTS');
        expect((await caught(backend.renameList('Home', 'Work'))).code).toBe('REM_LIST_EXISTS');
      });

      it('throws REM_UNKNOWN_LIST when renaming or deleting a missing list', async () => {
        await makeCalendar('work', 'Work');
        const backend = await open();
        const renaming = await caught(backend.renameList('Garden', 'Yard'));
        expect(renaming.code).toBe('REM_UNKNOWN_LIST');
        expect(renaming.details).toEqual({ given: 'Garden', known: ['Work'] });
        expect((await caught(backend.deleteList('Garden'))).code).toBe('REM_UNKNOWN_LIST');
      });
    });
  });

  describe.skipIf(radicale.skip !== undefined)(`${radicale.label} checking passwords`, () => {
    let server: RunningRadicale;
    let cacheDir: string;

    beforeAll(async () => {
      server = await startRadicale({ users: { ana: 'right-password' } });
    });

    afterAll(async () => {
      await server?.stop();
    });

    beforeEach(() => {
      cacheDir = mkdtempSync(join(tmpdir(), 'rem-caldav-'));
    });

    afterEach(() => {
      rmSync(cacheDir, { recursive: true, force: true });
    });

    describe('when the password is wrong', () => {
      it('says the credentials were refused and names the variables to check', async () => {
        const backend = await createCaldavBackend({
          url: server.url,
          username: 'ana',
          password: 'wrong-password',
          cacheDir,
        });
        const error = await caught(backend.reminders());
        expect(error.code).toBe('REM_BACKEND_FAILED');
        expect(error.isRetryable).toBe(false);
        expect(error.message).toContain('refused the credentials');
        expect(error.message).toContain('REM_CALDAV_PASSWORD');
        expect(error.message).not.toContain('wrong-password');
      });
    });

    describe('when the password is right', () => {
      it('discovers the calendar home', async () => {
        const backend = await createCaldavBackend({
          url: server.url,
          username: 'ana',
          password: 'right-password',
          cacheDir,
        });
        const list = await backend.createList('Inbox');
        expect(list.handle).toContain('/ana/');
        expect(await backend.reminders()).toEqual([]);
      });
    });

    describe('when a cached session meets a changed password', () => {
      it('reports refused credentials on the hot path too', async () => {
        const good = await createCaldavBackend({
          url: server.url,
          username: 'ana',
          password: 'right-password',
          cacheDir,
        });
        await good.lists();
        const bad = await createCaldavBackend({
          url: server.url,
          username: 'ana',
          password: 'stale',
          cacheDir,
        });
        const error = await caught(bad.lists());
        expect(error.message).toContain('refused the credentials');
        expect(error.details).toMatchObject({ method: 'PROPFIND', status: 401 });
      });
    });
  });
});
