import { describe, expect, it } from 'vitest';
import { createStreamUsageTracker } from './stream-usage.js';
import { fixtureText, parseAll } from './test-support.js';
import { countTextTokens } from './tokens.js';

describe('createStreamUsageTracker', () => {
  describe('when an OpenAI stream ends with its include_usage chunk', () => {
    it('reports the provider usage, cached and reasoning tokens included', () => {
      const tracker = createStreamUsageTracker({ dialect: 'openai', model: 'gpt-4o' });
      for (const event of parseAll(fixtureText('openai/stream-text.sse'))) tracker.push(event);
      const last = parseAll(fixtureText('openai/stream-text.sse')).at(-2)?.data ?? '{}';
      const reported = (JSON.parse(last) as { usage: { prompt_tokens: number; completion_tokens: number } })
        .usage;
      const snapshot = tracker.snapshot();
      expect(snapshot).toMatchObject({ reported: true, complete: true });
      expect(snapshot.usage.inputTokens).toBe(reported.prompt_tokens);
      expect(snapshot.usage.outputTokens).toBe(reported.completion_tokens);
    });
  });

  describe('when an Anthropic stream reports usage in message_start and message_delta', () => {
    it('combines input from the start with output from the delta', () => {
      const events = parseAll(fixtureText('anthropic/stream-tools.sse'));
      const start = JSON.parse(events[0]?.data ?? '{}') as { message: { usage: { input_tokens: number } } };
      const delta = events.map(
        (event) => JSON.parse(event.data) as { type: string; usage?: { output_tokens: number } },
      );
      const outputTokens = delta.find((payload) => payload.type === 'message_delta')?.usage?.output_tokens;
      const tracker = createStreamUsageTracker({ dialect: 'anthropic', model: 'claude-sonnet-4-5' });
      for (const event of events) tracker.push(event);
      const { usage, reported } = tracker.snapshot();
      expect(reported).toBe(true);
      expect(usage.outputTokens).toBe(outputTokens);
      expect(usage.inputTokens).toBeGreaterThanOrEqual(start.message.usage.input_tokens);
    });
  });

  describe('when the stream is cut before the provider reports usage', () => {
    it('counts the output streamed so far and uses the pre-counted input', () => {
      const events = parseAll(fixtureText('openai/stream-text.sse'));
      const tracker = createStreamUsageTracker({ dialect: 'openai', model: 'gpt-4o', inputTokens: 321 });
      let text = '';
      for (const event of events.slice(0, 5)) {
        for (const step of tracker.push(event)) if (step.type === 'text-delta') text += step.text;
      }
      const snapshot = tracker.snapshot();
      expect(snapshot.reported).toBe(false);
      expect(snapshot.complete).toBe(false);
      expect(snapshot.usage.inputTokens).toBe(321);
      expect(text.length).toBeGreaterThan(0);
      // Deltas are counted one by one, which can only over-count against the whole text.
      expect(snapshot.usage.outputTokens).toBeGreaterThanOrEqual(countTextTokens(text, 'gpt-4o'));
      expect(snapshot.usage.outputTokens).toBeLessThanOrEqual(text.length);
    });
  });
});
