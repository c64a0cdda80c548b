import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReminderRecord } from '../types.js';
import { writeFreshVtodo } from './fresh-vtodo.js';
import { quickPatchVtodo } from './quick-patch.js';
import { parseVtodo, serializeVtodo } from './vtodo.js';
import { skipWithoutTodoman, todomanSkipReason, withTodoman, wrapVtodo } from './vtodo.test-helpers.js';

const written = new Date(Date.UTC(2026, 10, 20, 9, 0, 0));
const now = new Date(Date.UTC(2026, 10, 25, 10, 30, 15));

/** Files other tools write that the patcher takes on. */
const foreign: Record<string, string> = {
  minimal: wrapVtodo('UID:a', 'SUMMARY:Buy milk', 'DTSTAMP:20261101T000000Z'),
  lowerCaseNames: wrapVtodo('uid:b', 'summary:Lower', 'dtstamp:20261101T000000Z', 'status:needs-action'),
  inProcess: wrapVtodo('UID:c', 'SUMMARY:Half', 'STATUS:IN-PROCESS', 'PERCENT-COMPLETE:50'),
  done: wrapVtodo(
    'UID:d',
    'SUMMARY:Done',
    'STATUS:COMPLETED',
    'COMPLETED:20261120T080000Z',
    'PERCENT-COMPLETE:100',
  ),
  cancelled: wrapVtodo('UID:e', 'SUMMARY:Gone', 'STATUS:CANCELLED'),
  withAlarm: wrapVtodo(
    'UID:f',
    'SUMMARY:Alarmed',
    'DUE:20261201T100000Z',
    'BEGIN:VALARM',
    'ACTION:DISPLAY',
    'DESCRIPTION:not the notes',
    'TRIGGER:-PT15M',
    'END:VALARM',
  ),
  todomanStyle: wrapVtodo(
    'CREATED;VALUE=DATE-TIME:20261125T045508Z',
    'DTSTAMP;VALUE=DATE-TIME:20261125T045508Z',
    'DUE;VALUE=DATE-TIME:20261201T100000Z',
    'LAST-MODIFIED;VALUE=DATE-TIME:20261125T045508Z',
    'PRIORITY:4',
    'SEQUENCE:1',
    'STATUS:NEEDS-ACTION',
    'SUMMARY:Due\\, with comma',
    'UID:5d1d0c4f@vm',
  ),
  foldedAndExtras: wrapVtodo(
    'UID:g',
    `SUMMARY:${'long title '.repeat(8)}`.replace(/(.{70})/, '$1\r\n '),
    'X-OTHER;FOO=bar:kept',
    'DESCRIPTION:two\\nlines\\, escaped',
    'CATEGORIES:a,b',
    'DUE;VALUE=DATE:20261224',
  ),
};

/** Files the patcher must leave to serializeVtodo. */
const declined: Record<string, string> = {
  lfEndings: wrapVtodo('UID:x', 'SUMMARY:Unix').replace(/\r\n/g, '\n'),
  tzid: wrapVtodo('UID:y', 'SUMMARY:Zoned', 'DUE;TZID=Europe/Berlin:20261201T100000'),
  rrule: wrapVtodo('UID:z', 'SUMMARY:Weekly', 'DUE:20261201T100000Z', 'RRULE:FREQ=WEEKLY'),
  stampWithParams: wrapVtodo('UID:p', 'SUMMARY:Param', 'DTSTAMP;X-A=b:20261101T000000Z'),
  statusWithParams: wrapVtodo('UID:s', 'SUMMARY:Param', 'STATUS;X-A=b:NEEDS-ACTION'),
  oddPercent: wrapVtodo('UID:o', 'SUMMARY:Odd', 'PERCENT-COMPLETE:lots'),
};

type Change = (record: ReminderRecord) => ReminderRecord;

/** The edits `rem complete` and `rem uncomplete` make. */
const completions: Record<string, Change> = {
  complete: (record) => ({ ...record, completed: true, completedAt: null }),
  'complete at a time': (record) => ({
    ...record,
    completed: true,
    completedAt: '2026-11-24T18:00:00+01:00',
  }),
  uncomplete: (record) => ({ ...record, completed: false, completedAt: null }),
};

const read = (text: string): ReminderRecord => parseVtodo(text, 'work');

describe('quickPatchVtodo', () => {
  describe('when only the completion changes', () => {
    it('writes what serializeVtodo writes, byte for byte, over files rem wrote', () => {
      const records = [
        { uid: 'r1', title: 'Fresh', list: 'work', due: '2026-12-01T14:30:00+01:00', priority: 1 },
        { uid: 'r2', title: 'All day', list: 'work', due: '2026-12-24', allDay: true, notes: 'x\ny;z' },
        { uid: 'r3', title: 'Tagged', list: 'work', tags: ['a', 'b'], flagged: true, url: 'https://e.x' },
        { uid: 'r4', title: 'Done', list: 'work', completed: true },
      ];
      let patched = 0;
      for (const record of records) {
        const files = [writeFreshVtodo(record, written), serializeVtodo(record, undefined, { now: written })];
        for (const text of files) {
          for (const [name, change] of Object.entries(completions)) {
            const next = change(read(text));
            const quick = quickPatchVtodo(next, text, now);
            expect(quick, `${record.uid} ${name}`).toBeDefined();
            expect(quick, `${record.uid} ${name}`).toBe(serializeVtodo(next, text, { now }));
            patched += 1;
          }
        }
      }
      expect(patched).toBe(24);
    });

    it('reads back as serializeVtodo output does over other tools’ files, and keeps their other lines', () => {
      for (const [name, text] of Object.entries(foreign)) {
        for (const [edit, change] of Object.entries(completions)) {
          const next = change(read(text));
          const quick = quickPatchVtodo(next, text, now);
          expect(quick, `${name} ${edit}`).toBeDefined();
          expect(read(quick as string), `${name} ${edit}`).toEqual(read(serializeVtodo(next, text, { now })));
          const touched = /^(DTSTAMP|CREATED|LAST-MODIFIED|STATUS|PERCENT-COMPLETE|COMPLETED)[:;]/i;
          const kept = (ics: string): string[] =>
            ics
              .split('\r\n ')
              .join('')
              .split('\r\n')
              .filter((line) => !touched.test(line));
          expect(kept(quick as string), `${name} ${edit}`).toEqual(kept(text));
        }
      }
    });

    it('puts new properties before an alarm, where RFC 5545 wants them', () => {
      const text = foreign.withAlarm as string;
      const quick = quickPatchVtodo(
        { ...read(text), completed: true, completedAt: null },
        text,
        now,
      ) as string;
      const lines = quick.split('\r\n');
      expect(lines.indexOf('COMPLETED:20261125T103015Z')).toBeGreaterThan(0);
      expect(lines.indexOf('COMPLETED:20261125T103015Z')).toBeLessThan(lines.indexOf('BEGIN:VALARM'));
      expect(lines.filter((line) => line === 'DESCRIPTION:not the notes')).toHaveLength(1);
    });
  });

  describe('when it cannot be sure', () => {
    it('declines files that need ical.js or have parameters on the lines it would change', () => {
      for (const [name, text] of Object.entries(declined)) {
        const next = { ...read(text), completed: true, completedAt: null };
        expect(quickPatchVtodo(next, text, now), name).toBeUndefined();
      }
    });

    it('declines any change besides the completion', () => {
      const text = writeFreshVtodo({ uid: 'c1', title: 'One', list: 'work', due: '2026-12-01' }, written);
      const record = read(text);
      const others: Array<Partial<ReminderRecord>> = [
        { title: 'Two' },
        { notes: 'new notes' },
        { due: '2026-12-02T10:00:00Z', allDay: false },
        { due: null },
        { priority: 5 },
        { flagged: true },
        { url: 'https://example.com' },
        { tags: ['x'] },
        { repeat: 'FREQ=DAILY' },
        { uid: 'c2' },
      ];
      for (const other of others) {
        expect(
          quickPatchVtodo({ ...record, ...other, completed: true }, text, now),
          JSON.stringify(other),
        ).toBeUndefined();
      }
      // The same record with nothing changed but the completion is patched.
      expect(quickPatchVtodo({ ...record, completed: true }, text, now)).toBeDefined();
    });

    it('declines a completion time that is not a date, so serializeVtodo reports it', () => {
      const text = foreign.minimal as string;
      const next = { ...read(text), completed: true, completedAt: 'soon' };
      expect(quickPatchVtodo(next, text, now)).toBeUndefined();
      expect(() => serializeVtodo(next, text, { now })).toThrow(/completedAt "soon"/);
    });
  });

  describe('when todoman wrote the file', () => {
    it.skipIf(skipWithoutTodoman)(
      `completes it as serializeVtodo does, and todoman reads it as done${todomanSkipReason}`,
      () => {
        withTodoman(({ listPath, todo }) => {
          todo('new', '-l', 'work', '--due', '2026-12-01 10:00', '--priority', 'high', 'Due, with comma');
          const [file] = readdirSync(listPath).filter((name) => name.endsWith('.ics'));
          const path = join(listPath, file as string);
          const text = readFileSync(path, 'utf8');
          const next = { ...read(text), completed: true, completedAt: null };
          const quick = quickPatchVtodo(next, text, now);
          expect(quick).toBeDefined();
          expect(read(quick as string)).toEqual(read(serializeVtodo(next, text, { now })));
          writeFileSync(path, quick as string);
          const listed = JSON.parse(todo('--porcelain', 'list', '--status', 'ANY')) as Array<{
            summary: string;
            completed: boolean;
          }>;
          expect(listed).toEqual([expect.objectContaining({ summary: 'Due, with comma', completed: true })]);
        });
      },
    );
  });
});
