import { BallastError, loadOptionalDependency, openSqliteDatabase, sqliteFailure } from '@ballast/core';
import type BetterSqlite3 from 'better-sqlite3';
import {
  assertCounterChanges,
  assertKillTarget,
  assertLedgerFilter,
  firstOverLimit,
  killEvent,
  killField,
  LEDGER_CAPACITY,
  notifyKillListeners,
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

/** Options of {@link createSqliteKillswitchStore}. */
export interface SqliteKillswitchStoreOptions {
  /** The database file; created (with its directory) when missing. Several processes may share it. */
  path: string;
  /** Clock for counter expiry and kill times, in epoch milliseconds. @default Date.now */
  now?: () => number;
}

/** How often the kills table is read for changes made by other processes. */
const KILL_POLL_INTERVAL_MS = 1000;
/** Expired counters are deleted every this many polls (a minute). */
const PURGE_EVERY_POLLS = 60;
/** How long a write waits for another process's transaction before failing. */
const BUSY_TIMEOUT_MS = 5000;
const SCHEMA_VERSION = 1;

const schema = `
  CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL,
    expires_at INTEGER NULL
  );
  CREATE TABLE IF NOT EXISTS kills (
    scope TEXT NOT NULL,
    id TEXT NOT NULL,
    reason TEXT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (scope, id)
  );
  CREATE TABLE IF NOT EXISTS ledger (
    seq INTEGER PRIMARY KEY,
    request_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    session_id TEXT NULL,
    agent TEXT NULL,
    client_key TEXT NULL,
    model TEXT NOT NULL,
    provider TEXT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL,
    outcome TEXT NOT NULL
  );
`;

interface CounterRow {
  value: number;
  expiresAt: number | null;
}

interface KillRow {
  scope: KillTarget['scope'];
  id: string;
  reason: string | null;
  at: number;
}

interface LedgerRow {
  requestId: string;
  at: number;
  sessionId: string | null;
  agent: string | null;
  clientKey: string | null;
  model: string;
  provider: string | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  outcome: LedgerEntry['outcome'];
}

function loadBetterSqlite3(): Promise<typeof BetterSqlite3> {
  return loadOptionalDependency(
    async () => (await import('better-sqlite3')).default,
    'KILLSWITCH_DEPENDENCY_MISSING',
    'the sqlite killswitch store needs the better-sqlite3 package: install it next to @ballast/killswitch (pnpm add better-sqlite3)',
  );
}

/** A SQLite failure as this store's error. */
function unavailable(path: string, error: unknown): BallastError {
  return sqliteFailure(error, {
    code: 'KILLSWITCH_STATE_UNAVAILABLE',
    what: 'the sqlite killswitch store',
    path,
  });
}

function ledgerEntryOf(row: LedgerRow): LedgerEntry {
  return {
    requestId: row.requestId,
    at: row.at,
    ...(row.sessionId === null ? {} : { sessionId: row.sessionId }),
    ...(row.agent === null ? {} : { agent: row.agent }),
    ...(row.clientKey === null ? {} : { clientKey: row.clientKey }),
    model: row.model,
    ...(row.provider === null ? {} : { provider: row.provider }),
    inputTokens: row.inputTokens,
    outputTokens: row.outputTokens,
    costUsd: row.costUsd,
    outcome: row.outcome,
  };
}

/**
 * The durable, single-node killswitch store: one SQLite file (WAL mode) that survives restarts and
 * that several processes on the same machine may share.
 *
 * `reserve` and `adjust` each run in one `BEGIN IMMEDIATE` transaction, so they stay all-or-nothing
 * even when several processes write the same file; a writer waits up to 5 s for another's lock
 * (blocking its event loop meanwhile, as better-sqlite3 is synchronous) and then rejects with a
 * retryable `KILLSWITCH_STATE_UNAVAILABLE`. Commits use `synchronous = NORMAL`: safe against a
 * process crash; a power loss may forget the last few commits.
 *
 * Kills set through this store reach its subscribers at once. Kills set by another process on the
 * same file are seen by the next `listKills`, and reach this store's subscribers within about a
 * second: the kills table is polled every second (on an unref'd timer, stopped by `close`). The
 * ledger keeps the last 100,000 entries. Expired counters read as 0 and are deleted once a minute.
 *
 * better-sqlite3 is an optional peer dependency, loaded only here.
 *
 * @param options the database file and the clock
 * @returns a store of kind `sqlite`
 * @throws BallastError `KILLSWITCH_DEPENDENCY_MISSING` when better-sqlite3 is not installed,
 *   `KILLSWITCH_INVALID_OPTIONS` when `path` is not a non-empty string,
 *   `KILLSWITCH_STATE_UNAVAILABLE` when the file cannot be opened
 * @example
 * ```ts
 * const store = await createSqliteKillswitchStore({ path: './.ballast/killswitch.db' });
 * await store.setKill({ scope: 'session', id: 's1' }, true, 'runaway loop');
 * await store.close();
 * ```
 */
export async function createSqliteKillswitchStore(
  options: SqliteKillswitchStoreOptions,
): Promise<KillswitchStore> {
  const path = options.path;
  if (typeof path !== 'string' || path === '') {
    throw new BallastError(
      'KILLSWITCH_INVALID_OPTIONS',
      `sqlite killswitch store path: expected a file path, got ${JSON.stringify(path) ?? 'nothing'}`,
      { details: { path: 'path', expected: 'a file path' } },
    );
  }
  const now = options.now ?? Date.now;
  const Database = await loadBetterSqlite3();

  const db = openSqliteDatabase(Database, path, {
    schema,
    version: SCHEMA_VERSION,
    busyTimeoutMs: BUSY_TIMEOUT_MS,
    failure: { code: 'KILLSWITCH_STATE_UNAVAILABLE', what: 'the sqlite killswitch store' },
  });

  const statements = {
    selectCounter: db.prepare<[string], CounterRow>(
      'SELECT value, expires_at AS expiresAt FROM counters WHERE key = ?',
    ),
    upsertCounter: db.prepare<[string, number, number | null]>(
      `INSERT INTO counters (key, value, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    ),
    purgeCounters: db.prepare<[number]>(
      'DELETE FROM counters WHERE expires_at IS NOT NULL AND expires_at <= ?',
    ),
    upsertKill: db.prepare<[string, string, string | null, number]>(
      `INSERT INTO kills (scope, id, reason, at) VALUES (?, ?, ?, ?)
       ON CONFLICT (scope, id) DO UPDATE SET reason = excluded.reason, at = excluded.at`,
    ),
    deleteKill: db.prepare<[string, string]>('DELETE FROM kills WHERE scope = ? AND id = ?'),
    selectKills: db.prepare<[], KillRow>('SELECT scope, id, reason, at FROM kills ORDER BY at, scope, id'),
    insertLedger: db.prepare<
      [
        string,
        number,
        string | null,
        string | null,
        string | null,
        string,
        string | null,
        number,
        number,
        number,
        string,
      ]
    >(
      `INSERT INTO ledger (request_id, at, session_id, agent, client_key, model, provider,
         input_tokens, output_tokens, cost_usd, outcome)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    trimLedger: db.prepare<[number]>('DELETE FROM ledger WHERE seq <= ?'),
    selectLedger: db.prepare<[number, number], LedgerRow>(
      `SELECT request_id AS requestId, at, session_id AS sessionId, agent, client_key AS clientKey, model,
         provider, input_tokens AS inputTokens, output_tokens AS outputTokens, cost_usd AS costUsd, outcome
       FROM ledger WHERE at >= ? ORDER BY seq DESC LIMIT ?`,
    ),
  };

  /** The counter's value at `time`, or undefined when it is absent or expired. */
  const liveValue = (key: string, time: number): CounterRow | undefined => {
    const row = statements.selectCounter.get(key);
    return row === undefined || (row.expiresAt !== null && row.expiresAt <= time) ? undefined : row;
  };
  // Applies changes within the caller's transaction; an expired counter starts again from 0.
  const apply = (changes: readonly CounterChange[], time: number): number[] =>
    changes.map((change) => {
      const row = liveValue(change.key, time);
      const value = (row?.value ?? 0) + change.amount;
      const expiresAt =
        row === undefined ? (change.ttlMs === undefined ? null : time + change.ttlMs) : row.expiresAt;
      statements.upsertCounter.run(change.key, value, expiresAt);
      return value;
    });
  const reserveTransaction = db.transaction(
    (changes: readonly CounterChange[], time: number): ReserveOutcome =>
      firstOverLimit(changes, (key) => liveValue(key, time)?.value ?? 0) ?? {
        ok: true,
        values: apply(changes, time),
      },
  );
  const adjustTransaction = db.transaction(apply);
  const appendTransaction = db.transaction((entry: LedgerEntry) => {
    const { lastInsertRowid } = statements.insertLedger.run(
      entry.requestId,
      entry.at,
      entry.sessionId ?? null,
      entry.agent ?? null,
      entry.clientKey ?? null,
      entry.model,
      entry.provider ?? null,
      entry.inputTokens,
      entry.outputTokens,
      entry.costUsd,
      entry.outcome,
    );
    statements.trimLedger.run(Number(lastInsertRowid) - LEDGER_CAPACITY);
  });

  const listeners = new Set<(event: KillEvent) => void>();
  // What this process last knew of the kills table, to tell other processes' changes apart.
  let knownKills = new Map<string, KillRow>();
  const readKills = (): Map<string, KillRow> =>
    new Map(statements.selectKills.all().map((row) => [killField(row), row]));
  knownKills = readKills();

  let polls = 0;
  const poll = (): void => {
    try {
      const current = readKills();
      for (const [field, row] of current) {
        const known = knownKills.get(field);
        if (known === undefined || known.reason !== row.reason || known.at !== row.at) {
          notifyKillListeners(listeners, killEvent(row, true, row.reason));
        }
      }
      for (const [field, row] of knownKills) {
        if (!current.has(field)) notifyKillListeners(listeners, killEvent(row, false, undefined));
      }
      knownKills = current;
      polls += 1;
      if (polls % PURGE_EVERY_POLLS === 0) statements.purgeCounters.run(now());
    } catch {
      // A locked or briefly unreadable file: the next poll tries again.
    }
  };
  const timer = setInterval(poll, KILL_POLL_INTERVAL_MS);
  timer.unref();

  let closed = false;
  const run = <T>(operation: () => T): Promise<T> => {
    if (closed) return Promise.reject(storeClosedError('sqlite'));
    try {
      return Promise.resolve(operation());
    } catch (error) {
      return Promise.reject(unavailable(path, error));
    }
  };

  return {
    kind: 'sqlite',

    reserve(changes: readonly CounterChange[]): Promise<ReserveOutcome> {
      return run(() => {
        assertCounterChanges(changes);
        return reserveTransaction.immediate(changes, now());
      });
    },

    adjust(changes: readonly CounterChange[]): Promise<number[]> {
      return run(() => {
        assertCounterChanges(changes);
        return adjustTransaction.immediate(changes, now());
      });
    },

    read(keys: readonly string[]): Promise<number[]> {
      return run(() => {
        const time = now();
        return keys.map((key) => liveValue(key, time)?.value ?? 0);
      });
    },

    setKill(target: KillTarget, killed: boolean, reason?: string): Promise<void> {
      return run(() => {
        assertKillTarget(target);
        const field = killField(target);
        if (killed) {
          const row: KillRow = { scope: target.scope, id: target.id, reason: reason ?? null, at: now() };
          statements.upsertKill.run(row.scope, row.id, row.reason, row.at);
          knownKills.set(field, row);
        } else {
          statements.deleteKill.run(target.scope, target.id);
          knownKills.delete(field);
        }
        notifyKillListeners(listeners, killEvent(target, killed, reason));
      });
    },

    listKills(): Promise<KillRecord[]> {
      return run(() =>
        statements.selectKills.all().map((row) => ({
          scope: row.scope,
          id: row.id,
          ...(row.reason === null ? {} : { reason: row.reason }),
          at: row.at,
        })),
      );
    },

    subscribeKills(listener: (event: KillEvent) => void): Promise<() => Promise<void>> {
      return run(() => {
        const subscription = (event: KillEvent): void => listener(event);
        listeners.add(subscription);
        return async () => {
          listeners.delete(subscription);
        };
      });
    },

    appendLedger(entry: LedgerEntry): Promise<void> {
      return run(() => appendTransaction.immediate(entry));
    },

    ledger(filter: { since?: number; limit?: number } = {}): Promise<LedgerEntry[]> {
      return run(() => {
        assertLedgerFilter(filter);
        // LIMIT -1 is SQLite's "no limit".
        const rows = statements.selectLedger.all(filter.since ?? Number.MIN_SAFE_INTEGER, filter.limit ?? -1);
        return rows.reverse().map(ledgerEntryOf);
      });
    },

    ping(): Promise<void> {
      return run(() => {
        db.prepare('SELECT 1').get();
      });
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      listeners.clear();
      db.close();
    },
  };
}
