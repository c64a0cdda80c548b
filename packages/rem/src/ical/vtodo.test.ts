import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ReminderRecord } from '../types.js';
import { parseVtodo, quickUid, serializeVtodo } from './vtodo.js';

const execFileAsync = promisify(execFile);
const packageRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Joins lines into an iCalendar text with CRLF line ends. */
function ics(...lines: string[]): string {
  return `${lines.join('\r\n')}\r\n`;
}

/** Undoes line folding so a property can be matched on one line. */
function unfold(text: string): string {
  return text.replace(/\r\n[ \t]/g, '');
}

function contentLines(text: string): string[] {
  return unfold(text).split('\r\n');
}

function captureError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

const isoWithOffset = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/;

const fullTodo = ics(
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//Example//Test//EN',
  'BEGIN:VTODO',
  'UID:full-1@example.com',
  'SUMMARY:Pay rent',
  'DESCRIPTION:Bank transfer\\, reference 42',
  'DUE:20261125T160000Z',
  'PRIORITY:1',
  'STATUS:COMPLETED',
  'COMPLETED:20261124T120000Z',
  'URL:https://bank.example.com/pay',
  'CATEGORIES:home,money',
  'CATEGORIES:monthly',
  'RRULE:FREQ=MONTHLY;BYMONTHDAY=25',
  'CREATED:20261101T080000Z',
  'LAST-MODIFIED:20261124T120500Z',
  'DTSTAMP:20261124T120600Z',
  'X-BALLAST-FLAGGED:TRUE',
  'END:VTODO',
  'END:VCALENDAR',
);

describe('parseVtodo', () => {
  describe('when the VTODO has every modelled property', () => {
    it('maps each property onto the record', () => {
      const record = parseVtodo(fullTodo, 'home');

      expect(record).toMatchObject({
        uid: 'full-1@example.com',
        title: 'Pay rent',
        notes: 'Bank transfer, reference 42',
        list: 'home',
        allDay: false,
        priority: 1,
        flagged: true,
        completed: true,
        url: 'https://bank.example.com/pay',
        tags: ['home', 'money', 'monthly'],
        repeat: 'FREQ=MONTHLY;BYMONTHDAY=25',
      });
      expect(Date.parse(record.due ?? '')).toBe(Date.parse('2026-11-25T16:00:00Z'));
      expect(Date.parse(record.completedAt ?? '')).toBe(Date.parse('2026-11-24T12:00:00Z'));
      expect(Date.parse(record.createdAt ?? '')).toBe(Date.parse('2026-11-01T08:00:00Z'));
      expect(Date.parse(record.updatedAt ?? '')).toBe(Date.parse('2026-11-24T12:05:00Z'));
      expect(record.revision).toBeUndefined();
    });

    it('writes every date as ISO 8601 with an offset', () => {
      const record = parseVtodo(fullTodo, 'home');

      for (const value of [record.due, record.completedAt, record.createdAt, record.updatedAt]) {
        expect(value).toMatch(isoWithOffset);
      }
    });
  });

  describe('when only UID and SUMMARY are present', () => {
    it('fills every other field with its empty value', () => {
      const record = parseVtodo(
        ics('BEGIN:VCALENDAR', 'BEGIN:VTODO', 'UID:bare', 'SUMMARY:Bare', 'END:VTODO', 'END:VCALENDAR'),
        'inbox',
      );

      expect(record).toEqual({
        uid: 'bare',
        title: 'Bare',
        notes: null,
        list: 'inbox',
        due: null,
        allDay: false,
        priority: 0,
        flagged: false,
        completed: false,
        completedAt: null,
        url: null,
        tags: [],
        repeat: null,
        createdAt: null,
        updatedAt: null,
      });
    });
  });

  describe('when DUE is a DATE', () => {
    it('is all-day at local midnight of that date', () => {
      const record = parseVtodo(
        ics(
          'BEGIN:VCALENDAR',
          'BEGIN:VTODO',
          'UID:d',
          'DUE;VALUE=DATE:20261125',
          'END:VTODO',
          'END:VCALENDAR',
        ),
        'inbox',
      );

      expect(record.allDay).toBe(true);
      expect(record.due?.slice(0, 19)).toBe('2026-11-25T00:00:00');
      expect(Date.parse(record.due ?? '')).toBe(new Date(2026, 10, 25).getTime());
    });
  });

  describe('when DUE is a floating time', () => {
    it('reads it as local time', () => {
      const record = parseVtodo(
        ics('BEGIN:VCALENDAR', 'BEGIN:VTODO', 'UID:f', 'DUE:20261125T170000', 'END:VTODO', 'END:VCALENDAR'),
        'inbox',
      );

      expect(Date.parse(record.due ?? '')).toBe(new Date(2026, 10, 25, 17, 0, 0).getTime());
      expect(record.due?.slice(0, 19)).toBe('2026-11-25T17:00:00');
    });
  });

  describe('when DUE has a TZID defined by a VTIMEZONE in the file', () => {
    it('converts through that VTIMEZONE', () => {
      const record = parseVtodo(
        ics(
          'BEGIN:VCALENDAR',
          'BEGIN:VTIMEZONE',
          'TZID:Office Time',
          'BEGIN:STANDARD',
          'DTSTART:19700101T000000',
          'TZOFFSETFROM:+0300',
          'TZOFFSETTO:+0300',
          'END:STANDARD',
          'END:VTIMEZONE',
          'BEGIN:VTODO',
          'UID:z',
          'DUE;TZID=Office Time:20261125T170000',
          'END:VTODO',
          'END:VCALENDAR',
        ),
        'inbox',
      );

      expect(Date.parse(record.due ?? '')).toBe(Date.parse('2026-11-25T14:00:00Z'));
    });
  });

  describe('when DUE has an IANA TZID but the file has no VTIMEZONE', () => {
    it('converts through the named zone', () => {
      const record = parseVtodo(
        ics(
          'BEGIN:VCALENDAR',
          'BEGIN:VTODO',
          'UID:ny',
          'DUE;TZID=America/New_York:20260701T170000',
          'END:VTODO',
          'END:VCALENDAR',
        ),
        'inbox',
      );

      // New York is on daylight time (UTC-4) in July.
      expect(Date.parse(record.due ?? '')).toBe(Date.parse('2026-07-01T21:00:00Z'));
    });
  });

  describe('when there is DTSTART but no DUE', () => {
    it('uses DTSTART as the due time', () => {
      const record = parseVtodo(
        ics(
          'BEGIN:VCALENDAR',
          'BEGIN:VTODO',
          'UID:s',
          'DTSTART:20261125T090000Z',
          'END:VTODO',
          'END:VCALENDAR',
        ),
        'inbox',
      );

      expect(Date.parse(record.due ?? '')).toBe(Date.parse('2026-11-25T09:00:00Z'));
    });
  });

  describe('when the completion is told by STATUS or by COMPLETED alone', () => {
    it('is completed either way', () => {
      const byStatus = parseVtodo(
        ics('BEGIN:VCALENDAR', 'BEGIN:VTODO', 'UID:a', 'STATUS:COMPLETED', 'END:VTODO', 'END:VCALENDAR'),
        'inbox',
      );
      const byTimestamp = parseVtodo(
        ics(
          'BEGIN:VCALENDAR',
          'BEGIN:VTODO',
          'UID:b',
          'COMPLETED:20261125T100000Z',
          'END:VTODO',
          'END:VCALENDAR',
        ),
        'inbox',
      );

      expect(byStatus).toMatchObject({ completed: true, completedAt: null });
      expect(byTimestamp.completed).toBe(true);
      expect(Date.parse(byTimestamp.completedAt ?? '')).toBe(Date.parse('2026-11-25T10:00:00Z'));
    });
  });

  describe('when LAST-MODIFIED is missing', () => {
    it('takes updatedAt from DTSTAMP', () => {
      const record = parseVtodo(
        ics(
          'BEGIN:VCALENDAR',
          'BEGIN:VTODO',
          'UID:a',
          'DTSTAMP:20261125T100000Z',
          'END:VTODO',
          'END:VCALENDAR',
        ),
        'inbox',
      );

      expect(Date.parse(record.updatedAt ?? '')).toBe(Date.parse('2026-11-25T10:00:00Z'));
    });
  });

  describe('when the text holds no VTODO', () => {
    it('throws REM_INVALID_INPUT naming what it found', () => {
      const error = captureError(() =>
        parseVtodo(ics('BEGIN:VCALENDAR', 'BEGIN:VEVENT', 'UID:e', 'END:VEVENT', 'END:VCALENDAR'), 'inbox'),
      );

      expect(error).toMatchObject({ code: 'REM_INVALID_INPUT' });
      expect((error as Error).message).toContain('no VTODO');
      expect((error as Error).message).toContain('VEVENT');
    });
  });

  describe('when the text is not iCalendar at all', () => {
    it('throws REM_INVALID_INPUT', () => {
      expect(captureError(() => parseVtodo('hello world', 'inbox'))).toMatchObject({
        code: 'REM_INVALID_INPUT',
      });
      expect(captureError(() => parseVtodo('', 'inbox'))).toMatchObject({ code: 'REM_INVALID_INPUT' });
    });
  });

  describe('when the local time zone is not UTC', () => {
    it('writes the local offset', async () => {
      const script = [
        `const { parseVtodo } = await import(${JSON.stringify(new URL('./vtodo.ts', import.meta.url).href)});`,
        `const text = ${JSON.stringify(fullTodo)};`,
        `const allDay = text.replace('DUE:20261125T160000Z', 'DUE;VALUE=DATE:20261125');`,
        `console.log(JSON.stringify([parseVtodo(text, 'x').due, parseVtodo(allDay, 'x').due]));`,
      ].join('\n');
      const { stdout } = await execFileAsync(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        { cwd: packageRoot, env: { ...process.env, TZ: 'Europe/Berlin' } },
      );

      expect(JSON.parse(stdout)).toEqual(['2026-11-25T17:00:00+01:00', '2026-11-25T00:00:00+01:00']);
    });
  });
});

describe('serializeVtodo', () => {
  const now = new Date('2026-11-25T10:00:00Z');
  const base: ReminderRecord = {
    uid: 'round-trip-1',
    title: 'Water the plants',
    notes: 'Both balconies; the big one first',
    list: 'home',
    due: '2026-11-26T18:30:00+01:00',
    allDay: false,
    priority: 5,
    flagged: true,
    completed: false,
    completedAt: null,
    url: 'https://example.com/plants',
    tags: ['garden', 'weekly, mostly'],
    repeat: 'FREQ=WEEKLY;BYDAY=MO',
    createdAt: '2026-11-01T08:00:00Z',
    updatedAt: null,
  };

  describe('when there is no previous text', () => {
    it('builds a VCALENDAR with one VTODO that reads back as the same record', () => {
      const text = serializeVtodo(base, undefined, { now });
      const record = parseVtodo(text, 'home');

      expect(contentLines(text)).toEqual(
        expect.arrayContaining([
          'BEGIN:VCALENDAR',
          'VERSION:2.0',
          'PRODID:-//Ballast//rem//EN',
          'BEGIN:VTODO',
          'DTSTAMP:20261125T100000Z',
          'LAST-MODIFIED:20261125T100000Z',
          'CREATED:20261101T080000Z',
          'STATUS:NEEDS-ACTION',
          'END:VCALENDAR',
        ]),
      );
      expect(text.endsWith('END:VCALENDAR\r\n')).toBe(true);
      expect({ ...record, due: Date.parse(record.due ?? ''), createdAt: null, updatedAt: null }).toEqual({
        ...base,
        due: Date.parse(base.due ?? ''),
        createdAt: null,
      });
    });

    it('writes a timed due in UTC', () => {
      const text = serializeVtodo(base, undefined, { now });

      expect(contentLines(text)).toContain('DUE:20261126T173000Z');
    });

    it('writes tags as CATEGORIES and the repeat as RRULE', () => {
      const lines = contentLines(serializeVtodo(base, undefined, { now }));

      expect(lines).toContain('CATEGORIES:garden,weekly\\, mostly');
      expect(lines).toContain('RRULE:FREQ=WEEKLY;BYDAY=MO');
      expect(lines).toContain('X-BALLAST-FLAGGED:TRUE');
    });

    it('sets CREATED to now for a new record without one', () => {
      const text = serializeVtodo({ uid: 'new-1', title: 'New', list: 'inbox' }, undefined, { now });
      const lines = contentLines(text);

      expect(lines).toContain('CREATED:20261125T100000Z');
      expect(lines.some((line) => line.startsWith('DUE'))).toBe(false);
      expect(lines.some((line) => line.startsWith('PRIORITY'))).toBe(false);
      expect(lines.some((line) => line.startsWith('X-BALLAST-FLAGGED'))).toBe(false);
    });
  });

  describe('when text holds Windows or old Mac line breaks', () => {
    it('writes no bare CR and reads back LF line breaks', () => {
      const text = serializeVtodo({ ...base, notes: 'one\r\ntwo\rthree' }, undefined, { now });

      expect(text.replaceAll('\r\n', '')).not.toContain('\r');
      expect(parseVtodo(text, 'home').notes).toBe('one\ntwo\nthree');
    });
  });

  describe('when the due is all-day', () => {
    it('writes DUE as a DATE and reads back as all-day', () => {
      const text = serializeVtodo({ ...base, due: '2026-11-25T00:00:00+01:00', allDay: true }, undefined, {
        now,
      });

      expect(contentLines(text)).toContain('DUE;VALUE=DATE:20261125');
      const record = parseVtodo(text, 'home');
      expect(record.allDay).toBe(true);
      expect(record.due?.slice(0, 10)).toBe('2026-11-25');
    });
  });

  describe('when a reminder is completed and then reopened', () => {
    it('sets and then clears STATUS, PERCENT-COMPLETE and COMPLETED', () => {
      const open = serializeVtodo(base, undefined, { now });
      const done = serializeVtodo({ ...parseVtodo(open, 'home'), completed: true }, open, { now });
      const doneLines = contentLines(done);

      expect(doneLines).toContain('STATUS:COMPLETED');
      expect(doneLines).toContain('PERCENT-COMPLETE:100');
      expect(doneLines).toContain('COMPLETED:20261125T100000Z');
      expect(parseVtodo(done, 'home')).toMatchObject({ completed: true });

      const reopened = serializeVtodo({ ...parseVtodo(done, 'home'), completed: false }, done, { now });
      const reopenedLines = contentLines(reopened);

      expect(reopenedLines).toContain('STATUS:NEEDS-ACTION');
      expect(reopenedLines.some((line) => line.startsWith('PERCENT-COMPLETE'))).toBe(false);
      expect(reopenedLines.some((line) => line.startsWith('COMPLETED'))).toBe(false);
      expect(parseVtodo(reopened, 'home')).toMatchObject({ completed: false, completedAt: null });
    });

    it('keeps a given completion time', () => {
      const text = serializeVtodo(
        { ...base, completed: true, completedAt: '2026-11-20T07:15:00Z' },
        undefined,
        { now },
      );

      expect(contentLines(text)).toContain('COMPLETED:20261120T071500Z');
    });
  });

  describe('when previous text from another tool is given', () => {
    const previous = ics(
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'PRODID:io.barrera.todoman',
      'BEGIN:VTIMEZONE',
      'TZID:Europe/Berlin',
      'BEGIN:STANDARD',
      'DTSTART:19701025T030000',
      'TZOFFSETFROM:+0200',
      'TZOFFSETTO:+0100',
      'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
      'END:STANDARD',
      'BEGIN:DAYLIGHT',
      'DTSTART:19700329T020000',
      'TZOFFSETFROM:+0100',
      'TZOFFSETTO:+0200',
      'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
      'END:DAYLIGHT',
      'END:VTIMEZONE',
      'BEGIN:VTODO',
      'UID:keep-1@example.com',
      'CREATED:20261001T080000Z',
      'DTSTAMP:20261001T080000Z',
      'SUMMARY:Call the plumber',
      'DUE;TZID=Europe/Berlin:20261202T090000',
      'LOCATION:Kitchen',
      'SEQUENCE:3',
      'X-TODOMAN-SOMETHING:kept',
      'PRIORITY:5',
      'STATUS:NEEDS-ACTION',
      'BEGIN:VALARM',
      'ACTION:DISPLAY',
      'DESCRIPTION:Reminder',
      'TRIGGER:-PT15M',
      'END:VALARM',
      'END:VTODO',
      'END:VCALENDAR',
    );

    it('changes only the modelled properties and keeps the rest', () => {
      const record = parseVtodo(previous, 'home');
      const text = serializeVtodo({ ...record, title: 'Call the plumber again', tags: ['house'] }, previous, {
        now,
      });
      const lines = contentLines(text);

      expect(lines).toEqual(
        expect.arrayContaining([
          'PRODID:io.barrera.todoman',
          'BEGIN:VTIMEZONE',
          'TZID:Europe/Berlin',
          'LOCATION:Kitchen',
          'SEQUENCE:3',
          'X-TODOMAN-SOMETHING:kept',
          'BEGIN:VALARM',
          'TRIGGER:-PT15M',
          'END:VALARM',
          'CREATED:20261001T080000Z',
          'SUMMARY:Call the plumber again',
          'CATEGORIES:house',
          'DTSTAMP:20261125T100000Z',
          'LAST-MODIFIED:20261125T100000Z',
        ]),
      );
    });

    it('keeps the TZID of a due that did not change', () => {
      const record = parseVtodo(previous, 'home');
      const text = serializeVtodo({ ...record, priority: 1 }, previous, { now });

      expect(contentLines(text)).toContain('DUE;TZID=Europe/Berlin:20261202T090000');
      expect(Date.parse(parseVtodo(text, 'home').due ?? '')).toBe(Date.parse('2026-12-02T08:00:00Z'));
    });

    it('rewrites a changed due in UTC', () => {
      const record = parseVtodo(previous, 'home');
      const text = serializeVtodo({ ...record, due: '2026-12-03T09:00:00+01:00' }, previous, { now });
      const lines = contentLines(text);

      expect(lines).toContain('DUE:20261203T080000Z');
      expect(lines.filter((line) => line.startsWith('DUE'))).toHaveLength(1);
    });

    it('removes properties whose value was cleared', () => {
      const record = parseVtodo(fullTodo, 'home');
      const text = serializeVtodo(
        { ...record, notes: null, url: null, tags: [], repeat: null, due: null, priority: 0, flagged: false },
        fullTodo,
        { now },
      );
      const names = contentLines(text).map((line) => line.split(/[:;]/)[0]);

      for (const name of [
        'DESCRIPTION',
        'URL',
        'CATEGORIES',
        'RRULE',
        'DUE',
        'PRIORITY',
        'X-BALLAST-FLAGGED',
      ]) {
        expect(names).not.toContain(name);
      }
      expect(names).toContain('SUMMARY');
    });

    it('keeps previous values for fields a new-style record leaves out', () => {
      const text = serializeVtodo({ uid: 'keep-1@example.com', title: 'Renamed', list: 'home' }, previous, {
        now,
      });
      const record = parseVtodo(text, 'home');

      expect(record).toMatchObject({ title: 'Renamed', priority: 5 });
      expect(Date.parse(record.due ?? '')).toBe(Date.parse('2026-12-02T08:00:00Z'));
    });
  });

  describe('when a field is invalid', () => {
    it('refuses a priority outside 0-9 with REM_INVALID_INPUT', () => {
      expect(captureError(() => serializeVtodo({ ...base, priority: 12 }))).toMatchObject({
        code: 'REM_INVALID_INPUT',
      });
    });

    it('refuses an unreadable due with REM_BAD_DATE', () => {
      expect(captureError(() => serializeVtodo({ ...base, due: 'next tuesday' }))).toMatchObject({
        code: 'REM_BAD_DATE',
      });
    });

    it('refuses a repeat that is not an RRULE with REM_INVALID_INPUT', () => {
      expect(captureError(() => serializeVtodo({ ...base, repeat: 'every monday' }))).toMatchObject({
        code: 'REM_INVALID_INPUT',
      });
    });

    it('refuses previous text without a VTODO with REM_INVALID_INPUT', () => {
      expect(
        captureError(() => serializeVtodo(base, ics('BEGIN:VCALENDAR', 'VERSION:2.0', 'END:VCALENDAR'))),
      ).toMatchObject({ code: 'REM_INVALID_INPUT' });
    });
  });
});

describe('quickUid', () => {
  describe('when called twice', () => {
    it('returns two different UUIDs', () => {
      const first = quickUid();
      const second = quickUid();

      expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(second).not.toBe(first);
    });
  });
});
