import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFreshVtodo } from './fresh-vtodo.js';
import { quickParseVtodo } from './quick-vtodo.js';
import { parseVtodo, serializeVtodo } from './vtodo.js';

const now = new Date(Date.UTC(2026, 10, 25, 10, 30, 15));

const wrap = (...lines: string[]): string =>
  [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//test//EN',
    'BEGIN:VTODO',
    ...lines,
    'END:VTODO',
    'END:VCALENDAR',
    '',
  ].join('\r\n');

/** Files rem can read without ical.js: every one must read exactly as parseVtodo reads it. */
const plain: Record<string, string> = {
  minimal: wrap('UID:a', 'SUMMARY:Buy milk', 'DTSTAMP:20261101T000000Z'),
  allFields: wrap(
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
  allDay: wrap('UID:c', 'SUMMARY:Day', 'DUE;VALUE=DATE:20261224'),
  floating: wrap('UID:d', 'SUMMARY:Local', 'DUE:20261224T090000'),
  startOnly: wrap('UID:e', 'SUMMARY:Start', 'DTSTART:20261224T090000Z'),
  cancelled: wrap('UID:f', 'SUMMARY:Gone', 'STATUS:CANCELLED'),
  completedStamp: wrap('UID:g', 'SUMMARY:Done', 'COMPLETED:20261120T080000Z', 'PERCENT-COMPLETE:100'),
  withAlarm: wrap(
    'UID:h',
    'SUMMARY:Alarmed',
    'BEGIN:VALARM',
    'ACTION:DISPLAY',
    'DESCRIPTION:not the notes',
    'TRIGGER:-PT15M',
    'END:VALARM',
    'DUE:20261201T100000Z',
  ),
  folded: wrap(
    'UID:i',
    `SUMMARY:${'long title '.repeat(6)}`.replace(/(.{70})/, '$1\r\n '),
    'X-OTHER;FOO=bar:kept',
  ),
  lfOnly: wrap('UID:j', 'SUMMARY:Unix endings', 'PRIORITY:9').replace(/\r\n/g, '\n'),
  badPriority: wrap('UID:k', 'SUMMARY:Odd', 'PRIORITY:12'),
};

/** Files that need ical.js: the quick reader must step aside. */
const needsIcal: Record<string, string> = {
  tzid: wrap('UID:x', 'SUMMARY:Zoned', 'DUE;TZID=Europe/Berlin:20261201T100000'),
  rrule: wrap('UID:y', 'SUMMARY:Weekly', 'DUE:20261201T100000Z', 'RRULE:FREQ=WEEKLY;BYDAY=MO'),
  oddEscape: wrap('UID:z', 'SUMMARY:Colon \\: escaped'),
  quotedParam: wrap('UID:q', 'SUMMARY;ALTREP="http://x.example/a:b":Quoted'),
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
    const todoman = '/usr/bin/todoman';
    it.skipIf(!existsSync(todoman) && process.env.BALLAST_REQUIRE_TODOMAN !== '1')(
      `reads it as parseVtodo does${existsSync(todoman) ? '' : ' (skipped: apt-get install todoman to run it)'}`,
      () => {
        const root = mkdtempSync(join(tmpdir(), 'rem-quick-'));
        try {
          mkdirSync(join(root, 'work'));
          const config = join(root, 'config.py');
          writeFileSync(
            config,
            `path = "${root}/*"\ndate_format = "%Y-%m-%d"\ntime_format = "%H:%M"\ndefault_list = "work"\n`,
          );
          const env = { ...process.env, HOME: root, XDG_CACHE_HOME: join(root, 'cache') };
          execFileSync(todoman, ['--config', config, 'new', '-l', 'work', 'Plain one'], { env });
          execFileSync(
            todoman,
            [
              '--config',
              config,
              'new',
              '-l',
              'work',
              '--due',
              '2026-12-01 10:00',
              '--priority',
              'high',
              'Due, with comma',
            ],
            { env },
          );
          execFileSync(todoman, ['--config', config, 'done', '1'], { env });
          const files = readdirSync(join(root, 'work')).filter((name) => name.endsWith('.ics'));
          expect(files).toHaveLength(2);
          for (const file of files) {
            const text = readFileSync(join(root, 'work', file), 'utf8');
            const quick = quickParseVtodo(text, 'work');
            if (quick !== undefined) expect(quick).toEqual(parseVtodo(text, 'work'));
          }
        } finally {
          rmSync(root, { recursive: true, force: true });
        }
      },
    );
  });
});
