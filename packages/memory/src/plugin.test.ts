import {
  type ChatMessage,
  type ChatRequest,
  countRequestTokens,
  createRequestContext,
  type GatewayPlugin,
  type HostRequestContext,
  runRequestHooks,
  runResponseHooks,
} from '@ballast/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryPlugin, type MemoryPlugin } from './plugin.js';

const opened: MemoryPlugin[] = [];
afterEach(async () => {
  for (const plugin of opened.splice(0)) await plugin.close?.();
});

async function memoryPlugin(): Promise<MemoryPlugin> {
  const plugin = await createMemoryPlugin({ enabled: true, budgetTokens: 400 });
  opened.push(plugin);
  return plugin;
}

/** A coding agent's history after `steps` tool calls, each reading a long file. */
function history(steps: number): ChatRequest {
  const messages: ChatMessage[] = [
    { role: 'user', content: [{ type: 'text', text: 'Fix the failing date test in src/parse.ts.' }] },
  ];
  for (let step = 0; step < steps; step += 1) {
    messages.push({ role: 'assistant', content: [{ type: 'text', text: `Reading src/file${step}.ts.` }] });
    const lines = Array.from(
      { length: 60 },
      (_, line) => `line ${line}: export const value${step}_${line} = parse("2024-0${(line % 9) + 1}-01");`,
    );
    messages.push({ role: 'user', content: [{ type: 'text', text: lines.join('\n') }] });
  }
  return { model: 'mock-model', messages };
}

let requestCounter = 0;
function callOf(session: string, request: ChatRequest): HostRequestContext {
  requestCounter += 1;
  const context: HostRequestContext = createRequestContext({
    requestId: `req_${requestCounter}`,
    dialect: 'openai',
    request,
    inputTokens: () => countRequestTokens(context.request).tokens,
    sessionId: session,
  });
  return context;
}

/** One call through the plugins' hooks, as a host runs them. */
async function call(
  plugins: GatewayPlugin[],
  session: string,
  request: ChatRequest,
): Promise<{ context: HostRequestContext; full: number; denied: boolean }> {
  const full = countRequestTokens(request).tokens;
  const context = callOf(session, request);
  const decision = await runRequestHooks(
    plugins,
    context,
    (rewritten) => countRequestTokens(rewritten).tokens,
  );
  if (decision.action === 'deny') return { context, full, denied: true };
  await runResponseHooks(decision.admitted, context, {
    usage: { inputTokens: context.inputTokens, outputTokens: 5 },
    costUsd: undefined,
    streamed: false,
    status: 200,
  });
  return { context, full, denied: false };
}

describe('createMemoryPlugin', () => {
  describe('snapshot', () => {
    describe("when a session's history outgrows the budget", () => {
      it('reports the tokens sent against the full history, summed over its calls', async () => {
        const plugin = await memoryPlugin();
        const first = await call([plugin], 'agent-1', history(0));
        const second = await call([plugin], 'agent-1', history(12));
        expect(second.context.rewritten).toBe(true);
        const saved = Number(second.context.responseHeaders.get('x-ballast-memory-saved-tokens'));
        expect(saved).toBeGreaterThan(0);
        const sent = first.context.inputTokens + second.context.inputTokens;
        const full = first.full + second.full;
        const [session] = plugin.snapshot().sessions ?? [];
        expect(session).toMatchObject({
          session: 'agent-1',
          tokensSent: sent,
          tokensFullHistory: full,
          tokensSaved: full - sent,
        });
        // The first call fit in the budget and saved nothing: everything saved is the second's.
        expect(session?.tokensSaved).toBe(saved);
        expect(session?.lastSeen).toEqual(expect.any(Number));
      });
    });

    describe('when a later plugin denies the call', () => {
      it('counts nothing for it, since nothing was sent', async () => {
        const plugin = await memoryPlugin();
        const denier: GatewayPlugin = {
          name: 'budget',
          onRequest: () => ({ action: 'deny', code: 'budget_exceeded', status: 402, message: 'no money' }),
        };
        const result = await call([plugin, denier], 'agent-2', history(12));
        expect(result.denied).toBe(true);
        expect(plugin.snapshot().sessions).toEqual([]);
      });
    });

    describe('when several sessions made calls', () => {
      it('lists the most recently seen first', async () => {
        const plugin = await memoryPlugin();
        await call([plugin], 'older', history(1));
        await call([plugin], 'newer', history(1));
        await call([plugin], 'older', history(2));
        expect(plugin.snapshot().sessions?.map((session) => session.session)).toEqual(['older', 'newer']);
      });
    });
  });
});
