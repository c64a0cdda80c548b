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
