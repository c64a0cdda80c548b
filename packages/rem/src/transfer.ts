import { RemError } from './errors.js';
import type { AddReminderInput } from './reminders.js';
import type { Reminder } from './types.js';

/** The formats `rem export` writes and `rem import` reads. */
export type TransferFormat = 'json' | 'csv' | 'ics';

/** The CSV columns, in order; also the JSON fields of an exported reminder. */
export const CSV_COLUMNS = [
  'id',
  'uid',
  'title',
  'notes',
  'list',
  'due',
  'allDay',
  'priority',
  'priorityLabel',
  'flagged',
  'completed',
  'completedAt',
  'url',
  'tags',
  'repeat',
  'createdAt',
  'updatedAt',
] as const;

function csvField(value: unknown): string {
  const text =
    value === null || value === undefined ? '' : Array.isArray(value) ? value.join(';') : String(value);
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Writes reminders as CSV (RFC 4180, a header row, tags joined with `;`).
 * @param reminders what to write
 * @returns the CSV text
 */
export function toCsv(reminders: Reminder[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const reminder of reminders) {
    lines.push(CSV_COLUMNS.map((column) => csvField(reminder[column])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * Reads CSV text (RFC 4180: quoted fields, doubled quotes, newlines inside quotes).
 * @param text the CSV
 * @returns rows of fields
 * @throws RemError REM_INVALID_INPUT on an unterminated quote
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let index = 0;
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  while (index < source.length) {
    const char = source[index];
    if (quoted) {
      if (char === '"') {
        if (source[index + 1] === '"') {
          field += '"';
          index += 2;
          continue;
        }
        quoted = false;
      } else {
        field += char;
      }
      index += 1;
      continue;
    }
    if (char === '"' && field === '') {
      quoted = true;
    } else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && source[index + 1] === '\n') index += 1;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else {
      field += char;
    }
    index += 1;
  }
  if (quoted) throw new RemError('REM_INVALID_INPUT', 'the CSV ends inside a quoted field');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((fields) => fields.some((value) => value !== ''));
}

/**
 * Writes reminders as one iCalendar file with a VTODO each.
 * @param reminders what to write
 * @returns the VCALENDAR text
 */
export async function toIcs(reminders: Reminder[]): Promise<string> {
  const { serializeVtodo } = await import('./ical/vtodo.js');
  const todos = reminders.map((reminder) => {
    const text = serializeVtodo({ ...reminder });
    const start = text.indexOf('BEGIN:VTODO');
    const end = text.indexOf('END:VTODO');
    return text.slice(start, end + 'END:VTODO'.length);
  });
  const body = todos.map((todo) => `${todo}\r\n`).join('');
  return `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Ballast//rem//EN\r\n${body}END:VCALENDAR\r\n`;
}

/** An import entry: what `add` takes plus what an export carries over. */
export type ImportEntry = AddReminderInput & {
  uid?: string;
  completed?: boolean;
  completedAt?: string | null;
};

function truthy(value: unknown): boolean {
  return value === true || value === 'true' || value === 'TRUE' || value === '1' || value === 'yes';
}

function entryFrom(source: Record<string, unknown>, index: number): ImportEntry {
  const title = source.title ?? source.name ?? source.summary;
  if (typeof title !== 'string' || title.trim() === '') {
    throw new RemError('REM_INVALID_INPUT', `entry ${index + 1} has no title (a "title" field is needed)`, {
      details: { entry: index + 1 },
    });
  }
  const text = (key: string): string | undefined => {
    const value = source[key];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const entry: ImportEntry = { title };
  const list = text('list');
  if (list) entry.list = list;
  const due = text('due');
  if (due) entry.due = due;
  if (source.allDay !== undefined && source.allDay !== '') entry.allDay = truthy(source.allDay);
  const priority = source.priority;
  if (typeof priority === 'number' || (typeof priority === 'string' && priority !== '')) {
    entry.priority =
      typeof priority === 'number'
        ? priority
        : /^\d$/.test(priority)
          ? Number(priority)
          : (priority as 'high');
  }
  const notes = text('notes');
  if (notes) entry.notes = notes;
  const url = text('url');
  if (url) entry.url = url;
  if (truthy(source.flagged)) entry.flagged = true;
  const tags = source.tags;
  if (Array.isArray(tags)) entry.tags = tags.map(String);
  else if (typeof tags === 'string' && tags !== '') entry.tags = tags.split(';');
  const repeat = text('repeat');
  if (repeat) entry.repeat = repeat;
  const uid = text('uid');
  if (uid) entry.uid = uid;
  if (truthy(source.completed)) {
    entry.completed = true;
    entry.completedAt = text('completedAt') ?? null;
  }
  return entry;
}

/**
 * Guesses the format of a file from its name, then its first characters.
 * @param name the file name (may be empty)
 * @param text its content
 * @returns json, csv or ics
 */
export function detectFormat(name: string, text: string): TransferFormat {
  const lower = name.toLowerCase();
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.ics') || lower.endsWith('.ical')) return 'ics';
  const start = text.trimStart();
  if (start.startsWith('[') || start.startsWith('{')) return 'json';
  if (start.toUpperCase().startsWith('BEGIN:VCALENDAR')) return 'ics';
  return 'csv';
}

/**
 * Reads import entries from rem's JSON or CSV export, or from any iCalendar file of VTODOs
 * (todoman's, Apple's, Nextcloud's).
 * @param text the file's content
 * @param format its format
 * @returns the entries, in file order
 * @throws RemError REM_INVALID_INPUT naming the entry or line that is wrong
 */
export async function parseImport(text: string, format: TransferFormat): Promise<ImportEntry[]> {
  if (format === 'json') {
    let data: unknown;
    try {
      // A byte order mark (Windows editors write one) is not JSON; detectFormat already skips it.
      data = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    } catch (error) {
      throw new RemError('REM_INVALID_INPUT', `the file is not valid JSON: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const items = Array.isArray(data)
      ? data
      : Array.isArray((data as { reminders?: unknown })?.reminders)
        ? (data as { reminders: unknown[] }).reminders
        : undefined;
    if (!items) {
      throw new RemError(
        'REM_INVALID_INPUT',
        'the JSON must be an array of reminders (what `rem export --format json` writes)',
      );
    }
    return items.map((item, index) => {
      if (typeof item !== 'object' || item === null) {
        throw new RemError('REM_INVALID_INPUT', `entry ${index + 1} is not an object`);
      }
      return entryFrom(item as Record<string, unknown>, index);
    });
  }
  if (format === 'csv') {
    const [header, ...rows] = parseCsv(text);
    if (!header?.includes('title')) {
      throw new RemError(
        'REM_INVALID_INPUT',
        `the CSV needs a header row with a "title" column; columns rem writes: ${CSV_COLUMNS.join(',')}`,
      );
    }
    return rows.map((row, index) =>
      entryFrom(Object.fromEntries(header.map((column, position) => [column, row[position] ?? ''])), index),
    );
  }
  const { parseVtodo } = await import('./ical/vtodo.js');
  const unfolded = text.replace(/\r?\n[ \t]/g, '');
  const blocks = unfolded.match(/BEGIN:VTODO[\s\S]*?END:VTODO/g) ?? [];
  if (blocks.length === 0) throw new RemError('REM_INVALID_INPUT', 'the iCalendar file holds no VTODO');
  const timezones = (unfolded.match(/BEGIN:VTIMEZONE[\s\S]*?END:VTIMEZONE/g) ?? []).join('\r\n');
  return blocks.map((block, index) => {
    const calendar = `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Ballast//rem//EN\r\n${timezones ? `${timezones}\r\n` : ''}${block}\r\nEND:VCALENDAR\r\n`;
    const record = parseVtodo(calendar, '');
    const entry: ImportEntry = {
      title: record.title,
      uid: record.uid,
      priority: record.priority,
      flagged: record.flagged,
      tags: record.tags,
    };
    if (record.title.trim() === '') {
      throw new RemError('REM_INVALID_INPUT', `VTODO ${index + 1} has no SUMMARY`);
    }
    if (record.due) {
      entry.due = record.due;
      entry.allDay = record.allDay;
    }
    if (record.notes) entry.notes = record.notes;
    if (record.url) entry.url = record.url;
    if (record.repeat) entry.repeat = record.repeat;
    if (record.completed) {
      entry.completed = true;
      entry.completedAt = record.completedAt;
    }
    return entry;
  });
}
