import type { ListSummary, ReminderStats } from './reminders.js';
import { stdoutIsTerminal } from './stdout.js';
import type { Reminder } from './types.js';

/** How the CLI prints: a table for people, JSON for programs, plain lines for pipes. */
export type OutputFormat = 'table' | 'json' | 'plain';

/**
 * JSON as the CLI prints it: indented for a person at a terminal, compact for a program reading
 * a pipe (a thousand reminders are 40% smaller that way, and quicker to write and to parse).
 * @param value what to print
 * @param pretty whether to indent @default whether stdout is a terminal
 * @returns the JSON text
 */
export function toJson(value: unknown, pretty: boolean = stdoutIsTerminal()): string {
  return pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value);
}

/** Terminal styling, off when NO_COLOR is set, --no-color is given or stdout is not a TTY. */
export interface Paint {
  dim(text: string): string;
  bold(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  green(text: string): string;
  cyan(text: string): string;
}

/**
 * Styling for one run.
 * @param enabled whether to emit ANSI colours
 * @returns the painter
 */
export function createPaint(enabled: boolean): Paint {
  const wrap =
    (open: number, close: number) =>
    (text: string): string =>
      enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text;
  return {
    dim: wrap(2, 22),
    bold: wrap(1, 22),
    red: wrap(31, 39),
    yellow: wrap(33, 39),
    green: wrap(32, 39),
    cyan: wrap(36, 39),
  };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI colour codes is the point
const ANSI = /\u001b\[\d+m/g;

function visibleLength(text: string): number {
  // Most cells hold no colour: skip the regular expression for them (a thousand-row table has
  // thousands of cells, each measured twice).
  return text.includes('\u001b') ? text.replace(ANSI, '').length : text.length;
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/**
 * Renders rows as an aligned table with a header.
 * @param header column titles
 * @param rows cells (may hold colour codes)
 * @returns the table text, without a trailing newline
 */
export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(visibleLength(title), ...rows.map((row) => visibleLength(row[column] ?? ''))),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : cell + ' '.repeat((widths[column] ?? 0) - visibleLength(cell)),
      )
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '─'.repeat(width))), ...rows.map(line)].join('\n');
}

// Fixed English names: toLocaleDateString built an Intl formatter per row, most of a table's time.
const WEEKDAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// A table asks for the start of the same day once per row.
let today: { now: number; start: number } | undefined;

function startOfToday(now: Date): number {
  if (today?.now !== now.getTime()) {
    today = {
      now: now.getTime(),
      start: new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime(),
    };
  }
  return today.start;
}

/**
 * A due time for people: `today 17:00`, `tomorrow`, `Fri 28 Nov`, `2027-01-05 09:00`.
 * @param reminder the reminder
 * @param now the reference time
 * @returns the text, empty when there is no due
 */
export function humanDue(reminder: Pick<Reminder, 'due' | 'allDay'>, now: Date): string {
  if (!reminder.due) return '';
  const due = new Date(reminder.due);
  const dayDelta = Math.round(
    (new Date(due.getFullYear(), due.getMonth(), due.getDate()).getTime() - startOfToday(now)) / 86_400_000,
  );
  const time = reminder.allDay
    ? ''
    : ` ${String(due.getHours()).padStart(2, '0')}:${String(due.getMinutes()).padStart(2, '0')}`;
  let day: string;
  if (dayDelta === 0) day = 'today';
  else if (dayDelta === 1) day = 'tomorrow';
  else if (dayDelta === -1) day = 'yesterday';
  else if (dayDelta > 1 && dayDelta < 7) day = WEEKDAY_NAMES[due.getDay()] ?? '';
  else if (due.getFullYear() === now.getFullYear()) {
    day = `${WEEKDAY_NAMES[due.getDay()]} ${due.getDate()} ${MONTH_NAMES[due.getMonth()]}`;
  } else {
    day = `${due.getFullYear()}-${String(due.getMonth() + 1).padStart(2, '0')}-${String(due.getDate()).padStart(2, '0')}`;
  }
  return `${day}${time}`;
}

function priorityMark(reminder: Reminder, paint: Paint): string {
  if (reminder.priorityLabel === 'high') return paint.red('!!!');
  if (reminder.priorityLabel === 'medium') return paint.yellow('!!');
  if (reminder.priorityLabel === 'low') return paint.dim('!');
  return '';
}

/**
 * Renders reminders in the chosen format.
 * @param reminders what to show
 * @param format table, json or plain
 * @param paint colours
 * @param now the reference time for relative dates
 * @returns the text to print
 */
export function renderReminders(
  reminders: Reminder[],
  format: OutputFormat,
  paint: Paint,
  now: Date,
): string {
  if (format === 'json') return toJson(reminders);
  if (format === 'plain') {
    return reminders
      .map((reminder) =>
        [
          reminder.id,
          reminder.completed ? 'x' : '-',
          reminder.list,
          reminder.due ?? '',
          reminder.priorityLabel,
          reminder.title,
        ].join('\t'),
      )
      .join('\n');
  }
  if (reminders.length === 0) return paint.dim('No reminders.');
  const rows = reminders.map((reminder) => {
    const overdue =
      !reminder.completed &&
      reminder.due !== null &&
      new Date(reminder.due).getTime() < now.getTime() &&
      !reminder.allDay;
    const due = humanDue(reminder, now);
    return [
      paint.dim(reminder.id),
      reminder.completed ? paint.green('✓') : ' ',
      priorityMark(reminder, paint),
      reminder.flagged ? paint.yellow('⚑') : '',
      reminder.completed ? paint.dim(truncate(reminder.title, 60)) : truncate(reminder.title, 60),
      reminder.list,
      overdue ? paint.red(due) : due,
    ];
  });
  const noun = reminders.length === 1 ? 'reminder' : 'reminders';
  return `${renderTable(['ID', '', 'PRI', '', 'TITLE', 'LIST', 'DUE'], rows)}\n${paint.dim(`${reminders.length} ${noun}`)}`;
}

/**
 * Renders one reminder with every field.
 * @param reminder what to show
 * @param format table, json or plain
 * @param paint colours
 * @param now the reference time for relative dates
 * @returns the text to print
 */
export function renderReminder(reminder: Reminder, format: OutputFormat, paint: Paint, now: Date): string {
  if (format === 'json') return toJson(reminder);
  const fields: Array<[string, string]> = [
    ['id', reminder.id],
    ['uid', reminder.uid],
    ['title', reminder.title],
    ['list', reminder.list],
    [
      'due',
      reminder.due
        ? `${reminder.due}${reminder.allDay ? ' (all day)' : ''}${format === 'table' ? `  ${paint.dim(humanDue(reminder, now))}` : ''}`
        : '',
    ],
    ['priority', `${reminder.priorityLabel} (${reminder.priority})`],
    ['flagged', reminder.flagged ? 'yes' : 'no'],
    [
      'completed',
      reminder.completed ? `yes${reminder.completedAt ? ` at ${reminder.completedAt}` : ''}` : 'no',
    ],
    ['notes', reminder.notes ?? ''],
    ['url', reminder.url ?? ''],
    ['tags', reminder.tags.join(', ')],
    ['repeat', reminder.repeat ?? ''],
    ['created', reminder.createdAt ?? ''],
    ['updated', reminder.updatedAt ?? ''],
  ];
  if (format === 'plain') return fields.map(([name, value]) => `${name}\t${value}`).join('\n');
  return fields
    .filter(([, value]) => value !== '')
    .map(([name, value]) => `${paint.dim(name.padEnd(10))}${value}`)
    .join('\n');
}

/**
 * Renders lists, with counts when asked.
 * @param lists the lists and their counts
 * @param format table, json or plain
 * @param paint colours
 * @param withCounts whether to show counts in table and plain output
 * @returns the text to print
 */
export function renderLists(
  lists: ListSummary[],
  format: OutputFormat,
  paint: Paint,
  withCounts: boolean,
): string {
  if (format === 'json') {
    return toJson(
      lists.map((list) =>
        withCounts
          ? { name: list.name, color: list.color, total: list.total, incomplete: list.incomplete }
          : { name: list.name, color: list.color },
      ),
    );
  }
  if (format === 'plain') {
    return lists
      .map((list) => (withCounts ? `${list.name}\t${list.incomplete}\t${list.total}` : list.name))
      .join('\n');
  }
  if (lists.length === 0) return paint.dim('No lists. Create one with: rem lm create "Reminders"');
  if (!withCounts)
    return renderTable(
      ['LIST'],
      lists.map((list) => [list.name]),
    );
  return renderTable(
    ['LIST', 'OPEN', 'TOTAL'],
    lists.map((list) => [list.name, String(list.incomplete), String(list.total)]),
  );
}

/**
 * Renders statistics.
 * @param stats the numbers
 * @param format table, json or plain
 * @param paint colours
 * @returns the text to print
 */
export function renderStats(stats: ReminderStats, format: OutputFormat, paint: Paint): string {
  if (format === 'json') return toJson(stats);
  const summary: Array<[string, string]> = [
    ['total', String(stats.total)],
    ['completed', String(stats.completed)],
    ['incomplete', String(stats.incomplete)],
    ['flagged', String(stats.flagged)],
    ['overdue', String(stats.overdue)],
    ['due today', String(stats.dueToday)],
    ['completion', `${(stats.completionRate * 100).toFixed(1)}%`],
  ];
  if (format === 'plain') {
    return [
      ...summary.map(([name, value]) => `${name}\t${value}`),
      ...stats.lists.map(
        (list) => `list\t${list.name}\t${list.total}\t${list.completed}\t${list.incomplete}\t${list.overdue}`,
      ),
    ].join('\n');
  }
  const head = summary.map(([name, value]) => `${paint.dim(name.padEnd(12))}${value}`).join('\n');
  const table = renderTable(
    ['LIST', 'TOTAL', 'DONE', 'OPEN', 'OVERDUE'],
    stats.lists.map((list) => [
      list.name,
      String(list.total),
      String(list.completed),
      String(list.incomplete),
      list.overdue > 0 ? paint.red(String(list.overdue)) : '0',
    ]),
  );
  return `${head}\n\n${table}`;
}
