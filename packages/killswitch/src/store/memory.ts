import { BallastError } from '@ballast/core';
import type {
  CounterChange,
  KillEvent,
  KillRecord,
  KillswitchStore,
  KillTarget,
  LedgerEntry,
  ReserveOutcome,
} from './types.js';

/**
 * How many ledger entries every backend keeps: the oldest are dropped past this.
 * @internal shared by the backends, not part of the package's surface
 */
export const LEDGER_CAPACITY = 100_000;

const killScopes: ReadonlySet<string> = new Set<KillTarget['scope']>(['session', 'agent', 'key', 'all']);

/**
 * Throws unless every change has a non-empty key and integer amount, limit and ttl.
 * Counters are integers (nano-dollars, tokens, requests) so that no backend drifts.
 * @internal
 * @throws BallastError `KILLSWITCH_INVALID_COUNTER_CHANGE`
 */
export function assertCounterChanges(changes: readonly CounterChange[]): void {
  for (const [index, change] of changes.entries()) {
    const problem =
      typeof change.key !== 'string' || change.key === ''
        ? 'key must be a non-empty string'
        : !Number.isSafeInteger(change.amount)
          ? `amount must be a safe integer, got ${String(change.amount)}`
          : change.limit !== undefined && !Number.isSafeInteger(change.limit)
            ? `limit must be a safe integer, got ${String(change.limit)}`
            : change.ttlMs !== undefined && (!Number.isSafeInteger(change.ttlMs) || change.ttlMs <= 0)
              ? `ttlMs must be a positive integer, got ${String(change.ttlMs)}`
              : undefined;
    if (problem !== undefined) {
      throw new BallastError('KILLSWITCH_INVALID_COUNTER_CHANGE', `counter change ${index}: ${problem}`, {
        details: { index, key: change.key },
      });
    }
  }
}

/**
 * Throws unless the target has a known scope and a non-empty id.
 * @internal
 * @throws BallastError `KILLSWITCH_INVALID_KILL_TARGET`
 */
export function assertKillTarget(target: KillTarget): void {
  if (!killScopes.has(target.scope) || typeof target.id !== 'string' || target.id === '') {
    throw new BallastError(
      'KILLSWITCH_INVALID_KILL_TARGET',
      `kill target: expected a scope of session | agent | key | all and a non-empty id, got ${JSON.stringify(target)}`,
      { details: { scope: target.scope } },
    );
  }
}

/**
 * The field a kill is stored under: `${scope}:${id}`. Scopes hold no colon, so ids may.
 * @internal
 */
export function killField(target: KillTarget): string {
  return `${target.scope}:${target.id}`;
}

/**
 * Reverses {@link killField}.
 * @internal
 * @returns the target, or undefined when the field names no known scope
 */
export function parseKillField(field: string): KillTarget | undefined {
  const colon = field.indexOf(':');
  const scope = field.slice(0, colon);
  if (colon <= 0 || !killScopes.has(scope)) return undefined;
  return { scope: scope as KillTarget['scope'], id: field.slice(colon + 1) };
}

/**
 * Builds a kill event, leaving `reason` out when there is none (exact optional properties).
 * @internal
 */
export function killEvent(target: KillTarget, killed: boolean, reason: string | null | undefined): KillEvent {
  return {
    target: { scope: target.scope, id: target.id },
    killed,
    ...(killed && reason !== undefined && reason !== null ? { reason } : {}),
  };
}

/**
 * Calls every listener with the event on a microtask. A listener that throws does not stop the
 * others, nor the store: there is nobody to report to, so its error is dropped.
 * @internal
 */
export function notifyKillListeners(
  listeners: ReadonlySet<(event: KillEvent) => void>,
  event: KillEvent,
): void {
  for (const listener of listeners) {
    queueMicrotask(() => {
      try {
        listener(event);
      } catch {
        // A subscriber's bug must not take the store (or the process) down.
      }
    });
  }
}

/**
 * Throws unless the ledger filter holds a finite `since` and a non-negative integer `limit`.
 * @internal
 * @throws BallastError `KILLSWITCH_INVALID_LEDGER_FILTER`
 */
export function assertLedgerFilter(filter: { since?: number; limit?: number }): void {
  if (filter.since !== undefined && !Number.isFinite(filter.since)) {
    throw new BallastError(
      'KILLSWITCH_INVALID_LEDGER_FILTER',
      `ledger since: expected epoch ms, got ${filter.since}`,
    );
  }
  if (filter.limit !== undefined && (!Number.isSafeInteger(filter.limit) || filter.limit < 0)) {
    throw new BallastError(
      'KILLSWITCH_INVALID_LEDGER_FILTER',
      `ledger limit: expected a non-negative integer, got ${filter.limit}`,
    );
  }
}

/**
 * The error every method of a closed store rejects with.
 * @internal
 */
export function storeClosedError(kind: KillswitchStore['kind']): BallastError {
  return new BallastError('KILLSWITCH_STORE_CLOSED', `the ${kind} killswitch store was used after close()`);
}

/** Options of {@link createMemoryKillswitchStore}. */
export interface MemoryKillswitchStoreOptions {
  /** Clock for counter expiry and kill times, in epoch milliseconds. @default Date.now */
  now?: () => number;
}

interface CounterEntry {
  value: number;
  expiresAt: number | undefined;
}

/**
 * The all-or-nothing limit check of `reserve`: the first change that would pass its limit, given
 * each counter's current value. A key may appear twice in one call, so each change is checked
 * against what the earlier ones would make it.
 * @internal
 */
export function firstOverLimit(
  changes: readonly CounterChange[],
  currentValue: (key: string) => number,
): Extract<ReserveOutcome, { ok: false }> | undefined {
  const pending = new Map<string, number>();
  for (const change of changes) {
    const current = pending.get(change.key) ?? currentValue(change.key);
    const next = current + change.amount;
    if (change.limit !== undefined && next > change.limit) {
      return { ok: false, key: change.key, current, limit: change.limit };
    }
    pending.set(change.key, next);
  }
  return undefined;
}

/**
 * The in-process killswitch store: nothing to install, nothing shared between processes, gone on exit.
 *
 * Every method checks and writes synchronously, with no `await` in between, so a `reserve` is atomic:
 * JavaScript runs one task at a time. Kill listeners are called on a microtask. The ledger keeps the
 * last 100,000 entries.
 *
 * @param options the clock
 * @returns a store of kind `memory`
 * @example
 * ```ts
 * const store = createMemoryKillswitchStore();
 * const outcome = await store.reserve([{ key: 'session:s1:usd:total', amount: 120_000_000, limit: 5_000_000_000 }]);
 * if (!outcome.ok) logger.warn(`${outcome.key} is at ${outcome.current} of ${outcome.limit}`);
 * ```
 */
export function createMemoryKillswitchStore(options: MemoryKillswitchStoreOptions = {}): KillswitchStore {
  const now = options.now ?? Date.now;
  const counters = new Map<string, CounterEntry>();
  const kills = new Map<string, KillRecord>();
  const listeners = new Set<(event: KillEvent) => void>();
  const entries: LedgerEntry[] = [];
  let closed = false;

  const assertOpen = (): void => {
    if (closed) throw storeClosedError('memory');
  };
  const live = (key: string, time: number): CounterEntry | undefined => {
    const entry = counters.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= time) {
      counters.delete(key);
      return undefined;
    }
    return entry;
  };
  const apply = (changes: readonly CounterChange[], time: number): number[] =>
    changes.map((change) => {
      let entry = live(change.key, time);
      if (entry === undefined) {
        entry = { value: 0, expiresAt: change.ttlMs === undefined ? undefined : time + change.ttlMs };
        counters.set(change.key, entry);
      }
      entry.value += change.amount;
      return entry.value;
    });

  return {
    kind: 'memory',

    async reserve(changes: readonly CounterChange[]): Promise<ReserveOutcome> {
      assertOpen();
      assertCounterChanges(changes);
      const time = now();
      const over = firstOverLimit(changes, (key) => live(key, time)?.value ?? 0);
      return over ?? { ok: true, values: apply(changes, time) };
    },

    async adjust(changes: readonly CounterChange[]): Promise<number[]> {
      assertOpen();
      assertCounterChanges(changes);
      return apply(changes, now());
    },

    async read(keys: readonly string[]): Promise<number[]> {
      assertOpen();
      const time = now();
      return keys.map((key) => live(key, time)?.value ?? 0);
    },

    async setKill(target: KillTarget, killed: boolean, reason?: string): Promise<void> {
      assertOpen();
      assertKillTarget(target);
      const field = killField(target);
      if (killed) {
        kills.set(field, {
          scope: target.scope,
          id: target.id,
          ...(reason === undefined ? {} : { reason }),
          at: now(),
        });
      } else {
        kills.delete(field);
      }
      notifyKillListeners(listeners, killEvent(target, killed, reason));
    },

    async listKills(): Promise<KillRecord[]> {
      assertOpen();
      return [...kills.values()].map((record) => ({ ...record }));
    },

    async subscribeKills(listener: (event: KillEvent) => void): Promise<() => Promise<void>> {
      assertOpen();
      // Wrapped so that subscribing the same function twice gives two independent subscriptions.
      const subscription = (event: KillEvent): void => listener(event);
      listeners.add(subscription);
      return async () => {
        listeners.delete(subscription);
      };
    },

    async appendLedger(entry: LedgerEntry): Promise<void> {
      assertOpen();
      entries.push({ ...entry });
      // V8 trims the front of a large array in place, so this stays cheap at capacity.
      if (entries.length > LEDGER_CAPACITY) entries.shift();
    },

    async ledger(filter: { since?: number; limit?: number } = {}): Promise<LedgerEntry[]> {
      assertOpen();
      assertLedgerFilter(filter);
      const since = filter.since;
      const matching = since === undefined ? entries : entries.filter((entry) => entry.at >= since);
      const limit = filter.limit ?? matching.length;
      return (limit === 0 ? [] : matching.slice(-limit)).map((entry) => ({ ...entry }));
    },

    async ping(): Promise<void> {
      assertOpen();
    },

    async close(): Promise<void> {
      closed = true;
      listeners.clear();
    },
  };
}
