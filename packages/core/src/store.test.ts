import { describe, expect, it } from 'vitest';
import { createMemoryStore } from './store.js';

describe('createMemoryStore', () => {
  describe('reserve', () => {
    describe('when every counter stays within its limit', () => {
      it('adds all amounts and returns the new values', async () => {
        const store = createMemoryStore();
        await store.increment('session', 3);
        const result = await store.reserve([
          { key: 'session', amount: 2, limit: 5 },
          { key: 'global', amount: 2, limit: 100 },
        ]);
        expect(result).toEqual({ ok: true, values: [5, 2] });
      });
    });

    describe('when one counter would pass its limit', () => {
      it('changes nothing and names the counter', async () => {
        const store = createMemoryStore();
        await store.increment('session', 4);
        const result = await store.reserve([
          { key: 'global', amount: 2, limit: 100 },
          { key: 'session', amount: 2, limit: 5 },
        ]);
        expect(result).toEqual({ ok: false, key: 'session', current: 4, limit: 5 });
        expect(await store.getCounter('global')).toBe(0);
        expect(await store.getCounter('session')).toBe(4);
      });
    });

    describe('when 200 reservations race for a budget of 10', () => {
      it('admits exactly 10', async () => {
        const store = createMemoryStore();
        const results = await Promise.all(
          Array.from({ length: 200 }, () => store.reserve([{ key: 'budget', amount: 1, limit: 10 }])),
        );
        expect(results.filter((result) => result.ok)).toHaveLength(10);
        expect(await store.getCounter('budget')).toBe(10);
      });
    });
  });

  describe('when a key has a ttl', () => {
    it('forgets it once the clock passes the expiry', async () => {
      let now = 1000;
      const store = createMemoryStore({ now: () => now });
      await store.set('kill:session:s1', '1', { ttlMs: 500 });
      await store.increment('window', 5, { ttlMs: 500 });
      now = 1499;
      expect(await store.get('kill:session:s1')).toBe('1');
      now = 1500;
      expect(await store.get('kill:session:s1')).toBeUndefined();
      expect(await store.getCounter('window')).toBe(0);
    });
  });

  describe('publish / subscribe', () => {
    it('delivers to subscribers until they unsubscribe', async () => {
      const store = createMemoryStore();
      const seen: string[] = [];
      const unsubscribe = await store.subscribe('kills', (message) => seen.push(message));
      await store.publish('kills', 'session:s1');
      await unsubscribe();
      await store.publish('kills', 'session:s2');
      expect(seen).toEqual(['session:s1']);
    });
  });

  it('deletes values and counters and says whether the key existed', async () => {
    const store = createMemoryStore();
    await store.set('a', 'x');
    expect(await store.delete('a')).toBe(true);
    expect(await store.delete('a')).toBe(false);
    expect(await store.get('a')).toBeUndefined();
  });
});
