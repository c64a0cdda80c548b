import fc from 'fast-check';
import { encode as encodeCl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { encode as encodeO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { modelToEncodingMap } from 'gpt-tokenizer/mapping';
import { chatEnabledModels } from 'gpt-tokenizer/modelsChatEnabled.gen';
import { Tiktoken } from 'js-tiktoken/lite';
import o200kBase from 'js-tiktoken/ranks/o200k_base';
import { describe, expect, it } from 'vitest';
import type { ChatMessage, ChatRequest, ContentPart } from './chat.js';
import { BallastError } from './errors.js';
import {
  countMessageTokens,
  countRequestTokens,
  countTextTokens,
  defaultEstimateFactors,
  encodingForModel,
  imageTokenEstimates,
} from './tokens.js';

const plain = { disallowedSpecial: new Set<string>() };
const o200kLength = (text: string): number => encodeO200k(text, plain).length;
const cl100kLength = (text: string): number => encodeCl100k(text, plain).length;

function user(text: string, name?: string): ChatMessage {
  return { role: 'user', content: [{ type: 'text', text }], ...(name === undefined ? {} : { name }) };
}

function message(role: ChatMessage['role'], ...content: ContentPart[]): ChatMessage {
  return { role, content };
}

describe('encodingForModel', () => {
  describe('when the model is an o200k OpenAI model', () => {
    it.each([
      'gpt-4o',
      'gpt-4o-mini',
      'gpt-4o-2024-08-06',
      'chatgpt-4o-latest',
      'gpt-4.1',
      'gpt-4.1-nano',
      'gpt-4.5-preview',
      'gpt-5',
      'gpt-5-mini',
      'o1',
      'o1-mini',
      'o3',
      'o3-mini',
      'o4-mini',
      'gpt-oss-120b',
    ])('maps %s to o200k_base', (model) => {
      expect(encodingForModel(model)).toBe('o200k_base');
    });
  });

  describe('when the model is a cl100k OpenAI model', () => {
    it.each([
      'gpt-4',
      'gpt-4-0613',
      'gpt-4-32k',
      'gpt-4-turbo',
      'gpt-4-turbo-2024-04-09',
      'gpt-3.5-turbo',
      'gpt-3.5-turbo-0125',
      'text-embedding-3-small',
      'text-embedding-3-large',
      'text-embedding-ada-002',
    ])('maps %s to cl100k_base', (model) => {
      expect(encodingForModel(model)).toBe('cl100k_base');
    });
  });

  describe('when the model is openai/-prefixed', () => {
    it('maps a known model by its own name', () => {
      expect(encodingForModel('openai/gpt-4o-mini')).toBe('o200k_base');
      expect(encodingForModel('openai/gpt-4-turbo')).toBe('cl100k_base');
    });

    it('maps an unknown OpenAI model to o200k_base', () => {
      expect(encodingForModel('openai/some-future-model')).toBe('o200k_base');
    });
  });

  describe('when the model is not an OpenAI model', () => {
    it.each([
      'claude-sonnet-4-5',
      'anthropic/claude-3-5-haiku',
      'gemini-2.5-pro',
      'llama-3.1-70b',
      'mistral-large',
    ])('returns null for %s', (model) => {
      expect(encodingForModel(model)).toBeNull();
    });
  });

  describe('when gpt-tokenizer also knows the model', () => {
    it('agrees with gpt-tokenizer on every model it recognizes', () => {
      // gpt-tokenizer maps models not in its table to o200k_base.
      const table: Record<string, string> = modelToEncodingMap;
      let compared = 0;
      for (const model of new Set([...Object.keys(table), ...chatEnabledModels])) {
        const ours = encodingForModel(model);
        if (ours === null) continue;
        compared++;
        const encoding = table[model] ?? 'o200k_base';
        // gpt-oss uses o200k_harmony: o200k_base plus chat special tokens, the same for text.
        expect([model, ours]).toEqual([model, encoding === 'o200k_harmony' ? 'o200k_base' : encoding]);
      }
      expect(compared).toBeGreaterThan(50);
    });
  });
});

describe('countTextTokens', () => {
  describe('when the model is an OpenAI model', () => {
    it('gives the known counts', () => {
      expect(countTextTokens('hello world', 'gpt-4o')).toBe(2);
      expect(countTextTokens('hello world', 'gpt-4')).toBe(2);
      expect(countTextTokens('', 'gpt-4o')).toBe(0);
    });

    it('uses cl100k_base for gpt-4 and o200k_base for gpt-4o', () => {
      const text = 'Привет! Как дела? Это проверка токенизатора. 東京は日本の首都です。';
      expect(cl100kLength(text)).not.toBe(o200kLength(text));
      expect(countTextTokens(text, 'gpt-4-turbo')).toBe(cl100kLength(text));
      expect(countTextTokens(text, 'gpt-4o')).toBe(o200kLength(text));
    });

    it("matches gpt-tokenizer's and js-tiktoken's counts on any text", () => {
      const tiktoken = new Tiktoken(o200kBase);
      fc.assert(
        fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
          const count = countTextTokens(text, 'gpt-4o');
          expect(count).toBe(o200kLength(text));
          expect(count).toBe(tiktoken.encode(text, [], []).length);
          expect(countTextTokens(text, 'gpt-3.5-turbo')).toBe(cl100kLength(text));
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('when no model is given', () => {
    it('counts exactly with o200k_base', () => {
      const text = 'export function add(left: number, right: number): number { return left + right; }';
      expect(countTextTokens(text)).toBe(o200kLength(text));
    });
  });

  describe('when the text contains special-token text', () => {
    it('counts it as ordinary text instead of throwing', () => {
      const text = 'before <|endoftext|> after <|im_start|>';
      const tiktoken = new Tiktoken(o200kBase);
      expect(countTextTokens(text, 'gpt-4o')).toBe(tiktoken.encode(text, [], []).length);
      expect(countTextTokens(text, 'gpt-4o')).toBeGreaterThan(4);
    });
  });

  describe('when the model is a Claude model', () => {
    it('returns the o200k count times the anthropic factor, rounded up', () => {
      const text = 'The quick brown fox jumps over the lazy dog.';
      expect(countTextTokens(text, 'claude-sonnet-4-5')).toBe(
        Math.ceil(o200kLength(text) * defaultEstimateFactors.anthropic),
      );
    });

    it('is never below the o200k count', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
          expect(countTextTokens(text, 'claude-opus-4-5')).toBeGreaterThanOrEqual(o200kLength(text));
        }),
      );
    });
  });

  describe('when the model is Gemini or unknown', () => {
    it('uses the google and other factors', () => {
      const text = `${'a'.repeat(40)} some words to count`;
      const base = o200kLength(text);
      expect(countTextTokens(text, 'models/gemini-2.5-pro')).toBe(
        Math.ceil(base * defaultEstimateFactors.google),
      );
      expect(countTextTokens(text, 'llama-3.1-8b')).toBe(Math.ceil(base * defaultEstimateFactors.other));
    });
  });

  describe('when estimate factors are overridden', () => {
    it('uses the given factor for that family only', () => {
      const text = 'hello world';
      expect(countTextTokens(text, 'claude-haiku-4-5', { estimateFactors: { anthropic: 2 } })).toBe(4);
      expect(countTextTokens(text, 'gpt-4o', { estimateFactors: { anthropic: 2 } })).toBe(2);
    });

    it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('rejects a factor of %s', (factor) => {
      let caught: unknown;
      try {
        countTextTokens('hello', 'claude-sonnet-4-5', { estimateFactors: { anthropic: factor } });
      } catch (error) {
        caught = error;
      }
      expect(BallastError.isInstance(caught) && caught.code).toBe('CORE_INVALID_ESTIMATE_FACTOR');
    });
  });
});

describe('countMessageTokens', () => {
  describe('when the conversation is one user message', () => {
    it('adds 3 per message, the role, and 3 for reply priming', () => {
      const result = countMessageTokens([user('hello')], 'gpt-4o');
      // tokens('hello') = 1, tokens('user') = 1
      expect(result).toEqual({ tokens: 1 + 1 + 3 + 3, exact: true, encoding: 'o200k_base', factor: 1 });
    });
  });

  describe("when counting the OpenAI cookbook's example conversation", () => {
    // openai-cookbook, examples/How_to_count_tokens_with_tiktoken.ipynb, section 6: the API
    // billed 129 prompt tokens for gpt-3.5-turbo and gpt-4, and 124 for gpt-4o and gpt-4o-mini.
    const system = (text: string, name?: string): ChatMessage => ({
      role: 'system',
      content: [{ type: 'text', text }],
      ...(name === undefined ? {} : { name }),
    });
    const cookbook: ChatMessage[] = [
      system(
        'You are a helpful, pattern-following assistant that translates corporate jargon into plain English.',
      ),
      system('New synergies will help drive top-line growth.', 'example_user'),
      system('Things working well together will increase revenue.', 'example_assistant'),
      system(
        "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.",
        'example_user',
      ),
      system("Let's talk later when we're less busy about how to do better.", 'example_assistant'),
      user("This late pivot means we don't have time to boil the ocean for the client deliverable."),
    ];

    it.each([
      ['gpt-3.5-turbo-0125', 129],
      ['gpt-4-0613', 129],
      ['gpt-4o', 124],
      ['gpt-4o-mini', 124],
    ])('gives %s the count the API billed (%i)', (model, expected) => {
      expect(countMessageTokens(cookbook, model)).toMatchObject({ tokens: expected, exact: true });
    });
  });

  describe('when a message has a name', () => {
    it('adds the name and 1', () => {
      const named = countMessageTokens([user('hello', 'example_user')], 'gpt-4o').tokens;
      const unnamed = countMessageTokens([user('hello')], 'gpt-4o').tokens;
      expect(named - unnamed).toBe(o200kLength('example_user') + 1);
    });
  });

  describe('when a message carries an image', () => {
    const image = (detail: 'low' | 'high' | 'auto'): ContentPart => ({
      type: 'image',
      source: { kind: 'url', url: 'https://example.com/cat.png' },
      detail,
    });

    it('adds the OpenAI constant for its detail and is no longer exact', () => {
      const text = countMessageTokens([user('look')], 'gpt-4o').tokens;
      expect(
        countMessageTokens([message('user', { type: 'text', text: 'look' }, image('low'))], 'gpt-4o'),
      ).toMatchObject({ tokens: text + imageTokenEstimates.openaiLowDetail, exact: false });
      expect(
        countMessageTokens([message('user', { type: 'text', text: 'look' }, image('auto'))], 'gpt-4o').tokens,
      ).toBe(text + imageTokenEstimates.openaiHighDetail);
    });

    it('adds the conservative constant for Claude, outside the factor', () => {
      const text = countMessageTokens([user('look')], 'claude-sonnet-4-5').tokens;
      const withImage = countMessageTokens(
        [message('user', { type: 'text', text: 'look' }, image('high'))],
        'claude-sonnet-4-5',
      ).tokens;
      expect(withImage - text).toBe(imageTokenEstimates.other);
    });
  });

  describe('when the conversation has tool calls and results', () => {
    it('counts the call name and arguments plus 3, and the result content plus 3', () => {
      const args = '{"city":"Paris","unit":"celsius"}';
      const call = message('assistant', {
        type: 'tool-call',
        id: 'call_1',
        name: 'get_weather',
        arguments: args,
      });
      const result = message('tool', {
        type: 'tool-result',
        toolCallId: 'call_1',
        content: [{ type: 'text', text: '18 degrees and sunny' }],
      });
      const counted = countMessageTokens([call, result], 'gpt-4o');
      const framing = 3 + 1 + (3 + 1) + 3; // two messages with one-token roles, and the priming
      expect(counted.tokens).toBe(
        framing +
          o200kLength('get_weather') +
          o200kLength(args) +
          3 +
          o200kLength('18 degrees and sunny') +
          3,
      );
      expect(counted.exact).toBe(false);
    });
  });

  describe('when the model is a Claude model', () => {
    it('is an estimate at least as large as the OpenAI count', () => {
      const conversation = [user('What is the capital of France?'), user('And of Italy?')];
      const claude = countMessageTokens(conversation, 'claude-sonnet-4-5');
      expect(claude.exact).toBe(false);
      expect(claude.factor).toBe(defaultEstimateFactors.anthropic);
      expect(claude.tokens).toBeGreaterThanOrEqual(countMessageTokens(conversation, 'gpt-4o').tokens);
    });
  });
});

describe('countRequestTokens', () => {
  const base: ChatRequest = { model: 'gpt-4o', messages: [user('hello')] };

  describe('when the request has system parts', () => {
    it('counts them as one system message', () => {
      const request: ChatRequest = { ...base, system: [{ type: 'text', text: 'Be brief.' }] };
      const asMessages = countMessageTokens(
        [message('system', { type: 'text', text: 'Be brief.' }), user('hello')],
        'gpt-4o',
      );
      expect(countRequestTokens(request)).toEqual(asMessages);
    });
  });

  describe('when the request is plain text for an OpenAI model', () => {
    it('is exact and equals the message count', () => {
      expect(countRequestTokens(base)).toEqual(countMessageTokens(base.messages, 'gpt-4o'));
      expect(countRequestTokens(base).exact).toBe(true);
    });
  });

  describe('when the request defines tools', () => {
    const parameters = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const withTools: ChatRequest = {
      ...base,
      tools: [{ name: 'get_weather', description: 'Weather in a city.', parameters }],
    };

    it('adds name, description, JSON parameters, 10 per tool and 12 per block, as an estimate', () => {
      const added = countRequestTokens(withTools).tokens - countRequestTokens(base).tokens;
      expect(added).toBe(
        12 +
          10 +
          o200kLength('get_weather') +
          o200kLength('Weather in a city.') +
          o200kLength(JSON.stringify(parameters)),
      );
      expect(countRequestTokens(withTools).exact).toBe(false);
    });

    it("adds Anthropic's tool-use system prompt for Claude models", () => {
      const claudeBase = { ...base, model: 'claude-sonnet-4-5' };
      const added =
        countRequestTokens({ ...withTools, model: 'claude-sonnet-4-5' }).tokens -
        countRequestTokens(claudeBase).tokens;
      expect(added).toBeGreaterThanOrEqual(346);
    });
  });

  describe('when the model is not an OpenAI model', () => {
    it('reports an o200k-based estimate', () => {
      expect(countRequestTokens({ ...base, model: 'gemini-2.5-flash' })).toMatchObject({
        exact: false,
        encoding: 'o200k_base',
        factor: defaultEstimateFactors.google,
      });
    });
  });
});
