/**
 * The shared-state contract. Every stateful package works against a `Store`: the in-process
 * {@link createMemoryStore} by default, a Redis-backed one when several replicas share state.
 */

/** One counter a reservation adds to, with the limit it may not pass. */
export interface CounterReservation {
  key: string;
  amount: number;
  /** The counter may reach this value but not exceed it. */
  limit: number;
  /** Expiry of the counter from its first write, for windowed budgets. */
  ttlMs?: number;
}

/** Result of {@link Store.reserve}. */
export type ReserveResult =
  | { ok: true; values: number[] }
  | { ok: false; key: string; current: number; limit: number };

/** Key-value state shared by the replicas of a deployment. Values are strings; counters are numbers. */
export interface Store {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, options?: { ttlMs?: number }): Promise<void>;
  /** @returns whether the key existed */
  delete(key: string): Promise<boolean>;
  /** Reads a counter (0 when absent). */
  getCounter(key: string): Promise<number>;
  /** Atomically adds `amount` (may be negative) to a counter. @returns the new value */
  increment(key: string, amount: number, options?: { ttlMs?: number }): Promise<number>;
  /**
   * Atomically adds every amount if, and only if, no counter would pass its limit: all or nothing.
   * This is how a budget is reserved before a call so that concurrent calls cannot overshoot it.
   */
  reserve(reservations: readonly CounterReservation[]): Promise<ReserveResult>;
  /** Sends a message to every subscriber of `channel`, on every replica. */
  publish(channel: string, message: string): Promise<void>;
  /** @returns a function that unsubscribes */
  subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Clock for expiry, in milliseconds. @default Date.now */
  now?: () => number;
}

/**
 * The in-process store: atomic because JavaScript runs one task at a time. Needs no Redis.
 * @param options the clock
 * @returns a Store
 * @example
 * ```ts
 * const store = createMemoryStore();
 * await store.reserve([{ key: 'budget:session:s1', amount: 0.12, limit: 5 }]);
 * ```
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  const now = options.now ?? Date.now;
  const values = new Map<string, { value: string; expiresAt: number | undefined }>();
  const counters = new Map<string, { value: number; expiresAt: number | undefined }>();
  const listeners = new Map<string, Set<(message: string) => void>>();
  const live = <T extends { expiresAt: number | undefined }>(
    map: Map<string, T>,
    key: string,
  ): T | undefined => {
    const entry = map.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= now()) {
      map.delete(key);
      return undefined;
    }
    return entry;
  };
  const add = (key: string, amount: number, ttlMs: number | undefined): number => {
    const entry = live(counters, key);
    if (entry) {
      entry.value += amount;
      return entry.value;
    }
    counters.set(key, { value: amount, expiresAt: ttlMs === undefined ? undefined : now() + ttlMs });
    return amount;
  };
  return {
    async get(key) {
      return live(values, key)?.value;
    },
    async set(key, value, setOptions = {}) {
      values.set(key, {
        value,
        expiresAt: setOptions.ttlMs === undefined ? undefined : now() + setOptions.ttlMs,
      });
    },
    async delete(key) {
      const existed = live(values, key) !== undefined || live(counters, key) !== undefined;
      values.delete(key);
      counters.delete(key);
      return existed;
    },
    async getCounter(key) {
      return live(counters, key)?.value ?? 0;
    },
    async increment(key, amount, incrementOptions = {}) {
      return add(key, amount, incrementOptions.ttlMs);
    },
    async reserve(reservations) {
      for (const reservation of reservations) {
        const current = live(counters, reservation.key)?.value ?? 0;
        if (current + reservation.amount > reservation.limit) {
          return { ok: false, key: reservation.key, current, limit: reservation.limit };
        }
      }
      return { ok: true, values: reservations.map((item) => add(item.key, item.amount, item.ttlMs)) };
    },
    async publish(channel, message) {
      for (const listener of listeners.get(channel) ?? []) listener(message);
    },
    async subscribe(channel, listener) {
      let set = listeners.get(channel);
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
      }
      set.add(listener);
      return async () => {
        set.delete(listener);
      };
    },
    async close() {
      values.clear();
      counters.clear();
      listeners.clear();
    },
  };
}
