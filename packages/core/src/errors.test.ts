import { describe, expect, it } from 'vitest';
import { BallastError } from './errors.js';
import { errorBody, errorStreamEvent } from './wire-errors.js';

describe('BallastError', () => {
  it('carries code, cause, status and retryability', () => {
    const cause = new Error('ECONNRESET');
    const error = new BallastError('PROXY_UPSTREAM_RESET', 'upstream closed the connection', {
      cause,
      isRetryable: true,
      status: 502,
    });
    expect(error).toMatchObject({ code: 'PROXY_UPSTREAM_RESET', isRetryable: true, status: 502, cause });
    expect(error.isRetryable).toBe(true);
  });

  describe('isInstance', () => {
    describe('when the error comes from another copy of core', () => {
      it('recognises it by the shared symbol marker', () => {
        const foreign = Object.assign(new Error('x'), { [Symbol.for('ballast.error')]: true, code: 'X' });
        expect(BallastError.isInstance(foreign)).toBe(true);
        expect(BallastError.isInstance(new Error('plain'))).toBe(false);
        expect(BallastError.isInstance(null)).toBe(false);
      });
    });
  });

  describe('from', () => {
    it('wraps unknown throws and keeps the original as cause', () => {
      const wrapped = BallastError.from('oops', 'PROXY_INTERNAL');
      expect(wrapped).toMatchObject({
        code: 'PROXY_INTERNAL',
        message: 'oops',
        cause: 'oops',
        isRetryable: false,
      });
      const existing = new BallastError('A', 'a');
      expect(BallastError.from(existing)).toBe(existing);
    });
  });
});

describe('errorBody', () => {
  it('keeps each dialect’s error shape', () => {
    const error = { code: 'budget_exceeded', message: 'session budget reached' };
    expect(errorBody('openai', error)).toEqual({
      error: {
        message: 'session budget reached',
        type: 'budget_exceeded',
        param: null,
        code: 'budget_exceeded',
      },
    });
    expect(errorBody('anthropic', error)).toEqual({
      type: 'error',
      error: { type: 'budget_exceeded', message: 'session budget reached' },
    });
  });

  it('names the event for Anthropic streams only', () => {
    const error = { code: 'killed', message: 'stopped by an operator' };
    expect(errorStreamEvent('anthropic', error).event).toBe('error');
    expect(errorStreamEvent('openai', error).event).toBeUndefined();
  });
});
