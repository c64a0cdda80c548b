import { randomUUID } from 'node:crypto';
import ICAL from 'ical.js';
import { toLocalIso } from '../dates.js';
import { RemError } from '../errors.js';
import type { NewReminderRecord, ReminderRecord } from '../types.js';
import { nonEmpty, normalizeLineBreaks, sameList, uniqueTags } from './values.js';

type Component = InstanceType<typeof ICAL.Component>;
type Time = InstanceType<typeof ICAL.Time>;

/** What {@link serializeVtodo} accepts: a stored record, or a new one that already has its UID. */
export type SerializableReminder = ReminderRecord | (NewReminderRecord & { uid: string });

/** Options of {@link serializeVtodo}. */
export interface SerializeVtodoOptions {
  /**
   * The clock used for DTSTAMP, LAST-MODIFIED, a missing CREATED and a missing COMPLETED.
   * @default new Date()
   */
  now?: Date;
}

const PRODUCT_ID = '-//Ballast//rem//EN';
const FLAGGED_PROPERTY = 'x-ballast-flagged';

/**
 * Makes a fresh UID for a new reminder.
 *
 * @returns a random RFC 4122 version 4 UUID
 * @example
 * quickUid(); // '3b241101-e2bb-4255-8caf-4136c566a962'
 */
export function quickUid(): string {
  return randomUUID();
}

/**
 * Reads the first VTODO of an iCalendar text into a record.
 *
 * DUE (or DTSTART when there is no DUE) becomes `due` as ISO 8601 with the local offset; a DATE
 * value is all-day at local midnight, a floating time is local, a TZID time is converted through
 * the file's VTIMEZONE (or the IANA zone of that name when the file has none). STATUS:COMPLETED,
 * STATUS:CANCELLED (as todoman reads it) or a COMPLETED timestamp make it completed. The
 * returned record has no `revision`; the backend adds its own.
 *
 * @param ics the text of a `.ics` file
 * @param list the name of the list holding it
 * @returns the reminder the VTODO describes
 * @throws {RemError} REM_INVALID_INPUT when the text is not iCalendar or holds no VTODO
 * @example
 * const record = parseVtodo(readFileSync('work/abc.ics', 'utf8'), 'work');
 */
export function parseVtodo(ics: string, list: string): ReminderRecord {
  return readTodo(findTodo(parseComponent(ics)), list);
}

/**
 * Writes a record as iCalendar text.
 *
 * With `previousIcs`, only the properties a record models change and everything else (VTIMEZONE,
 * VALARM, X- properties, todoman's fields, a TZID on an unchanged due) is kept; a field that is
 * `undefined` on a new-style record keeps its previous value. Without it, a fresh VCALENDAR with
 * one VTODO is built. DTSTAMP and LAST-MODIFIED are always set to now; STATUS, PERCENT-COMPLETE
 * and COMPLETED follow `completed`; a timed due is written in UTC, an all-day due as a DATE.
 *
 * @param record the reminder to write; its `list` is not stored in the file
 * @param previousIcs the text of the file being replaced, if any
 * @param options the clock
 * @returns the iCalendar text, lines ending in CRLF
 * @throws {RemError} REM_INVALID_INPUT for unreadable `previousIcs`, a bad priority or RRULE;
 *   REM_BAD_DATE for a date that is not ISO 8601
 * @example
 * const text = serializeVtodo({ uid: quickUid(), title: 'Buy milk', list: 'work' });
 */
export function serializeVtodo(
  record: SerializableReminder,
  previousIcs?: string,
  options: SerializeVtodoOptions = {},
): string {
  const now = options.now ?? new Date();
  let calendar: Component;
  let todo: Component;
  if (previousIcs === undefined) {
    calendar = new ICAL.Component('vcalendar');
    calendar.addPropertyWithValue('version', '2.0');
    calendar.addPropertyWithValue('prodid', PRODUCT_ID);
    todo = new ICAL.Component('vtodo');
    calendar.addSubcomponent(todo);
  } else {
    calendar = parseComponent(previousIcs);
    todo = findTodo(calendar);
  }
  const previous = previousIcs === undefined ? emptyRecord(record.list) : readTodo(todo, record.list);
  applyRecord(todo, record, previous, now);
  return `${calendar.toString()}\r\n`;
}

function parseComponent(ics: string): Component {
  let parsed: unknown;
  try {
    parsed = ICAL.parse(ics);
  } catch (error) {
    throw new RemError('REM_INVALID_INPUT', `not valid iCalendar text: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  // ICAL.parse returns one jCal component, or an array of them when the text has several roots.
  const roots = Array.isArray(parsed) && typeof parsed[0] === 'string' ? [parsed] : (parsed as unknown[]);
  if (!Array.isArray(roots) || roots.length === 0) {
    throw new RemError('REM_INVALID_INPUT', 'not iCalendar text: it holds no BEGIN:VCALENDAR or BEGIN:VTODO');
  }
  const components = roots.map((root) => new ICAL.Component(root as unknown[]));
  return (
    components.find((component) => component.name === 'vcalendar') ??
    components.find((component) => component.name === 'vtodo') ??
    (components[0] as Component)
  );
}

function findTodo(root: Component): Component {
  const todo = root.name === 'vtodo' ? root : root.getFirstSubcomponent('vtodo');
  if (todo === null) {
    const found = root.getAllSubcomponents().map((component) => component.name.toUpperCase());
    throw new RemError(
      'REM_INVALID_INPUT',
      `the iCalendar text holds no VTODO (found ${found.length > 0 ? found.join(', ') : 'no components'} in ${root.name.toUpperCase()}); a reminder file needs BEGIN:VTODO`,
      { details: { found } },
    );
  }
  return todo;
}

function emptyRecord(list: string): ReminderRecord {
  return {
    uid: '',
    title: '',
    notes: null,
    list,
    due: null,
    allDay: false,
    priority: 0,
    flagged: false,
    completed: false,
    completedAt: null,
    url: null,
    tags: [],
    repeat: null,
    createdAt: null,
    updatedAt: null,
  };
}

function readTodo(todo: Component, list: string): ReminderRecord {
  const dueTime = timeValue(todo, 'due') ?? timeValue(todo, 'dtstart');
  const status = textValue(todo, 'status')?.toUpperCase() ?? null;
  const completedTime = timeValue(todo, 'completed');
  const tags: string[] = [];
  for (const property of todo.getAllProperties('categories')) {
    for (const value of property.getValues()) {
      const tag = String(value).trim();
      if (tag !== '' && !tags.includes(tag)) tags.push(tag);
    }
  }
  const rrule = todo.getFirstPropertyValue('rrule');
  return {
    uid: textValue(todo, 'uid') ?? '',
    title: textValue(todo, 'summary') ?? '',
    notes: nonEmpty(textValue(todo, 'description')),
    list,
    due: dueTime === null ? null : toLocalIso(timeToDate(dueTime)),
    allDay: dueTime?.isDate ?? false,
    priority: readPriority(todo.getFirstPropertyValue('priority')),
    flagged: textValue(todo, FLAGGED_PROPERTY)?.toUpperCase() === 'TRUE',
    completed: status === 'COMPLETED' || status === 'CANCELLED' || completedTime !== null,
    completedAt: completedTime === null ? null : toLocalIso(timeToDate(completedTime)),
    url: nonEmpty(textValue(todo, 'url')),
    tags,
    repeat: rrule === null || rrule === undefined ? null : nonEmpty(String(rrule)),
    createdAt: timestamp(todo, 'created'),
    updatedAt: timestamp(todo, 'last-modified') ?? timestamp(todo, 'dtstamp'),
  };
}

function applyRecord(
  todo: Component,
  record: SerializableReminder,
  previous: ReminderRecord,
  now: Date,
): void {
  const nowTime = utcTime(now);
  if (record.uid !== previous.uid) todo.updatePropertyWithValue('uid', record.uid);
  todo.updatePropertyWithValue('dtstamp', nowTime);
  if (todo.getFirstProperty('created') === null) {
    const createdAt = 'createdAt' in record ? record.createdAt : null;
    todo.updatePropertyWithValue(
      'created',
      createdAt === null ? nowTime : utcTime(parseDate(createdAt, 'createdAt')),
    );
  }
  todo.updatePropertyWithValue('last-modified', nowTime);

  setText(todo, 'summary', record.title, previous.title);
  setText(todo, 'description', record.notes, previous.notes);
  applyDue(todo, record, previous);

  const priority = record.priority ?? previous.priority;
  if (!Number.isInteger(priority) || priority < 0 || priority > 9) {
    throw new RemError('REM_INVALID_INPUT', `priority must be a whole number from 0 to 9, not ${priority}`, {
      details: { given: priority },
    });
  }
  if (priority !== previous.priority) {
    if (priority === 0) todo.removeAllProperties('priority');
    else todo.updatePropertyWithValue('priority', priority);
  }

  applyCompletion(todo, record, previous, now);
  setText(todo, 'url', record.url, previous.url);

  const tags = record.tags === undefined ? previous.tags : uniqueTags(record.tags);
  if (!sameList(tags, previous.tags)) {
    todo.removeAllProperties('categories');
    if (tags.length > 0) {
      const categories = new ICAL.Property('categories');
      categories.setValues(tags);
      todo.addProperty(categories);
    }
  }

  const repeat = record.repeat === undefined ? previous.repeat : nonEmpty(record.repeat);
  if (repeat !== previous.repeat) {
    todo.removeAllProperties('rrule');
    if (repeat !== null) todo.addPropertyWithValue('rrule', parseRecurrence(repeat));
  }

  const flagged = record.flagged ?? previous.flagged;
  if (flagged !== previous.flagged) {
    todo.removeAllProperties(FLAGGED_PROPERTY);
    if (flagged) todo.addPropertyWithValue(FLAGGED_PROPERTY, 'TRUE');
  }
}

function applyDue(todo: Component, record: SerializableReminder, previous: ReminderRecord): void {
  const due = record.due === undefined ? previous.due : nonEmpty(record.due);
  const allDay = due !== null && (record.allDay ?? (record.due === undefined ? previous.allDay : false));
  if (due === null) {
    // DTSTART stands in for a missing DUE when reading, so clearing the due clears both.
    if (previous.due !== null) {
      todo.removeAllProperties('due');
      todo.removeAllProperties('dtstart');
    }
    return;
  }
  let time: Time;
  if (allDay) {
    const date = /^(\d{4})-(\d{2})-(\d{2})/.exec(due);
    if (date === null) throw badDate(due, 'due');
    if (previous.allDay && previous.due?.slice(0, 10) === due.slice(0, 10)) return;
    time = ICAL.Time.fromData({
      year: Number(date[1]),
      month: Number(date[2]),
      day: Number(date[3]),
      isDate: true,
    });
  } else {
    const instant = parseDate(due, 'due');
    if (!previous.allDay && previous.due !== null && Date.parse(previous.due) === instant.getTime()) return;
    time = utcTime(instant);
  }
  // A new DUE drops a TZID or VALUE=DATE the old one had, and DURATION may not sit beside DUE.
  todo.removeAllProperties('due');
  todo.removeAllProperties('duration');
  todo.addPropertyWithValue('due', time);
  const start = timeValue(todo, 'dtstart');
  if (start !== null && timeToDate(start).getTime() > timeToDate(time).getTime()) {
    todo.removeAllProperties('dtstart');
  }
}

function applyCompletion(
  todo: Component,
  record: SerializableReminder,
  previous: ReminderRecord,
  now: Date,
): void {
  const completed = record.completed ?? previous.completed;
  const status = textValue(todo, 'status')?.toUpperCase() ?? null;
  if (completed) {
    if (status !== 'COMPLETED' && status !== 'CANCELLED') todo.updatePropertyWithValue('status', 'COMPLETED');
    if (numberValue(todo, 'percent-complete') !== 100) {
      todo.updatePropertyWithValue('percent-complete', 100);
    }
    const completedAt = record.completedAt === undefined ? previous.completedAt : record.completedAt;
    const instant = completedAt === null ? now : parseDate(completedAt, 'completedAt');
    if (previous.completedAt === null || Date.parse(previous.completedAt) !== instant.getTime()) {
      todo.updatePropertyWithValue('completed', utcTime(instant));
    }
    return;
  }
  todo.removeAllProperties('completed');
  if (status === null || status === 'COMPLETED' || status === 'CANCELLED') {
    todo.updatePropertyWithValue('status', 'NEEDS-ACTION');
  }
  if (numberValue(todo, 'percent-complete') === 100) todo.removeAllProperties('percent-complete');
}

function setText(
  todo: Component,
  name: string,
  value: string | null | undefined,
  previousValue: string | null,
): void {
  if (value === undefined) return;
  // ical.js escapes LF but would leave a CR bare inside the content line.
  const next = nonEmpty(value === null ? null : normalizeLineBreaks(value));
  if (next === (nonEmpty(previousValue) ?? null)) return;
  if (next === null) todo.removeAllProperties(name);
  else todo.updatePropertyWithValue(name, next);
}

function parseRecurrence(repeat: string): InstanceType<typeof ICAL.Recur> {
  const value = repeat.replace(/^RRULE:/i, '');
  try {
    const recurrence = ICAL.Recur.fromString(value);
    if (recurrence.freq === undefined || recurrence.freq === null) throw new Error('FREQ is missing');
    return recurrence;
  } catch (error) {
    throw new RemError(
      'REM_INVALID_INPUT',
      `repeat "${repeat}" is not an RRULE value (${errorMessage(error)}); write it like FREQ=WEEKLY;BYDAY=MO`,
      { cause: error, details: { given: repeat } },
    );
  }
}

function textValue(todo: Component, name: string): string | null {
  const value = todo.getFirstPropertyValue(name);
  return value === null || value === undefined ? null : String(value);
}

function numberValue(todo: Component, name: string): number | null {
  const value: unknown = todo.getFirstPropertyValue(name);
  return typeof value === 'number' ? value : null;
}

function timeValue(todo: Component, name: string): Time | null {
  const value = todo.getFirstPropertyValue(name);
  return value instanceof ICAL.Time ? value : null;
}

function timestamp(todo: Component, name: string): string | null {
  const time = timeValue(todo, name);
  return time === null ? null : toLocalIso(timeToDate(time));
}

function readPriority(value: unknown): number {
  const priority = typeof value === 'number' ? value : Number.parseInt(String(value ?? '0'), 10);
  return Number.isInteger(priority) && priority >= 0 && priority <= 9 ? priority : 0;
}

function timeToDate(time: Time): Date {
  if (time.isDate) return new Date(time.year, time.month - 1, time.day);
  const zone = time.zone;
  if (zone === ICAL.Timezone.utcTimezone || zone?.tzid === 'UTC') {
    return new Date(Date.UTC(time.year, time.month - 1, time.day, time.hour, time.minute, time.second));
  }
  const isFloating = zone === undefined || zone === null || zone === ICAL.Timezone.localTimezone;
  if (!isFloating) {
    try {
      return time.toJSDate();
    } catch {
      // A broken VTIMEZONE: fall through to the zone's name.
    }
  }
  // ical.js keeps a TZID it found no VTIMEZONE for in `timezone` and treats the time as floating.
  const unresolvedZone = (time as Time & { timezone?: string }).timezone;
  const zoneName = unresolvedZone ?? (isFloating ? undefined : zone?.tzid);
  if (zoneName !== undefined && zoneName !== 'floating') {
    const instant = instantInZone(zoneName, time);
    if (instant !== null) return instant;
  }
  return new Date(time.year, time.month - 1, time.day, time.hour, time.minute, time.second);
}

const zoneFormats = new Map<string, Intl.DateTimeFormat | null>();

function zoneFormat(zoneName: string): Intl.DateTimeFormat | null {
  let format = zoneFormats.get(zoneName);
  if (format === undefined) {
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone: zoneName,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      format = null;
    }
    zoneFormats.set(zoneName, format);
  }
  return format;
}

/** The wall-clock `time` in the IANA zone `zoneName` as an instant, or null for a name Intl does not know. */
function instantInZone(zoneName: string, time: Time): Date | null {
  // Outlook and Mozilla sometimes prefix IANA names (`/mozilla.org/20050126_1/Europe/Berlin`).
  const format = zoneFormat(zoneName) ?? zoneFormat(zoneName.replace(/^\/.*?\/(?=[A-Z][a-z]+\/)/, ''));
  if (format === null) return null;
  const wallClock = Date.UTC(time.year, time.month - 1, time.day, time.hour, time.minute, time.second);
  const offsetAt = (instant: number): number => {
    const parts: Record<string, number> = {};
    for (const part of format.formatToParts(new Date(instant))) parts[part.type] = Number(part.value);
    const asUtc = Date.UTC(
      parts.year ?? 0,
      (parts.month ?? 1) - 1,
      parts.day ?? 1,
      parts.hour ?? 0,
      parts.minute ?? 0,
      parts.second ?? 0,
    );
    return asUtc - instant;
  };
  const firstOffset = offsetAt(wallClock);
  const secondOffset = offsetAt(wallClock - firstOffset);
  return new Date(wallClock - secondOffset);
}

function utcTime(date: Date): Time {
  return ICAL.Time.fromJSDate(date, true);
}

function parseDate(value: string, field: string): Date {
  const milliseconds = Date.parse(value);
  if (Number.isNaN(milliseconds)) throw badDate(value, field);
  return new Date(milliseconds);
}

function badDate(value: string, field: string): RemError {
  return new RemError(
    'REM_BAD_DATE',
    `${field} "${value}" is not an ISO 8601 date; write it like 2026-11-25T17:00:00+01:00`,
    { details: { given: value, field } },
  );
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
