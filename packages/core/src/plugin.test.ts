import { describe, expect, it } from 'vitest';
import type { ChatRequest } from './chat.js';
import { BallastError } from './errors.js';
import type { Logger } from './logger.js';
import {
  collectPluginSnapshots,
  createRequestContext,
  type GatewayPlugin,
  type HostRequestContext,
  mergePluginSnapshots,
  runAbortHooks,
  runErrorHooks,
  runRequestHooks,
  runResponseHooks,
  runStreamHooks,
} from './plugin.js';

const request: ChatRequest = {
  model: 'gpt-4o',
  messages: [{ role: 'user', content: [{ type: 'text', text: 'hello there' }] }],
};

function context(overrides: Partial<Parameters<typeof createRequestContext>[0]> = {}): HostRequestContext {
  return createRequestContext({ requestId: 'r1', dialect: 'openai', request, inputTokens: 10, ...overrides });
}

/** A plugin that records what happened to it, like a budget that reserves and settles. */
function recorder(name: string, decide?: GatewayPlugin['onRequest']): GatewayPlugin & { log: string[] } {
  const log: string[] = [];
  return {
    name,
    log,
    onRequest(ctx) {
      log.push(`request:${ctx.inputTokens}`);
      return decide?.(ctx) as ReturnType<NonNullable<GatewayPlugin['onRequest']>>;
    },
    onResponse(_ctx, outcome) {
      log.push(`response:${outcome.usage.outputTokens}`);
    },
    onAbort(_ctx, outcome) {
      log.push(`abort:${outcome.reason}`);
    },
    onError(_ctx, error) {
      log.push(`error:${error.code}`);
    },
  };
}

describe('runRequestHooks', () => {
  describe('when every plugin allows', () => {
    it('admits them all, in order', async () => {
      const first = recorder('first');
      const second = recorder('second', () => ({ action: 'allow' }));
      const result = await runRequestHooks([first, second], context(), () => 0);
      expect(result).toEqual({ action: 'allow', admitted: [first, second] });
    });
  });

  describe('when a plugin rewrites the request', () => {
    it('gives the next plugin the new request with its tokens recounted', async () => {
      const shorter: ChatRequest = { ...request, messages: [] };
      const memory = recorder('memory', () => ({ action: 'rewrite', request: shorter }));
      const budget = recorder('budget');
      const ctx = context();
      await runRequestHooks([memory, budget], ctx, (rewritten) => rewritten.messages.length + 3);
      expect(budget.log).toEqual(['request:3']);
      expect(ctx.request).toBe(shorter);
      expect(ctx.inputTokens).toBe(3);
    });
  });

  describe('when a later plugin denies', () => {
    it('stops the chain and releases the plugins that had admitted the call', async () => {
      const budget = recorder('budget');
      const loop = recorder('loop', () => ({
        action: 'deny',
        code: 'loop_detected',
        status: 429,
        message: 'the agent repeats itself',
      }));
      const never = recorder('never');
      const result = await runRequestHooks([budget, loop, never], context(), () => 0);
      expect(result).toMatchObject({
        action: 'deny',
        plugin: 'loop',
        decision: { code: 'loop_detected', status: 429 },
      });
      expect(budget.log).toEqual(['request:10', 'error:loop_detected']);
      expect(never.log).toEqual([]);
    });
  });

  describe('when a plugin throws', () => {
    it('releases earlier plugins and throws CORE_PLUGIN_FAILED with the cause', async () => {
      const budget = recorder('budget');
      const broken = recorder('broken', () => {
        throw new Error('disk full');
      });
      const attempt = runRequestHooks([budget, broken], context(), () => 0);
      await expect(attempt).rejects.toMatchObject({
        code: 'CORE_PLUGIN_FAILED',
        cause: new Error('disk full'),
      });
      expect(budget.log).toEqual(['request:10', 'error:CORE_PLUGIN_FAILED']);
    });
  });
});

describe('runStreamHooks', () => {
  describe('when a plugin cuts the stream', () => {
    it('aborts the context signal and reports the cut', () => {
      const ctx = context();
      const killswitch: GatewayPlugin = {
        name: 'killswitch',
        onStreamEvent: (_ctx, _event, progress) =>
          progress.outputTokens >= 100
            ? { action: 'cut', code: 'budget_exceeded', message: 'reservation spent' }
            : undefined,
      };
      const event = { type: 'text-delta', text: 'x' } as const;
      expect(runStreamHooks([killswitch], ctx, event, { outputTokens: 50, costUsd: 0.01 })).toBeUndefined();
      expect(ctx.signal.aborted).toBe(false);
      const cut = runStreamHooks([killswitch], ctx, event, { outputTokens: 100, costUsd: 0.02 });
      expect(cut).toMatchObject({ code: 'budget_exceeded' });
      expect(ctx.signal.aborted).toBe(true);
      expect(ctx.cut?.code).toBe('budget_exceeded');
    });
  });
});

describe('settle hooks', () => {
  describe('when one plugin fails while settling', () => {
    it('still settles the others and logs the failure', async () => {
      const errors: string[] = [];
      const logger = { debug() {}, info() {}, warn() {}, error: (message: string) => errors.push(message) };
      const broken: GatewayPlugin = {
        name: 'broken',
        onResponse() {
          throw new Error('boom');
        },
      };
      const budget = recorder('budget');
      const outcome = {
        usage: { inputTokens: 10, outputTokens: 5 },
        costUsd: 0.001,
        streamed: false,
        status: 200,
      };
      await runResponseHooks([broken, budget], context(), outcome, logger);
      expect(budget.log).toEqual(['response:5']);
      expect(errors).toEqual(['plugin settle hook failed']);
    });
  });

  it('passes abort and error outcomes through', async () => {
    const budget = recorder('budget');
    const ctx = context();
    await runAbortHooks([budget], ctx, {
      usage: { inputTokens: 1, outputTokens: 2 },
      costUsd: 0,
      reason: 'client-disconnect',
    });
    await runErrorHooks([budget], ctx, new BallastError('PROXY_ALL_TARGETS_FAILED', 'every target failed'));
    expect(budget.log).toEqual(['abort:client-disconnect', 'error:PROXY_ALL_TARGETS_FAILED']);
  });
});

describe('createRequestContext', () => {
  describe('when request and input tokens are given lazily', () => {
    it('parses and counts only when a plugin reads them, once', () => {
      let parses = 0;
      let counts = 0;
      const ctx = createRequestContext({
        requestId: 'r2',
        dialect: 'openai',
        model: 'gpt-4o',
        request: () => {
          parses += 1;
          return request;
        },
        inputTokens: () => {
          counts += 1;
          return 42;
        },
      });
      expect(ctx.model).toBe('gpt-4o');
      expect(parses + counts).toBe(0);
      expect(ctx.request).toBe(request);
      expect(ctx.inputTokens).toBe(42);
      expect(ctx.inputTokens).toBe(42);
      expect([parses, counts]).toEqual([1, 1]);
      expect(ctx.rewritten).toBe(false);
    });
  });

  describe('when the host signal aborts (client disconnect)', () => {
    it('aborts the context signal too', () => {
      const client = new AbortController();
      const ctx = context({ signal: client.signal });
      client.abort();
      expect(ctx.signal.aborted).toBe(true);
    });

    it('asks a lazy host signal for it only when a plugin reads the signal', () => {
      const client = new AbortController();
      let asked = 0;
      const ctx = context({
        signal: () => {
          asked += 1;
          return client.signal;
        },
      });
      expect(asked).toBe(0);
      expect(ctx.signal.aborted).toBe(false);
      client.abort();
      expect(ctx.signal.aborted).toBe(true);
      expect(asked).toBe(1);
    });
  });

  describe('when a plugin cuts the call', () => {
    it('tells the host once, and a signal read afterwards is already aborted', () => {
      const cuts: string[] = [];
      const ctx = context({ onCut: (decision) => cuts.push(decision.code) });
      ctx.abort({ action: 'cut', code: 'killed', message: 'operator kill' });
      ctx.abort({ action: 'cut', code: 'again', message: 'second cut is ignored' });
      expect(cuts).toEqual(['killed']);
      expect(ctx.signal.aborted).toBe(true);
      expect((ctx.signal.reason as Error).message).toBe('operator kill');
    });
  });

  it('collects response headers case-insensitively', () => {
    const ctx = context();
    ctx.setResponseHeader('X-Ballast-Session-Spend-Usd', '0.25');
    expect([...ctx.responseHeaders]).toEqual([['x-ballast-session-spend-usd', '0.25']]);
  });
});

describe('collectPluginSnapshots', () => {
  describe('when some plugins expose a snapshot and one fails', () => {
    it('returns the others by name, in plugin order, and logs the failure', async () => {
      const warnings: Array<Record<string, unknown> | undefined> = [];
      const logger: Logger = {
        debug: () => {},
        info: () => {},
        warn: (_message, fields) => warnings.push(fields),
        error: () => {},
      };
      const plugins: GatewayPlugin[] = [
        { name: 'budget', snapshot: async () => ({ sessions: [{ session: 'a', spendUsd: 1 }] }) },
        { name: 'quiet' },
        {
          name: 'broken',
          snapshot: () => {
            throw new Error('store down');
          },
        },
        { name: 'memory', snapshot: () => ({ sessions: [{ session: 'a', tokensSaved: 10 }] }) },
      ];
      const collected = await collectPluginSnapshots(plugins, { logger });
      expect(collected.map((entry) => entry.plugin)).toEqual(['budget', 'memory']);
      expect(warnings).toEqual([{ plugin: 'broken', error: 'Error: store down' }]);
    });
  });
});

describe('mergePluginSnapshots', () => {
  describe('when two plugins report the same session', () => {
    it('makes one session with the fields of both, the latest lastSeen and killed if either says so', () => {
      const merged = mergePluginSnapshots([
        {
          plugin: 'killswitch',
          snapshot: {
            sessions: [
              { session: 'a', spendUsd: 0.5, budgetUsd: 2, steps: 3, killed: true, lastSeen: 100 },
              { session: 'b', spendUsd: 0.1, killed: false, lastSeen: 300 },
            ],
          },
        },
        {
          plugin: 'memory',
          snapshot: {
            sessions: [
              {
                session: 'a',
                tokensSent: 40,
                tokensFullHistory: 100,
                tokensSaved: 60,
                killed: false,
                lastSeen: 200,
              },
              { session: 'c', tokensSaved: 5 },
            ],
          },
        },
      ]);
      expect(merged.sessions).toEqual([
        { session: 'b', spendUsd: 0.1, killed: false, lastSeen: 300 },
        {
          session: 'a',
          spendUsd: 0.5,
          budgetUsd: 2,
          steps: 3,
          killed: true,
          lastSeen: 200,
          tokensSent: 40,
          tokensFullHistory: 100,
          tokensSaved: 60,
        },
        { session: 'c', tokensSaved: 5 },
      ]);
    });

    it("keeps the first plugin's value when both give one", () => {
      const merged = mergePluginSnapshots([
        { plugin: 'first', snapshot: { sessions: [{ session: 'a', lastDecision: 'budget_exceeded' }] } },
        { plugin: 'second', snapshot: { sessions: [{ session: 'a', lastDecision: 'allowed' }] } },
      ]);
      expect(merged.sessions[0]?.lastDecision).toBe('budget_exceeded');
    });
  });

  describe('when the same denial is reported by the plugin and the host', () => {
    it('lists it once, newest events first, each with its plugin', () => {
      const denial = {
        kind: 'denial' as const,
        at: 20,
        session: 'a',
        code: 'budget_exceeded',
        requestId: 'r1',
      };
      const merged = mergePluginSnapshots([
        {
          plugin: 'killswitch',
          snapshot: { events: [denial, { kind: 'kill', at: 30, session: 'a', code: 'killed' }] },
        },
        {
          plugin: 'proxy',
          snapshot: {
            events: [
              { ...denial, plugin: 'killswitch' },
              { kind: 'cut', at: 10, requestId: 'r0' },
            ],
          },
        },
      ]);
      expect(merged.events).toEqual([
        { kind: 'kill', at: 30, session: 'a', code: 'killed', plugin: 'killswitch' },
        { ...denial, plugin: 'killswitch' },
        { kind: 'cut', at: 10, requestId: 'r0', plugin: 'proxy' },
      ]);
    });
  });

  describe('when there are more events than the limit', () => {
    it('keeps the newest', () => {
      const events = Array.from({ length: 5 }, (_, index) => ({ kind: 'denial' as const, at: index }));
      const merged = mergePluginSnapshots([{ plugin: 'p', snapshot: { events } }], { eventLimit: 2 });
      expect(merged.events.map((event) => event.at)).toEqual([4, 3]);
    });
  });
});
