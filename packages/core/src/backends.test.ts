import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  evalRedisScript,
  failFastRedisOptions,
  loadOptionalDependency,
  redactUrl,
  redisFailure,
  redisScript,
  sqliteFailure,
  transientRedisReply,
  waitForFirstConnection,
} from './backends.js';
import { BallastError } from './errors.js';

class FakeClient extends EventEmitter {
  status = 'connecting';
}

describe('redactUrl', () => {
  it('hides a password and leaves other text alone', () => {
    expect(redactUrl('redis://user:secret@127.0.0.1:6379/0')).toBe('redis://user:***@127.0.0.1:6379/0');
    expect(redactUrl(new URL('redis://127.0.0.1:6379'))).toBe('redis://127.0.0.1:6379');
    expect(redactUrl('not a url')).toBe('not a url');
  });
});

describe('transientRedisReply', () => {
  it('tells a busy server from a wrong request', () => {
    expect(transientRedisReply.test('LOADING Redis is loading the dataset in memory')).toBe(true);
    expect(transientRedisReply.test('ERR wrong number of arguments')).toBe(false);
  });
});

describe('waitForFirstConnection', () => {
  it('settles on ready, on the first error, or at the timeout, and leaves no listener behind', async () => {
    const ready = new FakeClient();
    const waiting = waitForFirstConnection(ready, 5000);
    ready.emit('ready');
    await waiting;
    const failing = new FakeClient();
    const failed = waitForFirstConnection(failing, 5000);
    failing.emit('error');
    await failed;
    const silent = new FakeClient();
    const started = Date.now();
    await waitForFirstConnection(silent, 30);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    for (const client of [ready, failing, silent]) expect(client.eventNames()).toEqual([]);
  });
});

describe('loadOptionalDependency', () => {
  it('returns the module, or an error with the given code and the import failure as cause', async () => {
    await expect(loadOptionalDependency(async () => 42, 'X_MISSING', 'needs x')).resolves.toBe(42);
    const failure = new Error('Cannot find package');
    await expect(
      loadOptionalDependency(
        () => Promise.reject(failure),
        'X_MISSING',
        'the x store needs the x package: pnpm add x',
      ),
    ).rejects.toMatchObject({
      code: 'X_MISSING',
      message: 'the x store needs the x package: pnpm add x',
      cause: failure,
    });
  });
});

describe('sqliteFailure', () => {
  it('marks a held lock retryable and a broken file not, naming the path and the SQLite code', () => {
    const busy = sqliteFailure(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }), {
      code: 'X_UNAVAILABLE',
      what: 'the sqlite x store',
      path: '/tmp/x.db',
    });
    expect(busy).toMatchObject({
      code: 'X_UNAVAILABLE',
      isRetryable: true,
      details: { sqliteCode: 'SQLITE_BUSY' },
    });
    expect(busy.message).toBe('the sqlite x store at /tmp/x.db failed: database is locked');
    const corrupt = sqliteFailure(
      Object.assign(new Error('file is not a database'), { code: 'SQLITE_NOTADB' }),
      {
        code: 'X_UNAVAILABLE',
        what: 'the sqlite x store',
        path: '/tmp/x.db',
      },
    );
    expect(corrupt.isRetryable).toBe(false);
  });
});

describe('redisFailure', () => {
  it('retries connection trouble and busy replies, not a rejected command, and passes BallastErrors through', () => {
    const context = {
      code: 'X_UNAVAILABLE',
      what: 'the redis x store',
      where: 'redis://127.0.0.1:6379',
      status: 'ready',
    };
    const wrong = Object.assign(new Error('ERR unknown command'), { name: 'ReplyError' });
    const loading = Object.assign(new Error('LOADING dataset'), { name: 'ReplyError' });
    expect(redisFailure(wrong, context).isRetryable).toBe(false);
    expect(redisFailure(loading, context).isRetryable).toBe(true);
    const closed = redisFailure(new Error('Connection is closed.'), {
      ...context,
      lastConnectionError: new Error('ECONNREFUSED'),
    });
    expect(closed.isRetryable).toBe(true);
    expect(closed.message).toBe(
      'the redis x store at redis://127.0.0.1:6379 is unavailable: Connection is closed. (last connection error: ECONNREFUSED)',
    );
    const own = new BallastError('X_CLOSED', 'closed');
    expect(redisFailure(own, context)).toBe(own);
  });
});

describe('evalRedisScript', () => {
  it('runs by SHA-1 and sends the source only when Redis answers NOSCRIPT', async () => {
    const script = redisScript('return 1');
    expect(script.sha).toBe('e0e1f9fabfc9d4800c877a703b823ac0578ff8db');
    const calls: string[] = [];
    let known = false;
    const client = {
      async evalsha(sha: string, keyCount: number, ...rest: string[]) {
        calls.push(`evalsha ${sha.slice(0, 6)} ${keyCount} ${rest.join(',')}`);
        if (!known) throw new Error('NOSCRIPT No matching script.');
        return 'by-sha';
      },
      async eval(source: string, keyCount: number, ...rest: string[]) {
        calls.push(`eval ${source} ${keyCount} ${rest.join(',')}`);
        known = true;
        return 'by-source';
      },
    };
    expect(await evalRedisScript(client, script, ['k'], ['v'])).toBe('by-source');
    expect(await evalRedisScript(client, script, ['k'], ['v'])).toBe('by-sha');
    expect(calls).toEqual(['evalsha e0e1f9 1 k,v', 'eval return 1 1 k,v', 'evalsha e0e1f9 1 k,v']);
    const failing = { ...client, evalsha: async () => Promise.reject(new Error('WRONGTYPE')) };
    await expect(evalRedisScript(failing, script, [], [])).rejects.toThrow('WRONGTYPE');
  });
});

describe('failFastRedisOptions', () => {
  it('never queues offline, retries once, times out, and reconnects forever', () => {
    const options = failFastRedisOptions({ timeoutMs: 2000, reconnectIntervalMs: 500, connectionName: 'x' });
    expect(options).toMatchObject({
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      commandTimeout: 2000,
      connectionName: 'x',
    });
    expect(options.retryStrategy()).toBe(500);
  });
});
