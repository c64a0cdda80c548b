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
import type { Redis, RedisOptions } from 'ioredis';
import {
  assertCounterChanges,
  assertKillTarget,
  assertLedgerFilter,
  killEvent,
  killField,
  LEDGER_CAPACITY,
  notifyKillListeners,
  parseKillField,
  storeClosedError,
} from './memory.js';
import type {
  CounterChange,
  KillEvent,
  KillRecord,
  KillswitchStore,
  KillTarget,
  LedgerEntry,
  ReserveOutcome,
} from './types.js';

/** Options of {@link createRedisKillswitchStore}. */
export interface RedisKillswitchStoreOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. */
  url: string;
  /**
   * Prefix of every key and of the kill channel. On Redis Cluster, put a hash tag in it
   * (`'{ballast}:ks:'`) so that one reservation's keys share a slot.
   * @default 'ballast:ks:'
   */
  keyPrefix?: string;
  /** Clock for kill times, in epoch milliseconds. Counter expiry uses Redis's own clock. @default Date.now */
  now?: () => number;
  /** How long connecting, and then each command, may take before the store reports Redis unavailable. @default 2000 */
  connectTimeoutMs?: number;
}

/** While Redis is down, how often the connections try again. */
const RECONNECT_INTERVAL_MS = 500;
/** A ledger read with `since` stops after this many consecutive older entries (clock skew allowance). */
const LEDGER_SCAN_TOLERANCE = 1000;

// Applies every change: INCRBY, and PEXPIRE on a counter that did not exist when a ttl is given.
// ARGV holds (amount, limit, ttl) per key, '' for none.
const applyChanges = `
local values = {}
for index = 1, #KEYS do
  local key = KEYS[index]
  local ttl = ARGV[index * 3]
  local existed = redis.call('EXISTS', key) == 1
  values[index] = redis.call('INCRBY', key, ARGV[index * 3 - 2])
  if not existed and ttl ~= '' then redis.call('PEXPIRE', key, ttl) end
end
`;

/** Returns {1, values} or {0, index of the failing change, current, limit}. */
const reserveScript = redisScript(`
local pending = {}
for index = 1, #KEYS do
  local key = KEYS[index]
  local current = pending[key]
  if current == nil then current = tonumber(redis.call('GET', key) or '0') end
  local nextValue = current + tonumber(ARGV[index * 3 - 2])
  local limit = ARGV[index * 3 - 1]
  if limit ~= '' and nextValue > tonumber(limit) then
    return {0, index, current, tonumber(limit)}
  end
  pending[key] = nextValue
end
${applyChanges}
return {1, values}
`);

const adjustScript = redisScript(`${applyChanges}
return values
`);

/** KEYS: kills hash, kills version. ARGV: field, record JSON ('' to revive), channel, event JSON. */
const setKillScript = redisScript(`
local version = redis.call('INCR', KEYS[2])
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
local message = '{"version":' .. version .. ',"record":' .. cjson.encode(ARGV[2]) .. ','
redis.call('PUBLISH', ARGV[3], message .. string.sub(ARGV[4], 2))
return version
`);

/** KEYS: kills hash, kills version. Returns {version, {field, record, ...}} read at one instant. */
const killsSnapshotScript = redisScript(`
return {tonumber(redis.call('GET', KEYS[2]) or '0'), redis.call('HGETALL', KEYS[1])}
`);

/** KEYS: ledger. ARGV: since, limit ('' for none), tolerance. Newest first. */
const ledgerSinceScript = redisScript(`
local since = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local found = {}
local older = 0
local last = redis.call('LLEN', KEYS[1]) - 1
while last >= 0 do
  local first = math.max(0, last - 499)
  local items = redis.call('LRANGE', KEYS[1], first, last)
  for position = #items, 1, -1 do
    local ok, entry = pcall(cjson.decode, items[position])
    if ok and type(entry) == 'table' and type(entry.at) == 'number' and entry.at >= since then
      found[#found + 1] = items[position]
      older = 0
      if limit and #found >= limit then return found end
    else
      older = older + 1
      if older >= tolerance then return found end
    end
  end
  last = first - 1
end
return found
`);

function loadIoredis(): Promise<typeof Redis> {
  return loadOptionalDependency(
    async () => (await import('ioredis')).Redis,
    'KILLSWITCH_DEPENDENCY_MISSING',
    'the redis killswitch store needs the ioredis package: install it next to @ballast/killswitch (pnpm add ioredis)',
  );
}

function invalidOption(name: string, expected: string, value: unknown): BallastError {
  return new BallastError(
    'KILLSWITCH_INVALID_OPTIONS',
    `redis killswitch store ${name}: expected ${expected}, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`,
    { details: { path: name, expected } },
  );
}

/** What the channel carries: the event, the order of the change, and the record as stored ('' on revive). */
interface KillMessage extends KillEvent {
  version: number;
  record: string;
}

/**
 * The shared killswitch store: Redis holds the counters, the kills and the ledger for every replica.
 *
 * - `reserve` and `adjust` are each one Lua script (EVALSHA, EVAL when uncached): all or nothing,
 *   atomic across replicas. A counter's ttl starts at its first write and uses Redis's clock.
 * - Kills live in the hash `${keyPrefix}kills` and are announced on the channel
 *   `${keyPrefix}kill-events` (a `KillEvent` JSON plus a `version`). Subscribers listen on a second
 *   connection; when it reconnects after an outage, the store re-reads the hash and tells its
 *   subscribers every kill or revive they missed.
 * - The ledger is the list `${keyPrefix}ledger`, trimmed to the last 100,000 entries. A `since`
 *   read walks back from the newest entry and stops after 1,000 older ones in a row, so replicas'
 *   clocks are assumed to agree to within the time 1,000 settlements take.
 *
 * It fails fast: while Redis is unreachable every method rejects at once (or after
 * `connectTimeoutMs` when Redis stops answering) with a retryable BallastError
 * `KILLSWITCH_STATE_UNAVAILABLE` whose `cause` is the ioredis error, while both connections keep
 * trying again every 500 ms, so the store recovers by itself when Redis comes back. A command that
 * timed out may still have been applied by Redis.
 *
 * This function resolves even when Redis is unreachable (after at most `connectTimeoutMs`), so a
 * process can start while Redis is down and decide per call what to do; use `ping()` to check.
 * ioredis is an optional peer dependency, loaded only here. All of a reservation's keys must live
 * on one Redis node.
 *
 * @param options the URL, key prefix, clock and timeout
 * @returns a store of kind `redis`
 * @throws BallastError `KILLSWITCH_DEPENDENCY_MISSING` when ioredis is not installed,
 *   `KILLSWITCH_INVALID_OPTIONS` when `url`, `keyPrefix` or `connectTimeoutMs` is malformed
 * @example
 * ```ts
 * const store = await createRedisKillswitchStore({ url: 'redis://127.0.0.1:6379' });
 * const unsubscribe = await store.subscribeKills((event) => logger.info("kill event", { event }));
 * await store.setKill({ scope: 'agent', id: 'researcher' }, true, 'over budget');
 * await unsubscribe();
 * await store.close();
 * ```
 */
export async function createRedisKillswitchStore(
  options: RedisKillswitchStoreOptions,
): Promise<KillswitchStore> {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw invalidOption('url', 'a redis:// or rediss:// URL', options.url);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw invalidOption('url', 'a redis:// or rediss:// URL', redactUrl(url));
  }
  const keyPrefix = options.keyPrefix ?? 'ballast:ks:';
  if (typeof keyPrefix !== 'string') throw invalidOption('keyPrefix', 'a string', keyPrefix);
  const connectTimeoutMs = options.connectTimeoutMs ?? 2000;
  if (!Number.isSafeInteger(connectTimeoutMs) || connectTimeoutMs <= 0) {
    throw invalidOption('connectTimeoutMs', 'a positive integer of milliseconds', connectTimeoutMs);
  }
  const now = options.now ?? Date.now;
  const where = redactUrl(url);
  const RedisClient = await loadIoredis();

  const clientOptions: RedisOptions = {
    ...failFastRedisOptions({
      timeoutMs: connectTimeoutMs,
      reconnectIntervalMs: RECONNECT_INTERVAL_MS,
      connectionName: 'ballast-killswitch',
    }),
    // The subscriber resubscribes itself, then re-reads the kills it may have missed.
    autoResubscribe: false,
  };
  const client = new RedisClient(options.url, clientOptions);
  const subscriber = client.duplicate();
  // ioredis prints unhandled connection errors; keep the last one for the error message instead.
  let lastConnectionError: Error | undefined;
  const remember = (error: Error): void => {
    lastConnectionError = error;
  };
  client.on('error', remember);
  subscriber.on('error', remember);
  client.on('ready', () => {
    lastConnectionError = undefined;
  });
  await Promise.all([
    waitForFirstConnection(client, connectTimeoutMs),
    waitForFirstConnection(subscriber, connectTimeoutMs),
  ]);

  const keys = {
    counter: (key: string): string => `${keyPrefix}c:${key}`,
    kills: `${keyPrefix}kills`,
    killsVersion: `${keyPrefix}kills-version`,
    killChannel: `${keyPrefix}kill-events`,
    ledger: `${keyPrefix}ledger`,
  };

  const unavailable = (error: unknown): BallastError =>
    redisFailure(error, {
      code: 'KILLSWITCH_STATE_UNAVAILABLE',
      what: 'the redis killswitch store',
      where,
      status: client.status,
      lastConnectionError,
    });

  let closed = false;
  const run = async <T>(operation: () => Promise<T>): Promise<T> => {
    if (closed) throw storeClosedError('redis');
    try {
      return await operation();
    } catch (error) {
      throw unavailable(error);
    }
  };
  const evaluate = (
    connection: Redis,
    script: RedisScript,
    scriptKeys: string[],
    scriptArguments: string[],
  ): Promise<unknown> => evalRedisScript(connection, script, scriptKeys, scriptArguments);

  const changeArguments = (changes: readonly CounterChange[]): string[] =>
    changes.flatMap((change) => [
      String(change.amount),
      change.limit === undefined ? '' : String(change.limit),
      change.ttlMs === undefined ? '' : String(change.ttlMs),
    ]);

  // Kills: what this store last knew of the hash, and the version of the last change reflected in it.
  const listeners = new Set<(event: KillEvent) => void>();
  let knownKills = new Map<string, string>();
  let knownVersion = 0;
  let hasBaseline = false;
  let subscribed = false;
  // While a snapshot is being read, messages wait here so they are applied after it, in order.
  let pendingMessages: KillMessage[] | undefined;
  let retryTimer: NodeJS.Timeout | undefined;

  const applyMessage = (message: KillMessage): void => {
    if (message.version <= knownVersion) return;
    knownVersion = message.version;
    const field = killField(message.target);
    if (message.killed) knownKills.set(field, message.record);
    else knownKills.delete(field);
    notifyKillListeners(listeners, killEvent(message.target, message.killed, message.reason));
  };
  const reconcile = async (): Promise<void> => {
    clearTimeout(retryTimer);
    pendingMessages ??= [];
    try {
      const [version, fieldsAndRecords] = (await evaluate(
        client,
        killsSnapshotScript,
        [keys.kills, keys.killsVersion],
        [],
      )) as [number, string[]];
      if (version >= knownVersion) {
        const current = new Map<string, string>();
        for (let index = 0; index + 1 < fieldsAndRecords.length; index += 2)
          current.set(fieldsAndRecords[index] as string, fieldsAndRecords[index + 1] as string);
        if (hasBaseline) {
          for (const [field, record] of current) {
            const target = parseKillField(field);
            const known = knownKills.get(field);
            if (target === undefined || known === record) continue;
            notifyKillListeners(listeners, killEvent(target, true, parseRecord(record)?.reason));
          }
          for (const field of knownKills.keys()) {
            const target = parseKillField(field);
            if (target !== undefined && !current.has(field))
              notifyKillListeners(listeners, killEvent(target, false, undefined));
          }
        }
        knownKills = current;
        knownVersion = version;
        hasBaseline = true;
      }
    } catch {
      // The main connection is down too: try again shortly; messages keep flowing meanwhile.
      if (!closed) {
        retryTimer = setTimeout(() => void reconcile(), RECONNECT_INTERVAL_MS);
        retryTimer.unref();
      }
    } finally {
      const waiting = pendingMessages;
      pendingMessages = undefined;
      for (const message of waiting) applyMessage(message);
    }
  };
  const subscribe = async (): Promise<void> => {
    pendingMessages ??= [];
    try {
      await subscriber.subscribe(keys.killChannel);
    } catch (error) {
      const waiting = pendingMessages;
      pendingMessages = undefined;
      for (const message of waiting) applyMessage(message);
      throw error;
    }
    subscribed = true;
    await reconcile();
  };
  subscriber.on('message', (channel: string, text: string) => {
    if (channel !== keys.killChannel) return;
    const message = parseKillMessage(text);
    if (message === undefined) return;
    if (pendingMessages === undefined) applyMessage(message);
    else pendingMessages.push(message);
  });
  subscriber.on('ready', () => {
    // A reconnection: subscribe again and catch up on what was missed while away.
    if (subscribed && !closed) subscribe().catch(() => {});
  });

  return {
    kind: 'redis',

    reserve(changes: readonly CounterChange[]): Promise<ReserveOutcome> {
      return run(async () => {
        assertCounterChanges(changes);
        if (changes.length === 0) return { ok: true, values: [] };
        const reply = (await evaluate(
          client,
          reserveScript,
          changes.map((change) => keys.counter(change.key)),
          changeArguments(changes),
        )) as [1, number[]] | [0, number, number, number];
        if (reply[0] === 1) return { ok: true, values: reply[1] };
        const failing = changes[reply[1] - 1] as CounterChange;
        return { ok: false, key: failing.key, current: reply[2], limit: reply[3] };
      });
    },

    adjust(changes: readonly CounterChange[]): Promise<number[]> {
      return run(async () => {
        assertCounterChanges(changes);
        if (changes.length === 0) return [];
        return (await evaluate(
          client,
          adjustScript,
          changes.map((change) => keys.counter(change.key)),
          changeArguments(changes),
        )) as number[];
      });
    },

    read(counterKeys: readonly string[]): Promise<number[]> {
      return run(async () => {
        if (counterKeys.length === 0) return [];
        const values = await client.mget(counterKeys.map((key) => keys.counter(key)));
        return values.map((value) => (value === null ? 0 : Number(value)));
      });
    },

    setKill(target: KillTarget, killed: boolean, reason?: string): Promise<void> {
      return run(async () => {
        assertKillTarget(target);
        const record = killed
          ? JSON.stringify({ ...(reason === undefined ? {} : { reason }), at: now() })
          : '';
        await evaluate(
          client,
          setKillScript,
          [keys.kills, keys.killsVersion],
          [killField(target), record, keys.killChannel, JSON.stringify(killEvent(target, killed, reason))],
        );
      });
    },

    listKills(): Promise<KillRecord[]> {
      return run(async () => {
        const records: KillRecord[] = [];
        for (const [field, text] of Object.entries(await client.hgetall(keys.kills))) {
          const target = parseKillField(field);
          const record = parseRecord(text);
          if (target === undefined || record === undefined) continue;
          records.push({
            ...target,
            ...(record.reason === undefined ? {} : { reason: record.reason }),
            at: record.at,
          });
        }
        return records.sort((left, right) => left.at - right.at);
      });
    },

    subscribeKills(listener: (event: KillEvent) => void): Promise<() => Promise<void>> {
      return run(async () => {
        // Stays subscribed until close, so that a later subscriber starts from an up-to-date view.
        if (!subscribed) await subscribe();
        const subscription = (event: KillEvent): void => listener(event);
        listeners.add(subscription);
        return async () => {
          listeners.delete(subscription);
        };
      });
    },

    appendLedger(entry: LedgerEntry): Promise<void> {
      return run(async () => {
        const replies = await client
          .multi()
          .rpush(keys.ledger, JSON.stringify(entry))
          .ltrim(keys.ledger, -LEDGER_CAPACITY, -1)
          .exec();
        const failure = replies?.find(([error]) => error !== null)?.[0];
        if (failure) throw failure;
      });
    },

    ledger(filter: { since?: number; limit?: number } = {}): Promise<LedgerEntry[]> {
      return run(async () => {
        assertLedgerFilter(filter);
        if (filter.limit === 0) return [];
        if (filter.since === undefined) {
          const items = await client.lrange(keys.ledger, filter.limit === undefined ? 0 : -filter.limit, -1);
          return items.flatMap(parseLedgerEntry);
        }
        const newestFirst = (await evaluate(
          client,
          ledgerSinceScript,
          [keys.ledger],
          [
            String(filter.since),
            filter.limit === undefined ? '' : String(filter.limit),
            String(LEDGER_SCAN_TOLERANCE),
          ],
        )) as string[];
        return newestFirst.reverse().flatMap(parseLedgerEntry);
      });
    },

    ping(): Promise<void> {
      return run(async () => {
        await client.ping();
      });
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      clearTimeout(retryTimer);
      listeners.clear();
      await Promise.all([client, subscriber].map(quit));
    },
  };
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

function parseRecord(text: string): { reason?: string; at: number } | undefined {
  try {
    const value = JSON.parse(text) as { reason?: unknown; at?: unknown };
    if (typeof value.at !== 'number') return undefined;
    return { ...(typeof value.reason === 'string' ? { reason: value.reason } : {}), at: value.at };
  } catch {
    return undefined;
  }
}

function parseKillMessage(text: string): KillMessage | undefined {
  try {
    const value = JSON.parse(text) as Partial<KillMessage>;
    if (
      typeof value.version !== 'number' ||
      typeof value.record !== 'string' ||
      typeof value.killed !== 'boolean' ||
      value.target === undefined
    ) {
      return undefined;
    }
    const target = parseKillField(killField(value.target));
    if (target === undefined) return undefined;
    return { version: value.version, record: value.record, ...killEvent(target, value.killed, value.reason) };
  } catch {
    return undefined;
  }
}

function parseLedgerEntry(text: string): LedgerEntry[] {
  try {
    return [JSON.parse(text) as LedgerEntry];
  } catch {
    return [];
  }
}
