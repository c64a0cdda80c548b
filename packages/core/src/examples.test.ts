// The README's examples are real files under examples/: typechecked with the package, run here,
// and compared with the README so that the docs run as written.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import budgetPlugin from '../examples/budget-plugin.js';
import type { ChatRequest } from './chat.js';
import { silentLogger } from './logger.js';
import { createRequestContext, runRequestHooks, runResponseHooks } from './plugin.js';
import { createPricing } from './pricing.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README examples', () => {
  it.each(['examples/quick-start.ts', 'examples/budget-plugin.ts'])(
    'shows %s exactly as the file is',
    (path) => {
      const marker = `<!-- example: ${path} -->`;
      expect(readme).toContain(marker);
      const block = readme.slice(readme.indexOf(marker)).split('```ts\n')[1]?.split('```')[0];
      expect(block).toBe(readFileSync(new URL(`../${path}`, import.meta.url), 'utf8'));
    },
  );
});

describe('examples/budget-plugin', () => {
  const request: ChatRequest = {
    model: 'gpt-4o-mini',
    maxOutputTokens: 1000,
    messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }],
  };
  const pricing = createPricing();
  const worst = pricing.worstCaseCost(request).usd;

  describe('when a session asks for more than its budget can reserve', () => {
    it('admits what the budget affords and denies the rest with budget_exceeded', async () => {
      const plugin = await budgetPlugin({ usdPerSession: worst * 2.5 }, { logger: silentLogger, pricing });
      const decisions: string[] = [];
      for (let index = 0; index < 3; index += 1) {
        const context = createRequestContext({
          requestId: `r${index}`,
          sessionId: 's1',
          dialect: 'openai',
          request,
          inputTokens: 10,
        });
        const result = await runRequestHooks([plugin], context, () => 10);
        decisions.push(result.action === 'deny' ? result.decision.code : 'allow');
      }
      expect(decisions).toEqual(['allow', 'allow', 'budget_exceeded']);
    });
  });

  describe('when a call settles below its reservation', () => {
    it('frees the difference for the next call', async () => {
      const plugin = await budgetPlugin({ usdPerSession: worst * 1.5 }, { logger: silentLogger, pricing });
      const first = createRequestContext({
        requestId: 'a',
        sessionId: 's2',
        dialect: 'openai',
        request,
        inputTokens: 10,
      });
      expect((await runRequestHooks([plugin], first, () => 10)).action).toBe('allow');
      const usage = { inputTokens: 10, outputTokens: 5 };
      await runResponseHooks([plugin], first, {
        usage,
        costUsd: pricing.costOf('gpt-4o-mini', usage),
        streamed: false,
        status: 200,
      });
      const second = createRequestContext({
        requestId: 'b',
        sessionId: 's2',
        dialect: 'openai',
        request,
        inputTokens: 10,
      });
      expect((await runRequestHooks([plugin], second, () => 10)).action).toBe('allow');
    });
  });
});
