import ICAL from 'ical.js';
import { toLocalIso } from './dates.js';

/** The next occurrence of a repeating reminder, and the rule the next copy carries. */
export interface NextOccurrence {
  /** ISO 8601 with offset (local midnight for an all-day due). */
  due: string;
  /** The rule for the copy: COUNT lowered by one, everything else kept. */
  repeat: string;
}

/**
 * The first occurrence of `repeat` after `due`, counted from `due` itself (ical.js expands the
 * rule, so BYDAY, BYMONTHDAY, BYSETPOS and UNTIL all hold). Undefined when the rule has run out:
 * COUNT reached or UNTIL passed.
 * @param repeat the RRULE value
 * @param due the current due, ISO 8601
 * @param allDay whether the due is a whole day
 * @returns the next due and rule, or undefined
 */
export function nextOccurrence(repeat: string, due: string, allDay: boolean): NextOccurrence | undefined {
  const rule = ICAL.Recur.fromString(repeat);
  const count = rule.count;
  if (count !== null && count !== undefined && count <= 1) return undefined;
  // The count is of occurrences left from here: expand without it and lower it on the copy.
  const open = ICAL.Recur.fromString(repeat.replace(/;?COUNT=\d+/i, '').replace(/^;/, ''));
  const date = new Date(due);
  const start = ICAL.Time.fromData({
    year: date.getFullYear(),
    month: date.getMonth() + 1,
    day: date.getDate(),
    hour: allDay ? 0 : date.getHours(),
    minute: allDay ? 0 : date.getMinutes(),
    second: allDay ? 0 : date.getSeconds(),
    isDate: allDay,
  });
  const iterator = open.iterator(start);
  for (let step = 0; step < 1000; step += 1) {
    const next = iterator.next();
    if (!next) return undefined;
    if (next.compare(start) <= 0) continue;
    const nextDate = new Date(next.year, next.month - 1, next.day, next.hour, next.minute, next.second);
    const nextRule =
      count !== null && count !== undefined ? repeat.replace(/COUNT=\d+/i, `COUNT=${count - 1}`) : repeat;
    return { due: toLocalIso(nextDate), repeat: nextRule };
  }
  return undefined;
}
