import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BallastError } from '@ballast/core';
import { redisForTests, runNodeScript } from '@ballast/mock-provider';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Turn } from '../types.js';
import {
  createInMemoryStore,
  createMemoryStoreFrom,
  createRedisMemoryStore,
  createSqliteMemoryStore,
  type MemoryStore,
  type MemoryStoreConfig,
} from './index.js';

// --- Redis availability: skip with a reason, or fail when CI requires Redis ---------------------

const redis = await redisForTests();
const redisUrl = redis.url;
if (redis.skip !== undefined) console.warn(`Skipping the Redis store cases: ${redis.skip}`);
const redisSkip = redis.skip;
const redisFailure = redis.failure;
const redisLabel = redis.label;
const needRedis = redis.need;

/** A key prefix no other run uses; its keys are deleted by {@link deleteKeys}. */
const testPrefix = (): string => `ballast-test:${randomUUID()}:`;

async function deleteKeys(url: string, prefix: string): Promise<void> {
  const admin = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await admin.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    admin.disconnect();
  }
}

// --- Backends ---------------------------------------------------------------------------------

/** Stores opened by one harness share their sessions (one file, one key prefix) and are closed by cleanup. */
interface Harness {
  open(): Promise<MemoryStore>;
  cleanup(): Promise<void>;
}

interface Backend {
  /** Title: the backend, and why its cases are skipped when they are. */
  label: string;
  /** Whether two stores of one harness share sessions, as replicas (redis) or processes on one file (sqlite) do. */
  shared: boolean;
  skip: string | undefined;
  failure: string | undefined;
  harness(): Harness;
}

function harnessOf(open: () => Promise<MemoryStore>, removeState: () => Promise<void>): Harness {
  const opened: MemoryStore[] = [];
  return {
    async open() {
      const store = await open();
      opened.push(store);
      return store;
    },
    async cleanup() {
      await Promise.all(opened.map((store) => store.close()));
      await removeState();
    },
  };
}

const backends: Backend[] = [
  {
    label: 'memory',
    shared: false,
    skip: undefined,
    failure: undefined,
    harness: () =>
      harnessOf(
        async () => createInMemoryStore(),
        async () => {},
      ),
  },
  {
    label: 'sqlite',
    shared: true,
    skip: undefined,
    failure: undefined,
    harness: () => {
      const directory = mkdtempSync(join(tmpdir(), 'ballast-memory-'));
      const path = join(directory, 'memory.db');
      return harnessOf(
        () => createSqliteMemoryStore({ path }),
        async () => rmSync(directory, { recursive: true, force: true }),
      );
    },
  },
  {
    label: redisLabel,
    shared: true,
    skip: redisSkip,
    failure: redisFailure,
    harness: () => {
      const url = redisUrl ?? '';
      const keyPrefix = testPrefix();
      return harnessOf(
        () => createRedisMemoryStore({ url, keyPrefix }),
        () => deleteKeys(url, keyPrefix),
      );
    },
  },
];

// --- Helpers ----------------------------------------------------------------------------------

/** Turn `index` of a conversation that alternates user and assistant. */
function turn(index: number): Turn {
  return { id: `t${index}`, role: index % 2 === 0 ? 'user' : 'assistant', content: `turn ${index}` };
}

/** Turns `first` to `last`, inclusive. */
function turnsFrom(first: number, last: number): Turn[] {
  return Array.from({ length: last - first + 1 }, (_, offset) => turn(first + offset));
}

const idsOf = (turns: readonly Turn[]): string[] => turns.map((each) => each.id);

async function rejection(promise: Promise<unknown>): Promise<BallastError> {
  try {
    await promise;
  } catch (error) {
    if (BallastError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

/** Rejects when `promise` has not settled within `withinMs`. */
function within<T>(promise: Promise<T>, withinMs: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      setTimeout(() => reject(new Error(`did not settle within ${withinMs} ms`)), withinMs).unref();
    }),
  ]);
}

/** The numbers 0 to `count - 1` in an order fixed by `seed`, so that a failure can be replayed. */
function shuffled(count: number, seed: number): number[] {
  const order = Array.from({ length: count }, (_, index) => index);
  let state = seed;
  for (let index = count - 1; index > 0; index -= 1) {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    const other = state % (index + 1);
    [order[index], order[other]] = [order[other] as number, order[index] as number];
  }
  return order;
}

/** Every order in which atomic appends of `batches`, one after another, can leave a session's ids. */
function serialOrders(batches: readonly string[][]): string[][] {
  if (batches.length === 0) return [[]];
  return batches.flatMap((batch, index) =>
    serialOrders(batches.filter((_, other) => other !== index)).map((rest) => {
      const ids = [...batch];
      for (const id of rest) if (!ids.includes(id)) ids.push(id);
      return ids;
    }),
  );
}

// --- The contract -----------------------------------------------------------------------------

describe('MemoryStore', () => {
  describe.each(backends.map((backend) => [backend.label, backend] as const))(
    'when the backend is %s',
    (_label, backend) => {
      let harness: Harness;

      beforeEach((context) => {
        // Thrown per test (not in beforeAll) so that every Redis case reports as failed, not skipped.
        if (backend.failure !== undefined) throw new Error(backend.failure);
        if (backend.skip !== undefined) context.skip(backend.skip);
        harness = backend.harness();
      });
      afterEach(async () => {
        await harness?.cleanup();
      });

      describe('append', () => {
        describe('when the turns are new', () => {
          it('stores them in order and reports how many it appended and the length', async () => {
            const store = await harness.open();
            expect(await store.append('s1', turnsFrom(1, 3))).toEqual({ appended: 3, length: 3 });
            expect(await store.append('s1', [turn(4)])).toEqual({ appended: 1, length: 4 });
            expect(await store.turns('s1')).toEqual(turnsFrom(1, 4));
            expect(await store.length('s1')).toBe(4);
          });
        });

        describe('when the same turns are appended again', () => {
          it('appends none and leaves the session as it was', async () => {
            const store = await harness.open();
            await store.append('s1', turnsFrom(1, 3));
            expect(await store.append('s1', turnsFrom(1, 3))).toEqual({ appended: 0, length: 3 });
            expect(await store.turns('s1')).toEqual(turnsFrom(1, 3));
          });
        });

        describe('when a batch partly overlaps the session', () => {
          it('appends only the turns with new ids, in the batch order', async () => {
            const store = await harness.open();
            await store.append('s1', turnsFrom(1, 3));
            expect(await store.append('s1', turnsFrom(2, 5))).toEqual({ appended: 2, length: 5 });
            expect(idsOf(await store.turns('s1'))).toEqual(['t1', 't2', 't3', 't4', 't5']);
          });
        });

        describe('when a known id comes with different content', () => {
          it('keeps the turn stored first', async () => {
            const store = await harness.open();
            await store.append('s1', [turn(1)]);
            expect(await store.append('s1', [{ ...turn(1), content: 'rewritten' }])).toEqual({
              appended: 0,
              length: 1,
            });
            expect(await store.turns('s1')).toEqual([turn(1)]);
          });
        });

        describe('when one batch holds an id twice', () => {
          it('stores the first of the two', async () => {
            const store = await harness.open();
            const result = await store.append('s1', [turn(1), { ...turn(1), content: 'again' }, turn(2)]);
            expect(result).toEqual({ appended: 2, length: 2 });
            expect(await store.turns('s1')).toEqual([turn(1), turn(2)]);
          });
        });

        describe('when the batch is empty', () => {
          it('appends nothing and reports the length', async () => {
            const store = await harness.open();
            await store.append('s1', turnsFrom(1, 2));
            expect(await store.append('s1', [])).toEqual({ appended: 0, length: 2 });
          });
        });

        describe('when turns carry a name and a timestamp', () => {
          it('returns them as they were appended', async () => {
            const store = await harness.open();
            const turns: Turn[] = [
              {
                id: 'call',
                role: 'tool',
                content: '{"ok":true}\nline "two"',
                name: 'git_status',
                timestamp: 1,
              },
              { id: 'reply', role: 'assistant', content: 'Ünïcødé ✓ 🚀', timestamp: '2025-01-02T03:04:05Z' },
            ];
            await store.append('s1', turns);
            expect(await store.turns('s1')).toEqual(turns);
          });
        });

        describe('when two sessions use the same turn ids', () => {
          it('keeps them apart', async () => {
            const store = await harness.open();
            await store.append('s1', turnsFrom(1, 2));
            expect(await store.append('s2', turnsFrom(1, 3))).toEqual({ appended: 3, length: 3 });
            expect(await store.turns('s1')).toEqual(turnsFrom(1, 2));
            expect(await store.turns('s2')).toEqual(turnsFrom(1, 3));
          });
        });

        describe('when a turn is invalid', () => {
          it.each([
            [{ id: '', role: 'user', content: 'hi' }, 'turns[1].id'],
            [{ id: 'x', role: 'robot', content: 'hi' }, 'turns[1].role'],
            [{ id: 'x', role: 'user', content: 42 }, 'turns[1].content'],
            [null, 'turns[1]'],
          ])('rejects %j with MEMORY_INVALID_TURN naming %s and appends nothing', async (invalid, field) => {
            const store = await harness.open();
            const error = await rejection(store.append('s1', [turn(1), invalid as unknown as Turn]));
            expect(error.code).toBe('MEMORY_INVALID_TURN');
            expect(error.message).toContain(field);
            expect(await store.length('s1')).toBe(0);
          });

          it('rejects a batch that is not an array with MEMORY_INVALID_TURN', async () => {
            const store = await harness.open();
            const error = await rejection(store.append('s1', turn(1) as unknown as Turn[]));
            expect(error.code).toBe('MEMORY_INVALID_TURN');
          });
        });

        describe('when the session id is empty', () => {
          it('rejects with MEMORY_INVALID_SESSION', async () => {
            const store = await harness.open();
            expect((await rejection(store.append('', [turn(1)]))).code).toBe('MEMORY_INVALID_SESSION');
          });
        });

        describe('when many appends of the growing conversation race on one store', () => {
          it('stores every turn once, in conversation order', async () => {
            const store = await harness.open();
            const conversation = turnsFrom(0, 59);
            const results = await Promise.all(
              shuffled(60, 7).map((last) => store.append('s1', conversation.slice(0, last + 1))),
            );
            expect(results.reduce((sum, result) => sum + result.appended, 0)).toBe(60);
            expect(await store.turns('s1')).toEqual(conversation);
          });
        });

        if (backend.shared) {
          describe('when two stores on the same state race appends of the growing conversation', () => {
            it('stores every turn once, in conversation order', async () => {
              const stores = [await harness.open(), await harness.open()];
              const conversation = turnsFrom(0, 199);
              // Both stores append every prefix of the conversation, in two different orders.
              const results = await Promise.all(
                [shuffled(200, 1), shuffled(200, 2)].flatMap((order, storeIndex) =>
                  order.map((last) =>
                    (stores[storeIndex] as MemoryStore).append('s1', conversation.slice(0, last + 1)),
                  ),
                ),
              );
              expect(results.reduce((sum, result) => sum + result.appended, 0)).toBe(200);
              for (const store of stores) {
                expect(await store.turns('s1')).toEqual(conversation);
                expect(await store.length('s1')).toBe(200);
              }
            });
          });

          describe('when two stores on the same state append overlapping batches at once', () => {
            it('stores each id once, with each batch kept whole and in order', async () => {
              const [first, second] = [await harness.open(), await harness.open()];
              const sessions = Array.from({ length: 20 }, (_, index) => `race-${index}`);
              await Promise.all(
                sessions.flatMap((session) => [
                  first.append(session, turnsFrom(0, 9)),
                  second.append(session, turnsFrom(5, 14)),
                ]),
              );
              // An atomic append leaves one of the two serial orders, never a mix of the two.
              const orders = serialOrders([idsOf(turnsFrom(0, 9)), idsOf(turnsFrom(5, 14))]);
              expect(orders).toEqual([
                idsOf(turnsFrom(0, 14)),
                idsOf([...turnsFrom(5, 14), ...turnsFrom(0, 4)]),
              ]);
              for (const session of sessions) {
                expect(orders).toContainEqual(idsOf(await first.turns(session)));
                expect(await second.length(session)).toBe(15);
              }
            });
          });
        }
      });

      describe('turns', () => {
        describe('when read from an index', () => {
          it('returns the turns from that index on', async () => {
            const store = await harness.open();
            await store.append('s1', turnsFrom(0, 4));
            expect(await store.turns('s1', 0)).toEqual(turnsFrom(0, 4));
            expect(await store.turns('s1', 2)).toEqual(turnsFrom(2, 4));
            expect(await store.turns('s1', 4)).toEqual([turn(4)]);
          });
        });

        describe('when the index is at or past the end', () => {
          it('returns no turns', async () => {
            const store = await harness.open();
            await store.append('s1', turnsFrom(0, 4));
            expect(await store.turns('s1', 5)).toEqual([]);
            expect(await store.turns('s1', 1000)).toEqual([]);
          });
        });

        describe('when the index is negative', () => {
          it('counts back from the end, as Array.prototype.slice does', async () => {
            const store = await harness.open();
            await store.append('s1', turnsFrom(0, 4));
            expect(await store.turns('s1', -2)).toEqual(turnsFrom(3, 4));
            expect(await store.turns('s1', -100)).toEqual(turnsFrom(0, 4));
          });
        });

        describe('when the caller changes a returned turn', () => {
          it('leaves the stored turn as it was', async () => {
            const store = await harness.open();
            await store.append('s1', [turn(1)]);
            const [returned] = await store.turns('s1');
            (returned as Turn).content = 'changed';
            expect(await store.turns('s1')).toEqual([turn(1)]);
          });
        });
      });

      describe('when the session is unknown', () => {
        it('has no turns, a length of 0, no state, and nothing to clear', async () => {
          const store = await harness.open();
          expect(await store.turns('nobody')).toEqual([]);
          expect(await store.turns('nobody', 3)).toEqual([]);
          expect(await store.length('nobody')).toBe(0);
          expect(await store.getState('nobody')).toBeUndefined();
          expect(await store.clear('nobody')).toBe(false);
        });
      });

      describe('setState', () => {
        describe('when state is set and then set again', () => {
          it('returns the latest value and leaves the turns alone', async () => {
            const store = await harness.open();
            await store.append('s1', turnsFrom(1, 2));
            await store.setState('s1', '{"version":1}');
            expect(await store.getState('s1')).toBe('{"version":1}');
            await store.setState('s1', '{"version":2,"items":["ü"]}');
            expect(await store.getState('s1')).toBe('{"version":2,"items":["ü"]}');
            expect(await store.length('s1')).toBe(2);
            expect(await store.getState('s2')).toBeUndefined();
          });
        });

        describe('when the state is the empty string', () => {
          it('returns the empty string, not undefined', async () => {
            const store = await harness.open();
            await store.setState('s1', '');
            expect(await store.getState('s1')).toBe('');
          });
        });
      });

      describe('clear', () => {
        describe('when the session has turns and state', () => {
          it('forgets both, reports that it existed, and lets the same ids be appended again', async () => {
            const store = await harness.open();
            await store.append('s1', turnsFrom(1, 3));
            await store.setState('s1', 'state');
            await store.append('s2', [turn(1)]);
            expect(await store.clear('s1')).toBe(true);
            expect(await store.turns('s1')).toEqual([]);
            expect(await store.length('s1')).toBe(0);
            expect(await store.getState('s1')).toBeUndefined();
            expect(await store.clear('s1')).toBe(false);
            expect(await store.append('s1', turnsFrom(1, 3))).toEqual({ appended: 3, length: 3 });
            expect(await store.turns('s2')).toEqual([turn(1)]);
          });
        });

        describe('when the session has only state', () => {
          it('forgets it and reports that it existed', async () => {
            const store = await harness.open();
            await store.setState('s1', 'state');
            expect(await store.clear('s1')).toBe(true);
            expect(await store.getState('s1')).toBeUndefined();
          });
        });
      });

      describe('close', () => {
        describe('when a closed store is used', () => {
          it('rejects every call with MEMORY_STORE_CLOSED', async () => {
            const store = await harness.open();
            await store.append('s1', [turn(1)]);
            await store.close();
            await store.close();
            const calls = [
              store.append('s1', [turn(2)]),
              store.turns('s1'),
              store.length('s1'),
              store.getState('s1'),
              store.setState('s1', 'state'),
              store.clear('s1'),
            ];
            for (const call of calls) expect((await rejection(call)).code).toBe('MEMORY_STORE_CLOSED');
          });
        });

        if (backend.shared) {
          describe('when the store is closed and opened again', () => {
            it('still has the turns and the state', async () => {
              const first = await harness.open();
              await first.append('s1', turnsFrom(1, 3));
              await first.setState('s1', 'state');
              await first.close();
              const second = await harness.open();
              expect(await second.turns('s1')).toEqual(turnsFrom(1, 3));
              expect(await second.getState('s1')).toBe('state');
              expect(await second.append('s1', turnsFrom(3, 4))).toEqual({ appended: 1, length: 4 });
            });
          });
        }
      });
    },
  );
});

// --- SQLite -------------------------------------------------------------------------------------

const packageDirectory = fileURLToPath(new URL('../..', import.meta.url));
const sqliteModule = new URL('./sqlite.ts', import.meta.url).href;

/** Runs `node --import tsx -e <code>` in this package's folder and resolves with its stdout. */
const runNode = (code: string, environment: Record<string, string>): Promise<string> =>
  runNodeScript(packageDirectory, code, environment);

describe('createSqliteMemoryStore', () => {
  describe("when the file's directory does not exist", () => {
    it('creates it and the database', async () => {
      const directory = mkdtempSync(join(tmpdir(), 'ballast-memory-'));
      try {
        const path = join(directory, 'nested', 'deeper', 'memory.db');
        const store = await createSqliteMemoryStore({ path });
        await store.append('s1', [turn(1)]);
        await store.close();
        expect(existsSync(path)).toBe(true);
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    });
  });

  describe('when the path is empty', () => {
    it('rejects with MEMORY_INVALID_OPTIONS naming path', async () => {
      const error = await rejection(createSqliteMemoryStore({ path: '' }));
      expect(error.code).toBe('MEMORY_INVALID_OPTIONS');
      expect(error.message).toContain('path');
    });
  });

  describe('when three processes open the same new file at the same instant', () => {
    it('opens it in every process, every time', async () => {
      const directory = mkdtempSync(join(tmpdir(), 'ballast-memory-'));
      const files = 30;
      try {
        // Each process opens file i at startAt + i * 60 ms: thirty three-way races on a new file,
        // where switching it to WAL can be refused at once without waiting out the busy timeout.
        const startAt = String(Date.now() + 4000);
        const code = `
          const { createSqliteMemoryStore } = await import(process.env.STORE_MODULE);
          let opened = 0;
          for (let file = 0; file < ${files}; file += 1) {
            const at = Number(process.env.START_AT) + file * 60;
            await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
            while (Date.now() < at) {}
            const store = await createSqliteMemoryStore({ path: process.env.DIRECTORY + '/open-' + file + '.db' });
            await store.append('s', [{ id: process.env.LANE, role: 'user', content: 'hello' }]);
            await store.close();
            opened += 1;
          }
          process.stdout.write(String(opened));
        `;
        const outputs = await Promise.all(
          ['a', 'b', 'c'].map((lane) =>
            runNode(code, {
              STORE_MODULE: sqliteModule,
              DIRECTORY: directory,
              START_AT: startAt,
              LANE: lane,
            }),
          ),
        );
        expect(outputs.map(Number)).toEqual([files, files, files]);
        const store = await createSqliteMemoryStore({ path: join(directory, 'open-0.db') });
        expect(idsOf(await store.turns('s')).sort()).toEqual(['a', 'b', 'c']);
        await store.close();
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    }, 60_000);
  });

  describe('when three processes append overlapping batches to the same sessions at once', () => {
    it('stores each id once, with each batch kept whole and in order', async () => {
      const directory = mkdtempSync(join(tmpdir(), 'ballast-memory-'));
      const path = join(directory, 'memory.db');
      const batches = [turnsFrom(0, 9), turnsFrom(5, 14), turnsFrom(10, 19)];
      const sessions = 200;
      try {
        // Every process starts appending at the same instant, after all have loaded.
        const startAt = String(Date.now() + 4000);
        const code = `
          const { createSqliteMemoryStore } = await import(process.env.STORE_MODULE);
          const store = await createSqliteMemoryStore({ path: process.env.DB_PATH });
          const batch = JSON.parse(process.env.BATCH);
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(process.env.START_AT) - Date.now())));
          let appended = 0;
          for (let session = 0; session < ${sessions}; session += 1) {
            appended += (await store.append('race-' + session, batch)).appended;
          }
          await store.close();
          process.stdout.write(String(appended));
        `;
        const outputs = await Promise.all(
          batches.map((batch) =>
            runNode(code, {
              STORE_MODULE: sqliteModule,
              DB_PATH: path,
              START_AT: startAt,
              BATCH: JSON.stringify(batch),
            }),
          ),
        );
        expect(outputs.map(Number).reduce((sum, count) => sum + count, 0)).toBe(sessions * 20);
        const orders = serialOrders(batches.map(idsOf));
        const store = await createSqliteMemoryStore({ path });
        for (let session = 0; session < sessions; session += 1) {
          expect(orders).toContainEqual(idsOf(await store.turns(`race-${session}`)));
        }
        await store.close();
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    }, 60_000);
  });
});

// --- Redis --------------------------------------------------------------------------------------

describe('createRedisMemoryStore', () => {
  describe('when Redis is reachable', () => {
    let keyPrefix: string;
    let admin: Redis | undefined;

    beforeEach((context) => {
      needRedis(context);
      keyPrefix = testPrefix();
      admin = new Redis(redisUrl ?? '');
    });
    afterEach(async () => {
      admin?.disconnect();
      admin = undefined;
      if (redisSkip === undefined && redisFailure === undefined) await deleteKeys(redisUrl ?? '', keyPrefix);
    });

    describe('when a session has turns and state', () => {
      it('keeps them in three keys tagged with the session id', async () => {
        const store = await createRedisMemoryStore({ url: redisUrl ?? '', keyPrefix });
        try {
          await store.append('s1', turnsFrom(1, 2));
          await store.setState('s1', 'state');
          const keys = (await (admin as Redis).keys(`${keyPrefix}*`)).sort();
          expect(keys).toEqual(
            [
              `${keyPrefix}memory:{s1}:ids`,
              `${keyPrefix}memory:{s1}:state`,
              `${keyPrefix}memory:{s1}:turns`,
            ].sort(),
          );
          expect(await (admin as Redis).lrange(`${keyPrefix}memory:{s1}:turns`, 0, -1)).toEqual(
            turnsFrom(1, 2).map((each) => JSON.stringify(each)),
          );
        } finally {
          await store.close();
        }
      });
    });

    describe('when given a client', () => {
      it('uses it and leaves it open on close', async () => {
        const client = new Redis(redisUrl ?? '');
        try {
          const store = await createRedisMemoryStore({ client, keyPrefix });
          expect(await store.append('s1', turnsFrom(1, 2))).toEqual({ appended: 2, length: 2 });
          await store.close();
          expect(await client.ping()).toBe('PONG');
          expect(await client.llen(`${keyPrefix}memory:{s1}:turns`)).toBe(2);
          expect((await rejection(store.length('s1'))).code).toBe('MEMORY_STORE_CLOSED');
        } finally {
          client.disconnect();
        }
      });
    });

    describe('when Redis has flushed its script cache', () => {
      it('loads the append script again', async () => {
        const store = await createRedisMemoryStore({ url: redisUrl ?? '', keyPrefix });
        try {
          await store.append('s1', [turn(1)]);
          await (admin as Redis).script('FLUSH');
          expect(await store.append('s1', turnsFrom(1, 2))).toEqual({ appended: 1, length: 2 });
        } finally {
          await store.close();
        }
      });
    });
  });

  describe('when nothing listens at the URL', () => {
    it('resolves, then rejects calls with a retryable MEMORY_STORE_UNAVAILABLE within 3 s', async () => {
      const store = await within(createRedisMemoryStore({ url: 'redis://127.0.0.1:1' }), 3000);
      try {
        const error = await within(rejection(store.append('s1', [turn(1)])), 3000);
        expect(error.code).toBe('MEMORY_STORE_UNAVAILABLE');
        expect(error.isRetryable).toBe(true);
        expect(error.cause).toBeInstanceOf(Error);
        for (const call of [store.turns('s1'), store.length('s1'), store.getState('s1'), store.clear('s1')]) {
          expect((await within(rejection(call), 3000)).code).toBe('MEMORY_STORE_UNAVAILABLE');
        }
      } finally {
        await store.close();
      }
    });
  });

  describe('when the URL is not a redis URL', () => {
    it('rejects with MEMORY_INVALID_OPTIONS naming url, without the password', async () => {
      const error = await rejection(createRedisMemoryStore({ url: 'http://user:hunter2@localhost:6379' }));
      expect(error.code).toBe('MEMORY_INVALID_OPTIONS');
      expect(error.message).toContain('url');
      expect(error.message).not.toContain('hunter2');
    });
  });

  describe('when both a URL and a client are given', () => {
    it('rejects with MEMORY_INVALID_OPTIONS naming both', async () => {
      const client = new Redis({ lazyConnect: true });
      try {
        const error = await rejection(createRedisMemoryStore({ url: 'redis://127.0.0.1:6379', client }));
        expect(error.code).toBe('MEMORY_INVALID_OPTIONS');
        expect(error.message).toContain('url');
        expect(error.message).toContain('client');
      } finally {
        client.disconnect();
      }
    });
  });
});

// --- The factory --------------------------------------------------------------------------------

describe('createMemoryStoreFrom', () => {
  describe('when the config is memory', () => {
    it('opens a store in this process', async () => {
      const store = await createMemoryStoreFrom({ type: 'memory' });
      expect(await store.append('s1', [turn(1)])).toEqual({ appended: 1, length: 1 });
      await store.close();
    });
  });

  describe('when the config is sqlite with a path', () => {
    it('opens a store at that path', async () => {
      const directory = mkdtempSync(join(tmpdir(), 'ballast-memory-'));
      const path = join(directory, 'nested', 'memory.db');
      try {
        const store = await createMemoryStoreFrom({ type: 'sqlite', path });
        await store.append('s1', [turn(1)]);
        await store.close();
        const reopened = await createSqliteMemoryStore({ path });
        expect(await reopened.turns('s1')).toEqual([turn(1)]);
        await reopened.close();
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    });
  });

  describe('when the config is redis', () => {
    it('opens a store under the key prefix', async (context) => {
      needRedis(context);
      const keyPrefix = testPrefix();
      try {
        const store = await createMemoryStoreFrom({ type: 'redis', url: redisUrl ?? '', keyPrefix });
        await store.append('s1', [turn(1)]);
        await store.close();
        const admin = new Redis(redisUrl ?? '');
        try {
          expect(await admin.llen(`${keyPrefix}memory:{s1}:turns`)).toBe(1);
        } finally {
          admin.disconnect();
        }
      } finally {
        await deleteKeys(redisUrl ?? '', keyPrefix);
      }
    });
  });

  describe('when the config is malformed', () => {
    it.each([
      [null, 'store'],
      [{ type: 'postgres' }, 'store.type'],
      [{}, 'store.type'],
      [{ type: 'sqlite' }, 'store.path'],
      [{ type: 'sqlite', path: '' }, 'store.path'],
      [{ type: 'redis', url: 'http://127.0.0.1:6379' }, 'store.url'],
      [{ type: 'redis', url: 6379 }, 'store.url'],
      [{ type: 'redis', url: 'redis://127.0.0.1:6379', keyPrefix: 7 }, 'store.keyPrefix'],
    ])('rejects %j with MEMORY_INVALID_OPTIONS naming %s', async (config, path) => {
      const error = await rejection(createMemoryStoreFrom(config as unknown as MemoryStoreConfig));
      expect(error.code).toBe('MEMORY_INVALID_OPTIONS');
      expect(error.message).toContain(path);
      expect(error.details).toMatchObject({ path });
    });
  });

  describe('when a redis URL carries a password', () => {
    it('leaves the password out of the error message', async () => {
      const error = await rejection(
        createMemoryStoreFrom({ type: 'redis', url: 'http://user:hunter2@localhost' }),
      );
      expect(error.code).toBe('MEMORY_INVALID_OPTIONS');
      expect(error.message).not.toContain('hunter2');
    });
  });
});
