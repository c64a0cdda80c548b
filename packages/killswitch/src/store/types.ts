/**
 * The killswitch's state contract: budget counters with atomic multi-key reservation and
 * settlement, kills that persist and reach every replica, and the spend ledger. Implemented in
 * memory (default), SQLite (durable, one node) and Redis (many replicas).
 *
 * Counters are integers: USD in nano-dollars (1e-9), tokens and requests as counts, so that no
 * backend accumulates floating-point drift.
 */

/** One counter to change. */
export interface CounterChange {
  key: string;
  /** Integer amount to add; negative releases. */
  amount: number;
  /** For `reserve`: the counter may reach this value but not pass it. Ignored by `adjust`. */
  limit?: number;
  /** Expiry of the counter from its first write (windowed budgets). */
  ttlMs?: number;
}

/** Result of {@link KillswitchStore.reserve}. */
export type ReserveOutcome =
  | { ok: true; values: number[] }
  | { ok: false; key: string; current: number; limit: number };

/** What a kill applies to. `all` uses id `*`. */
export interface KillTarget {
  scope: 'session' | 'agent' | 'key' | 'all';
  id: string;
}

/** A kill in force. */
export interface KillRecord extends KillTarget {
  reason?: string;
  /** Epoch ms. */
  at: number;
}

/** A kill or revive, as delivered to every replica. */
export interface KillEvent {
  target: KillTarget;
  killed: boolean;
  reason?: string;
}

/** One settled call. */
export interface LedgerEntry {
  requestId: string;
  /** Epoch ms of settlement. */
  at: number;
  sessionId?: string;
  agent?: string;
  clientKey?: string;
  model: string;
  provider?: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  outcome: 'completed' | 'aborted' | 'cut' | 'failed';
}

/** The killswitch's state backend. Every method may reject when the backend is unreachable. */
export interface KillswitchStore {
  readonly kind: 'memory' | 'sqlite' | 'redis';
  /** All or nothing, atomically: adds every amount only if no counter with a limit would pass it. */
  reserve(changes: readonly CounterChange[]): Promise<ReserveOutcome>;
  /** Adds every amount (negative releases) in one atomic step, without limit checks. */
  adjust(changes: readonly CounterChange[]): Promise<number[]>;
  /** Current values (0 when absent or expired). */
  read(keys: readonly string[]): Promise<number[]>;
  /** Persists a kill (or removes it on revive) and tells every subscriber, on every replica. */
  setKill(target: KillTarget, killed: boolean, reason?: string): Promise<void>;
  /** Kills in force. */
  listKills(): Promise<KillRecord[]>;
  /** Listens for kills and revives from any replica (including this one). @returns unsubscribe */
  subscribeKills(listener: (event: KillEvent) => void): Promise<() => Promise<void>>;
  appendLedger(entry: LedgerEntry): Promise<void>;
  /**
   * Ledger entries, newest last. `since` keeps entries whose `at` is at or after it (epoch ms);
   * `limit` keeps the newest `limit` of those. Every backend keeps the last 100,000 entries.
   */
  ledger(filter?: { since?: number; limit?: number }): Promise<LedgerEntry[]>;
  /** Resolves when the backend answers; rejects when it is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** `store:` in the killswitch options. */
export type StoreConfig =
  | { type: 'memory' }
  | { type: 'sqlite'; path: string }
  | { type: 'redis'; url: string; keyPrefix?: string };
