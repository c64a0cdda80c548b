import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BallastError } from '@ballast/core';
import { redisForTests, runNodeScript } from '@ballast/mock-provider';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createKillswitchStore,
  createMemoryKillswitchStore,
  createRedisKillswitchStore,
  createSqliteKillswitchStore,
  type KillEvent,
  type KillswitchStore,
  type LedgerEntry,
  type StoreConfig,
} from './index.js';

// --- Redis availability: skip with a reason, or fail when CI requires Redis ---------------------

const redis = await redisForTests();
const redisUrl = redis.url;
if (redis.skip !== undefined) console.warn(`Skipping the Redis store cases: ${redis.skip}`);

// --- Backends ---------------------------------------------------------------------------------

/** Stores opened by one harness share their state (one file, one key prefix) and are closed by cleanup. */
interface Harness {
  open(options?: { now?: () => number }): Promise<KillswitchStore>;
  cleanup(): Promise<void>;
}

interface Backend {
  kind: KillswitchStore['kind'];
  /** Title suffix: why the cases are skipped, when they are. */
  label: string;
  /** Whether two stores of one harness share state, as replicas (redis) or processes on one file (sqlite) do. */
  shared: boolean;
  /** Whether counter expiry follows the injected clock; Redis expires by its own clock, so its cases wait. */
  injectedClock: boolean;
  /** How long a kill set on one store may take to reach another store's subscriber. */
  crossStoreDeliveryMs: number;
  skip: string | undefined;
  failure: string | undefined;
  harness(): Harness;
}

function harnessOf(
  open: (options: { now?: () => number }) => Promise<KillswitchStore>,
  removeState: () => Promise<void>,
): Harness {
  const opened: KillswitchStore[] = [];
  return {
    async open(options = {}) {
      const store = await open(options);
      opened.push(store);
      return store;
    },
    async cleanup() {
      await Promise.all(opened.map((store) => store.close()));
      await removeState();
    },
  };
}

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

const backends: Backend[] = [
  {
    kind: 'memory',
    label: 'memory',
    shared: false,
    injectedClock: true,
    crossStoreDeliveryMs: 0,
    skip: undefined,
    failure: undefined,
    harness: () =>
      harnessOf(
        async (options) => createMemoryKillswitchStore(options),
        async () => {},
      ),
  },
  {
    kind: 'sqlite',
    label: 'sqlite',
    shared: true,
    injectedClock: true,
    // The kills table is polled every second.
    crossStoreDeliveryMs: 2500,
    skip: undefined,
    failure: undefined,
    harness: () => {
      const directory = mkdtempSync(join(tmpdir(), 'ballast-killswitch-'));
      const path = join(directory, 'killswitch.db');
      return harnessOf(
        (options) => createSqliteKillswitchStore({ path, ...options }),
        async () => rmSync(directory, { recursive: true, force: true }),
      );
    },
  },
  {
    kind: 'redis',
    label: redis.label,
    shared: true,
    injectedClock: false,
    crossStoreDeliveryMs: 1000,
    skip: redis.skip,
    failure: redis.failure,
    harness: () => {
      const url = redisUrl ?? '';
      const keyPrefix = `ballast-test:${randomUUID()}:`;
      return harnessOf(
        (options) => createRedisKillswitchStore({ url, keyPrefix, ...options }),
        () => deleteKeys(url, keyPrefix),
      );
    },
  },
];

// --- Helpers ----------------------------------------------------------------------------------

const sleep = (milliseconds: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, milliseconds));

/** Resolves with the first event `accept` takes, or rejects after `withinMs`. */
function nextEvent(
  store: KillswitchStore,
  accept: (event: KillEvent) => boolean,
  withinMs: number,
): Promise<{ event: Promise<KillEvent>; unsubscribe: () => Promise<void> }> {
  let settle: (event: KillEvent) => void = () => {};
  const event = new Promise<KillEvent>((resolve, reject) => {
    settle = resolve;
    setTimeout(() => reject(new Error(`no matching kill event within ${withinMs} ms`)), withinMs).unref();
  });
  return store
    .subscribeKills((candidate) => {
      if (accept(candidate)) settle(candidate);
    })
    .then((unsubscribe) => ({ event, unsubscribe }));
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

function ledgerEntry(requestId: string, at: number, extra: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    requestId,
    at,
    model: 'gpt-4o-mini',
    inputTokens: 100,
    outputTokens: 20,
    costUsd: 0.000027,
    outcome: 'completed',
    ...extra,
  };
}

async function rejection(promise: Promise<unknown>): Promise<BallastError> {
  try {
    await promise;
  } catch (error) {
    if (BallastError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

// --- The contract -----------------------------------------------------------------------------

describe('KillswitchStore', () => {
  describe.each(backends.map((backend) => [backend.label, backend] as const))(
    'when the backend is %s',
    (_label, backend) => {
      let harness: Harness;
      let time: number;
      const clock = { now: (): number => time };
      /** Moves the injected clock, or waits when the backend expires by its own clock. */
      const advance = async (milliseconds: number): Promise<void> => {
        time += milliseconds;
        if (!backend.injectedClock) await sleep(milliseconds);
      };

      beforeEach((context) => {
        // Thrown per test (not in beforeAll) so that every Redis case reports as failed, not skipped.
        if (backend.failure !== undefined) throw new Error(backend.failure);
        if (backend.skip !== undefined) context.skip(backend.skip);
        time = 1_700_000_000_000;
        harness = backend.harness();
      });
      afterEach(async () => {
        await harness?.cleanup();
      });

      describe('reserve', () => {
        describe('when every counter stays within its limit', () => {
          it('adds every amount and returns the new values', async () => {
            const store = await harness.open();
            await store.adjust([{ key: 'session', amount: 3 }]);
            const outcome = await store.reserve([
              { key: 'session', amount: 2, limit: 5 },
              { key: 'global', amount: 2, limit: 100 },
            ]);
            expect(outcome).toEqual({ ok: true, values: [5, 2] });
            expect(await store.read(['session', 'global'])).toEqual([5, 2]);
          });
        });

        describe('when one counter would pass its limit', () => {
          it('changes no counter and reports the first one that would', async () => {
            const store = await harness.open();
            await store.adjust([{ key: 'session', amount: 4 }]);
            const outcome = await store.reserve([
              { key: 'global', amount: 2, limit: 100 },
              { key: 'session', amount: 2, limit: 5 },
              { key: 'agent', amount: 2, limit: 1 },
            ]);
            expect(outcome).toEqual({ ok: false, key: 'session', current: 4, limit: 5 });
            expect(await store.read(['global', 'session', 'agent'])).toEqual([0, 4, 0]);
          });
        });

        describe('when a change has no limit', () => {
          it('adds it whatever the value', async () => {
            const store = await harness.open();
            const outcome = await store.reserve([{ key: 'tokens', amount: 1_000_000_000_000 }]);
            expect(outcome).toEqual({ ok: true, values: [1_000_000_000_000] });
          });
        });

        describe('when one key appears twice', () => {
          it('checks the second change against the first', async () => {
            const store = await harness.open();
            const outcome = await store.reserve([
              { key: 'budget', amount: 3, limit: 5 },
              { key: 'budget', amount: 3, limit: 5 },
            ]);
            expect(outcome).toEqual({ ok: false, key: 'budget', current: 3, limit: 5 });
            expect(await store.read(['budget'])).toEqual([0]);
          });
        });

        describe('when 1000 reservations of 1 race for a limit of 100', () => {
          it('admits exactly 100 and the counter ends at 100', async () => {
            const store = await harness.open();
            const outcomes = await Promise.all(
              Array.from({ length: 1000 }, () => store.reserve([{ key: 'race', amount: 1, limit: 100 }])),
            );
            expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(100);
            expect(await store.read(['race'])).toEqual([100]);
          });
        });

        if (backend.shared) {
          describe('when two stores on the same state interleave 1000 reservations', () => {
            it('admits exactly 100 between them', async () => {
              const stores = [await harness.open(), await harness.open()];
              const outcomes = await Promise.all(
                Array.from({ length: 1000 }, (_, index) =>
                  (stores[index % 2] as KillswitchStore).reserve([{ key: 'race', amount: 1, limit: 100 }]),
                ),
              );
              expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(100);
              expect(await (stores[0] as KillswitchStore).read(['race'])).toEqual([100]);
              expect(await (stores[1] as KillswitchStore).read(['race'])).toEqual([100]);
            });
          });
        }

        describe('when an amount is not an integer', () => {
          it('rejects with KILLSWITCH_INVALID_COUNTER_CHANGE and changes nothing', async () => {
            const store = await harness.open();
            const error = await rejection(
              store.reserve([
                { key: 'requests', amount: 1 },
                { key: 'usd', amount: 0.5 },
              ]),
            );
            expect(error.code).toBe('KILLSWITCH_INVALID_COUNTER_CHANGE');
            expect(await store.read(['requests', 'usd'])).toEqual([0, 0]);
          });
        });
      });

      describe('adjust', () => {
        describe('when the amount is negative', () => {
          it('releases what a reservation took', async () => {
            const store = await harness.open();
            await store.reserve([{ key: 'budget', amount: 10, limit: 10 }]);
            expect((await store.reserve([{ key: 'budget', amount: 4, limit: 10 }])).ok).toBe(false);
            expect(await store.adjust([{ key: 'budget', amount: -6 }])).toEqual([4]);
            expect(await store.reserve([{ key: 'budget', amount: 6, limit: 10 }])).toEqual({
              ok: true,
              values: [10],
            });
          });
        });

        describe('when a counter would pass a limit', () => {
          it('adds every amount anyway', async () => {
            const store = await harness.open();
            const values = await store.adjust([
              { key: 'budget', amount: 12, limit: 10 },
              { key: 'other', amount: 1 },
            ]);
            expect(values).toEqual([12, 1]);
          });
        });
      });

      describe('read', () => {
        describe('when a counter was never written', () => {
          it('reads 0', async () => {
            const store = await harness.open();
            expect(await store.read(['absent', 'also-absent'])).toEqual([0, 0]);
            expect(await store.read([])).toEqual([]);
          });
        });
      });

      describe('counter ttl', () => {
        describe("when the counter's ttl has passed", () => {
          it('reads 0 and starts a new window on the next reservation', async () => {
            const store = await harness.open(clock);
            expect(await store.reserve([{ key: 'window', amount: 5, limit: 5, ttlMs: 200 }])).toEqual({
              ok: true,
              values: [5],
            });
            expect((await store.reserve([{ key: 'window', amount: 1, limit: 5, ttlMs: 200 }])).ok).toBe(
              false,
            );
            await advance(300);
            expect(await store.read(['window'])).toEqual([0]);
            expect(await store.reserve([{ key: 'window', amount: 1, limit: 5, ttlMs: 200 }])).toEqual({
              ok: true,
              values: [1],
            });
          });
        });

        describe('when a counter is written again before its ttl passes', () => {
          it('keeps the expiry of the first write', async () => {
            const store = await harness.open(clock);
            await store.adjust([{ key: 'window', amount: 1, ttlMs: 400 }]);
            await advance(300);
            expect(await store.adjust([{ key: 'window', amount: 1, ttlMs: 400 }])).toEqual([2]);
            await advance(150);
            expect(await store.read(['window'])).toEqual([0]);
          });
        });
      });

      describe('setKill', () => {
        describe('when a target is killed', () => {
          it('lists the kill with its reason and time', async () => {
            const store = await harness.open(clock);
            await store.setKill({ scope: 'session', id: 's:1' }, true, 'runaway loop');
            await store.setKill({ scope: 'all', id: '*' }, true);
            expect(await store.listKills()).toEqual(
              expect.arrayContaining([
                { scope: 'session', id: 's:1', reason: 'runaway loop', at: time },
                { scope: 'all', id: '*', at: time },
              ]),
            );
            expect(await store.listKills()).toHaveLength(2);
          });
        });

        describe('when a killed target is revived', () => {
          it('no longer lists it', async () => {
            const store = await harness.open();
            await store.setKill({ scope: 'agent', id: 'researcher' }, true, 'over budget');
            await store.setKill({ scope: 'key', id: 'k1' }, true);
            await store.setKill({ scope: 'agent', id: 'researcher' }, false);
            expect((await store.listKills()).map((record) => record.id)).toEqual(['k1']);
          });
        });

        describe('when the same store has a subscriber', () => {
          it('delivers kills and revives until the subscriber unsubscribes', async () => {
            const store = await harness.open();
            const events: KillEvent[] = [];
            const unsubscribe = await store.subscribeKills((event) => events.push(event));
            await store.setKill({ scope: 'session', id: 's1' }, true, 'operator');
            await store.setKill({ scope: 'session', id: 's1' }, false);
            await expect.poll(() => events.length, { timeout: 1000, interval: 10 }).toBe(2);
            expect(events).toEqual([
              { target: { scope: 'session', id: 's1' }, killed: true, reason: 'operator' },
              { target: { scope: 'session', id: 's1' }, killed: false },
            ]);
            await unsubscribe();
            await store.setKill({ scope: 'session', id: 's2' }, true);
            await sleep(100);
            expect(events).toHaveLength(2);
          });
        });

        if (backend.shared) {
          describe('when the store is closed and opened again', () => {
            it('still lists the kill', async () => {
              const first = await harness.open(clock);
              await first.setKill({ scope: 'agent', id: 'researcher' }, true, 'over budget');
              await first.close();
              const second = await harness.open();
              expect(await second.listKills()).toEqual([
                { scope: 'agent', id: 'researcher', reason: 'over budget', at: time },
              ]);
            });
          });

          describe('when another store on the same state sets a kill', () => {
            it(`reaches this store's subscriber within ${backend.crossStoreDeliveryMs} ms`, async () => {
              const listening = await harness.open();
              const killing = await harness.open();
              const { event, unsubscribe } = await nextEvent(
                listening,
                (candidate) => candidate.target.id === 's1',
                backend.crossStoreDeliveryMs,
              );
              await killing.setKill({ scope: 'session', id: 's1' }, true, 'from the other replica');
              expect(await event).toEqual({
                target: { scope: 'session', id: 's1' },
                killed: true,
                reason: 'from the other replica',
              });
              const revived = await nextEvent(
                listening,
                (candidate) => candidate.target.id === 's1' && !candidate.killed,
                backend.crossStoreDeliveryMs,
              );
              await killing.setKill({ scope: 'session', id: 's1' }, false);
              expect(await revived.event).toEqual({ target: { scope: 'session', id: 's1' }, killed: false });
              await unsubscribe();
              await revived.unsubscribe();
            });
          });
        }

        describe('when the target has an unknown scope', () => {
          it('rejects with KILLSWITCH_INVALID_KILL_TARGET', async () => {
            const store = await harness.open();
            const target = { scope: 'planet', id: 'earth' } as unknown as Parameters<
              KillswitchStore['setKill']
            >[0];
            expect((await rejection(store.setKill(target, true))).code).toBe(
              'KILLSWITCH_INVALID_KILL_TARGET',
            );
          });
        });
      });

      describe('ledger', () => {
        describe('when entries are appended', () => {
          it('returns them newest last with every field', async () => {
            const store = await harness.open();
            const full = ledgerEntry('r1', 1000, {
              sessionId: 's1',
              agent: 'researcher',
              clientKey: 'key-1',
              provider: 'openai',
              outcome: 'cut',
            });
            await store.appendLedger(full);
            await store.appendLedger(ledgerEntry('r2', 2000));
            expect(await store.ledger()).toEqual([full, ledgerEntry('r2', 2000)]);
          });
        });

        describe('when read with since and limit', () => {
          it('returns the newest entries at or after since, at most limit of them', async () => {
            const store = await harness.open();
            for (const [index, at] of [1000, 2000, 3000, 4000, 5000].entries()) {
              await store.appendLedger(ledgerEntry(`r${index + 1}`, at));
            }
            const ids = (entries: LedgerEntry[]): string[] => entries.map((entry) => entry.requestId);
            expect(ids(await store.ledger({ since: 3000 }))).toEqual(['r3', 'r4', 'r5']);
            expect(ids(await store.ledger({ limit: 2 }))).toEqual(['r4', 'r5']);
            expect(ids(await store.ledger({ since: 2000, limit: 10 }))).toEqual(['r2', 'r3', 'r4', 'r5']);
            expect(ids(await store.ledger({ since: 2000, limit: 1 }))).toEqual(['r5']);
            expect(ids(await store.ledger({ since: 9000 }))).toEqual([]);
            expect(ids(await store.ledger({ limit: 0 }))).toEqual([]);
          });
        });

        if (backend.shared) {
          describe('when the store is closed and opened again', () => {
            it('still returns the entries', async () => {
              const first = await harness.open();
              await first.appendLedger(ledgerEntry('r1', 1000));
              await first.adjust([{ key: 'spent', amount: 42 }]);
              await first.close();
              const second = await harness.open();
              expect(await second.ledger()).toEqual([ledgerEntry('r1', 1000)]);
              expect(await second.read(['spent'])).toEqual([42]);
            });
          });
        }
      });

      describe('ping', () => {
        describe('when the backend is reachable', () => {
          it('resolves', async () => {
            const store = await harness.open();
            await expect(store.ping()).resolves.toBeUndefined();
          });
        });
      });

      describe('close', () => {
        describe('when a closed store is used', () => {
          it('rejects with KILLSWITCH_STORE_CLOSED', async () => {
            const store = await harness.open();
            await store.close();
            await store.close();
            expect((await rejection(store.reserve([{ key: 'budget', amount: 1 }]))).code).toBe(
              'KILLSWITCH_STORE_CLOSED',
            );
            expect((await rejection(store.listKills())).code).toBe('KILLSWITCH_STORE_CLOSED');
          });
        });
      });
    },
  );
});

// --- The factory --------------------------------------------------------------------------------

describe('createKillswitchStore', () => {
  describe('when the config is memory', () => {
    it('opens a memory store', async () => {
      const store = await createKillswitchStore({ type: 'memory' });
      expect(store.kind).toBe('memory');
      await store.close();
    });
  });

  describe('when the config is sqlite with a path', () => {
    it('opens a sqlite store at that path', async () => {
      const directory = mkdtempSync(join(tmpdir(), 'ballast-killswitch-'));
      try {
        const store = await createKillswitchStore({
          type: 'sqlite',
          path: join(directory, 'nested', 'ks.db'),
        });
        expect(store.kind).toBe('sqlite');
        await store.close();
        expect(existsSync(join(directory, 'nested', 'ks.db'))).toBe(true);
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    });
  });

  describe('when the config is malformed', () => {
    it.each([
      [{ type: 'postgres' }, 'store.type'],
      [{ type: 'sqlite' }, 'store.path'],
      [{ type: 'sqlite', path: '' }, 'store.path'],
      [{ type: 'redis' }, 'store.url'],
      [{ type: 'redis', url: 'http://127.0.0.1:6379' }, 'store.url'],
      [{ type: 'redis', url: 'redis://127.0.0.1:6379', keyPrefix: 7 }, 'store.keyPrefix'],
    ])('rejects %j with KILLSWITCH_INVALID_OPTIONS naming %s', async (config, path) => {
      const error = await rejection(createKillswitchStore(config as unknown as StoreConfig));
      expect(error.code).toBe('KILLSWITCH_INVALID_OPTIONS');
      expect(error.message).toContain(path);
      expect(error.details).toMatchObject({ path });
    });
  });

  describe('when a redis URL carries a password', () => {
    it('leaves the password out of the error message', async () => {
      const error = await rejection(
        createKillswitchStore({ type: 'redis', url: 'http://user:hunter2@localhost' }),
      );
      expect(error.message).not.toContain('hunter2');
    });
  });
});

// --- SQLite across processes ---------------------------------------------------------------------

const packageDirectory = fileURLToPath(new URL('../..', import.meta.url));
const sqliteModule = new URL('./sqlite.ts', import.meta.url).href;

/** Runs `node --import tsx -e <code>` in this package's folder and resolves with its stdout. */
const runNode = (code: string, environment: Record<string, string>): Promise<string> =>
  runNodeScript(packageDirectory, code, environment);

describe('createSqliteKillswitchStore', () => {
  describe('when three processes race 1500 reservations for a limit of 100 on one file', () => {
    it('admits exactly 100 across the processes', async () => {
      const directory = mkdtempSync(join(tmpdir(), 'ballast-killswitch-'));
      const path = join(directory, 'killswitch.db');
      try {
        // Every process starts reserving at the same instant, after all have loaded.
        const startAt = String(Date.now() + 4000);
        const code = `
          const { createSqliteKillswitchStore } = await import(process.env.STORE_MODULE);
          const store = await createSqliteKillswitchStore({ path: process.env.DB_PATH });
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(process.env.START_AT) - Date.now())));
          let admitted = 0;
          for (let index = 0; index < 500; index += 1) {
            const outcome = await store.reserve([{ key: 'race', amount: 1, limit: 100 }, { key: 'calls', amount: 1 }]);
            if (outcome.ok) admitted += 1;
          }
          await store.close();
          process.stdout.write(String(admitted));
        `;
        const environment = { STORE_MODULE: sqliteModule, DB_PATH: path, START_AT: startAt };
        const outputs = await Promise.all([1, 2, 3].map(() => runNode(code, environment)));
        const admitted = outputs.map(Number);
        expect(admitted.reduce((sum, count) => sum + count, 0)).toBe(100);
        const store = await createSqliteKillswitchStore({ path });
        expect(await store.read(['race', 'calls'])).toEqual([100, 100]);
        await store.close();
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    }, 60_000);
  });
});

// --- Redis when it is down, comes back, or drops a connection ----------------------------------

describe('createRedisKillswitchStore', () => {
  describe('when nothing listens at the URL', () => {
    it('resolves, then rejects every call with a retryable KILLSWITCH_STATE_UNAVAILABLE within 3 s', async () => {
      const store = await within(createRedisKillswitchStore({ url: 'redis://127.0.0.1:1' }), 3000);
      try {
        const error = await within(rejection(store.reserve([{ key: 'budget', amount: 1, limit: 10 }])), 3000);
        expect(error.code).toBe('KILLSWITCH_STATE_UNAVAILABLE');
        expect(error.isRetryable).toBe(true);
        expect(error.cause).toBeInstanceOf(Error);
        expect(error.message).toContain('ECONNREFUSED');
        for (const call of [
          store.read(['budget']),
          store.listKills(),
          store.ping(),
          store.subscribeKills(() => {}),
        ]) {
          expect((await within(rejection(call), 3000)).code).toBe('KILLSWITCH_STATE_UNAVAILABLE');
        }
      } finally {
        await store.close();
      }
    });
  });

  describe('when the URL is not a redis URL', () => {
    it('rejects with KILLSWITCH_INVALID_OPTIONS naming url', async () => {
      const error = await rejection(createRedisKillswitchStore({ url: 'localhost:6379' }));
      expect(error.code).toBe('KILLSWITCH_INVALID_OPTIONS');
      expect(error.message).toContain('url');
    });
  });

  // These start their own redis-server on a free port, so that they can stop it.
  const redisServer = findOnPath('redis-server');
  const serverSkip =
    redisServer === undefined
      ? 'redis-server is not on PATH: install Redis (apt-get install redis-server) to run these'
      : undefined;

  describe.skipIf(serverSkip !== undefined)(
    `with a redis-server of its own${serverSkip === undefined ? '' : ` (skipped: ${serverSkip})`}`,
    () => {
      let port: number;
      let server: ChildProcess | undefined;
      const start = async (): Promise<void> => {
        server = await startRedisServer(redisServer ?? 'redis-server', port);
      };
      const stop = async (): Promise<void> => {
        await stopRedisServer(server);
        server = undefined;
      };
      beforeEach(async () => {
        port = await freePort();
        await start();
      });
      afterEach(stop);

      describe('when Redis goes away and comes back', () => {
        it('rejects with KILLSWITCH_STATE_UNAVAILABLE while it is away, then recovers by itself', async () => {
          const store = await createRedisKillswitchStore({
            url: `redis://127.0.0.1:${port}`,
            connectTimeoutMs: 1000,
          });
          try {
            expect((await store.reserve([{ key: 'budget', amount: 1, limit: 10 }])).ok).toBe(true);
            await stop();
            const error = await within(
              rejection(store.reserve([{ key: 'budget', amount: 1, limit: 10 }])),
              3000,
            );
            expect(error.code).toBe('KILLSWITCH_STATE_UNAVAILABLE');
            expect(error.isRetryable).toBe(true);
            await start();
            // The store reconnects on its own; the restarted server kept no data.
            await expect
              .poll(
                () =>
                  store.ping().then(
                    () => 'up',
                    () => 'down',
                  ),
                { timeout: 5000, interval: 100 },
              )
              .toBe('up');
            expect(await store.reserve([{ key: 'budget', amount: 1, limit: 10 }])).toEqual({
              ok: true,
              values: [1],
            });
          } finally {
            await store.close();
          }
        });
      });

      describe("when a subscriber's connection drops while another store sets a kill", () => {
        it('delivers the missed kill once the connection is back', async () => {
          const url = `redis://127.0.0.1:${port}`;
          const listening = await createRedisKillswitchStore({ url });
          const killing = await createRedisKillswitchStore({ url });
          const admin = new Redis(url);
          try {
            const events: KillEvent[] = [];
            await listening.subscribeKills((event) => events.push(event));
            await admin.client('KILL', 'TYPE', 'pubsub');
            // Set within the 500 ms before the subscriber reconnects: the PUBLISH reaches nobody.
            await killing.setKill({ scope: 'agent', id: 'researcher' }, true, 'missed');
            await expect
              .poll(() => events, { timeout: 5000, interval: 50 })
              .toEqual([{ target: { scope: 'agent', id: 'researcher' }, killed: true, reason: 'missed' }]);
          } finally {
            admin.disconnect();
            await Promise.all([listening.close(), killing.close()]);
          }
        });
      });
    },
  );
});

function findOnPath(command: string): string | undefined {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(directory, command);
    if (directory !== '' && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

async function startRedisServer(binary: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const probe = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  probe.on('error', () => {});
  try {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      try {
        await probe.connect();
        await probe.ping();
        return child;
      } catch {
        probe.disconnect();
        await sleep(50);
      }
    }
  } finally {
    probe.disconnect();
  }
  child.kill();
  throw new Error(`redis-server did not start on port ${port}`);
}

async function stopRedisServer(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}
