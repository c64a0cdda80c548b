import { createHash } from 'node:crypto';
import { createSseParser, type GatewayPlugin, type SseEvent } from '@ballast/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type DashboardState, dashboardAccess } from './dashboard.js';
import { post, type StackOptions, startStack, type TestStack } from './test-stack.js';

let stack: TestStack | undefined;
const streams: Array<() => void> = [];
async function stackWith(options: StackOptions = {}): Promise<TestStack> {
  stack = await startStack(options);
  return stack;
}
afterEach(async () => {
  for (const close of streams.splice(0)) close();
  await stack?.close();
  stack = undefined;
});

/** A plugin that counts each session's completed calls and reports them as steps. */
function stepCounter(): GatewayPlugin {
  const steps = new Map<string, number>();
  return {
    name: 'step-counter',
    onResponse(context) {
      const session = context.sessionId ?? 'anonymous';
      steps.set(session, (steps.get(session) ?? 0) + 1);
    },
    snapshot: () => ({
      sessions: [...steps].map(([session, count]) => ({ session, steps: count, lastSeen: 1 })),
    }),
  };
}

/** A plugin that denies every call of session `blocked`. */
const blocker: GatewayPlugin = {
  name: 'blocker',
  onRequest: (context) =>
    context.sessionId === 'blocked'
      ? { action: 'deny', code: 'budget_exceeded', status: 402, message: 'out of budget' }
      : undefined,
};

const chat = (url: string, session: string) =>
  post(
    `${url}/v1/chat/completions`,
    { model: 'mock-model', messages: [{ role: 'user', content: 'Next step?' }] },
    { 'x-ballast-session': session },
  );

async function readState(url: string): Promise<DashboardState> {
  const response = await fetch(`${url}/dashboard/state`);
  expect(response.status).toBe(200);
  return (await response.json()) as DashboardState;
}

/** Opens `/dashboard/events` and reads its `state` events one at a time. */
async function openEvents(
  url: string,
): Promise<{ response: Response; nextState(): Promise<DashboardState> }> {
  const controller = new AbortController();
  const response = await fetch(`${url}/dashboard/events`, { signal: controller.signal });
  streams.push(() => controller.abort());
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const parser = createSseParser();
  const queue: SseEvent[] = [];
  return {
    response,
    async nextState() {
      for (;;) {
        const event = queue.shift();
        if (event?.event === 'state') return JSON.parse(event.data) as DashboardState;
        if (event) continue;
        const { value, done } = await reader.read();
        if (done) throw new Error('the event stream ended');
        queue.push(...parser.push(value));
      }
    },
  };
}

describe('dashboardAccess', () => {
  const base = {
    remoteAddress: '127.0.0.1',
    host: '127.0.0.1:8787',
    authorization: undefined,
    queryToken: undefined,
    adminToken: 'secret-admin',
  };

  describe('when the request comes from this machine', () => {
    it('allows reading without a token', () => {
      expect(dashboardAccess(base)).toEqual({ allowed: true });
      expect(dashboardAccess({ ...base, remoteAddress: '::1', host: 'localhost:8787' })).toEqual({
        allowed: true,
      });
      expect(dashboardAccess({ ...base, remoteAddress: '::ffff:127.0.0.1', adminToken: undefined })).toEqual({
        allowed: true,
      });
    });
  });

  describe('when the request comes from another machine without a token', () => {
    it('refuses with 401, naming the admin token', () => {
      const access = dashboardAccess({ ...base, remoteAddress: '10.0.0.7', host: 'gateway.internal:8787' });
      expect(access).toMatchObject({ allowed: false, status: 401 });
      expect(access.allowed === false && access.message).toContain('server.adminToken');
    });

    it('refuses with 403 when no admin token is configured at all', () => {
      expect(dashboardAccess({ ...base, remoteAddress: '10.0.0.7', adminToken: undefined })).toMatchObject({
        allowed: false,
        status: 403,
      });
    });
  });

  describe('when the request from another machine carries the admin token', () => {
    it('allows it as a bearer token or as ?token=', () => {
      const remote = { ...base, remoteAddress: '10.0.0.7' };
      expect(dashboardAccess({ ...remote, authorization: 'Bearer secret-admin' })).toEqual({ allowed: true });
      expect(dashboardAccess({ ...remote, queryToken: 'secret-admin' })).toEqual({ allowed: true });
    });

    it('refuses a wrong token', () => {
      expect(
        dashboardAccess({ ...base, remoteAddress: '10.0.0.7', authorization: 'Bearer guess' }),
      ).toMatchObject({ allowed: false, status: 401, message: 'the admin token is wrong' });
    });
  });

  describe('when a loopback request names another host (a web page rebinding its DNS to 127.0.0.1)', () => {
    it('needs the token', () => {
      expect(dashboardAccess({ ...base, host: 'evil.example:8787' })).toMatchObject({
        allowed: false,
        status: 401,
      });
    });
  });
});

describe('createDashboard', () => {
  describe('when a browser opens /dashboard', () => {
    it('serves one self-contained page whose policy allows only its own script and style', async () => {
      const { url } = await stackWith();
      const response = await fetch(`${url}/dashboard`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const html = await response.text();
      for (const testId of [
        'sessions-body',
        'spend-chart',
        'providers-body',
        'events-list',
        'admin-token-input',
        'connection-status',
        'total-spend',
      ]) {
        expect(html).toContain(`data-testid="${testId}"`);
      }
      // Nothing is loaded from elsewhere.
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
      const script = html.match(/<script>([\s\S]*)<\/script>/)?.[1] ?? '';
      expect(() => new Function(script)).not.toThrow();
      const policy = response.headers.get('content-security-policy') ?? '';
      expect(policy).toContain("default-src 'none'");
      expect(policy).toContain(`'sha256-${createHash('sha256').update(script).digest('base64')}'`);
    });
  });

  describe('when calls went through the proxy', () => {
    it("reports the plugins' sessions, the spend series and the provider that answered", async () => {
      const { url, primary } = await stackWith({ plugins: [stepCounter()] });
      primary.script(
        { kind: 'text', text: 'one', usage: { inputTokens: 1000, outputTokens: 500 } },
        { kind: 'text', text: 'two', usage: { inputTokens: 1000, outputTokens: 500 } },
      );
      expect((await chat(url, 'research')).status).toBe(200);
      expect((await chat(url, 'research')).status).toBe(200);
      const state = await readState(url);
      expect(state.sessions).toEqual([{ session: 'research', steps: 2, lastSeen: 1 }]);
      // Each call: 1000 input at $1/M and 500 output at $2/M.
      expect(state.totals).toMatchObject({ calls: 2, sessions: 1, inFlight: 0, denials: 0 });
      expect(state.totals.spendUsd).toBeCloseTo(0.004, 10);
      const spent = state.spend.points.reduce((sum, [, usd]) => sum + usd, 0);
      expect(spent).toBeCloseTo(0.004, 10);
      expect(state.spend).toMatchObject({ bucketMs: 1000, windowMs: 600_000 });
      const answered = state.providers.find((provider) => provider.target === 'primary/mock-model');
      expect(answered).toMatchObject({ provider: 'primary', model: 'mock-model', state: 'closed', calls: 2 });
      expect(answered?.p50LatencyMs).toBeGreaterThan(0);
      // A provider not used yet is listed by name.
      expect(state.providers.find((provider) => provider.target === 'secondary')).toMatchObject({
        state: 'closed',
        calls: 0,
      });
      expect(state.plugins).toEqual(['step-counter']);
      expect(state.adminActions).toBe(false);
    });
  });

  describe('when a plugin denies a call', () => {
    it('lists the denial with its plugin, session, code and request id', async () => {
      const { url } = await stackWith({ plugins: [blocker] });
      const denied = await chat(url, 'blocked');
      expect(denied.status).toBe(402);
      const state = await readState(url);
      expect(state.totals.denials).toBe(1);
      expect(state.events).toEqual([
        {
          kind: 'denial',
          at: expect.any(Number),
          session: 'blocked',
          code: 'budget_exceeded',
          message: 'out of budget',
          requestId: denied.headers.get('x-ballast-request-id'),
          plugin: 'blocker',
        },
      ]);
    });
  });

  describe('when the first target fails and the call falls back', () => {
    it('counts the fallback on the target that failed and the answer on the next', async () => {
      const { url, primary } = await stackWith();
      primary.script({ kind: 'error', status: 500 });
      expect((await chat(url, 'fallback')).status).toBe(200);
      const { providers } = await readState(url);
      expect(providers.find((provider) => provider.target === 'primary/mock-model')).toMatchObject({
        calls: 0,
        fallbacks: 1,
        lastFallbackReason: 'server',
      });
      expect(providers.find((provider) => provider.target === 'secondary/mock-model-b')).toMatchObject({
        calls: 1,
        fallbacks: 0,
      });
    });
  });

  describe('when a dashboard listens on /dashboard/events', () => {
    it('gets the state at once, then a new state after a call', async () => {
      const { url } = await stackWith({ plugins: [stepCounter()] });
      const events = await openEvents(url);
      expect(events.response.headers.get('content-type')).toBe('text/event-stream');
      const first = await events.nextState();
      expect(first.totals.calls).toBe(0);
      expect((await chat(url, 'live')).status).toBe(200);
      let next = await events.nextState();
      // A push may land while the call is in flight; the one after it has the call.
      while (next.totals.calls === 0) next = await events.nextState();
      expect(next.totals.calls).toBe(1);
      expect(next.sessions).toEqual([{ session: 'live', steps: 1, lastSeen: 1 }]);
    });

    it('ends the stream when the proxy closes', async () => {
      const started = await stackWith();
      const events = await openEvents(started.url);
      await events.nextState();
      await started.close();
      stack = undefined;
      await expect(events.nextState()).rejects.toThrow('the event stream ended');
    });
  });

  describe('when a request asks for something the dashboard does not serve', () => {
    it('answers 404 for an unknown path and 405 for a write', async () => {
      const { url } = await stackWith();
      expect((await fetch(`${url}/dashboard/nothing`)).status).toBe(404);
      expect((await post(`${url}/dashboard/state`, {})).status).toBe(405);
    });
  });
});
