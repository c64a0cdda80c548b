import { describe, expect, it } from 'vitest';
import { toLocalIso } from './dates.js';
import { RemError } from './errors.js';
import { makeReminder as makeTestReminder } from './reminder.test-helpers.js';
import { shortId } from './reminders.js';
import {
  CSV_COLUMNS,
  detectFormat,
  type ImportEntry,
  parseCsv,
  parseImport,
  toCsv,
  toIcs,
} from './transfer.js';
import type { Reminder } from './types.js';

// Expected dates are built with local-time constructors, so the tests hold in any zone.
const FRIDAY_AFTERNOON = toLocalIso(new Date(2026, 10, 27, 15, 0));
const FRIDAY = toLocalIso(new Date(2026, 10, 27));

/** Exported reminders carry their timestamps. */
function makeReminder(fields: Partial<Reminder> & { uid: string; title: string }): Reminder {
  return makeTestReminder({
    createdAt: '2026-11-20T08:00:00.000Z',
    updatedAt: '2026-11-21T08:00:00.000Z',
    ...fields,
  });
}

/** A reminder with every field set, and text that needs quoting in CSV. */
const FULL = makeReminder({
  uid: 'full-1',
  title: 'Call "Ana", then Bo',
  notes: 'line one\nline two, "quoted"',
  list: 'Work',
  due: FRIDAY_AFTERNOON,
  priority: 1,
  priorityLabel: 'high',
  flagged: true,
  url: 'https://example.com/a?b=1,2',
  tags: ['phone', 'family'],
  repeat: 'FREQ=WEEKLY;BYDAY=FR',
});

/** A completed all-day reminder with leading and trailing spaces in its notes. */
const DONE = makeReminder({
  uid: 'done-2',
  title: 'Water plants',
  notes: '  spaced  ',
  due: FRIDAY,
  allDay: true,
  completed: true,
  completedAt: toLocalIso(new Date(2026, 10, 24, 18, 0)),
});

/** What importing {@link FULL} yields. */
const FULL_ENTRY: ImportEntry = {
  title: 'Call "Ana", then Bo',
  list: 'Work',
  due: FRIDAY_AFTERNOON,
  allDay: false,
  priority: 1,
  notes: 'line one\nline two, "quoted"',
  url: 'https://example.com/a?b=1,2',
  flagged: true,
  tags: ['phone', 'family'],
  repeat: 'FREQ=WEEKLY;BYDAY=FR',
  uid: 'full-1',
};

/** What importing {@link DONE} yields. */
const DONE_ENTRY: ImportEntry = {
  title: 'Water plants',
  list: 'Reminders',
  due: FRIDAY,
  allDay: true,
  priority: 0,
  notes: '  spaced  ',
  uid: 'done-2',
  completed: true,
  completedAt: toLocalIso(new Date(2026, 10, 24, 18, 0)),
};

async function rejection(promise: Promise<unknown>): Promise<RemError> {
  try {
    await promise;
  } catch (error) {
    if (RemError.isInstance(error)) return error as RemError;
    throw error;
  }
  throw new Error('expected a RemError, but the call succeeded');
}

function icsLines(lines: string[]): string {
  return `${lines.join('\r\n')}\r\n`;
}

describe('toCsv', () => {
  describe('when given no reminders', () => {
    it('writes only the header row, ending in CRLF', () => {
      expect(toCsv([])).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
    });
  });

  describe('when given a plain reminder', () => {
    it('writes one row in column order with empty fields for nulls', () => {
      const plain = makeReminder({ uid: 'plain-1', title: 'Buy milk' });
      const [, row] = toCsv([plain]).split('\r\n');
      expect(row).toBe(
        `${shortId('plain-1')},plain-1,Buy milk,,Reminders,,false,0,none,false,false,,,,,2026-11-20T08:00:00.000Z,2026-11-21T08:00:00.000Z`,
      );
    });
  });

  describe('when fields hold quotes, commas, newlines or edge spaces', () => {
    it('quotes those fields and doubles their quotes', () => {
      const text = toCsv([FULL, DONE]);
      expect(text).toContain('"Call ""Ana"", then Bo"');
      expect(text).toContain('"line one\nline two, ""quoted"""');
      expect(toCsv([{ ...DONE, notes: 'windows\r\nlines' }])).toContain(',"windows\r\nlines",');
      expect(text).toContain('"https://example.com/a?b=1,2"');
      expect(text).toContain('"  spaced  "');
    });

    it('joins tags with semicolons', () => {
      expect(toCsv([FULL])).toContain(',phone;family,');
    });
  });
});

describe('parseCsv', () => {
  describe('when reading what toCsv wrote', () => {
    it('returns the header and every field unchanged', () => {
      const rows = parseCsv(toCsv([FULL, DONE]));
      expect(rows).toHaveLength(3);
      expect(rows[0]).toEqual([...CSV_COLUMNS]);
      expect(rows[1]?.[CSV_COLUMNS.indexOf('title')]).toBe('Call "Ana", then Bo');
      expect(rows[1]?.[CSV_COLUMNS.indexOf('notes')]).toBe('line one\nline two, "quoted"');
      expect(rows[1]?.[CSV_COLUMNS.indexOf('url')]).toBe('https://example.com/a?b=1,2');
      expect(rows[2]?.[CSV_COLUMNS.indexOf('notes')]).toBe('  spaced  ');
    });
  });

  describe('when the text starts with a byte order mark', () => {
    it('drops the mark from the first field', () => {
      expect(parseCsv('\ufefftitle,due\r\nBuy milk,tomorrow\r\n')).toEqual([
        ['title', 'due'],
        ['Buy milk', 'tomorrow'],
      ]);
    });
  });

  describe('when lines end in LF or CR, or the last has no ending', () => {
    it('splits rows the same way', () => {
      expect(parseCsv('a,b\nc,d\re,f')).toEqual([
        ['a', 'b'],
        ['c', 'd'],
        ['e', 'f'],
      ]);
    });
  });

  describe('when there are blank lines and empty fields', () => {
    it('drops the blank lines and keeps empty fields', () => {
      expect(parseCsv('a,,c\r\n\r\n,,\r\n"",x\r\n')).toEqual([
        ['a', '', 'c'],
        ['', 'x'],
      ]);
    });
  });

  describe('when a quoted field never ends', () => {
    it('refuses with REM_INVALID_INPUT', () => {
      expect(() => parseCsv('title\r\n"Buy milk\r\n')).toThrow(
        expect.objectContaining({ code: 'REM_INVALID_INPUT', message: 'the CSV ends inside a quoted field' }),
      );
    });
  });
});

describe('detectFormat', () => {
  describe('when the name has a known extension', () => {
    it.each([
      ['export.JSON', 'json'],
      ['export.csv', 'csv'],
      ['calendar.ics', 'ics'],
      ['calendar.ical', 'ics'],
    ])('reads %s as %s whatever the content', (name, format) => {
      expect(detectFormat(name, 'BEGIN:VCALENDAR')).toBe(format);
      expect(detectFormat(name, '[]')).toBe(format);
    });
  });

  describe('when the name says nothing', () => {
    it.each([
      ['  [{"title":"a"}]', 'json'],
      ['{"reminders":[]}', 'json'],
      ['\ufeff[{"title":"a"}]', 'json'],
      ['begin:vcalendar\r\n', 'ics'],
      ['title,due\r\n', 'csv'],
      ['', 'csv'],
    ])('reads %j as %s from the content', (text, format) => {
      expect(detectFormat('', text)).toBe(format);
    });
  });
});

describe('parseImport', () => {
  describe('when given rem JSON export', () => {
    it('reads every field an import carries over', async () => {
      const entries = await parseImport(JSON.stringify([FULL, DONE], null, 2), 'json');
      expect(entries).toEqual([FULL_ENTRY, { ...DONE_ENTRY, tags: [] }]);
    });

    it('reads an object with a reminders array', async () => {
      expect(await parseImport('{"reminders":[{"title":"Buy milk"}]}', 'json')).toEqual([
        { title: 'Buy milk' },
      ]);
    });

    it('reads a byte order mark before the JSON', async () => {
      expect(await parseImport('\ufeff[{"title":"Buy milk"}]', 'json')).toEqual([{ title: 'Buy milk' }]);
    });
  });

  describe('when given JSON from another tool', () => {
    it('takes the title from name or summary and reads loose values', async () => {
      const entries = await parseImport(
        JSON.stringify([
          { name: 'From name', priority: 'high', flagged: 'yes', tags: ['a', 2] },
          { summary: 'From summary', priority: '5', completed: '1', allDay: 'TRUE', tags: 'x;y' },
        ]),
        'json',
      );
      expect(entries).toEqual([
        { title: 'From name', priority: 'high', flagged: true, tags: ['a', '2'] },
        {
          title: 'From summary',
          priority: 5,
          completed: true,
          completedAt: null,
          allDay: true,
          tags: ['x', 'y'],
        },
      ]);
    });
  });

  describe('when the JSON is wrong', () => {
    it('refuses text that is not JSON', async () => {
      const error = await rejection(parseImport('[{"title":', 'json'));
      expect(error.code).toBe('REM_INVALID_INPUT');
      expect(error.message).toMatch(/^the file is not valid JSON: /);
    });

    it('refuses JSON that is not a list of reminders', async () => {
      const error = await rejection(parseImport('{"title":"Buy milk"}', 'json'));
      expect(error.message).toBe(
        'the JSON must be an array of reminders (what `rem export --format json` writes)',
      );
    });

    it('names an entry that is not an object', async () => {
      const error = await rejection(parseImport('[{"title":"a"}, 3]', 'json'));
      expect(error.message).toBe('entry 2 is not an object');
    });

    it('names an entry without a title', async () => {
      const error = await rejection(parseImport('[{"title":"a"}, {"title":"  "}]', 'json'));
      expect(error.code).toBe('REM_INVALID_INPUT');
      expect(error.message).toBe('entry 2 has no title (a "title" field is needed)');
    });
  });

  describe('when given rem CSV export', () => {
    it('reads back what the JSON import reads', async () => {
      const entries = await parseImport(toCsv([FULL, DONE]), 'csv');
      expect(entries).toEqual([FULL_ENTRY, DONE_ENTRY]);
    });
  });

  describe('when given a CSV with a few columns in any order', () => {
    it('reads the columns by their header', async () => {
      expect(await parseImport('due,title,tags\nfri 3pm,Buy milk,shop;food\n,Call Ana,\n', 'csv')).toEqual([
        { title: 'Buy milk', due: 'fri 3pm', tags: ['shop', 'food'] },
        { title: 'Call Ana' },
      ]);
    });
  });

  describe('when the CSV has no title column', () => {
    it('refuses naming the columns rem writes', async () => {
      const error = await rejection(parseImport('name,due\nBuy milk,fri\n', 'csv'));
      expect(error.code).toBe('REM_INVALID_INPUT');
      expect(error.message).toContain('a header row with a "title" column');
      expect(error.message).toContain(CSV_COLUMNS.join(','));
    });

    it('refuses an empty file the same way', async () => {
      expect((await rejection(parseImport('', 'csv'))).code).toBe('REM_INVALID_INPUT');
    });
  });

  describe('when given what toIcs wrote', () => {
    it('reads back the fields iCalendar carries', async () => {
      const entries = await parseImport(await toIcs([FULL, DONE]), 'ics');
      expect(entries).toHaveLength(2);
      const [full, done] = entries;
      expect(full).toMatchObject({
        title: 'Call "Ana", then Bo',
        uid: 'full-1',
        allDay: false,
        priority: 1,
        flagged: true,
        notes: 'line one\nline two, "quoted"',
        url: 'https://example.com/a?b=1,2',
        tags: ['phone', 'family'],
        repeat: 'FREQ=WEEKLY;BYDAY=FR',
      });
      expect(Date.parse(String(full?.due))).toBe(Date.parse(FRIDAY_AFTERNOON));
      expect(full?.completed).toBeUndefined();
      expect(done).toMatchObject({
        title: 'Water plants',
        uid: 'done-2',
        due: FRIDAY,
        allDay: true,
        completed: true,
      });
      expect(Date.parse(done?.completedAt ?? '')).toBe(new Date(2026, 10, 24, 18, 0).getTime());
    });
  });

  describe('when given an iCalendar file from another app', () => {
    const calendar = icsLines([
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'PRODID:-//Other//App//EN',
      'BEGIN:VTIMEZONE',
      'TZID:Europe/Berlin',
      'BEGIN:STANDARD',
      'DTSTART:19701025T030000',
      'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
      'TZOFFSETFROM:+0200',
      'TZOFFSETTO:+0100',
      'END:STANDARD',
      'BEGIN:DAYLIGHT',
      'DTSTART:19700329T020000',
      'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
      'TZOFFSETFROM:+0100',
      'TZOFFSETTO:+0200',
      'END:DAYLIGHT',
      'END:VTIMEZONE',
      'BEGIN:VEVENT',
      'UID:event-1',
      'SUMMARY:Not a todo',
      'DTSTART:20261201T090000Z',
      'END:VEVENT',
      'BEGIN:VTODO',
      'UID:todo-1',
      'SUMMARY:A long title that an app folded ',
      ' over two lines',
      'DUE;TZID=Europe/Berlin:20261201T090000',
      'BEGIN:VALARM',
      'ACTION:DISPLAY',
      'TRIGGER:-PT15M',
      'END:VALARM',
      'END:VTODO',
      'BEGIN:VTODO',
      'UID:todo-2',
      'SUMMARY:Cancelled one',
      'STATUS:CANCELLED',
      'CATEGORIES:home,garden',
      'END:VTODO',
      'END:VCALENDAR',
    ]);

    it('reads every VTODO and nothing else', async () => {
      const entries = await parseImport(calendar, 'ics');
      expect(entries.map((entry) => entry.uid)).toEqual(['todo-1', 'todo-2']);
    });

    it('unfolds long lines', async () => {
      const [first] = await parseImport(calendar, 'ics');
      expect(first?.title).toBe('A long title that an app folded over two lines');
    });

    it('converts a TZID due through the file time zone', async () => {
      const [first] = await parseImport(calendar, 'ics');
      expect(Date.parse(String(first?.due))).toBe(Date.UTC(2026, 11, 1, 8, 0));
      expect(first?.allDay).toBe(false);
    });

    it('reads a cancelled VTODO as completed, with its categories as tags', async () => {
      const [, second] = await parseImport(calendar, 'ics');
      expect(second).toMatchObject({ title: 'Cancelled one', completed: true, tags: ['home', 'garden'] });
    });
  });

  describe('when the iCalendar file is wrong', () => {
    it('refuses a file without VTODO', async () => {
      const error = await rejection(
        parseImport(icsLines(['BEGIN:VCALENDAR', 'VERSION:2.0', 'END:VCALENDAR']), 'ics'),
      );
      expect(error.code).toBe('REM_INVALID_INPUT');
      expect(error.message).toBe('the iCalendar file holds no VTODO');
    });

    it('names a VTODO without SUMMARY', async () => {
      const text = icsLines([
        'BEGIN:VCALENDAR',
        'VERSION:2.0',
        'BEGIN:VTODO',
        'UID:a',
        'SUMMARY:Fine',
        'END:VTODO',
        'BEGIN:VTODO',
        'UID:b',
        'END:VTODO',
        'END:VCALENDAR',
      ]);
      const error = await rejection(parseImport(text, 'ics'));
      expect(error.code).toBe('REM_INVALID_INPUT');
      expect(error.message).toBe('VTODO 2 has no SUMMARY');
    });
  });
});

describe('toIcs', () => {
  describe('when given reminders', () => {
    it('writes one VCALENDAR with a VTODO each, every line ending in CRLF', async () => {
      const text = await toIcs([FULL, DONE]);
      expect(text.startsWith('BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Ballast//rem//EN\r\n')).toBe(true);
      expect(text.endsWith('\r\nEND:VCALENDAR\r\n')).toBe(true);
      expect(text.match(/^BEGIN:VTODO\r$/gm)).toHaveLength(2);
      expect(text.match(/^END:VTODO\r$/gm)).toHaveLength(2);
      expect(text.match(/^BEGIN:VCALENDAR\r$/gm)).toHaveLength(1);
      expect(text.replaceAll('\r\n', '')).not.toMatch(/[\r\n]/);
    });

    it('writes a timed due in UTC and an all-day due as a date', async () => {
      const text = await toIcs([FULL, DONE]);
      const utc = new Date(FRIDAY_AFTERNOON).toISOString().replace(/[-:]/g, '').replace('.000', '');
      expect(text).toContain(`DUE:${utc}\r\n`);
      expect(text).toContain('DUE;VALUE=DATE:20261127\r\n');
    });

    it('writes the uid, title and completion', async () => {
      const text = await toIcs([DONE]);
      expect(text).toContain('UID:done-2\r\n');
      expect(text).toContain('SUMMARY:Water plants\r\n');
      expect(text).toContain('STATUS:COMPLETED\r\n');
    });
  });

  describe('when notes hold Windows line breaks', () => {
    // RFC 5545 allows no bare CR inside a content line.
    it('writes no bare CR inside a line', async () => {
      const text = await toIcs([{ ...DONE, notes: 'windows\r\nlines' }]);
      expect(text.replaceAll('\r\n', '')).not.toContain('\r');
    });
  });

  describe('when given no reminders', () => {
    it('writes an empty calendar without blank lines', async () => {
      expect(await toIcs([])).toBe(
        'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Ballast//rem//EN\r\nEND:VCALENDAR\r\n',
      );
    });
  });
});
