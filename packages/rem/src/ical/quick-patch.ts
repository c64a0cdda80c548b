import { quickParseVtodo } from './quick-vtodo.js';
import { nonEmpty, normalizeLineBreaks, sameList, uniqueTags, utcStamp } from './values.js';
import type { SerializableReminder } from './vtodo.js';

// Completing a reminder changes a handful of lines, yet going through ical.js costs `rem complete`
// the ~10 ms it takes to load it and more to parse and rewrite the whole file. This patches those
// lines in place, making the changes serializeVtodo makes; any other change, or a file it is not
// sure of, answers undefined and the caller uses serializeVtodo. A test holds the two to the same
// output.

const COMPLETION_DONE = new Set(['COMPLETED', 'CANCELLED']);
/** The properties written here whose value is a DATE-TIME. */
const TIMES = new Set(['DTSTAMP', 'CREATED', 'LAST-MODIFIED', 'COMPLETED']);

interface Property {
  /** The upper-case name. */
  name: string;
  /** The name and its parameters as in the file. */
  head: string;
  /** Whether the parameters are ones a new value can keep: none, or VALUE=DATE-TIME (todoman's). */
  plainParams: boolean;
  value: string;
  /** The content line as in the file, folded lines joined by CRLF. */
  raw: string;
}

/**
 * Whether serializeVtodo, given `record` over a file that reads as `previous`, would change nothing
 * but the completion (STATUS, PERCENT-COMPLETE, COMPLETED) and the stamps. The rules are those of
 * vtodo.ts's applyRecord, field by field.
 */
function onlyCompletionChanges(
  record: SerializableReminder,
  previous: NonNullable<ReturnType<typeof quickParseVtodo>>,
): boolean {
  const sameText = (value: string | null | undefined, before: string | null): boolean =>
    value === undefined || nonEmpty(value === null ? null : normalizeLineBreaks(value)) === nonEmpty(before);
  if (record.uid !== previous.uid) return false;
  if (!sameText(record.title, previous.title) || !sameText(record.notes, previous.notes)) return false;
  if (!sameText(record.url, previous.url)) return false;
  if ((record.priority ?? previous.priority) !== previous.priority) return false;
  if ((record.flagged ?? previous.flagged) !== previous.flagged) return false;
  const tags = record.tags === undefined ? previous.tags : uniqueTags(record.tags);
  if (!sameList(tags, previous.tags)) return false;
  const repeat = record.repeat === undefined ? previous.repeat : nonEmpty(record.repeat);
  if (repeat !== previous.repeat) return false;
  const due = record.due === undefined ? previous.due : nonEmpty(record.due);
  if (due === null) return previous.due === null;
  const allDay = record.allDay ?? (record.due === undefined ? previous.allDay : false);
  if (allDay) {
    return (
      /^\d{4}-\d{2}-\d{2}/.test(due) && previous.allDay && previous.due?.slice(0, 10) === due.slice(0, 10)
    );
  }
  const instant = Date.parse(due);
  return (
    !previous.allDay &&
    previous.due !== null &&
    !Number.isNaN(instant) &&
    Date.parse(previous.due) === instant
  );
}

/**
 * Writes `record` over `previousIcs` when only its completion changed, keeping every other line as
 * it was.
 * @param record the reminder as it should be stored
 * @param previousIcs the file's current text
 * @param now the clock for DTSTAMP, LAST-MODIFIED and a COMPLETED without a time
 * @returns the new text, or undefined when serializeVtodo must do it
 */
export function quickPatchVtodo(
  record: SerializableReminder,
  previousIcs: string,
  now: Date,
): string | undefined {
  // Lines end in CRLF, as the lines added here do; anything else is left to ical.js.
  if (!previousIcs.endsWith('\r\n') || /(?:^|[^\r])\n|\r(?!\n)/.test(previousIcs)) return undefined;
  const previous = quickParseVtodo(previousIcs, record.list);
  if (previous === undefined || !onlyCompletionChanges(record, previous)) return undefined;

  const lines = previousIcs.slice(0, -2).split('\r\n');
  const begin = lines.findIndex((line) => line.toUpperCase() === 'BEGIN:VTODO');
  if (begin < 0) return undefined;
  // The VTODO's own properties, then (from `rest`) its alarms, END:VTODO and what follows.
  const properties: Property[] = [];
  let rest = -1;
  for (let index = begin + 1; index < lines.length; index += 1) {
    const line = lines[index] as string;
    if (/^(BEGIN|END):/i.test(line)) {
      rest = index;
      break;
    }
    if (line.startsWith(' ') || line.startsWith('\t')) {
      const last = properties[properties.length - 1];
      if (last === undefined) return undefined;
      last.raw += `\r\n${line}`;
      last.value += line.slice(1);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const head = line.slice(0, colon);
    const semicolon = head.indexOf(';');
    properties.push({
      name: (semicolon < 0 ? head : head.slice(0, semicolon)).toUpperCase(),
      head,
      plainParams: semicolon < 0 || /^;VALUE=DATE-TIME$/i.test(head.slice(semicolon)),
      value: line.slice(colon + 1),
      raw: line,
    });
  }
  if (rest < 0) return undefined;

  // As ical.js: the first property of a name is updated in place, a missing one is appended.
  let unsure = false;
  const first = (name: string): Property | undefined => properties.find((property) => property.name === name);
  const set = (name: string, value: string): void => {
    const property = first(name);
    if (property === undefined) {
      properties.push({ name, head: name, plainParams: true, value, raw: `${name}:${value}` });
    } else if (!property.plainParams || (property.head.toUpperCase() !== name && !TIMES.has(name))) {
      unsure = true;
    } else {
      property.value = value;
      property.raw = `${property.head.toUpperCase()}:${value}`;
    }
  };
  const removeAll = (name: string): void => {
    for (let index = properties.length - 1; index >= 0; index -= 1) {
      if (properties[index]?.name === name) properties.splice(index, 1);
    }
  };
  const percentComplete = (): number | null => {
    const value = first('PERCENT-COMPLETE')?.value;
    if (value === undefined) return null;
    if (!/^\d+$/.test(value)) unsure = true;
    return Number(value);
  };
  const instant = (value: string): Date | undefined => {
    const milliseconds = Date.parse(value);
    if (Number.isNaN(milliseconds)) return undefined;
    return new Date(milliseconds);
  };

  const stamp = utcStamp(now);
  set('DTSTAMP', stamp);
  if (first('CREATED') === undefined) {
    const createdAt = 'createdAt' in record ? record.createdAt : null;
    const created = createdAt === null ? now : instant(createdAt);
    if (created === undefined) return undefined;
    set('CREATED', utcStamp(created));
  }
  set('LAST-MODIFIED', stamp);

  const completed = record.completed ?? previous.completed;
  const status = first('STATUS')?.value.toUpperCase() ?? null;
  if (completed) {
    if (status === null || !COMPLETION_DONE.has(status)) set('STATUS', 'COMPLETED');
    if (percentComplete() !== 100) set('PERCENT-COMPLETE', '100');
    const completedAt = record.completedAt === undefined ? previous.completedAt : record.completedAt;
    const at = completedAt === null ? now : instant(completedAt);
    if (at === undefined) return undefined;
    if (previous.completedAt === null || Date.parse(previous.completedAt) !== at.getTime()) {
      set('COMPLETED', utcStamp(at));
    }
  } else {
    removeAll('COMPLETED');
    if (status === null || COMPLETION_DONE.has(status)) set('STATUS', 'NEEDS-ACTION');
    if (percentComplete() === 100) removeAll('PERCENT-COMPLETE');
  }
  if (unsure) return undefined;

  const patched = [
    ...lines.slice(0, begin + 1),
    ...properties.map((property) => property.raw),
    ...lines.slice(rest),
  ];
  return `${patched.join('\r\n')}\r\n`;
}
