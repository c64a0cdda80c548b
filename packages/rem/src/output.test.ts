import { describe, expect, it } from 'vitest';
import { toLocalIso } from './dates.js';
import {
  createPaint,
  humanDue,
  renderLists,
  renderReminder,
  renderReminders,
  renderStats,
  renderTable,
  toJson,
} from './output.js';
import { makeReminder } from './reminder.test-helpers.js';
import type { ListSummary, ReminderStats } from './reminders.js';

// Expected dates are built with local-time constructors, so the tests hold in any zone.
/** Wednesday 25 November 2026, 10:30 local time. */
const NOW = new Date(2026, 10, 25, 10, 30);
const ESCAPE = '\u001b';
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI colour codes is the point
const ANSI_CODE = /\u001b\[\d+m/g;

function stripAnsi(text: string): string {
  return text.replace(ANSI_CODE, '');
}

const OVERDUE = makeReminder({
  uid: 'overdue-1',
  title: 'Pay rent',
  due: toLocalIso(new Date(2026, 10, 24, 9, 0)),
  priority: 1,
  priorityLabel: 'high',
  flagged: true,
});
const TODAY_ALL_DAY = makeReminder({
  uid: 'today-2',
  title: 'Water plants',
  list: 'Home',
  due: toLocalIso(new Date(2026, 10, 25)),
  allDay: true,
  priority: 5,
  priorityLabel: 'medium',
});
const DONE = makeReminder({
  uid: 'done-3',
  title: 'Filed taxes',
  list: 'Work',
  completed: true,
  completedAt: toLocalIso(new Date(2026, 10, 20, 12, 0)),
  priority: 9,
  priorityLabel: 'low',
});

describe('createPaint', () => {
  describe('when disabled', () => {
    it('returns every text unchanged, without escape codes', () => {
      const paint = createPaint(false);
      const painted = [
        paint.dim('a'),
        paint.bold('b'),
        paint.red('c'),
        paint.yellow('d'),
        paint.green('e'),
        paint.cyan('f'),
      ];
      expect(painted).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    });
  });

  describe('when enabled', () => {
    it('wraps text in the ANSI codes of each style', () => {
      const paint = createPaint(true);
      expect(paint.red('x')).toBe(`${ESCAPE}[31mx${ESCAPE}[39m`);
      expect(paint.bold('x')).toBe(`${ESCAPE}[1mx${ESCAPE}[22m`);
      expect(paint.dim('x')).toBe(`${ESCAPE}[2mx${ESCAPE}[22m`);
    });
  });
});

describe('renderTable', () => {
  describe('when cells have different widths', () => {
    it('pads each column to its widest cell, two spaces apart, under a rule', () => {
      expect(
        renderTable(
          ['NAME', 'N', 'NOTE'],
          [
            ['a', '10', 'x'],
            ['longer', '2', 'yy'],
          ],
        ),
      ).toBe(['NAME    N   NOTE', '──────  ──  ────', 'a       10  x', 'longer  2   yy'].join('\n'));
    });
  });

  describe('when cells hold colour codes', () => {
    it('aligns by the visible text only', () => {
      const paint = createPaint(true);
      const coloured = renderTable(
        ['NAME', 'STATE'],
        [
          [paint.red('a'), 'open'],
          ['longer', paint.green('done')],
        ],
      );
      const plain = renderTable(
        ['NAME', 'STATE'],
        [
          ['a', 'open'],
          ['longer', 'done'],
        ],
      );
      expect(coloured).toContain(ESCAPE);
      expect(stripAnsi(coloured)).toBe(plain);
    });
  });

  describe('when trailing cells are empty', () => {
    it('leaves no trailing spaces and no trailing newline', () => {
      const table = renderTable(['A', 'B'], [['wide cell', '']]);
      expect(table.split('\n').filter((line) => line !== line.trimEnd())).toEqual([]);
      expect(table.endsWith('\n')).toBe(false);
    });
  });
});

describe('humanDue', () => {
  describe('when there is no due', () => {
    it('returns an empty text', () => {
      expect(humanDue({ due: null, allDay: false }, NOW)).toBe('');
    });
  });

  describe('when the due is near', () => {
    it.each([
      [new Date(2026, 10, 25, 17, 0), false, 'today 17:00'],
      [new Date(2026, 10, 25), true, 'today'],
      [new Date(2026, 10, 26), true, 'tomorrow'],
      [new Date(2026, 10, 24, 9, 5), false, 'yesterday 09:05'],
      [new Date(2026, 10, 28, 9, 0), false, 'Sat 09:00'],
    ])('shows %s (all-day %s) as %s', (date, allDay, expected) => {
      expect(humanDue({ due: toLocalIso(date), allDay }, NOW)).toBe(expected);
    });
  });

  describe('when the due is a week or more away in the same year', () => {
    it('shows the weekday, day and month', () => {
      expect(humanDue({ due: toLocalIso(new Date(2026, 11, 5)), allDay: true }, NOW)).toBe('Sat 5 Dec');
      expect(humanDue({ due: toLocalIso(new Date(2026, 10, 20, 8, 0)), allDay: false }, NOW)).toBe(
        'Fri 20 Nov 08:00',
      );
    });
  });

  describe('when the due is in another year', () => {
    it('shows the ISO date', () => {
      expect(humanDue({ due: toLocalIso(new Date(2027, 0, 5, 9, 0)), allDay: false }, NOW)).toBe(
        '2027-01-05 09:00',
      );
    });
  });

  describe('when the due was written in another zone', () => {
    it('shows it in local time', () => {
      const due = new Date(2026, 10, 25, 17, 0);
      expect(humanDue({ due: due.toISOString(), allDay: false }, NOW)).toBe('today 17:00');
    });
  });
});

describe('renderReminders', () => {
  describe('when the format is json', () => {
    it('writes the reminders as they are', () => {
      const reminders = [OVERDUE, DONE];
      expect(JSON.parse(renderReminders(reminders, 'json', createPaint(true), NOW))).toEqual(reminders);
    });
  });

  describe('when the format is plain', () => {
    it('writes one tab-separated line per reminder, without colour', () => {
      const text = renderReminders([OVERDUE, DONE], 'plain', createPaint(true), NOW);
      expect(text.split('\n')).toEqual([
        [OVERDUE.id, '-', 'Reminders', OVERDUE.due, 'high', 'Pay rent'].join('\t'),
        [DONE.id, 'x', 'Work', '', 'low', 'Filed taxes'].join('\t'),
      ]);
    });
  });

  describe('when the format is table', () => {
    it('shows a header, a row per reminder and a count', () => {
      const lines = renderReminders([OVERDUE, TODAY_ALL_DAY, DONE], 'table', createPaint(false), NOW).split(
        '\n',
      );
      expect(lines[0]).toMatch(/^ID\s+PRI\s+TITLE\s+LIST\s+DUE$/);
      expect(lines).toHaveLength(6);
      expect(lines[2]).toMatch(
        new RegExp(`^${OVERDUE.id}\\s+!!!\\s+⚑\\s+Pay rent\\s+Reminders\\s+yesterday 09:00$`),
      );
      expect(lines[3]).toMatch(new RegExp(`^${TODAY_ALL_DAY.id}\\s+!!\\s+Water plants\\s+Home\\s+today$`));
      expect(lines[4]).toMatch(new RegExp(`^${DONE.id}\\s+✓\\s+!\\s+Filed taxes\\s+Work$`));
      expect(lines[5]).toBe('3 reminders');
    });

    it('says "1 reminder" for one', () => {
      expect(renderReminders([DONE], 'table', createPaint(false), NOW).endsWith('\n1 reminder')).toBe(true);
    });

    it('says so when there are none', () => {
      expect(renderReminders([], 'table', createPaint(false), NOW)).toBe('No reminders.');
    });

    it('cuts a long title to 60 characters with an ellipsis', () => {
      const long = makeReminder({ uid: 'long-1', title: 'x'.repeat(80) });
      const text = renderReminders([long], 'table', createPaint(false), NOW);
      expect(text).toContain(`${'x'.repeat(59)}…`);
      expect(text).not.toContain('x'.repeat(60));
    });

    it('emits no escape codes when paint is off', () => {
      expect(renderReminders([OVERDUE, TODAY_ALL_DAY, DONE], 'table', createPaint(false), NOW)).not.toContain(
        ESCAPE,
      );
    });

    it('colours a past timed due red but not an all-day due today', () => {
      const paint = createPaint(true);
      const text = renderReminders([OVERDUE, TODAY_ALL_DAY], 'table', paint, NOW);
      expect(text).toContain(paint.red('yesterday 09:00'));
      expect(text).not.toContain(paint.red('today'));
    });

    it('keeps columns aligned when colours are on', () => {
      const lines = stripAnsi(
        renderReminders([OVERDUE, TODAY_ALL_DAY, DONE], 'table', createPaint(true), NOW),
      ).split('\n');
      const listColumn = lines[0]?.indexOf('LIST');
      expect(lines[2]?.indexOf('Reminders')).toBe(listColumn);
      expect(lines[3]?.indexOf('Home')).toBe(listColumn);
      expect(lines[4]?.indexOf('Work')).toBe(listColumn);
    });
  });
});

describe('renderReminder', () => {
  describe('when the format is table', () => {
    it('shows the set fields with names and leaves out the empty ones', () => {
      const text = renderReminder(TODAY_ALL_DAY, 'table', createPaint(false), NOW);
      expect(text).toContain(`due       ${TODAY_ALL_DAY.due} (all day)  today`);
      expect(text).toContain('priority  medium (5)');
      expect(text).not.toMatch(/^notes/m);
    });
  });

  describe('when the format is plain', () => {
    it('writes every field as a tab-separated pair', () => {
      const lines = renderReminder(DONE, 'plain', createPaint(false), NOW).split('\n');
      expect(lines).toContain(`completed\tyes at ${DONE.completedAt}`);
      expect(lines).toContain('notes\t');
      expect(lines).toHaveLength(14);
    });
  });
});

describe('renderLists', () => {
  const lists: ListSummary[] = [
    { name: 'Home', handle: 'home', color: null, total: 3, incomplete: 1 },
    { name: 'Reminders', handle: 'reminders', color: '#ff0000', total: 12, incomplete: 10 },
  ];

  describe('when counts are asked for', () => {
    it('shows them in table, plain and json', () => {
      const paint = createPaint(false);
      expect(renderLists(lists, 'table', paint, true)).toBe(
        [
          'LIST       OPEN  TOTAL',
          '─────────  ────  ─────',
          'Home       1     3',
          'Reminders  10    12',
        ].join('\n'),
      );
      expect(renderLists(lists, 'plain', paint, true)).toBe('Home\t1\t3\nReminders\t10\t12');
      expect(JSON.parse(renderLists(lists, 'json', paint, true))).toEqual([
        { name: 'Home', color: null, total: 3, incomplete: 1 },
        { name: 'Reminders', color: '#ff0000', total: 12, incomplete: 10 },
      ]);
    });
  });

  describe('when counts are not asked for', () => {
    it('shows only the names', () => {
      const paint = createPaint(false);
      expect(renderLists(lists, 'plain', paint, false)).toBe('Home\nReminders');
      expect(JSON.parse(renderLists(lists, 'json', paint, false))).toEqual([
        { name: 'Home', color: null },
        { name: 'Reminders', color: '#ff0000' },
      ]);
    });
  });

  describe('when there are no lists', () => {
    it('says how to create one', () => {
      expect(renderLists([], 'table', createPaint(false), true)).toBe(
        'No lists. Create one with: rem lm create "Reminders"',
      );
    });
  });
});

describe('renderStats', () => {
  const stats: ReminderStats = {
    total: 8,
    completed: 3,
    incomplete: 5,
    flagged: 1,
    overdue: 2,
    dueToday: 1,
    completionRate: 3 / 8,
    lists: [
      { name: 'Reminders', total: 6, completed: 2, incomplete: 4, overdue: 2 },
      { name: 'Work', total: 2, completed: 1, incomplete: 1, overdue: 0 },
    ],
  };

  describe('when the format is plain', () => {
    it('writes the totals then a line per list', () => {
      expect(renderStats(stats, 'plain', createPaint(false)).split('\n')).toEqual([
        'total\t8',
        'completed\t3',
        'incomplete\t5',
        'flagged\t1',
        'overdue\t2',
        'due today\t1',
        'completion\t37.5%',
        'list\tReminders\t6\t2\t4\t2',
        'list\tWork\t2\t1\t1\t0',
      ]);
    });
  });

  describe('when the format is table', () => {
    it('shows the totals and a table of lists, the overdue count in red', () => {
      const paint = createPaint(true);
      const text = renderStats(stats, 'table', paint);
      expect(stripAnsi(text)).toContain('completion  37.5%');
      expect(stripAnsi(text)).toMatch(/^Reminders\s+6\s+2\s+4\s+2$/m);
      expect(text).toContain(paint.red('2'));
    });
  });

  describe('when the format is json', () => {
    it('writes the numbers as they are', () => {
      expect(JSON.parse(renderStats(stats, 'json', createPaint(false)))).toEqual(stats);
    });
  });
});

describe('toJson', () => {
  describe('when printing for a terminal or a pipe', () => {
    it('indents for a person and stays compact for a program', () => {
      const value = { id: 'a1', tags: ['x'] };
      expect(toJson(value, true)).toBe('{\n  "id": "a1",\n  "tags": [\n    "x"\n  ]\n}');
      expect(toJson(value, false)).toBe('{"id":"a1","tags":["x"]}');
    });
  });
});
