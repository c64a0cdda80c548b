import { describe, expect, it } from 'vitest';
import type { ReminderRecord } from '../types.js';
import { freshRecord, writeFreshVtodo } from './fresh-vtodo.js';
import { parseVtodo, serializeVtodo } from './vtodo.js';

const now = new Date(Date.UTC(2026, 10, 25, 10, 30, 15, 678));

const records: Array<Parameters<typeof writeFreshVtodo>[0] & { list: string }> = [
  { uid: 'plain-1', title: 'Buy milk', list: 'home' },
  {
    uid: 'full-2@example.com',
    title: 'Ship; the, release \\ now',
    list: 'work',
    notes: 'line one\r\nline two\rthree',
    due: '2026-12-01T14:30:00+01:00',
    priority: 5,
    flagged: true,
    url: 'https://example.com/a?b=c',
    tags: ['ops', ' release ', 'ops'],
    repeat: 'FREQ=WEEKLY;BYDAY=MO,FR',
  },
  { uid: 'day-3', title: 'All day', list: 'home', due: '2026-12-24T00:00:00+00:00', allDay: true },
  {
    uid: 'done-4',
    title: 'Imported and done',
    list: 'home',
    completed: true,
    completedAt: '2026-11-20T08:00:00Z',
  },
  { uid: 'long-5', title: `Ünïcödé ${'long title '.repeat(20)}`, list: 'home', notes: '€'.repeat(60) },
];

describe('writeFreshVtodo', () => {
  describe('when a new reminder is written', () => {
    it('reads back the same as what serializeVtodo writes, without ical.js on the write path', () => {
      for (const record of records) {
        const fast = parseVtodo(writeFreshVtodo(record, now), record.list);
        const reference = parseVtodo(serializeVtodo(record, undefined, { now }), record.list);
        expect(fast).toEqual(reference);
      }
    });

    it('folds long lines at 75 octets without splitting a character', () => {
      const text = writeFreshVtodo(records[4] as (typeof records)[number], now);
      for (const line of text.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
      expect(text).not.toContain('\uFFFD');
    });
  });
});

describe('freshRecord', () => {
  describe('when given what was written', () => {
    it('equals what parsing the written text gives', () => {
      for (const record of records) {
        const parsed: ReminderRecord = parseVtodo(writeFreshVtodo(record, now), record.list);
        expect(freshRecord(record, now)).toEqual(parsed);
      }
    });
  });
});
