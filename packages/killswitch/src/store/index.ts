import { BallastError, redactUrl } from '@ballast/core';
import { createMemoryKillswitchStore } from './memory.js';
import { createRedisKillswitchStore } from './redis.js';
import { createSqliteKillswitchStore } from './sqlite.js';
import type { KillswitchStore, StoreConfig } from './types.js';

export { createMemoryKillswitchStore, type MemoryKillswitchStoreOptions } from './memory.js';
export { createRedisKillswitchStore, type RedisKillswitchStoreOptions } from './redis.js';
export { createSqliteKillswitchStore, type SqliteKillswitchStoreOptions } from './sqlite.js';
export type {
  CounterChange,
  KillEvent,
  KillRecord,
  KillswitchStore,
  KillTarget,
  LedgerEntry,
  ReserveOutcome,
  StoreConfig,
} from './types.js';

/** Options of {@link createKillswitchStore} that apply to every backend. */
export interface KillswitchStoreOptions {
  /** Clock for counter expiry (memory, sqlite) and kill times, in epoch milliseconds. @default Date.now */
  now?: () => number;
}

function invalid(path: string, expected: string, value: unknown): never {
  throw new BallastError(
    'KILLSWITCH_INVALID_OPTIONS',
    `killswitch options ${path}: expected ${expected}, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`,
    { details: { path, expected } },
  );
}

/**
 * Opens the store a killswitch's `store:` option describes: `memory` (the default, one process),
 * `sqlite` (durable, one machine) or `redis` (shared by every replica).
 *
 * The SQLite and Redis backends load their driver (better-sqlite3, ioredis) only when chosen.
 * A Redis store resolves even while Redis is unreachable and reports it per call; see
 * {@link createRedisKillswitchStore}.
 *
 * @param config which backend, and where its state lives
 * @param options the clock
 * @returns an open store; close it when done
 * @throws BallastError `KILLSWITCH_INVALID_OPTIONS` naming `store.type`, `store.path`, `store.url` or
 *   `store.keyPrefix` when the config is malformed; `KILLSWITCH_DEPENDENCY_MISSING` when the backend's
 *   driver is not installed; `KILLSWITCH_STATE_UNAVAILABLE` when the SQLite file cannot be opened
 * @example
 * ```ts
 * const store = await createKillswitchStore({ type: 'sqlite', path: './.ballast/killswitch.db' });
 * await store.reserve([{ key: 'global:requests:day', amount: 1, limit: 10_000, ttlMs: 86_400_000 }]);
 * await store.close();
 * ```
 */
export async function createKillswitchStore(
  config: StoreConfig,
  options: KillswitchStoreOptions = {},
): Promise<KillswitchStore> {
  const clock = options.now === undefined ? {} : { now: options.now };
  if (typeof config !== 'object' || config === null) invalid('store', 'an object with a type', config);
  const candidate = config as { type?: unknown; path?: unknown; url?: unknown; keyPrefix?: unknown };
  switch (candidate.type) {
    case 'memory':
      return createMemoryKillswitchStore(clock);
    case 'sqlite':
      if (typeof candidate.path !== 'string' || candidate.path === '') {
        invalid('store.path', 'a file path for the SQLite database', candidate.path);
      }
      return createSqliteKillswitchStore({ path: candidate.path, ...clock });
    case 'redis': {
      const url = candidate.url;
      if (typeof url !== 'string' || !/^rediss?:\/\/./.test(url) || !URL.canParse(url)) {
        invalid('store.url', 'a redis:// or rediss:// URL', typeof url === 'string' ? redactUrl(url) : url);
      }
      if (candidate.keyPrefix !== undefined && typeof candidate.keyPrefix !== 'string') {
        invalid('store.keyPrefix', 'a string', candidate.keyPrefix);
      }
      return createRedisKillswitchStore({
        url,
        ...(candidate.keyPrefix === undefined ? {} : { keyPrefix: candidate.keyPrefix }),
        ...clock,
      });
    }
    default:
      return invalid('store.type', 'memory | sqlite | redis', candidate.type);
  }
}
