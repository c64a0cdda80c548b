import { describe, expect, it } from 'vitest';
import { parseKillswitchOptions, windowBucket } from './options.js';

describe('parseKillswitchOptions', () => {
  it('fills in defaults', () => {
    expect(parseKillswitchOptions({ budgets: [{ scope: 'session', usd: 5 }] })).toMatchObject({
      budgets: [{ scope: 'session', usd: 5, window: 'total', warnAt: 0.8 }],
      store: { type: 'memory' },
      failOpen: false,
      clampOutput: true,
      allowClientCaps: true,
    });
  });

  describe('when an option is wrong', () => {
    it.each([
      [
        { budgets: [{ scope: 'team', usd: 1 }] },
        /budgets\[0\]\.scope: expected session \| agent \| key \| global, got "team"/,
      ],
      [{ budgets: [{ scope: 'session' }] }, /budgets\[0\]: expected at least one of usd, tokens, requests/],
      [{ budgets: [{ scope: 'session', usd: -1 }] }, /budgets\[0\]\.usd: expected a number above 0/],
      [{ budgets: [{ scope: 'session', usd: 1e7 }] }, /budgets\[0\]\.usd: expected at most 9000000/],
      [
        { budgets: [{ scope: 'session', usd: 1, window: 'fortnight' }] },
        /budgets\[0\]\.window: expected minute \| hour/,
      ],
      [{ store: { type: 'sqlite' } }, /store\.path: expected a file path/],
      [{ store: { type: 'redis', url: 'http://x' } }, /store\.url: expected a redis:\/\/ URL/],
      [{ alerts: { webhook: 'ftp://x' } }, /alerts\.webhook: expected an http\(s\) URL/],
      [{ budget: [] }, /killswitch options budget: expected one of/],
    ])('names the field (%#)', (input, message) => {
      expect(() => parseKillswitchOptions(input)).toThrow(message);
    });
  });
});

describe('windowBucket', () => {
  it('aligns windows in UTC and keeps counters past their window', () => {
    const noon = Date.UTC(2026, 10, 24, 12, 0, 0);
    expect(windowBucket('total', noon)).toEqual({ bucket: 'total' });
    const day = windowBucket('day', noon);
    expect(day.bucket).toBe(`d${Math.floor(noon / 86_400_000)}`);
    expect(day.ttlMs).toBe(12 * 3_600_000 + 86_400_000);
    expect(windowBucket('month', noon).bucket).toBe('m2026-11');
    expect(windowBucket('hour', noon + 3_600_000).bucket).not.toBe(windowBucket('hour', noon).bucket);
  });
});
