import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { BallastError } from './errors.js';

/**
 * Helpers the stores of several packages share (Redis and SQLite backends of the killswitch and
 * memory). They take structural types, so core itself depends on neither ioredis nor better-sqlite3.
 */

/**
 * A URL without its password, fit for messages and logs; text that is not a URL comes back as is.
 * @param url the URL
 * @returns the URL with `***` for its password
 * @example
 * ```ts
 * redactUrl('redis://user:secret@host:6379'); // 'redis://user:***@host:6379'
 * ```
 */
export function redactUrl(url: string | URL): string {
  try {
    const copy = new URL(typeof url === 'string' ? url : url.href);
    if (copy.password !== '') copy.password = '***';
    return copy.href;
  } catch {
    return String(url);
  }
}

/** Redis reply errors that say the server is busy or failing over, not that the request is wrong. */
export const transientRedisReply: RegExp =
  /^(LOADING|BUSY|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|OOM|NOREPLICAS)\b/;

/** What {@link waitForFirstConnection} needs of a client (ioredis's shape). */
export interface ConnectingClient {
  readonly status: string;
  once(event: 'ready' | 'error' | 'end', listener: () => void): unknown;
  off(event: 'ready' | 'error' | 'end', listener: () => void): unknown;
}

/**
 * Resolves once a client is ready, has failed once, or `timeoutMs` has passed; never rejects, so
 * the caller decides what a failed first connection means.
 * @param client an ioredis client (or anything with its `status` and events)
 * @param timeoutMs the longest wait
 * @returns a promise that settles when one of those happens
 */
export function waitForFirstConnection(client: ConnectingClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const settle = (): void => {
      clearTimeout(timer);
      client.off('ready', settle);
      client.off('error', settle);
      client.off('end', settle);
      resolve();
    };
    const timer = setTimeout(settle, timeoutMs);
    client.once('ready', settle);
    client.once('error', settle);
    client.once('end', settle);
  });
}

/**
 * Loads an optional peer dependency, or says which package to install. The `load` callback does
 * the `import()` so that it resolves from the calling package, where the peer is installed.
 * @param load `() => import('ioredis')`, for instance
 * @param code the error code, e.g. `MEMORY_DEPENDENCY_MISSING`
 * @param message what needs the package and how to add it
 * @returns the module
 * @throws {BallastError} `code` with the import failure as its cause
 */
export async function loadOptionalDependency<T>(
  load: () => Promise<T>,
  code: string,
  message: string,
): Promise<T> {
  try {
    return await load();
  } catch (error) {
    throw new BallastError(code, message, { cause: error });
  }
}

/** What {@link openSqliteDatabase} needs of a better-sqlite3 database. */
export interface SqliteDatabase {
  pragma(source: string, options?: { simple: boolean }): unknown;
  exec(source: string): unknown;
  close(): unknown;
}

/**
 * A SQLite failure as a store error: retryable when a lock was held past the busy timeout.
 * @param error what better-sqlite3 threw
 * @param context the error code and what failed, e.g. `{ code: 'MEMORY_STORE_UNAVAILABLE', what: 'the sqlite memory store', path }`
 * @returns the error (a BallastError is returned as is)
 */
export function sqliteFailure(
  error: unknown,
  context: { code: string; what: string; path: string },
): BallastError {
  if (BallastError.isInstance(error)) return error;
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return new BallastError(context.code, `${context.what} at ${context.path} failed: ${message}`, {
    cause: error,
    isRetryable: code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED',
    details: { path: context.path, ...(typeof code === 'string' ? { sqliteCode: code } : {}) },
  });
}

/**
 * Opens a SQLite file that several processes may share: creates its folder, sets the busy timeout
 * (first: switching to WAL takes a lock another process may hold), WAL and `synchronous = NORMAL`,
 * applies the schema, and stamps `user_version` on a new file.
 * @param Database better-sqlite3's constructor
 * @param path the file (`:memory:` and `file:` URIs are passed as they are)
 * @param options the schema, its version, the busy timeout, and how to name a failure
 * @returns the open database
 * @throws {BallastError} `options.failure.code` when the file cannot be opened or set up
 */
export function openSqliteDatabase<D extends SqliteDatabase>(
  Database: new (path: string) => D,
  path: string,
  options: {
    schema: string;
    version: number;
    busyTimeoutMs: number;
    failure: { code: string; what: string };
  },
): D {
  const fail = (error: unknown): BallastError => sqliteFailure(error, { ...options.failure, path });
  let db: D;
  try {
    if (path !== ':memory:' && !path.startsWith('file:')) mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
  } catch (error) {
    throw fail(error);
  }
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs}`);
    useWriteAheadLog(db, options.busyTimeoutMs);
    db.pragma('synchronous = NORMAL');
    db.exec(options.schema);
    if (db.pragma('user_version', { simple: true }) === 0) db.pragma(`user_version = ${options.version}`);
  } catch (error) {
    db.close();
    throw fail(error);
  }
  return db;
}

/**
 * Switches the file to WAL unless it already is. Changing the journal mode can answer SQLITE_BUSY
 * at once, without waiting out the busy timeout, while another process opens the same new file,
 * so the switch is retried within that timeout.
 */
function useWriteAheadLog(db: SqliteDatabase, busyTimeoutMs: number): void {
  const deadline = Date.now() + busyTimeoutMs;
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    try {
      if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error;
      // A synchronous pause: opening is synchronous, and this runs only while another opener holds the lock.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, wait);
    }
  }
}

/**
 * A Redis failure as a store error: retryable unless Redis rejected the command itself (a reply
 * error that is not one of {@link transientRedisReply}).
 * @param error what ioredis threw
 * @param context the error code, what failed, where (a redacted URL), the client's status, its last connection error
 * @returns the error (a BallastError is returned as is)
 */
export function redisFailure(
  error: unknown,
  context: {
    code: string;
    what: string;
    where: string;
    status: string;
    lastConnectionError?: Error | undefined;
  },
): BallastError {
  if (BallastError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const reply = error instanceof Error && error.name === 'ReplyError';
  const connection =
    context.lastConnectionError === undefined
      ? ''
      : ` (last connection error: ${context.lastConnectionError.message})`;
  return new BallastError(
    context.code,
    `${context.what} at ${context.where} is unavailable: ${message}${connection}`,
    {
      cause: error,
      isRetryable: !reply || transientRedisReply.test(message),
      details: { url: context.where, status: context.status },
    },
  );
}

/** A Lua script with its SHA-1, for EVALSHA. */
export interface RedisScript {
  readonly source: string;
  readonly sha: string;
}

/**
 * A Lua script ready for {@link evalRedisScript}.
 * @param source the Lua source
 * @returns the source and its SHA-1
 */
export function redisScript(source: string): RedisScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/** What {@link evalRedisScript} needs of a client (ioredis's shape). */
export interface ScriptingClient {
  evalsha(sha: string, keyCount: number, ...keysAndArguments: string[]): Promise<unknown>;
  eval(source: string, keyCount: number, ...keysAndArguments: string[]): Promise<unknown>;
}

/**
 * Runs a script by its SHA-1, sending the source only when Redis does not have it yet (after a
 * restart or `SCRIPT FLUSH`).
 * @param client an ioredis client
 * @param script from {@link redisScript}
 * @param keys the script's KEYS
 * @param values the script's ARGV
 * @returns the script's reply
 */
export async function evalRedisScript(
  client: ScriptingClient,
  script: RedisScript,
  keys: readonly string[],
  values: readonly string[],
): Promise<unknown> {
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...values);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return client.eval(script.source, keys.length, ...keys, ...values);
  }
}

/**
 * The ioredis options of a store that must fail fast and recover by itself: no offline queue,
 * one retry per command, timeouts on connect and on each command, reconnection forever.
 * @param options the timeout, the reconnection interval and the connection's name
 * @returns options for `new Redis(url, options)`
 */
export function failFastRedisOptions(options: {
  timeoutMs: number;
  reconnectIntervalMs: number;
  connectionName: string;
}): {
  enableOfflineQueue: false;
  maxRetriesPerRequest: 1;
  connectTimeout: number;
  commandTimeout: number;
  retryStrategy: () => number;
  connectionName: string;
} {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: options.timeoutMs,
    commandTimeout: options.timeoutMs,
    retryStrategy: () => options.reconnectIntervalMs,
    connectionName: options.connectionName,
  };
}
