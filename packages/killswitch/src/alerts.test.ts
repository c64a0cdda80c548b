import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequestContext, runRequestHooks, silentLogger } from '@ballast/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createAlerter } from './alerts.js';
import { createKillswitch } from './plugin.js';

const servers: Array<{ close(): void }> = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A webhook receiver on loopback that fails its first `failures` calls. */
async function receiver(
  failures = 0,
): Promise<{ url: string; received: Array<Record<string, unknown>>; calls: () => number }> {
  const received: Array<Record<string, unknown>> = [];
  let calls = 0;
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      calls += 1;
      if (calls <= failures) {
        response.writeHead(500).end();
        return;
      }
      received.push(JSON.parse(body) as Record<string, unknown>);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    calls: () => calls,
  };
}

const request = {
  model: 'gpt-4o-mini',
  maxOutputTokens: 100,
  messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'hi' }] }],
};
const context = (id: string) =>
  createRequestContext({ requestId: id, dialect: 'openai', request, inputTokens: 10, sessionId: 's1' });

describe('createAlerter', () => {
  describe('when the webhook fails at first', () => {
    it('retries in the background until it is delivered', async () => {
      const hook = await receiver(2);
      createAlerter({ webhook: hook.url, attempts: 3, timeoutMs: 1000 }, silentLogger)({ type: 'kill' });
      await expect.poll(() => hook.received.length, { timeout: 5000 }).toBe(1);
      expect(hook.calls()).toBe(3);
      expect(hook.received[0]).toMatchObject({ type: 'kill', at: expect.any(String) });
    });
  });
});

describe('createKillswitch', () => {
  describe('when alerts are configured', () => {
    it('posts denials and kills without making the call wait for the webhook', async () => {
      const hook = await receiver();
      const killswitch = await createKillswitch(
        { loop: false, alerts: { webhook: hook.url } },
        { logger: silentLogger },
      );
      await killswitch.kill({ scope: 'session', id: 's1' }, 'runaway');
      const decision = await runRequestHooks([killswitch], context('r1'), () => 10);
      expect(decision).toMatchObject({ action: 'deny', decision: { code: 'killed', status: 403 } });
      await expect
        .poll(() => hook.received.map((event) => event.type).sort(), { timeout: 5000 })
        .toEqual(['denial', 'kill']);
      await killswitch.close?.();
    });
  });

  describe('when the store is unreachable', () => {
    it('denies with 503 state_unavailable, or lets the call through with failOpen', async () => {
      const options = {
        budgets: [{ scope: 'session', usd: 1 }],
        loop: false,
        store: { type: 'redis', url: 'redis://127.0.0.1:1' },
      };
      const closed = await createKillswitch(options, { logger: silentLogger });
      expect(await runRequestHooks([closed], context('r2'), () => 10)).toMatchObject({
        action: 'deny',
        decision: { code: 'state_unavailable', status: 503 },
      });
      await closed.close?.();
      const open = await createKillswitch({ ...options, failOpen: true }, { logger: silentLogger });
      expect(await runRequestHooks([open], context('r3'), () => 10)).toMatchObject({ action: 'allow' });
      await open.close?.();
    });
  });
});
