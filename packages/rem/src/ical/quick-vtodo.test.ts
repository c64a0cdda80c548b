import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFreshVtodo } from './fresh-vtodo.js';
import { quickParseVtodo } from './quick-vtodo.js';
import { parseVtodo, serializeVtodo } from './vtodo.js';
import { skipWithoutTodoman, todomanSkipReason, withTodoman, wrapVtodo } from './vtodo.test-helpers.js';

const now = new Date(Date.UTC(2026, 10, 25, 10, 30, 15));

/** Files rem can read without ical.js: every one must read exactly as parseVtodo reads it. */
const plain: Record<string, string> = {
  minimal: wrapVtodo('UID:a', 'SUMMARY:Buy milk', 'DTSTAMP:20261101T000000Z'),
  allFields: wrapVtodo(
    'UID:b@example.com',
    'DTSTAMP:20261101T080000Z',
    'CREATED:20261001T080000Z',
    'LAST-MODIFIED:20261102T080000Z',
    'SUMMARY:Ship\\, then \\; rest \\\\ done',
    'DESCRIPTION:line one\\nline two\\Nthree',
    'DUE:20261201T143000Z',
    'PRIORITY:5',
    'STATUS:NEEDS-ACTION',
    'URL:https://example.com/a?b=c',
    'CATEGORIES:ops,release',
    'CATEGORIES:ops, later ',
    'X-BALLAST-FLAGGED:TRUE',
  ),
  allDay: wrapVtodo('UID:c', 'SUMMARY:Day', 'DUE;VALUE=DATE:20261224'),
  floating: wrapVtodo('UID:d', 'SUMMARY:Local', 'DUE:20261224T090000'),
  startOnly: wrapVtodo('UID:e', 'SUMMARY:Start', 'DTSTART:20261224T090000Z'),
  cancelled: wrapVtodo('UID:f', 'SUMMARY:Gone', 'STATUS:CANCELLED'),
  completedStamp: wrapVtodo('UID:g', 'SUMMARY:Done', 'COMPLETED:20261120T080000Z', 'PERCENT-COMPLETE:100'),
  withAlarm: wrapVtodo(
    'UID:h',
    'SUMMARY:Alarmed',
    'BEGIN:VALARM',
    'ACTION:DISPLAY',
    'DESCRIPTION:not the notes',
    'TRIGGER:-PT15M',
    'END:VALARM',
    'DUE:20261201T100000Z',
  ),
  folded: wrapVtodo(
    'UID:i',
    `SUMMARY:${'long title '.repeat(6)}`.replace(/(.{70})/, '$1\r\n '),
    'X-OTHER;FOO=bar:kept',
  ),
  lfOnly: wrapVtodo('UID:j', 'SUMMARY:Unix endings', 'PRIORITY:9').replace(/\r\n/g, '\n'),
  badPriority: wrapVtodo('UID:k', 'SUMMARY:Odd', 'PRIORITY:12'),
};

/** Files that need ical.js: the quick reader must step aside. */
const needsIcal: Record<string, string> = {
  tzid: wrapVtodo('UID:x', 'SUMMARY:Zoned', 'DUE;TZID=Europe/Berlin:20261201T100000'),
  rrule: wrapVtodo('UID:y', 'SUMMARY:Weekly', 'DUE:20261201T100000Z', 'RRULE:FREQ=WEEKLY;BYDAY=MO'),
  oddEscape: wrapVtodo('UID:z', 'SUMMARY:Colon \\: escaped'),
  quotedParam: wrapVtodo('UID:q', 'SUMMARY;ALTREP="http://x.example/a:b":Quoted'),
};

describe('quickParseVtodo', () => {
  describe('when the file is plain', () => {
    it('reads every field as parseVtodo does', () => {
      for (const [name, text] of Object.entries(plain)) {
        const quick = quickParseVtodo(text, 'work');
        expect(quick, name).toBeDefined();
        expect(quick, name).toEqual(parseVtodo(text, 'work'));
      }
    });

    it('reads what rem writes, fresh and rewritten, as parseVtodo does', () => {
      const records = [
        {
          uid: 'r1',
          title: 'Fresh',
          list: 'work',
          due: '2026-12-01T14:30:00+01:00',
          priority: 1,
          tags: ['a', 'b'],
        },
        {
          uid: 'r2',
          title: 'All day, with notes',
          list: 'work',
          due: '2026-12-24',
          allDay: true,
          notes: 'x\ny;z,w',
        },
        {
          uid: 'r3',
          title: 'Done',
          list: 'work',
          completed: true,
          flagged: true,
          url: 'https://example.com',
        },
      ];
      for (const record of records) {
        for (const text of [writeFreshVtodo(record, now), serializeVtodo(record, undefined, { now })]) {
          const quick = quickParseVtodo(text, 'work');
          expect(quick, record.uid).toBeDefined();
          expect(quick, record.uid).toEqual(parseVtodo(text, 'work'));
        }
      }
    });
  });

  describe('when the file needs ical.js', () => {
    it('answers undefined so the caller falls back', () => {
      for (const [name, text] of Object.entries(needsIcal)) {
        expect(quickParseVtodo(text, 'work'), name).toBeUndefined();
        expect(() => parseVtodo(text, 'work'), name).not.toThrow();
      }
    });

    it('answers undefined for text without a VTODO', () => {
      expect(quickParseVtodo('BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n', 'work')).toBeUndefined();
    });
  });

  describe('when todoman wrote the file', () => {
    it.skipIf(skipWithoutTodoman)(`reads it as parseVtodo does${todomanSkipReason}`, () => {
      withTodoman(({ listPath, todo }) => {
        todo('new', '-l', 'work', 'Plain one');
        todo('new', '-l', 'work', '--due', '2026-12-01 10:00', '--priority', 'high', 'Due, with comma');
        todo('done', '1');
        const files = readdirSync(listPath).filter((name) => name.endsWith('.ics'));
        expect(files).toHaveLength(2);
        for (const file of files) {
          const text = readFileSync(join(listPath, file), 'utf8');
          const quick = quickParseVtodo(text, 'work');
          if (quick !== undefined) expect(quick).toEqual(parseVtodo(text, 'work'));
        }
      });
    });
  });
});
