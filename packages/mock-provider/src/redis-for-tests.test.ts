import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { redisForTests } from './redis-for-tests.js';

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A one-line fake Redis on loopback that answers every PING with `reply`. */
async function fakeRedis(reply: string): Promise<string> {
  const server = createServer((socket) => {
    socket.on('data', (chunk) => {
      if (chunk.toString('utf8').includes('PING')) socket.write(reply);
    });
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return `redis://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('redisForTests', () => {
  describe('when REDIS_URL is not set', () => {
    it('skips with a message that says how to run the cases', async () => {
      const redis = await redisForTests({});
      expect(redis.skip).toMatch(/REDIS_URL is not set/);
      expect(redis.failure).toBeUndefined();
      expect(redis.label).toMatch(/^redis \(skipped: /);
      const skipped: string[] = [];
      redis.need({ skip: (note) => skipped.push(note ?? '') });
      expect(skipped).toHaveLength(1);
    });

    it('fails instead when BALLAST_REQUIRE_REDIS=1', async () => {
      const redis = await redisForTests({ BALLAST_REQUIRE_REDIS: '1' });
      expect(redis.skip).toBeUndefined();
      expect(redis.failure).toMatch(/^BALLAST_REQUIRE_REDIS=1 but REDIS_URL is not set/);
      expect(() => redis.need({ skip: () => undefined })).toThrow(/BALLAST_REQUIRE_REDIS=1/);
    });
  });

  describe('when REDIS_URL answers PING', () => {
    it('runs the cases', async () => {
      const redis = await redisForTests({
        REDIS_URL: await fakeRedis('+PONG\r\n'),
        BALLAST_REQUIRE_REDIS: '1',
      });
      expect(redis.skip).toBeUndefined();
      expect(redis.failure).toBeUndefined();
      expect(redis.label).toBe('redis');
    });
  });

  describe('when REDIS_URL refuses or is not there', () => {
    it('says why', async () => {
      const refused = await redisForTests({
        REDIS_URL: await fakeRedis('-NOAUTH Authentication required.\r\n'),
      });
      expect(refused.skip).toMatch(/refused PING: -NOAUTH/);
      const closed = await redisForTests({ REDIS_URL: 'redis://127.0.0.1:1' });
      expect(closed.skip).toMatch(/did not answer PING/);
    });
  });
});
