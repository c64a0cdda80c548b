import { toLocalIso } from '../dates.js';
import type { ReminderRecord } from '../types.js';
import { utcStamp } from './values.js';
import type { SerializableReminder } from './vtodo.js';

// Writing a new reminder needs none of ical.js's parsing, and loading ical.js costs a `rem add`
// about 40 ms; this writes the same VCALENDAR that serializeVtodo builds for a fresh record.

const PRODUCT_ID = '-//Ballast//rem//EN';

/** TEXT escaping of RFC 5545 §3.3.11; CR LF and bare CR become one line break. */
function escapeText(value: string): string {
  return value
    .replace(/\r\n?/g, '\n')
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(/\n/g, '\\n');
}

/** Folds a content line at 75 octets without splitting a UTF-8 character (RFC 5545 §3.1). */
function fold(line: string): string {
  if (Buffer.byteLength(line) <= 75) return line;
  const parts: string[] = [];
  let current = '';
  let size = 0;
  let limit = 75;
  for (const character of line) {
    const bytes = Buffer.byteLength(character);
    if (size + bytes > limit) {
      parts.push(current);
      current = '';
      size = 0;
      limit = 74; // continuation lines start with a space
    }
    current += character;
    size += bytes;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

function instant(value: string, field: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new TypeError(`${field} "${value}" is not an ISO 8601 time`);
  return date;
}

/**
 * Writes a new reminder as iCalendar text without loading ical.js.
 * @param record the reminder, with its UID
 * @param now the clock for DTSTAMP, CREATED and LAST-MODIFIED
 * @returns the VCALENDAR text, lines ending in CRLF
 */
export function writeFreshVtodo(record: SerializableReminder, now: Date): string {
  const stamp = utcStamp(now);
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', `PRODID:${PRODUCT_ID}`, 'BEGIN:VTODO'];
  lines.push(`UID:${escapeText(record.uid)}`, `DTSTAMP:${stamp}`);
  const createdAt = 'createdAt' in record && record.createdAt ? record.createdAt : null;
  lines.push(`CREATED:${createdAt ? utcStamp(instant(createdAt, 'createdAt')) : stamp}`);
  lines.push(`LAST-MODIFIED:${stamp}`, `SUMMARY:${escapeText(record.title)}`);
  if (record.notes) lines.push(`DESCRIPTION:${escapeText(record.notes)}`);
  if (record.due) {
    if (record.allDay) {
      const day = /^(\d{4})-(\d{2})-(\d{2})/.exec(record.due);
      if (!day) throw new TypeError(`due "${record.due}" is not an ISO 8601 date`);
      lines.push(`DUE;VALUE=DATE:${day[1]}${day[2]}${day[3]}`);
    } else {
      lines.push(`DUE:${utcStamp(instant(record.due, 'due'))}`);
    }
  }
  if (record.priority) lines.push(`PRIORITY:${record.priority}`);
  if (record.completed) {
    lines.push('STATUS:COMPLETED', 'PERCENT-COMPLETE:100');
    lines.push(
      `COMPLETED:${record.completedAt ? utcStamp(instant(record.completedAt, 'completedAt')) : stamp}`,
    );
  } else {
    lines.push('STATUS:NEEDS-ACTION');
  }
  if (record.url) lines.push(`URL:${record.url}`);
  const tags = [...new Set((record.tags ?? []).map((tag) => tag.trim()).filter(Boolean))];
  if (tags.length > 0) lines.push(`CATEGORIES:${tags.map(escapeText).join(',')}`);
  if (record.repeat) lines.push(`RRULE:${record.repeat.replace(/^RRULE:/i, '')}`);
  if (record.flagged) lines.push('X-BALLAST-FLAGGED:TRUE');
  lines.push('END:VTODO', 'END:VCALENDAR');
  return `${lines.map(fold).join('\r\n')}\r\n`;
}

/**
 * The record {@link parseVtodo} would read back from {@link writeFreshVtodo}'s text, built
 * without parsing it: times at whole seconds, in local ISO 8601 with offset.
 * @param record the reminder written
 * @param now the clock given to the writer
 * @returns the stored record (without a revision)
 */
export function freshRecord(record: SerializableReminder & { list: string }, now: Date): ReminderRecord {
  const seconds = (date: Date): string => toLocalIso(new Date(Math.floor(date.getTime() / 1000) * 1000));
  const stamp = seconds(now);
  const createdAt =
    'createdAt' in record && record.createdAt ? seconds(instant(record.createdAt, 'createdAt')) : stamp;
  let due: string | null = null;
  if (record.due) {
    if (record.allDay) {
      const day = /^(\d{4})-(\d{2})-(\d{2})/.exec(record.due);
      due = toLocalIso(new Date(Number(day?.[1]), Number(day?.[2]) - 1, Number(day?.[3])));
    } else {
      due = seconds(instant(record.due, 'due'));
    }
  }
  const completed = record.completed ?? false;
  return {
    uid: record.uid,
    title: record.title.replace(/\r\n?/g, '\n'),
    notes: record.notes ? record.notes.replace(/\r\n?/g, '\n') : null,
    list: record.list,
    due,
    allDay: due !== null && (record.allDay ?? false),
    priority: record.priority ?? 0,
    flagged: record.flagged ?? false,
    completed,
    completedAt: completed
      ? record.completedAt
        ? seconds(instant(record.completedAt, 'completedAt'))
        : stamp
      : null,
    url: record.url || null,
    tags: [...new Set((record.tags ?? []).map((tag) => tag.trim()).filter(Boolean))],
    repeat: record.repeat ? record.repeat.replace(/^RRULE:/i, '') : null,
    createdAt,
    updatedAt: stamp,
  };
}
