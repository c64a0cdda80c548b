import {
  type ChatRequest,
  createPricing,
  createRequestContext,
  type HostRequestContext,
  runAbortHooks,
  runRequestHooks,
  runResponseHooks,
} from '@ballast/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createKillswitch, type Killswitch } from './plugin.js';

const pricing = createPricing({ 'mock-model': { input: 1, output: 2, maxOutputTokens: 1000 } });
const request: ChatRequest = {
  model: 'mock-model',
  maxOutputTokens: 100,
  messages: [{ role: 'user', content: [{ type: 'text', text: 'Plan the next step.' }] }],
};

let clock = 1_000;
const now = (): number => clock;
let requestCounter = 0;
const opened: Killswitch[] = [];
afterEach(async () => {
  for (const killswitch of opened.splice(0)) await killswitch.close?.();
});

async function killswitchWith(options: Record<string, unknown>): Promise<Killswitch> {
  const killswitch = await createKillswitch({ loop: false, ...options }, { pricing, now });
  opened.push(killswitch);
  return killswitch;
}

function callOf(session: string, agent?: string): HostRequestContext {
  requestCounter += 1;
  return createRequestContext({
    requestId: `req_${requestCounter}`,
    dialect: 'openai',
    request,
    inputTokens: 10,
    sessionId: session,
    ...(agent ? { agent } : {}),
    candidates: [{ provider: 'mock', model: 'mock-model' }],
    now,
  });
}

/** One call through the killswitch's hooks, as a host runs them; completes unless told to stay open. */
async function call(
  killswitch: Killswitch,
  session: string,
  options: { agent?: string; settle?: 'complete' | 'cut' | 'none' } = {},
): Promise<HostRequestContext> {
  const context = callOf(session, options.agent);
  const decision = await runRequestHooks([killswitch], context, () => 10);
  if (decision.action === 'deny') return context;
  const usage = { inputTokens: 10, outputTokens: 100 };
  const costUsd = pricing.costOf('mock-model', usage);
  if ((options.settle ?? 'complete') === 'complete')
    await runResponseHooks([killswitch], context, { usage, costUsd, streamed: false, status: 200 });
  if (options.settle === 'cut')
    await runAbortHooks([killswitch], context, { usage, costUsd, reason: 'cut', code: 'budget_exceeded' });
  return context;
}

describe('createKillswitch', () => {
  describe('snapshot', () => {
    describe('when a session made calls under a budget and a step cap', () => {
      it('reports its spend against the budget, its steps against the cap and the last decision', async () => {
        const killswitch = await killswitchWith({ budgets: [{ scope: 'session', usd: 0.01, requests: 5 }] });
        clock = 2_000;
        await call(killswitch, 'research', { agent: 'planner' });
        clock = 3_000;
        await call(killswitch, 'research', { agent: 'planner' });
        const snapshot = await killswitch.snapshot();
        expect(snapshot.sessions).toHaveLength(1);
        const [session] = snapshot.sessions ?? [];
        expect(session).toMatchObject({
          session: 'research',
          agent: 'planner',
          budgetUsd: 0.01,
          steps: 2,
          maxSteps: 5,
          inFlight: 0,
          killed: false,
          lastDecision: 'allowed',
          lastSeen: 3_000,
        });
        // Two calls of 10 input and 100 output tokens at $1/M and $2/M.
        expect(session?.spendUsd).toBeCloseTo((2 * (10 + 200)) / 1e6, 9);
        expect(snapshot.events).toEqual([]);
      });
    });

    describe('when a call is still being served', () => {
      it('counts it in flight for its session', async () => {
        const killswitch = await killswitchWith({});
        await call(killswitch, 'busy', { settle: 'none' });
        await call(killswitch, 'idle');
        const sessions = (await killswitch.snapshot()).sessions ?? [];
        expect(sessions.find((session) => session.session === 'busy')?.inFlight).toBe(1);
        expect(sessions.find((session) => session.session === 'idle')?.inFlight).toBe(0);
      });
    });

    describe('when a session is denied', () => {
      it('records the denial with the session, code and call, and shows it as the last decision', async () => {
        const killswitch = await killswitchWith({ budgets: [{ scope: 'session', requests: 1 }] });
        await call(killswitch, 'looper');
        clock = 5_000;
        const denied = await call(killswitch, 'looper');
        const snapshot = await killswitch.snapshot();
        expect(snapshot.sessions?.[0]).toMatchObject({ lastDecision: 'max_steps_exceeded', steps: 1 });
        expect(snapshot.events).toEqual([
          {
            kind: 'denial',
            at: 5_000,
            session: 'looper',
            code: 'max_steps_exceeded',
            message: 'the session has made its 1 allowed calls',
            requestId: denied.requestId,
            plugin: 'killswitch',
          },
        ]);
      });
    });

    describe('when a call is cut mid-flight', () => {
      it('records the cut with its code', async () => {
        const killswitch = await killswitchWith({});
        const cut = await call(killswitch, 'streamer', { settle: 'cut' });
        expect((await killswitch.snapshot()).events).toEqual([
          expect.objectContaining({
            kind: 'cut',
            session: 'streamer',
            code: 'budget_exceeded',
            requestId: cut.requestId,
          }),
        ]);
      });
    });

    describe('when an operator kills and revives', () => {
      it('marks the session killed, then not, and lists each action once', async () => {
        const killswitch = await killswitchWith({});
        await call(killswitch, 'runaway', { agent: 'coder' });
        clock = 7_000;
        await killswitch.kill({ scope: 'session', id: 'runaway' }, 'spending too fast');
        expect((await killswitch.snapshot()).sessions?.[0]?.killed).toBe(true);
        clock = 8_000;
        await killswitch.revive({ scope: 'session', id: 'runaway' });
        clock = 9_000;
        await killswitch.kill({ scope: 'agent', id: 'coder' });
        const snapshot = await killswitch.snapshot();
        // Killing its agent kills the session too.
        expect(snapshot.sessions?.[0]?.killed).toBe(true);
        expect(snapshot.events).toEqual([
          { kind: 'kill', at: 7_000, session: 'runaway', code: 'killed', message: 'spending too fast' },
          { kind: 'revive', at: 8_000, session: 'runaway' },
          { kind: 'kill', at: 9_000, target: 'agent:coder', code: 'killed' },
        ]);
      });
    });
  });
});
