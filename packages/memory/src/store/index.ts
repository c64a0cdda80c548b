import { BallastError, redactUrl } from '@ballast/core';
import { createInMemoryStore } from './memory.js';
import { createRedisMemoryStore } from './redis.js';
import { createSqliteMemoryStore } from './sqlite.js';
import type { MemoryStore } from './types.js';

export { createInMemoryStore } from './memory.js';
export { createRedisMemoryStore, type RedisMemoryStoreOptions } from './redis.js';
export { createSqliteMemoryStore, type SqliteMemoryStoreOptions } from './sqlite.js';
export type { MemoryStore } from './types.js';

/**
 * Which store a session memory keeps its sessions in, as written in a config file: `memory` (one
 * process), `sqlite` (durable, one machine) or `redis` (shared by every replica).
 */
export type MemoryStoreConfig =
  | { type: 'memory' }
  | {
      type: 'sqlite';
      /** The database file; created (with its directory) when missing. */
      path: string;
    }
  | {
      type: 'redis';
      /** @default 'redis://127.0.0.1:6379' */
      url?: string;
      /** @default 'ballast:' */
      keyPrefix?: string;
    };

function invalid(path: string, expected: string, value: unknown): never {
  throw new BallastError(
    'MEMORY_INVALID_OPTIONS',
    `memory options ${path}: expected ${expected}, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`,
    { details: { path, expected } },
  );
}

/**
 * Opens the store a config describes: `memory`, `sqlite` or `redis`.
 *
 * The SQLite and Redis backends load their driver (better-sqlite3, ioredis) only when chosen. A
 * Redis store resolves even while Redis is unreachable and reports it per call; see
 * {@link createRedisMemoryStore}.
 *
 * @param config which backend, and where its sessions live
 * @returns an open store; close it when done
 * @throws BallastError `MEMORY_INVALID_OPTIONS` naming `store.type`, `store.path`, `store.url` or
 *   `store.keyPrefix` when the config is malformed (a URL's password is masked in the message);
 *   `MEMORY_DEPENDENCY_MISSING` when the backend's driver is not installed;
 *   `MEMORY_STORE_UNAVAILABLE` when the SQLite file cannot be opened
 * @example
 * ```ts
 * const store = await createMemoryStoreFrom({ type: 'sqlite', path: './.ballast/memory.db' });
 * await store.append('session-1', [{ id: 't1', role: 'user', content: 'Fix the login bug' }]);
 * await store.close();
 * ```
 */
export async function createMemoryStoreFrom(config: MemoryStoreConfig): Promise<MemoryStore> {
  if (typeof config !== 'object' || config === null) invalid('store', 'an object with a type', config);
  const candidate = config as { type?: unknown; path?: unknown; url?: unknown; keyPrefix?: unknown };
  switch (candidate.type) {
    case 'memory':
      return createInMemoryStore();
    case 'sqlite':
      if (typeof candidate.path !== 'string' || candidate.path === '') {
        invalid('store.path', 'a file path for the SQLite database', candidate.path);
      }
      return createSqliteMemoryStore({ path: candidate.path });
    case 'redis': {
      const url = candidate.url;
      if (
        url !== undefined &&
        (typeof url !== 'string' || !/^rediss?:\/\/./.test(url) || !URL.canParse(url))
      ) {
        invalid('store.url', 'a redis:// or rediss:// URL', typeof url === 'string' ? redactUrl(url) : url);
      }
      if (candidate.keyPrefix !== undefined && typeof candidate.keyPrefix !== 'string') {
        invalid('store.keyPrefix', 'a string', candidate.keyPrefix);
      }
      return createRedisMemoryStore({
        ...(url === undefined ? {} : { url }),
        ...(candidate.keyPrefix === undefined ? {} : { keyPrefix: candidate.keyPrefix }),
      });
    }
    default:
      return invalid('store.type', 'memory | sqlite | redis', candidate.type);
  }
}
