import Anthropic from '@anthropic-ai/sdk';
import { createMockProvider, type MockProvider } from '@ballast/mock-provider';
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { guardFetch } from './guard-fetch.js';

let provider: MockProvider;
beforeEach(async () => {
  provider = await createMockProvider();
});
afterEach(async () => {
  await provider.close();
});

const pricing = { 'mock-model': { input: 1, output: 2, maxOutputTokens: 1000 } };

describe('guardFetch', () => {
  describe('when an OpenAI SDK agent runs past its session budget', () => {
    it('denies with budget_exceeded before calling the provider, and the SDK does not retry', async () => {
      const guarded = await guardFetch(fetch, {
        sessionId: 'agent-run',
        pricing,
        loop: false,
        budgets: [{ scope: 'session', usd: 0.001 }],
      });
      provider.setDefaultReply({ kind: 'text', text: 'ok', usage: { outputTokens: 200 } });
      const client = new OpenAI({
        apiKey: 'sk-test',
        baseURL: provider.openaiBaseUrl,
        fetch: guarded,
        maxRetries: 3,
      });
      const ask = () =>
        client.chat.completions.create({
          model: 'mock-model',
          max_tokens: 200,
          messages: [{ role: 'user', content: 'hi' }],
        });
      let admitted = 0;
      let denial: unknown;
      for (let index = 0; index < 5 && !denial; index += 1) {
        try {
          await ask();
          admitted += 1;
        } catch (error) {
          denial = error;
        }
      }
      expect(denial).toMatchObject({ status: 402, code: 'budget_exceeded' });
      // Each call may cost up to ~$0.00041: two fit in $0.001, the third does not.
      expect(admitted).toBe(2);
      expect(provider.requests).toHaveLength(2);
      const spend = await guarded.killswitch.spend('session');
      expect(spend[0]?.usd).toBeLessThanOrEqual(0.001);
      await guarded.killswitch.close?.();
    });
  });

  describe('when an operator kills the session during a stream', () => {
    it('cuts the stream with an error event and denies the next call', async () => {
      const guarded = await guardFetch(fetch, { sessionId: 's1', pricing });
      provider.setDefaultReply({
        kind: 'text',
        text: Array.from({ length: 300 }, (_, index) => `w${index}`).join(' '),
        chunkCount: 300,
        chunkDelayMs: 5,
      });
      const client = new Anthropic({
        apiKey: 'sk-ant',
        baseURL: provider.anthropicBaseUrl,
        fetch: guarded,
        maxRetries: 0,
      });
      const stream = client.messages.stream({
        model: 'mock-model',
        max_tokens: 1000,
        messages: [{ role: 'user', content: 'go' }],
      });
      let deltas = 0;
      stream.on('text', () => {
        deltas += 1;
      });
      const outcome = stream.finalMessage().then(
        () => 'completed',
        (error: Error) => error.message,
      );
      await expect.poll(() => deltas).toBeGreaterThan(2);
      await guarded.killswitch.kill({ scope: 'session', id: 's1' }, 'stop now');
      expect(await outcome).toMatch(/killed by an operator: stop now/);
      await expect(
        client.messages.create({
          model: 'mock-model',
          max_tokens: 10,
          messages: [{ role: 'user', content: 'x' }],
        }),
      ).rejects.toMatchObject({
        status: 403,
      });
      await guarded.killswitch.close?.();
    });
  });

  describe('when a request has no output cap', () => {
    it('sends one the budget can afford', async () => {
      const guarded = await guardFetch(fetch, {
        sessionId: 's2',
        pricing,
        budgets: [{ scope: 'session', usd: 0.0005 }],
      });
      const client = new OpenAI({
        apiKey: 'sk-test',
        baseURL: provider.openaiBaseUrl,
        fetch: guarded,
        maxRetries: 0,
      });
      await client.chat.completions.create({
        model: 'mock-model',
        messages: [{ role: 'user', content: 'hello' }],
      });
      const cap = Number(provider.requests[0]?.body.max_completion_tokens);
      expect(cap).toBeGreaterThan(0);
      expect(cap).toBeLessThanOrEqual(250);
      await guarded.killswitch.close?.();
    });
  });
});
