import { describe, expect, it } from 'vitest';
import type { ChatRequest, Usage } from './chat.js';
import { BallastError } from './errors.js';
import { costOf, createPricing, defaultPricing, priceOf, worstCaseCost } from './pricing.js';
import { countRequestTokens } from './tokens.js';

const million = 1_000_000;

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return BallastError.isInstance(error) ? error.code : `not a BallastError: ${String(error)}`;
  }
  return undefined;
}

function errorOf(run: () => unknown): BallastError {
  try {
    run();
  } catch (error) {
    if (BallastError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a BallastError');
}

describe('defaultPricing', () => {
  describe('when listing the supported models', () => {
    it.each([
      'gpt-5',
      'gpt-5-mini',
      'gpt-5-nano',
      'gpt-4.1',
      'gpt-4.1-mini',
      'gpt-4.1-nano',
      'gpt-4o',
      'gpt-4o-mini',
      'o1',
      'o3',
      'o3-mini',
      'o4-mini',
      'gpt-4-turbo',
      'gpt-3.5-turbo',
      'claude-opus-4-5',
      'claude-opus-4-1',
      'claude-opus-4',
      'claude-sonnet-4-5',
      'claude-sonnet-4',
      'claude-3-7-sonnet',
      'claude-haiku-4-5',
      'claude-3-5-haiku',
      'claude-3-haiku',
      'gemini-2.5-pro',
      'gemini-2.5-flash',
      'gemini-2.5-flash-lite',
      'gemini-2.0-flash',
    ])('has prices and limits for %s', (model) => {
      const price = defaultPricing[model];
      expect(price?.input).toBeGreaterThan(0);
      expect(price?.output).toBeGreaterThan(price?.input ?? Number.POSITIVE_INFINITY);
      expect(price?.maxOutputTokens).toBeLessThan(price?.contextWindow ?? 0);
    });
  });

  describe('when the model is an Anthropic model', () => {
    it('bills 5-minute cache writes at 1.25 × input and reads at 0.1 × input', () => {
      for (const [model, price] of Object.entries(defaultPricing)) {
        if (!model.startsWith('claude-') || model === 'claude-3-haiku') continue;
        expect([model, price.cacheWrite]).toEqual([model, price.input * 1.25]);
        expect([model, price.cachedInput]).toEqual([model, expect.closeTo(price.input * 0.1, 10)]);
      }
      // Claude 3 Haiku predates the 0.1 × rule: reads cost $0.03, writes $0.30.
      expect(defaultPricing['claude-3-haiku']).toMatchObject({ cacheWrite: 0.3, cachedInput: 0.03 });
    });
  });

  describe('when code tries to change it', () => {
    it('is frozen', () => {
      expect(Object.isFrozen(defaultPricing)).toBe(true);
      expect(Object.isFrozen(defaultPricing['gpt-4o'])).toBe(true);
    });
  });
});

describe('priceOf', () => {
  describe('when the name is in the table', () => {
    it('returns that entry', () => {
      expect(priceOf('gpt-4o')).toMatchObject({ input: 2.5, output: 10, cachedInput: 1.25 });
      expect(priceOf('claude-sonnet-4-5')).toMatchObject({ input: 3, output: 15, cacheWrite: 3.75 });
    });
  });

  describe('when the name has a provider prefix', () => {
    it.each([
      ['openai/gpt-4o', 'gpt-4o'],
      ['anthropic/claude-sonnet-4-5', 'claude-sonnet-4-5'],
      ['google/gemini-2.5-pro', 'gemini-2.5-pro'],
      ['models/gemini-2.5-flash', 'gemini-2.5-flash'],
    ])('resolves %s to %s', (model, expected) => {
      expect(priceOf(model)).toBe(defaultPricing[expected]);
    });
  });

  describe('when the name has a dated snapshot or -latest suffix', () => {
    it.each([
      ['gpt-4o-2024-08-06', 'gpt-4o'],
      ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
      ['o3-mini-2025-01-31', 'o3-mini'],
      ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
      ['claude-3-7-sonnet-latest', 'claude-3-7-sonnet'],
      ['anthropic/claude-3-5-haiku-20241022', 'claude-3-5-haiku'],
      ['claude-opus-4-5@20251101', 'claude-opus-4-5'],
    ])('resolves %s to %s', (model, expected) => {
      expect(priceOf(model)).toBe(defaultPricing[expected]);
    });

    it('prefers a snapshot that has its own entry', () => {
      expect(priceOf('gpt-4o-2024-05-13')).toMatchObject({ input: 5, output: 15 });
    });
  });

  describe('when one model name starts with another', () => {
    it('does not confuse gpt-4o-mini with gpt-4o', () => {
      expect(priceOf('gpt-4o-mini').input).toBe(0.15);
      expect(priceOf('gpt-4o').input).toBe(2.5);
    });

    it.each(['gpt-4o-turbo', 'gpt-4.1-mini-fast', 'claude-sonnet-4-5-extended', 'gpt-3.5-turbo-1106'])(
      'does not resolve %s by prefix',
      (model) => {
        expect(codeOf(() => priceOf(model))).toBe('CORE_UNKNOWN_MODEL');
      },
    );
  });

  describe('when the model is unknown', () => {
    it('throws CORE_UNKNOWN_MODEL naming the model and the pricing config', () => {
      const error = errorOf(() => priceOf('my-local-llama'));
      expect(error.code).toBe('CORE_UNKNOWN_MODEL');
      expect(error.message).toContain('"my-local-llama"');
      expect(error.message).toContain('pricing:');
      expect(error.details).toEqual({ model: 'my-local-llama' });
    });
  });

  describe('when given a table', () => {
    it('searches that table only', () => {
      expect(priceOf('mine', { mine: { input: 1, output: 2 } })).toEqual({ input: 1, output: 2 });
      expect(codeOf(() => priceOf('gpt-4o', { mine: { input: 1, output: 2 } }))).toBe('CORE_UNKNOWN_MODEL');
    });
  });
});

describe('costOf', () => {
  describe('when there is no caching', () => {
    it('bills input and output per million tokens', () => {
      // gpt-4o: $2.50 in, $10 out
      expect(costOf('gpt-4o', { inputTokens: million, outputTokens: million })).toBe(12.5);
      // gpt-4o-mini: $0.15 in, $0.60 out
      expect(costOf('gpt-4o-mini', { inputTokens: million, outputTokens: million })).toBeCloseTo(0.75, 12);
      // claude-opus-4-1: 2000 × $15 + 500 × $75 = $0.0675
      expect(costOf('claude-opus-4-1', { inputTokens: 2000, outputTokens: 500 })).toBeCloseTo(0.0675, 12);
    });
  });

  describe('when some input was read from the cache', () => {
    it('bills cached tokens at cachedInput and the rest at input', () => {
      // gpt-4o: 400k × $2.50 + 600k × $1.25 = $1.75
      const usage: Usage = { inputTokens: million, cachedInputTokens: 600_000, outputTokens: 0 };
      expect(costOf('gpt-4o', usage)).toBeCloseTo(1.75, 12);
    });

    it('falls back to input when the model has no cached price', () => {
      const usage: Usage = { inputTokens: million, cachedInputTokens: million, outputTokens: 0 };
      expect(costOf('gpt-4-turbo', usage)).toBe(10);
    });
  });

  describe('when some input was written to the cache', () => {
    it('bills writes at cacheWrite, reads at cachedInput, the rest at input', () => {
      // claude-sonnet-4-5: 500k × $3 + 400k × $0.30 + 100k × $3.75 + 10k × $15
      //   = 1.5 + 0.12 + 0.375 + 0.15 = $2.145
      const usage: Usage = {
        inputTokens: million,
        cachedInputTokens: 400_000,
        cacheWriteTokens: 100_000,
        outputTokens: 10_000,
      };
      expect(costOf('claude-sonnet-4-5', usage)).toBeCloseTo(2.145, 12);
    });

    it('bills writes at input when the model has no write price', () => {
      const usage: Usage = { inputTokens: million, cacheWriteTokens: million, outputTokens: 0 };
      expect(costOf('gpt-4o', usage)).toBe(2.5);
    });
  });

  describe('when the output includes reasoning', () => {
    it('does not bill reasoning tokens twice', () => {
      // o3: 1000 output tokens (800 of them reasoning) × $8
      expect(costOf('o3', { inputTokens: 0, outputTokens: 1000, reasoningTokens: 800 })).toBeCloseTo(
        0.008,
        12,
      );
    });
  });

  describe('when the usage is inconsistent', () => {
    it('throws CORE_INVALID_USAGE for more cached than input tokens', () => {
      const usage: Usage = { inputTokens: 10, cachedInputTokens: 8, cacheWriteTokens: 5, outputTokens: 0 };
      expect(codeOf(() => costOf('claude-sonnet-4-5', usage))).toBe('CORE_INVALID_USAGE');
    });

    it('throws CORE_INVALID_USAGE for a negative count', () => {
      expect(codeOf(() => costOf('gpt-4o', { inputTokens: -1, outputTokens: 0 }))).toBe('CORE_INVALID_USAGE');
    });
  });

  describe('when the model is unknown', () => {
    it('throws CORE_UNKNOWN_MODEL instead of returning 0', () => {
      expect(codeOf(() => costOf('no-such-model', { inputTokens: 1, outputTokens: 1 }))).toBe(
        'CORE_UNKNOWN_MODEL',
      );
    });
  });

  describe('when given a pricing', () => {
    it('uses its prices', () => {
      const pricing = createPricing({ 'gpt-4o': { input: 5 } });
      expect(costOf('gpt-4o', { inputTokens: million, outputTokens: 0 }, pricing)).toBe(5);
    });
  });
});

describe('createPricing', () => {
  describe('when an override gives some fields of a known model', () => {
    it('keeps the other fields', () => {
      const pricing = createPricing({ 'gpt-4o': { input: 3 } });
      expect(pricing.priceOf('gpt-4o')).toMatchObject({ input: 3, output: 10, cachedInput: 1.25 });
      expect(defaultPricing['gpt-4o']?.input).toBe(2.5);
    });

    it('resolves a prefixed or dated name to the model it overrides', () => {
      const pricing = createPricing({ 'openai/gpt-4o': { cachedInput: 1 } });
      expect(pricing.priceOf('openai/gpt-4o')).toMatchObject({ input: 2.5, output: 10, cachedInput: 1 });
      expect(pricing.priceOf('gpt-4o').cachedInput).toBe(1.25);
    });
  });

  describe('when an override adds a new model', () => {
    it('prices it', () => {
      const pricing = createPricing({ 'my-llama': { input: 0.2, output: 0.4, maxOutputTokens: 4096 } });
      expect(pricing.costOf('my-llama', { inputTokens: million, outputTokens: million })).toBeCloseTo(
        0.6,
        12,
      );
      expect(pricing.table['my-llama']).toEqual({ input: 0.2, output: 0.4, maxOutputTokens: 4096 });
    });

    it.each(['input', 'output'] as const)(
      'throws CORE_INVALID_PRICING naming the model when %s is missing',
      (field) => {
        const partial = field === 'input' ? { output: 1 } : { input: 1 };
        const error = errorOf(() => createPricing({ 'my-llama': partial }));
        expect(error.code).toBe('CORE_INVALID_PRICING');
        expect(error.message).toContain('"my-llama"');
        expect(error.message).toContain(field);
        expect(error.details).toEqual({ model: 'my-llama', field });
      },
    );
  });

  describe('when an override has an invalid value', () => {
    it.each([
      ['a negative price', { input: -1 }, 'input'],
      ['a NaN price', { output: Number.NaN }, 'output'],
      ['an infinite price', { cachedInput: Number.POSITIVE_INFINITY }, 'cachedInput'],
      ['a fractional limit', { maxOutputTokens: 10.5 }, 'maxOutputTokens'],
      ['a zero context window', { contextWindow: 0 }, 'contextWindow'],
      ['an unknown field', { inptu: 1 }, 'inptu'],
    ])('rejects %s with CORE_INVALID_PRICING', (_case, override, field) => {
      const error = errorOf(() => createPricing({ 'gpt-4o': override as Record<string, number> }));
      expect(error.code).toBe('CORE_INVALID_PRICING');
      expect(error.details).toEqual({ model: 'gpt-4o', field });
    });
  });

  describe('when the table is read', () => {
    it('is frozen and holds the built-in models too', () => {
      const pricing = createPricing({ 'my-llama': { input: 1, output: 1 } });
      expect(Object.isFrozen(pricing.table)).toBe(true);
      expect(pricing.table['claude-haiku-4-5']).toEqual(defaultPricing['claude-haiku-4-5']);
    });
  });
});

describe('worstCaseCost', () => {
  const request: ChatRequest = {
    model: 'gpt-4o',
    messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }],
  };

  describe('when the request caps its output', () => {
    it('bills the counted input and the cap', () => {
      // 8 input tokens: 'hello' 1 + 'user' 1 + 3 framing + 3 priming
      const result = worstCaseCost({ ...request, maxOutputTokens: 1000 });
      expect(result).toEqual({ usd: (8 * 2.5 + 1000 * 10) / million, inputTokens: 8, outputTokens: 1000 });
    });
  });

  describe('when the request has no cap', () => {
    it("bills the model's maximum output", () => {
      const result = worstCaseCost(request);
      expect(result.outputTokens).toBe(16_384);
      expect(result.usd).toBeCloseTo((8 * 2.5 + 16_384 * 10) / million, 12);
    });

    it('throws CORE_UNKNOWN_MAX_OUTPUT naming the model when the table has no maximum either', () => {
      const pricing = createPricing({ 'my-llama': { input: 1, output: 1 } });
      const error = errorOf(() => worstCaseCost({ ...request, model: 'my-llama' }, pricing));
      expect(error.code).toBe('CORE_UNKNOWN_MAX_OUTPUT');
      expect(error.message).toContain('"my-llama"');
      expect(
        worstCaseCost({ ...request, model: 'my-llama', maxOutputTokens: 10 }, pricing).outputTokens,
      ).toBe(10);
    });
  });

  describe('when the model is a Claude model', () => {
    it('bills the estimated input count', () => {
      const claude: ChatRequest = { ...request, model: 'claude-sonnet-4-5', maxOutputTokens: 100 };
      const inputTokens = countRequestTokens(claude).tokens;
      expect(worstCaseCost(claude)).toEqual({
        usd: (inputTokens * 3 + 100 * 15) / million,
        inputTokens,
        outputTokens: 100,
      });
    });
  });

  describe('when the request marks a prompt-cache breakpoint', () => {
    const cached = (ttl: '5m' | '1h'): ChatRequest => ({
      model: 'claude-sonnet-4-5',
      maxOutputTokens: 100,
      system: [{ type: 'text', text: 'Long instructions.', cacheControl: { type: 'ephemeral', ttl } }],
      messages: request.messages,
    });

    it('bills input at the cache-write price, which is higher', () => {
      const { usd, inputTokens } = worstCaseCost(cached('5m'));
      expect(usd).toBeCloseTo((inputTokens * 3.75 + 100 * 15) / million, 12);
    });

    it('bills input at 2 × input for a 1-hour cache', () => {
      const { usd, inputTokens } = worstCaseCost(cached('1h'));
      expect(usd).toBeCloseTo((inputTokens * 6 + 100 * 15) / million, 12);
    });
  });

  describe('when the model is unknown', () => {
    it('throws CORE_UNKNOWN_MODEL', () => {
      expect(codeOf(() => worstCaseCost({ ...request, model: 'nope', maxOutputTokens: 1 }))).toBe(
        'CORE_UNKNOWN_MODEL',
      );
    });
  });
});
