import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { daysAfter, parseDue, startOfDay, toLocalIso } from './dates.js';
import { RemError } from './errors.js';

// Every expectation is built with local-time constructors, so the tests hold in any zone.
/** Wednesday 25 November 2026, 10:30 local time. */
const WEDNESDAY_MORNING = new Date(2026, 10, 25, 10, 30);
/** Friday 27 November 2026, 18:00 local time (after the 17:00 end of the working day). */
const FRIDAY_EVENING = new Date(2026, 10, 27, 18, 0);

async function badDate(text: string, now: Date = WEDNESDAY_MORNING): Promise<RemError> {
  try {
    const parsed = await parseDue(text, now);
    throw new Error(`expected "${text}" to be refused, got ${parsed.date.toString()}`);
  } catch (error) {
    if (!RemError.isInstance(error)) throw error;
    return error as RemError;
  }
}

describe('parseDue', () => {
  describe('when given an ISO date without a time', () => {
    it('returns local midnight of that day as an all-day due', async () => {
      const parsed = await parseDue('2026-12-01', WEDNESDAY_MORNING);
      expect(parsed).toEqual({ date: new Date(2026, 11, 1), allDay: true });
    });
  });

  describe('when given an ISO date and time without an offset', () => {
    it('reads it as local time', async () => {
      const parsed = await parseDue('2026-12-01 14:30', WEDNESDAY_MORNING);
      expect(parsed).toEqual({ date: new Date(2026, 11, 1, 14, 30), allDay: false });
    });

    it('accepts the T separator and seconds', async () => {
      const parsed = await parseDue('2026-12-01T14:30:15', WEDNESDAY_MORNING);
      expect(parsed.date).toEqual(new Date(2026, 11, 1, 14, 30, 15));
    });
  });

  describe('when given an ISO date and time with an offset', () => {
    it('keeps the instant the offset names', async () => {
      const parsed = await parseDue('2026-11-25T09:00:00+01:00', WEDNESDAY_MORNING);
      expect(parsed).toEqual({ date: new Date(Date.UTC(2026, 10, 25, 8, 0)), allDay: false });
    });

    it('accepts Z for UTC, in either case', async () => {
      const parsed = await parseDue('2026-11-25t09:00z', WEDNESDAY_MORNING);
      expect(parsed.date).toEqual(new Date(Date.UTC(2026, 10, 25, 9, 0)));
    });

    it('accepts an offset without a colon', async () => {
      const parsed = await parseDue('2026-11-25T09:00-0230', WEDNESDAY_MORNING);
      expect(parsed.date).toEqual(new Date(Date.UTC(2026, 10, 25, 11, 30)));
    });
  });

  describe('when given an ISO date that does not exist', () => {
    it.each([
      '2026-02-30',
      '2026-13-01',
      '2026-00-10',
      '2026-11-31 10:00',
      '2026-11-25 24:30',
      '2026-11-25 10:75',
    ])('refuses %s with REM_BAD_DATE instead of rolling over', async (text) => {
      const error = await badDate(text);
      expect(error.code).toBe('REM_BAD_DATE');
    });

    it('names the date in the message', async () => {
      const error = await badDate('2026-13-01');
      expect(error.message).toContain('"2026-13-01"');
      expect(error.message).toContain('2026-12-01 14:30');
    });
  });

  describe('when given today or tomorrow', () => {
    it('returns today as an all-day due', async () => {
      expect(await parseDue('today', WEDNESDAY_MORNING)).toEqual({
        date: new Date(2026, 10, 25),
        allDay: true,
      });
    });

    it('returns tomorrow as an all-day due', async () => {
      expect(await parseDue('tomorrow', WEDNESDAY_MORNING)).toEqual({
        date: new Date(2026, 10, 26),
        allDay: true,
      });
    });

    it('reads a time after the day, with or without "at"', async () => {
      const expected = { date: new Date(2026, 10, 26, 9, 0), allDay: false };
      expect(await parseDue('tomorrow 9am', WEDNESDAY_MORNING)).toEqual(expected);
      expect(await parseDue('tomorrow at 9am', WEDNESDAY_MORNING)).toEqual(expected);
      expect(await parseDue('Tomorrow  AT  09:00', WEDNESDAY_MORNING)).toEqual(expected);
    });

    it('reads 12am as midnight and 12pm as noon', async () => {
      expect((await parseDue('today 12am', WEDNESDAY_MORNING)).date).toEqual(new Date(2026, 10, 25, 0, 0));
      expect((await parseDue('today 12pm', WEDNESDAY_MORNING)).date).toEqual(new Date(2026, 10, 25, 12, 0));
    });

    it('reads tonight as 20:00 today', async () => {
      expect(await parseDue('tonight', WEDNESDAY_MORNING)).toEqual({
        date: new Date(2026, 10, 25, 20, 0),
        allDay: false,
      });
    });
  });

  describe('when given eod', () => {
    it('returns 17:00 today', async () => {
      expect(await parseDue('eod', WEDNESDAY_MORNING)).toEqual({
        date: new Date(2026, 10, 25, 17, 0),
        allDay: false,
      });
    });
  });

  describe('when given eow', () => {
    it('returns 17:00 on the coming Friday', async () => {
      expect(await parseDue('eow', WEDNESDAY_MORNING)).toEqual({
        date: new Date(2026, 10, 27, 17, 0),
        allDay: false,
      });
    });

    it('returns next Friday once this Friday has passed 17:00', async () => {
      expect((await parseDue('end of week', FRIDAY_EVENING)).date).toEqual(new Date(2026, 11, 4, 17, 0));
    });
  });

  describe('when given a relative amount', () => {
    it('adds hours and minutes to now', async () => {
      expect(await parseDue('in 2h', WEDNESDAY_MORNING)).toEqual({
        date: new Date(2026, 10, 25, 12, 30),
        allDay: false,
      });
      expect((await parseDue('in 45 minutes', WEDNESDAY_MORNING)).date).toEqual(
        new Date(2026, 10, 25, 11, 15),
      );
    });

    it('adds days and weeks keeping the time of day', async () => {
      expect((await parseDue('in 3 days', WEDNESDAY_MORNING)).date).toEqual(new Date(2026, 10, 28, 10, 30));
      expect((await parseDue('in 2 weeks', WEDNESDAY_MORNING)).date).toEqual(new Date(2026, 11, 9, 10, 30));
    });

    it('refuses an unknown unit', async () => {
      const error = await badDate('in 3 fortnights');
      expect(error.code).toBe('REM_BAD_DATE');
    });
  });

  describe('when given a weekday name', () => {
    it('returns the next such day as an all-day due', async () => {
      expect(await parseDue('fri', WEDNESDAY_MORNING)).toEqual({
        date: new Date(2026, 10, 27),
        allDay: true,
      });
      expect(await parseDue('Monday', WEDNESDAY_MORNING)).toEqual({
        date: new Date(2026, 10, 30),
        allDay: true,
      });
    });

    it('returns the same weekday a week on when today is that day', async () => {
      expect((await parseDue('wednesday', WEDNESDAY_MORNING)).date).toEqual(new Date(2026, 11, 2));
    });

    it('reads a time after the day', async () => {
      expect(await parseDue('friday at 17:00', WEDNESDAY_MORNING)).toEqual({
        date: new Date(2026, 10, 27, 17, 0),
        allDay: false,
      });
    });

    it('reads "next fri 3pm" as the coming Friday at 15:00', async () => {
      expect(await parseDue('next fri 3pm', WEDNESDAY_MORNING)).toEqual({
        date: new Date(2026, 10, 27, 15, 0),
        allDay: false,
      });
    });

    it('refuses a weekday followed by something that is not a time', async () => {
      const error = await badDate('fri whenever');
      expect(error.code).toBe('REM_BAD_DATE');
    });
  });

  describe('when given only a time', () => {
    it('returns today when the time is still ahead', async () => {
      expect(await parseDue('5pm', WEDNESDAY_MORNING)).toEqual({
        date: new Date(2026, 10, 25, 17, 0),
        allDay: false,
      });
    });

    it('returns tomorrow when the time has passed or is now', async () => {
      expect((await parseDue('9am', WEDNESDAY_MORNING)).date).toEqual(new Date(2026, 10, 26, 9, 0));
      expect((await parseDue('10:30', WEDNESDAY_MORNING)).date).toEqual(new Date(2026, 10, 26, 10, 30));
    });
  });

  describe('when given next week or next month', () => {
    it('returns the coming Monday for next week', async () => {
      expect(await parseDue('next week', WEDNESDAY_MORNING)).toEqual({
        date: new Date(2026, 10, 30),
        allDay: true,
      });
    });

    it('returns the first of next month for next month', async () => {
      expect(await parseDue('next month', WEDNESDAY_MORNING)).toEqual({
        date: new Date(2026, 11, 1),
        allDay: true,
      });
    });

    it('rolls next month over the end of the year', async () => {
      expect((await parseDue('next month', new Date(2026, 11, 15, 9, 0))).date).toEqual(new Date(2027, 0, 1));
    });
  });

  describe('when given text the fast paths do not read', () => {
    it('reads "dec 24 6pm" through chrono as a timed due', async () => {
      expect(await parseDue('dec 24 6pm', WEDNESDAY_MORNING)).toEqual({
        date: new Date(2026, 11, 24, 18, 0),
        allDay: false,
      });
    });

    it('reads a date without a time as an all-day due at local midnight', async () => {
      expect(await parseDue('dec 24', WEDNESDAY_MORNING)).toEqual({
        date: new Date(2026, 11, 24),
        allDay: true,
      });
    });

    it('reads "the day after tomorrow"', async () => {
      expect(await parseDue('the day after tomorrow', WEDNESDAY_MORNING)).toEqual({
        date: new Date(2026, 10, 27),
        allDay: true,
      });
    });

    it('reads a past month-day as next year', async () => {
      expect((await parseDue('jan 5', WEDNESDAY_MORNING)).date).toEqual(new Date(2027, 0, 5));
    });
  });

  describe('when given text that is not a date', () => {
    it.each([
      'sometime',
      'tomorrow-ish',
      'tomorrow 25:00',
      'constructor',
      'constructor 3pm',
      'in 2 constructor',
    ])('refuses %s with REM_BAD_DATE', async (text) => {
      const error = await badDate(text);
      expect(error.code).toBe('REM_BAD_DATE');
    });

    it('names the input and forms that work in the message', async () => {
      const error = await badDate('sometime soon');
      expect(error.message).toContain('"sometime soon"');
      expect(error.message).toContain('tomorrow 9am');
      expect(error.message).toContain('in 2h');
      expect(error.details).toEqual({ given: 'sometime soon' });
    });

    it('refuses empty text with examples', async () => {
      const error = await badDate('   ');
      expect(error.code).toBe('REM_BAD_DATE');
      expect(error.message).toContain('empty');
      expect(error.message).toContain('2026-12-01');
    });
  });
});

describe('toLocalIso', () => {
  describe('when formatting any local time', () => {
    it('writes the local wall-clock time and an offset that names the same instant', () => {
      const date = new Date(2026, 10, 25, 17, 5, 9);
      const text = toLocalIso(date);
      expect(text).toMatch(/^2026-11-25T17:05:09[+-]\d{2}:\d{2}$/);
      expect(Date.parse(text)).toBe(date.getTime());
    });
  });

  describe('when the machine is in a zone with a half-hour offset', () => {
    const originalZone = process.env.TZ;
    beforeEach(() => {
      process.env.TZ = 'America/St_Johns';
    });
    afterEach(() => {
      if (originalZone === undefined) delete process.env.TZ;
      else process.env.TZ = originalZone;
    });

    it('writes a negative offset with its minutes', () => {
      expect(toLocalIso(new Date(2026, 10, 25, 17, 0))).toBe('2026-11-25T17:00:00-03:30');
    });

    it('follows daylight saving time', () => {
      expect(toLocalIso(new Date(2026, 6, 1, 8, 0))).toBe('2026-07-01T08:00:00-02:30');
    });
  });

  describe('when the machine is east of UTC', () => {
    const originalZone = process.env.TZ;
    beforeEach(() => {
      process.env.TZ = 'Asia/Kolkata';
    });
    afterEach(() => {
      if (originalZone === undefined) delete process.env.TZ;
      else process.env.TZ = originalZone;
    });

    it('writes a positive offset', () => {
      expect(toLocalIso(new Date(2026, 0, 2, 3, 4, 5))).toBe('2026-01-02T03:04:05+05:30');
    });
  });
});

describe('startOfDay', () => {
  describe('when given a time of day', () => {
    it('returns local midnight of the same day', () => {
      expect(startOfDay(new Date(2026, 10, 25, 23, 59, 59))).toEqual(new Date(2026, 10, 25));
    });
  });
});

describe('daysAfter', () => {
  describe('when crossing a month end', () => {
    it('returns local midnight of the later day', () => {
      expect(daysAfter(new Date(2026, 10, 29, 15, 0), 3)).toEqual(new Date(2026, 11, 2));
    });
  });

  describe('when given a negative count', () => {
    it('goes back', () => {
      expect(daysAfter(new Date(2026, 0, 1, 8, 0), -1)).toEqual(new Date(2025, 11, 31));
    });
  });
});
