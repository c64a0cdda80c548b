import {
  BallastError,
  evalRedisScript,
  failFastRedisOptions,
  loadOptionalDependency,
  type RedisScript,
  redactUrl,
  redisFailure,
  redisScript,
  waitForFirstConnection,
} from '@ballast/core';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type { Turn } from '../types.js';
import { assertTurns, storeClosedError } from './memory.js';
import type { MemoryStore } from './types.js';

/** Options of {@link createRedisMemoryStore}. Pass `url` or `client`, not both. */
export interface RedisMemoryStoreOptions {
  /**
   * `redis://[user:password@]host:port[/db]` or `rediss://` for TLS; the store opens its own
   * connection and closes it on `close`.
   * @default 'redis://127.0.0.1:6379' (when no `client` is given)
   */
  url?: string;
  /** A connection of the caller's (a Redis or a Cluster client), used as is and left open by `close`. */
  client?: Redis | Cluster;
  /**
   * Prefix of every key: a session's keys are `${keyPrefix}memory:{sessionId}:turns`, `:ids` and
   * `:state`.
   * @default 'ballast:'
   */
  keyPrefix?: string;
}

const DEFAULT_URL = 'redis://127.0.0.1:6379';
/** How long connecting, and then each command, may take before the store reports Redis unavailable. */
const CONNECT_TIMEOUT_MS = 2000;
/** While Redis is down, how often an owned connection tries again. */
const RECONNECT_INTERVAL_MS = 500;

/**
 * KEYS: turns list, ids set. ARGV: id, JSON, id, JSON, ... Pushes each turn whose id is new to the
 * set, in order, and returns {appended, length}: atomic, so replicas appending the same turns store
 * them once.
 */
const appendScript = redisScript(`
local appended = 0
for index = 1, #ARGV, 2 do
  if redis.call('SADD', KEYS[2], ARGV[index]) == 1 then
    redis.call('RPUSH', KEYS[1], ARGV[index + 1])
    appended = appended + 1
  end
end
return {appended, redis.call('LLEN', KEYS[1])}
`);

function loadIoredis(): Promise<typeof Redis> {
  return loadOptionalDependency(
    async () => (await import('ioredis')).Redis,
    'MEMORY_DEPENDENCY_MISSING',
    'the redis memory store needs the ioredis package: install it next to @ballast/memory (pnpm add ioredis)',
  );
}

function invalidOption(name: string, expected: string, value: unknown): BallastError {
  return new BallastError(
    'MEMORY_INVALID_OPTIONS',
    `redis memory store ${name}: expected ${expected}, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`,
    { details: { path: name, expected } },
  );
}

/** Quits politely when connected; otherwise just stops the reconnection loop. */
async function quit(client: Redis): Promise<void> {
  try {
    if (client.status === 'ready') await client.quit();
  } catch {
    // Closing anyway.
  } finally {
    client.disconnect();
  }
}

/**
 * Where `turns(sessionId, from)` starts as an LRANGE index (which, like `Array.prototype.slice`,
 * counts a negative index back from the end), or undefined when nothing can follow.
 */
function startOf(from: number): number | undefined {
  const start = Number.isNaN(from) ? 0 : Math.trunc(from);
  if (start === Number.POSITIVE_INFINITY) return undefined;
  return start === Number.NEGATIVE_INFINITY ? 0 : start;
}

/**
 * The shared memory store: Redis holds every replica's sessions, so replicas behind a load
 * balancer build the same context for a session.
 *
 * A session is three keys: `${keyPrefix}memory:{sessionId}:turns` (a list of turn JSON, in order),
 * `:ids` (a set of its turn ids) and `:state` (a string). The `{sessionId}` hash tag puts a
 * session's keys on one Redis Cluster slot. `append` is one Lua script (EVALSHA, EVAL when
 * uncached) that pushes only the turns whose id is new, so it is atomic and idempotent across
 * replicas.
 *
 * With `url`, the store opens its own connection, fails fast (while Redis is unreachable every
 * method rejects at once, or after 2 s when Redis stops answering, with a retryable
 * `MEMORY_STORE_UNAVAILABLE`), keeps reconnecting every 500 ms, and closes the connection on
 * `close`. This function then resolves even when Redis is unreachable (after at most 2 s). With
 * `client`, the store uses that connection as configured and leaves it open. A command that timed
 * out may still have been applied by Redis; appending again is safe.
 *
 * ioredis is an optional peer dependency, loaded only here (and only when no `client` is given).
 *
 * @param options the URL or a client, and the key prefix
 * @returns an open store; close it when done
 * @throws BallastError `MEMORY_DEPENDENCY_MISSING` when ioredis is not installed,
 *   `MEMORY_INVALID_OPTIONS` when `url` is not a redis URL, when both `url` and `client` are given,
 *   or when `keyPrefix` is not a string
 * @example
 * ```ts
 * const store = await createRedisMemoryStore({ url: 'redis://127.0.0.1:6379', keyPrefix: 'agents:' });
 * await store.append('session-1', [{ id: 't1', role: 'user', content: 'Fix the login bug' }]);
 * await store.close();
 * ```
 */
export async function createRedisMemoryStore(options: RedisMemoryStoreOptions = {}): Promise<MemoryStore> {
  if (options.url !== undefined && options.client !== undefined) {
    throw new BallastError(
      'MEMORY_INVALID_OPTIONS',
      'redis memory store url and client: expected one of them, got both',
      { details: { path: 'client', expected: 'either url or client' } },
    );
  }
  const keyPrefix = options.keyPrefix ?? 'ballast:';
  if (typeof keyPrefix !== 'string') throw invalidOption('keyPrefix', 'a string', keyPrefix);

  let client: Redis | Cluster;
  let owned: Redis | undefined;
  let where: string;
  // ioredis prints unhandled connection errors; keep the last one for the error message instead.
  let lastConnectionError: Error | undefined;
  if (options.client !== undefined) {
    client = options.client;
    where = 'the given client';
  } else {
    const text = options.url ?? DEFAULT_URL;
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw invalidOption('url', 'a redis:// or rediss:// URL', text);
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw invalidOption('url', 'a redis:// or rediss:// URL', redactUrl(url));
    }
    where = redactUrl(url);
    const RedisClient = await loadIoredis();
    const clientOptions: RedisOptions = failFastRedisOptions({
      timeoutMs: CONNECT_TIMEOUT_MS,
      reconnectIntervalMs: RECONNECT_INTERVAL_MS,
      connectionName: 'ballast-memory',
    });
    owned = new RedisClient(text, clientOptions);
    owned.on('error', (error: Error) => {
      lastConnectionError = error;
    });
    owned.on('ready', () => {
      lastConnectionError = undefined;
    });
    await waitForFirstConnection(owned, CONNECT_TIMEOUT_MS);
    client = owned;
  }

  const keysOf = (sessionId: string): { turns: string; ids: string; state: string } => {
    const base = `${keyPrefix}memory:{${sessionId}}`;
    return { turns: `${base}:turns`, ids: `${base}:ids`, state: `${base}:state` };
  };

  const unavailable = (error: unknown): BallastError =>
    redisFailure(error, {
      code: 'MEMORY_STORE_UNAVAILABLE',
      what: 'the redis memory store',
      where,
      status: client.status,
      lastConnectionError,
    });

  let closed = false;
  const run = async <T>(operation: () => Promise<T>): Promise<T> => {
    if (closed) throw storeClosedError();
    try {
      return await operation();
    } catch (error) {
      throw unavailable(error);
    }
  };
  const evaluate = (script: RedisScript, keys: string[], values: string[]): Promise<unknown> =>
    evalRedisScript(client, script, keys, values);

  const parseTurn = (sessionId: string, text: string): Turn => {
    try {
      return JSON.parse(text) as Turn;
    } catch (error) {
      throw new BallastError(
        'MEMORY_STORE_UNAVAILABLE',
        `the redis memory store at ${where} holds a turn of session ${JSON.stringify(sessionId)} that is not JSON`,
        { cause: error, details: { url: where, sessionId } },
      );
    }
  };

  return {
    append(sessionId: string, turns: readonly Turn[]): Promise<{ appended: number; length: number }> {
      return run(async () => {
        assertTurns(sessionId, turns);
        const keys = keysOf(sessionId);
        const [appended, length] = (await evaluate(
          appendScript,
          [keys.turns, keys.ids],
          turns.flatMap((turn) => [turn.id, JSON.stringify(turn)]),
        )) as [number, number];
        return { appended, length };
      });
    },

    turns(sessionId: string, from = 0): Promise<Turn[]> {
      return run(async () => {
        const start = startOf(from);
        if (start === undefined) return [];
        const items = await client.lrange(keysOf(sessionId).turns, start, -1);
        return items.map((text) => parseTurn(sessionId, text));
      });
    },

    length(sessionId: string): Promise<number> {
      return run(() => client.llen(keysOf(sessionId).turns));
    },

    getState(sessionId: string): Promise<string | undefined> {
      return run(async () => (await client.get(keysOf(sessionId).state)) ?? undefined);
    },

    setState(sessionId: string, value: string): Promise<void> {
      return run(async () => {
        await client.set(keysOf(sessionId).state, value);
      });
    },

    clear(sessionId: string): Promise<boolean> {
      return run(async () => {
        const keys = keysOf(sessionId);
        return (await client.del(keys.turns, keys.ids, keys.state)) > 0;
      });
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (owned !== undefined) await quit(owned);
    },
  };
}
