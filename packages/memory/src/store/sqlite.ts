import { BallastError, loadOptionalDependency, openSqliteDatabase, sqliteFailure } from '@ballast/core';
import type BetterSqlite3 from 'better-sqlite3';
import type { Turn } from '../types.js';
import { assertTurns, storeClosedError } from './memory.js';
import type { MemoryStore } from './types.js';

/** Options of {@link createSqliteMemoryStore}. */
export interface SqliteMemoryStoreOptions {
  /** The database file; created (with its directory) when missing. Several processes may share it. */
  path: string;
}

/** How long a write waits for another process's transaction before failing. */
const BUSY_TIMEOUT_MS = 5000;
const SCHEMA_VERSION = 1;

// `seq` is the turn's index in its session (0, 1, 2, ...), so `turns(from)` is a range read.
const schema = `
  CREATE TABLE IF NOT EXISTS turns (
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    json TEXT NOT NULL,
    PRIMARY KEY (session_id, seq),
    UNIQUE (session_id, id)
  );
  CREATE TABLE IF NOT EXISTS state (
    session_id TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
`;

function loadBetterSqlite3(): Promise<typeof BetterSqlite3> {
  return loadOptionalDependency(
    async () => (await import('better-sqlite3')).default,
    'MEMORY_DEPENDENCY_MISSING',
    'the sqlite memory store needs the better-sqlite3 package: install it next to @ballast/memory (pnpm add better-sqlite3)',
  );
}

/** A SQLite failure as this store's error. */
function unavailable(path: string, error: unknown): BallastError {
  return sqliteFailure(error, { code: 'MEMORY_STORE_UNAVAILABLE', what: 'the sqlite memory store', path });
}

/**
 * Where `turns(sessionId, from)` starts reading, with `Array.prototype.slice` semantics (a negative
 * `from` counts back from the end), or undefined when nothing can follow.
 */
function startOf(from: number, length: number): number | undefined {
  const start = Number.isNaN(from) ? 0 : Math.trunc(from);
  if (start >= length) return undefined;
  return start < 0 ? Math.max(0, length + start) : start;
}

/**
 * The durable, single-node memory store: one SQLite file (WAL mode) that survives restarts and that
 * several processes on the same machine may share.
 *
 * Turns live in the table `turns (session_id, seq, id, json)` with `UNIQUE (session_id, id)`; state
 * in `state (session_id, value)`. `append` runs in one `BEGIN IMMEDIATE` transaction and skips the
 * turns whose id the session already has, so processes appending the same turns store them once. A
 * writer waits up to 5 s for another's lock (blocking its event loop meanwhile, as better-sqlite3 is
 * synchronous) and then rejects with a retryable `MEMORY_STORE_UNAVAILABLE`. Commits use
 * `synchronous = NORMAL`: safe against a process crash; a power loss may forget the last few commits.
 *
 * better-sqlite3 is an optional peer dependency, loaded only here.
 *
 * @param options the database file
 * @returns an open store; close it when done
 * @throws BallastError `MEMORY_DEPENDENCY_MISSING` when better-sqlite3 is not installed,
 *   `MEMORY_INVALID_OPTIONS` when `path` is not a non-empty string,
 *   `MEMORY_STORE_UNAVAILABLE` when the file cannot be opened
 * @example
 * ```ts
 * const store = await createSqliteMemoryStore({ path: './.ballast/memory.db' });
 * await store.append('session-1', [{ id: 't1', role: 'user', content: 'Fix the login bug' }]);
 * await store.close();
 * ```
 */
export async function createSqliteMemoryStore(options: SqliteMemoryStoreOptions): Promise<MemoryStore> {
  const path = (options as Partial<SqliteMemoryStoreOptions> | undefined)?.path;
  if (typeof path !== 'string' || path === '') {
    throw new BallastError(
      'MEMORY_INVALID_OPTIONS',
      `sqlite memory store path: expected a file path, got ${JSON.stringify(path) ?? 'nothing'}`,
      { details: { path: 'path', expected: 'a file path' } },
    );
  }
  const Database = await loadBetterSqlite3();

  const db = openSqliteDatabase(Database, path, {
    schema,
    version: SCHEMA_VERSION,
    busyTimeoutMs: BUSY_TIMEOUT_MS,
    failure: { code: 'MEMORY_STORE_UNAVAILABLE', what: 'the sqlite memory store' },
  });

  const statements = {
    length: db.prepare<[string], { length: number }>(
      'SELECT COALESCE(MAX(seq) + 1, 0) AS length FROM turns WHERE session_id = ?',
    ),
    insertTurn: db.prepare<[string, number, string, string]>(
      'INSERT OR IGNORE INTO turns (session_id, seq, id, json) VALUES (?, ?, ?, ?)',
    ),
    selectTurns: db.prepare<[string, number], { json: string }>(
      'SELECT json FROM turns WHERE session_id = ? AND seq >= ? ORDER BY seq',
    ),
    deleteTurns: db.prepare<[string]>('DELETE FROM turns WHERE session_id = ?'),
    selectState: db.prepare<[string], { value: string }>('SELECT value FROM state WHERE session_id = ?'),
    upsertState: db.prepare<[string, string]>(
      `INSERT INTO state (session_id, value) VALUES (?, ?)
       ON CONFLICT (session_id) DO UPDATE SET value = excluded.value`,
    ),
    deleteState: db.prepare<[string]>('DELETE FROM state WHERE session_id = ?'),
  };

  const lengthOf = (sessionId: string): number => statements.length.get(sessionId)?.length ?? 0;
  const appendTransaction = db.transaction(
    (sessionId: string, turns: readonly Turn[]): { appended: number; length: number } => {
      let length = lengthOf(sessionId);
      let appended = 0;
      for (const turn of turns) {
        // Ignored when the session has the id already (or had it earlier in this batch).
        const { changes } = statements.insertTurn.run(sessionId, length, turn.id, JSON.stringify(turn));
        if (changes === 0) continue;
        length += 1;
        appended += 1;
      }
      return { appended, length };
    },
  );
  // One read transaction, so the length and the rows come from the same snapshot.
  const turnsTransaction = db.transaction((sessionId: string, from: number): Turn[] => {
    const start = startOf(from, lengthOf(sessionId));
    if (start === undefined) return [];
    return statements.selectTurns.all(sessionId, start).map((row) => JSON.parse(row.json) as Turn);
  });
  const clearTransaction = db.transaction(
    (sessionId: string): boolean =>
      statements.deleteTurns.run(sessionId).changes + statements.deleteState.run(sessionId).changes > 0,
  );

  let closed = false;
  const run = <T>(operation: () => T): Promise<T> => {
    if (closed) return Promise.reject(storeClosedError());
    try {
      return Promise.resolve(operation());
    } catch (error) {
      return Promise.reject(unavailable(path, error));
    }
  };

  return {
    append(sessionId: string, turns: readonly Turn[]): Promise<{ appended: number; length: number }> {
      return run(() => {
        assertTurns(sessionId, turns);
        return appendTransaction.immediate(sessionId, turns);
      });
    },

    turns(sessionId: string, from = 0): Promise<Turn[]> {
      return run(() => turnsTransaction(sessionId, from));
    },

    length(sessionId: string): Promise<number> {
      return run(() => lengthOf(sessionId));
    },

    getState(sessionId: string): Promise<string | undefined> {
      return run(() => statements.selectState.get(sessionId)?.value);
    },

    setState(sessionId: string, value: string): Promise<void> {
      return run(() => {
        statements.upsertState.run(sessionId, value);
      });
    },

    clear(sessionId: string): Promise<boolean> {
      return run(() => clearTransaction.immediate(sessionId));
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
