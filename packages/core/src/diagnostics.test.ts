import diagnosticsChannel from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { createDiagnostics } from './diagnostics.js';
import { fromPinoLogger, silentLogger } from './logger.js';

describe('createDiagnostics', () => {
  describe('when someone subscribes to ballast:<pkg>:<event>', () => {
    it('delivers the published message', () => {
      const seen: unknown[] = [];
      const listener = (message: unknown) => seen.push(message);
      diagnosticsChannel.subscribe('ballast:test:request-start', listener);
      try {
        createDiagnostics('test').publish('request-start', { requestId: 'r1' });
      } finally {
        diagnosticsChannel.unsubscribe('ballast:test:request-start', listener);
      }
      expect(seen).toEqual([{ requestId: 'r1' }]);
    });
  });

  describe('when nobody listens', () => {
    it('does not build a lazy payload', () => {
      let built = false;
      createDiagnostics('test').publish('request-end', () => {
        built = true;
        return {};
      });
      expect(built).toBe(false);
    });
  });
});

describe('Logger', () => {
  it('silentLogger says nothing and its child is silent too', () => {
    expect(silentLogger.info('x')).toBeUndefined();
    expect(silentLogger.child?.({ a: 1 })).toBe(silentLogger);
    expect(silentLogger.isLevelEnabled?.('error')).toBe(false);
  });

  it("fromPinoLogger reports pino's levels, and leaves the question open when pino cannot answer", () => {
    const write = () => {};
    const pino = { debug: write, info: write, warn: write, error: write };
    const levels = { ...pino, isLevelEnabled: (level: string) => level !== 'debug' };
    expect(fromPinoLogger(levels).isLevelEnabled?.('debug')).toBe(false);
    expect(fromPinoLogger(levels).isLevelEnabled?.('info')).toBe(true);
    expect(fromPinoLogger(pino).isLevelEnabled).toBeUndefined();
  });

  it('fromPinoLogger forwards (fields, message) in pino order', () => {
    const lines: Array<[object, string]> = [];
    const pino = {
      debug: (fields: object, message: string) => lines.push([fields, message]),
      info: (fields: object, message: string) => lines.push([fields, message]),
      warn: (fields: object, message: string) => lines.push([fields, message]),
      error: (fields: object, message: string) => lines.push([fields, message]),
    };
    fromPinoLogger(pino).warn('upstream slow', { provider: 'openai' });
    expect(lines).toEqual([[{ provider: 'openai' }, 'upstream slow']]);
  });
});
