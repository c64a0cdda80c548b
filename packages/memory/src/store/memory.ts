import { BallastError } from '@ballast/core';
import type { Turn } from '../types.js';
import type { MemoryStore } from './types.js';

interface Session {
  turns: Turn[];
  ids: Set<string>;
  state: string | undefined;
}

/** The error every store throws once closed. */
export function storeClosedError(): BallastError {
  return new BallastError('MEMORY_STORE_CLOSED', 'the memory store is closed');
}

/**
 * Checks turns before they reach a store, so every backend rejects the same input the same way.
 * @throws {BallastError} `MEMORY_INVALID_TURN` naming the turn and the field
 */
export function assertTurns(sessionId: string, turns: readonly Turn[]): void {
  if (typeof sessionId !== 'string' || sessionId === '') {
    throw new BallastError('MEMORY_INVALID_SESSION', 'sessionId must be a non-empty string');
  }
  if (!Array.isArray(turns)) {
    throw new BallastError('MEMORY_INVALID_TURN', 'turns must be an array of { id, role, content }');
  }
  turns.forEach((turn, index) => {
    const where = `turns[${index}]`;
    if (typeof turn !== 'object' || turn === null) {
      throw new BallastError('MEMORY_INVALID_TURN', `${where} must be an object with id, role and content`);
    }
    if (typeof turn.id !== 'string' || turn.id === '') {
      throw new BallastError('MEMORY_INVALID_TURN', `${where}.id must be a non-empty string`);
    }
    if (!['system', 'user', 'assistant', 'tool'].includes(turn.role)) {
      throw new BallastError(
        'MEMORY_INVALID_TURN',
        `${where}.role must be one of system, user, assistant, tool (got ${JSON.stringify(turn.role)})`,
      );
    }
    if (typeof turn.content !== 'string') {
      throw new BallastError('MEMORY_INVALID_TURN', `${where}.content must be a string`);
    }
  });
}

/**
 * A store in this process's memory: for tests, one-process agents, and as the reference the
 * SQLite and Redis stores are tested against.
 * @returns the store
 * @example
 * ```ts
 * const memory = createSessionMemory({ store: createInMemoryStore() });
 * ```
 */
export function createInMemoryStore(): MemoryStore {
  const sessions = new Map<string, Session>();
  let closed = false;
  const open = (): void => {
    if (closed) throw storeClosedError();
  };
  return {
    async append(sessionId, turns) {
      open();
      assertTurns(sessionId, turns);
      let session = sessions.get(sessionId);
      if (!session) {
        session = { turns: [], ids: new Set(), state: undefined };
        sessions.set(sessionId, session);
      }
      let appended = 0;
      for (const turn of turns) {
        if (session.ids.has(turn.id)) continue;
        session.ids.add(turn.id);
        session.turns.push({ ...turn });
        appended += 1;
      }
      return { appended, length: session.turns.length };
    },
    async turns(sessionId, from = 0) {
      open();
      return (sessions.get(sessionId)?.turns.slice(from) ?? []).map((turn) => ({ ...turn }));
    },
    async length(sessionId) {
      open();
      return sessions.get(sessionId)?.turns.length ?? 0;
    },
    async getState(sessionId) {
      open();
      return sessions.get(sessionId)?.state;
    },
    async setState(sessionId, value) {
      open();
      let session = sessions.get(sessionId);
      if (!session) {
        session = { turns: [], ids: new Set(), state: undefined };
        sessions.set(sessionId, session);
      }
      session.state = value;
    },
    async clear(sessionId) {
      open();
      return sessions.delete(sessionId);
    },
    async close() {
      closed = true;
    },
  };
}
