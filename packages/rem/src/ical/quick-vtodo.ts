import { toLocalIso } from '../dates.js';
import type { ReminderRecord } from '../types.js';

// Reading one changed file should not cost a listing the 40 ms it takes to load ical.js. This
// reads the plain VTODOs that rem, todoman and most tools write; anything it is not sure of (a
// TZID, an RRULE, an unusual escape or value) makes it answer undefined, and the caller falls
// back to parseVtodo. A test holds the two to the same result over a corpus of files.

const TIME_PROPERTIES = new Set(['DUE', 'DTSTART', 'COMPLETED', 'CREATED', 'LAST-MODIFIED', 'DTSTAMP']);

interface Property {
  params: string;
  value: string;
}

/** `\\`, `\;`, `\,`, `\n` and `\N`; undefined for any other escape, which ical.js may read otherwise. */
function unescapeText(value: string): string | undefined {
  if (!value.includes('\\')) return value;
  let text = '';
  for (let index = 0; index < value.length; index += 1) {
    const character = value[index];
    if (character !== '\\') {
      text += character;
      continue;
    }
    const next = value[index + 1];
    if (next === 'n' || next === 'N') text += '\n';
    else if (next === '\\' || next === ';' || next === ',') text += next;
    else return undefined;
    index += 1;
  }
  return text;
}

/** A DATE or DATE-TIME value as a Date and whether it is a whole day; undefined when unusual. */
function readTime(property: Property): { date: Date; isDate: boolean } | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$/.exec(property.value);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, utc] = match;
  if (hour === undefined)
    return { date: new Date(Number(year), Number(month) - 1, Number(day)), isDate: true };
  if (/VALUE=DATE(?!-)/i.test(property.params)) return undefined;
  const parts = [
    Number(year),
    Number(month) - 1,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
  ] as const;
  return { date: utc === 'Z' ? new Date(Date.UTC(...parts)) : new Date(...parts), isDate: false };
}

/**
 * Reads the first VTODO of plain iCalendar text without ical.js.
 * @param ics the text of a `.ics` file
 * @param list the name of the list holding it
 * @returns what parseVtodo would return, or undefined when the text needs ical.js
 */
export function quickParseVtodo(ics: string, list: string): ReminderRecord | undefined {
  const lines = ics.replace(/\r?\n[ \t]/g, '').split(/\r?\n/);
  const first = new Map<string, Property>();
  const categories: Property[] = [];
  let inTodo = false;
  let depth = 0;
  for (const line of lines) {
    if (!inTodo) {
      if (line.toUpperCase() === 'BEGIN:VTODO') inTodo = true;
      continue;
    }
    const upper = line.toUpperCase();
    if (upper.startsWith('BEGIN:')) {
      depth += 1;
      continue;
    }
    if (upper.startsWith('END:')) {
      if (depth === 0) break;
      depth -= 1;
      continue;
    }
    if (depth > 0 || line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const head = line.slice(0, colon);
    // A quoted parameter may hold a colon; leave such lines to ical.js.
    if (head.includes('"')) return undefined;
    const semicolon = head.indexOf(';');
    const name = (semicolon < 0 ? head : head.slice(0, semicolon)).toUpperCase();
    const property = { params: semicolon < 0 ? '' : head.slice(semicolon + 1), value: line.slice(colon + 1) };
    if (name === 'RRULE' || (TIME_PROPERTIES.has(name) && /TZID=/i.test(property.params))) return undefined;
    if (name === 'CATEGORIES') categories.push(property);
    else if (!first.has(name)) first.set(name, property);
  }
  if (!inTodo) return undefined;

  const text = (name: string): string | null | undefined => {
    const property = first.get(name);
    return property === undefined ? null : unescapeText(property.value);
  };
  const time = (name: string): { date: Date; isDate: boolean } | null | undefined => {
    const property = first.get(name);
    return property === undefined ? null : readTime(property);
  };
  const uid = text('UID');
  const title = text('SUMMARY');
  const notes = text('DESCRIPTION');
  const status = first.get('STATUS')?.value.toUpperCase() ?? null;
  const due = first.has('DUE') ? time('DUE') : time('DTSTART');
  const completed = time('COMPLETED');
  const created = time('CREATED');
  const modified = first.has('LAST-MODIFIED') ? time('LAST-MODIFIED') : time('DTSTAMP');
  if ([uid, title, notes, due, completed, created, modified].includes(undefined)) return undefined;

  const tags: string[] = [];
  for (const property of categories) {
    // Split on unescaped commas, then unescape each value.
    for (const raw of property.value.split(/(?<!\\),/)) {
      const tag = unescapeText(raw);
      if (tag === undefined) return undefined;
      const trimmed = tag.trim();
      if (trimmed !== '' && !tags.includes(trimmed)) tags.push(trimmed);
    }
  }
  const priorityText = first.get('PRIORITY')?.value;
  const priority = priorityText === undefined ? 0 : Number.parseInt(priorityText, 10);
  const url = first.get('URL')?.value;
  const stamp = (value: { date: Date } | null | undefined): string | null =>
    value ? toLocalIso(value.date) : null;
  return {
    uid: uid ?? '',
    title: title ?? '',
    notes: notes === '' ? null : (notes ?? null),
    list,
    due: stamp(due),
    allDay: due?.isDate ?? false,
    priority: Number.isInteger(priority) && priority >= 0 && priority <= 9 ? priority : 0,
    flagged: first.get('X-BALLAST-FLAGGED')?.value.toUpperCase() === 'TRUE',
    completed: status === 'COMPLETED' || status === 'CANCELLED' || completed !== null,
    completedAt: stamp(completed),
    url: url === undefined || url === '' ? null : url,
    tags,
    repeat: null,
    createdAt: stamp(created),
    updatedAt: stamp(modified),
  };
}
