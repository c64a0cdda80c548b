import { RemError } from './errors.js';

/** A due time read from text. */
export interface ParsedDue {
  date: Date;
  /** True when the text named a day and no time (`tomorrow`, `2026-12-01`, `fri`). */
  allDay: boolean;
}

const WEEKDAYS: Record<string, number> = {
  sun: 0,
  sunday: 0,
  mon: 1,
  monday: 1,
  tue: 2,
  tues: 2,
  tuesday: 2,
  wed: 3,
  wednesday: 3,
  thu: 4,
  thur: 4,
  thurs: 4,
  thursday: 4,
  fri: 5,
  friday: 5,
  sat: 6,
  saturday: 6,
};

const UNIT_MS: Record<string, number> = {
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
};
const UNIT_DAYS: Record<string, number> = {
  d: 1,
  day: 1,
  days: 1,
  w: 7,
  wk: 7,
  wks: 7,
  week: 7,
  weeks: 7,
};

const DAY_OFFSETS: Record<string, number> = {
  today: 0,
  tonight: 0,
  tomorrow: 1,
  tmrw: 1,
  yesterday: -1,
};

const EXAMPLES =
  'try 2026-12-01, 2026-12-01 14:30, today, tomorrow 9am, fri, next fri 3pm, in 2h, in 3 days, eod, eow or "dec 24 6pm"';

/** The value of an own key only: `constructor` and `__proto__` are not weekdays or units. */
function lookup<T>(table: Record<string, T>, key: string | undefined): T | undefined {
  return key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
}

/** Whether the fields name a real calendar day and clock time (no Feb 30, month 13 or 24:30). */
function isRealDateTime(fields: number[]): boolean {
  const [year = 0, month = 0, day = 0, hours = 0, minutes = 0, seconds = 0] = fields;
  const date = new Date(Date.UTC(year, month - 1, day, hours, minutes, seconds));
  return (
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hours &&
    date.getUTCMinutes() === minutes &&
    date.getUTCSeconds() === seconds
  );
}

function atTime(day: Date, hours: number, minutes: number): Date {
  return new Date(day.getFullYear(), day.getMonth(), day.getDate(), hours, minutes, 0, 0);
}

function addDays(day: Date, days: number): Date {
  return new Date(day.getFullYear(), day.getMonth(), day.getDate() + days, 0, 0, 0, 0);
}

/** `5pm`, `5:30pm`, `17:00`, `9am` → hours and minutes; undefined when not a time. */
function readTime(text: string): [number, number] | undefined {
  const match = /^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$/.exec(text);
  if (!match) return undefined;
  let hours = Number(match[1]);
  const minutes = match[2] === undefined ? 0 : Number(match[2]);
  const period = match[3];
  if (period === undefined && match[2] === undefined) return undefined;
  if (minutes > 59) return undefined;
  if (period) {
    if (hours < 1 || hours > 12) return undefined;
    if (period === 'am' && hours === 12) hours = 0;
    if (period === 'pm' && hours !== 12) hours += 12;
  } else if (hours > 23) {
    return undefined;
  }
  return [hours, minutes];
}

function nextWeekday(now: Date, weekday: number): Date {
  let ahead = weekday - now.getDay();
  if (ahead <= 0) ahead += 7;
  return addDays(now, ahead);
}

/** A day plus an optional `[at] <time>`; undefined when the rest is not a time. */
function withOptionalTime(day: Date, rest: string): ParsedDue | undefined {
  const timeText = rest.replace(/^at\s+/, '').trim();
  if (timeText === '') return { date: day, allDay: true };
  const time = readTime(timeText);
  return time ? { date: atTime(day, time[0], time[1]), allDay: false } : undefined;
}

function parseFast(text: string, now: Date): ParsedDue | undefined {
  if (text === 'now') return { date: new Date(now), allDay: false };
  if (text === 'eod' || text === 'end of day') return { date: atTime(now, 17, 0), allDay: false };
  if (text === 'eow' || text === 'end of week') {
    let ahead = (5 - now.getDay() + 7) % 7;
    if (ahead === 0 && now.getHours() >= 17) ahead = 7;
    return { date: atTime(addDays(now, ahead), 17, 0), allDay: false };
  }
  if (text === 'next week') return { date: nextWeekday(now, 1), allDay: true };
  if (text === 'next month') {
    return { date: new Date(now.getFullYear(), now.getMonth() + 1, 1), allDay: true };
  }
  const iso =
    /^(\d{4})-(\d{2})-(\d{2})(?:[t ](\d{2}):(\d{2})(?::(\d{2}))?(\.\d+)?(z|[+-]\d{2}:?\d{2})?)?$/.exec(text);
  if (iso) {
    const [, year, month, day, hours, minutes, seconds, , zone] = iso;
    // Refused here: chrono would read 2026-13-01 as 13 January.
    if (!isRealDateTime([year, month, day, hours, minutes, seconds].map((field) => Number(field ?? 0)))) {
      throw new RemError('REM_BAD_DATE', `"${text}" is not a real date and time; ${EXAMPLES}`, {
        details: { given: text },
      });
    }
    if (hours === undefined) {
      return { date: new Date(Number(year), Number(month) - 1, Number(day)), allDay: true };
    }
    const date = zone
      ? new Date(text.toUpperCase().replace(' ', 'T'))
      : new Date(
          Number(year),
          Number(month) - 1,
          Number(day),
          Number(hours),
          Number(minutes),
          Number(seconds ?? 0),
        );
    return Number.isNaN(date.getTime()) ? undefined : { date, allDay: false };
  }
  const relative = /^in\s+(\d+)\s*([a-z]+)$/.exec(text);
  if (relative) {
    const amount = Number(relative[1]);
    const unit = relative[2] ?? '';
    const milliseconds = lookup(UNIT_MS, unit);
    if (milliseconds !== undefined) {
      return { date: new Date(now.getTime() + amount * milliseconds), allDay: false };
    }
    const days = lookup(UNIT_DAYS, unit);
    if (days !== undefined) {
      const day = addDays(now, amount * days);
      return { date: atTime(day, now.getHours(), now.getMinutes()), allDay: false };
    }
    return undefined;
  }
  const named = /^(today|tonight|tomorrow|tmrw|yesterday)\b\s*(.*)$/.exec(text);
  if (named) {
    const day = addDays(now, lookup(DAY_OFFSETS, named[1]) ?? 0);
    if (named[1] === 'tonight' && (named[2] ?? '') === '') {
      return { date: atTime(day, 20, 0), allDay: false };
    }
    return withOptionalTime(day, named[2] ?? '');
  }
  const weekday = /^(?:(next|this)\s+)?([a-z]+)\b\s*(.*)$/.exec(text);
  if (weekday) {
    const target = lookup(WEEKDAYS, weekday[2]);
    if (target !== undefined) return withOptionalTime(nextWeekday(now, target), weekday[3] ?? '');
  }
  const time = readTime(text);
  if (time) {
    let date = atTime(now, time[0], time[1]);
    if (date.getTime() <= now.getTime()) date = atTime(addDays(now, 1), time[0], time[1]);
    return { date, allDay: false };
  }
  return undefined;
}

/**
 * Reads a due time from text: ISO dates, rem's shorthands (`eod` is 5 pm today, `eow` Friday
 * 5 pm, `in 2h`, `next fri 3pm`) and, for anything else, chrono-node's English parser (loaded
 * only then, so common forms cost nothing).
 * @param text what the user typed
 * @param now the reference time @default new Date()
 * @returns the time and whether it is a whole day
 * @throws RemError REM_BAD_DATE naming the text and forms that work
 * @example
 * ```ts
 * await parseDue('next fri 3pm'); // { date: <Friday 15:00 local>, allDay: false }
 * ```
 */
export async function parseDue(text: string, now: Date = new Date()): Promise<ParsedDue> {
  const normalized = text.trim().toLowerCase().replace(/\s+/g, ' ');
  if (normalized === '') {
    throw new RemError('REM_BAD_DATE', `an empty date was given; ${EXAMPLES}`, {
      details: { given: text },
    });
  }
  const fast = parseFast(normalized, now);
  if (fast) return fast;
  const chrono = await import('chrono-node/en');
  const results = chrono.casual.parse(text, now, { forwardDate: true });
  const first = results[0];
  // Only a parse that used the whole text counts: "tomorrow-ish" must not become tomorrow.
  if (first && first.text.trim().length === text.trim().length) {
    const known = first.start;
    const allDay = !known.isCertain('hour');
    const date = first.start.date();
    return { date: allDay ? atTime(date, 0, 0) : date, allDay };
  }
  throw new RemError('REM_BAD_DATE', `could not read "${text}" as a date; ${EXAMPLES}`, {
    details: { given: text },
  });
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/**
 * Formats a time as local ISO 8601 with its UTC offset (`2026-11-25T17:00:00+01:00`).
 * @param date the time
 * @returns the text
 */
export function toLocalIso(date: Date): string {
  const offsetMinutes = -date.getTimezoneOffset();
  const sign = offsetMinutes >= 0 ? '+' : '-';
  const absolute = Math.abs(offsetMinutes);
  return (
    `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(Math.floor(absolute / 60))}:${pad(absolute % 60)}`
  );
}

/**
 * The start of the local day holding `date`.
 * @param date any time
 * @returns local midnight of that day
 */
export function startOfDay(date: Date): Date {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate());
}

/**
 * The local midnight `days` days after the day holding `date`.
 * @param date any time
 * @param days how many days on (may be negative)
 * @returns local midnight of that day
 */
export function daysAfter(date: Date, days: number): Date {
  return addDays(date, days);
}
