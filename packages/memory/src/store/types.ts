import type { Turn } from '../types.js';

/**
 * Where sessions live: an append-only log of turns per session, plus a small JSON blob of derived
 * state. Everything else (the index, the structured state) is rebuilt from the turns, so a store
 * holds only what cannot be recomputed, and replicas that share a store build the same context.
 */
export interface MemoryStore {
  /**
   * Appends the turns whose ids the session does not have yet, in order, atomically (two replicas
   * appending the same turns store them once).
   * @returns how many were appended and the session's length after
   */
  append(sessionId: string, turns: readonly Turn[]): Promise<{ appended: number; length: number }>;
  /** The session's turns from index `from` (default 0) on, in append order; [] for an unknown session. */
  turns(sessionId: string, from?: number): Promise<Turn[]>;
  /** How many turns the session has (0 when unknown). */
  length(sessionId: string): Promise<number>;
  /** The session's state blob, or undefined. */
  getState(sessionId: string): Promise<string | undefined>;
  /** Replaces the session's state blob. */
  setState(sessionId: string, value: string): Promise<void>;
  /** Forgets a session: turns and state. @returns whether it existed */
  clear(sessionId: string): Promise<boolean>;
  close(): Promise<void>;
}
