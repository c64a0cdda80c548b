import { describe, expect, it } from 'vitest';
import { toLocalIso } from './dates.js';
import { nextOccurrence } from './recurrence.js';

const at = (year: number, month: number, day: number, hour = 0, minute = 0): string =>
  toLocalIso(new Date(year, month - 1, day, hour, minute));

describe('nextOccurrence', () => {
  describe('when the rule is a plain frequency', () => {
    it('moves a timed due by one period, keeping the time', () => {
      expect(nextOccurrence('FREQ=DAILY', at(2026, 11, 25, 9, 30), false)?.due).toBe(at(2026, 11, 26, 9, 30));
      expect(nextOccurrence('FREQ=WEEKLY;INTERVAL=2', at(2026, 11, 25, 9), false)?.due).toBe(
        at(2026, 12, 9, 9),
      );
      expect(nextOccurrence('FREQ=MONTHLY', at(2026, 1, 31), true)?.due).toBe(at(2026, 3, 31));
    });
  });

  describe('when the rule names weekdays', () => {
    it('finds the next named day after the due', () => {
      // 2026-11-27 is a Friday; the next of Monday/Friday after it is Monday the 30th.
      expect(nextOccurrence('FREQ=WEEKLY;BYDAY=MO,FR', at(2026, 11, 27, 8), false)?.due).toBe(
        at(2026, 11, 30, 8),
      );
    });
  });

  describe('when the rule is bounded', () => {
    it('lowers COUNT on the copy and stops at the last one', () => {
      expect(nextOccurrence('FREQ=DAILY;COUNT=3', at(2026, 11, 25), true)).toEqual({
        due: at(2026, 11, 26),
        repeat: 'FREQ=DAILY;COUNT=2',
      });
      expect(nextOccurrence('FREQ=DAILY;COUNT=1', at(2026, 11, 25), true)).toBeUndefined();
    });

    it('stops after UNTIL', () => {
      expect(nextOccurrence('FREQ=DAILY;UNTIL=20261125T235959Z', at(2026, 11, 25, 9), false)).toBeUndefined();
    });
  });
});
