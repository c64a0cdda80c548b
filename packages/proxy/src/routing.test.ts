import { describe, expect, it } from 'vitest';
import { TargetHealthBook } from './health.js';
import { compileGlob, compileRoutes, findRoute, orderTargets } from './routing.js';
import { classifyUpstreamError, parseResetDuration, resetTimeFrom } from './upstream.js';

describe('findRoute', () => {
  const routes = compileRoutes([
    { match: 'gpt-4o-mini', targets: [{ provider: 'a' }] },
    { match: 'gpt-*', targets: [{ provider: 'b' }] },
    { match: '*', targets: [{ provider: 'c' }] },
  ]);
  it('takes the first route whose glob matches', () => {
    expect(findRoute(routes, 'gpt-4o-mini')?.match).toBe('gpt-4o-mini');
    expect(findRoute(routes, 'gpt-4o')?.match).toBe('gpt-*');
    expect(findRoute(routes, 'claude-3')?.match).toBe('*');
  });
  it('treats regex characters in globs literally', () => {
    expect(compileGlob('gpt-4.1').test('gpt-4x1')).toBe(false);
    expect(compileGlob('o?-mini').test('o3-mini')).toBe(true);
  });
});

describe('orderTargets', () => {
  describe('when no target has a weight', () => {
    it('keeps config order', () => {
      const targets = [{ provider: 'a' }, { provider: 'b' }];
      expect(orderTargets(targets, () => 0.99)).toEqual(targets);
    });
  });
  describe('when targets have weights', () => {
    it('picks the first in proportion to weight and keeps the others as fallbacks', () => {
      const targets = [
        { provider: 'a', weight: 3 },
        { provider: 'b', weight: 1 },
      ];
      let seed = 1;
      const random = () => {
        seed = (seed * 16807) % 2147483647;
        return seed / 2147483647;
      };
      const firsts = { a: 0, b: 0 } as Record<string, number>;
      for (let index = 0; index < 4000; index += 1) {
        const order = orderTargets(targets, random);
        expect(order).toHaveLength(2);
        firsts[order[0]?.provider ?? ''] = (firsts[order[0]?.provider ?? ''] ?? 0) + 1;
      }
      expect((firsts.a ?? 0) / 4000).toBeGreaterThan(0.7);
      expect((firsts.a ?? 0) / 4000).toBeLessThan(0.8);
    });
  });
});

describe('TargetHealthBook', () => {
  it('opens after the threshold, half-opens after the cool-down with a single probe, reopens on probe failure', () => {
    let clock = 0;
    const book = new TargetHealthBook({ failureThreshold: 2, windowMs: 1000, cooldownMs: 500 }, () => clock);
    book.fail('t');
    expect(book.acquire('t')).toBeUndefined();
    book.fail('t');
    expect(book.acquire('t')).toBe('breaker-open');
    clock = 500;
    expect(book.acquire('t')).toBeUndefined();
    expect(book.acquire('t')).toBe('probe-in-flight');
    book.fail('t');
    expect(book.state('t')).toBe('open');
    clock = 1000;
    expect(book.acquire('t')).toBeUndefined();
    book.succeed('t');
    expect(book.state('t')).toBe('closed');
  });

  it('forgets failures outside the window', () => {
    let clock = 0;
    const book = new TargetHealthBook({ failureThreshold: 2, windowMs: 100, cooldownMs: 500 }, () => clock);
    book.fail('t');
    clock = 200;
    book.fail('t');
    expect(book.state('t')).toBe('closed');
  });

  it('skips an exhausted target until its reset time', () => {
    let clock = 0;
    const book = new TargetHealthBook({ failureThreshold: 5, windowMs: 100, cooldownMs: 500 }, () => clock);
    book.exhaust('t', 1000);
    expect(book.acquire('t')).toBe('quota-exhausted');
    clock = 1000;
    expect(book.acquire('t')).toBeUndefined();
  });
});

describe('classifyUpstreamError', () => {
  it.each([
    [
      429,
      {
        error: {
          type: 'insufficient_quota',
          code: 'insufficient_quota',
          message: 'You exceeded your current quota',
        },
      },
      'quota',
      true,
    ],
    [
      400,
      {
        type: 'error',
        error: {
          type: 'invalid_request_error',
          message: 'Your credit balance is too low to access the Anthropic API.',
        },
      },
      'quota',
      true,
    ],
    [402, {}, 'quota', true],
    [429, { error: { message: 'Rate limit reached', type: 'requests' } }, 'rate-limit', true],
    [529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, 'overloaded', true],
    [503, {}, 'server', true],
    [408, {}, 'timeout', true],
    [409, {}, 'conflict', true],
    [400, { error: { message: 'messages: field required' } }, 'client', false],
    [401, { error: { message: 'invalid x-api-key' } }, 'client', false],
  ])('classifies %i %j as %s (fallback %s)', (status, body, kind, fallback) => {
    expect(classifyUpstreamError(status, body, {}, 0)).toMatchObject({ kind, fallback });
  });
});

describe('resetTimeFrom', () => {
  it('takes the latest of retry-after and the providers rate-limit reset headers', () => {
    expect(parseResetDuration('6m0s')).toBe(360_000);
    expect(parseResetDuration('20ms')).toBe(20);
    expect(resetTimeFrom({ 'retry-after': '2', 'x-ratelimit-reset-tokens': '1m30s' }, 1000)).toEqual({
      resetAt: 91_000,
      retryAfterMs: 2000,
    });
    expect(resetTimeFrom({ 'anthropic-ratelimit-requests-reset': '2026-01-01T00:00:10Z' }, 0).resetAt).toBe(
      Date.parse('2026-01-01T00:00:10Z'),
    );
    expect(resetTimeFrom({}, 0)).toEqual({});
  });
});
