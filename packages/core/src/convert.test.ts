import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ANTHROPIC_MAX_TOKENS,
  fromAnthropicRequest,
  fromAnthropicResponse,
  toAnthropicRequest,
  toAnthropicResponse,
} from './anthropic.js';
import type { ChatRequest } from './chat.js';
import {
  convertRequest,
  convertResponse,
  createStreamTranslator,
  extractUsage,
  parseRequest,
  parseResponse,
} from './convert.js';
import { BallastError } from './errors.js';
import { fromOpenAIRequest, fromOpenAIResponse, toOpenAIRequest, toOpenAIResponse } from './openai.js';
import { createSseParser, formatSseEvent, type SseEvent } from './sse.js';
import { assemble, fixture, fixtureText, parseAll } from './test-support.js';

const openAIRequests = ['request-basic', 'request-tools', 'request-images', 'request-stream'];
const anthropicRequests = [
  'request-basic',
  'request-tools',
  'request-images',
  'request-thinking',
  'request-stream',
];

/** Tool arguments compared as data: key order and spacing are not meaning. */
function toolCallsOf(request: ChatRequest): Array<{ id: string; name: string; input: unknown }> {
  return request.messages.flatMap((message) =>
    message.content.flatMap((part) =>
      part.type === 'tool-call' ? [{ id: part.id, name: part.name, input: JSON.parse(part.arguments) }] : [],
    ),
  );
}

function toolResultsOf(request: ChatRequest): Array<{ id: string; text: string }> {
  return request.messages.flatMap((message) =>
    message.content.flatMap((part) =>
      part.type === 'tool-result'
        ? [
            {
              id: part.toolCallId,
              text: part.content.map((inner) => (inner.type === 'text' ? inner.text : '')).join(''),
            },
          ]
        : [],
    ),
  );
}

describe('fromOpenAIRequest / toOpenAIRequest', () => {
  describe.each(openAIRequests)('when the fixture is openai/%s', (name) => {
    it('gives back the same body after a round trip through the neutral form', () => {
      const body = fixture(`openai/${name}.json`);
      expect(toOpenAIRequest(fromOpenAIRequest(body))).toEqual(body);
    });
  });

  describe('when tool messages follow an assistant turn', () => {
    it('groups consecutive tool results into one neutral tool message', () => {
      const request = fromOpenAIRequest(fixture('openai/request-tools.json'));
      const toolMessages = request.messages.filter((message) => message.role === 'tool');
      expect(toolMessages).toHaveLength(1);
      expect(toolMessages[0]?.content).toHaveLength(2);
    });
  });

  describe('when the body is malformed', () => {
    it('names the field and what was expected', () => {
      const attempt = () =>
        fromOpenAIRequest({ model: 'gpt-4o', messages: [{ role: 'wizard', content: 'hi' }] });
      expect(attempt).toThrow(
        /body\.messages\[0\]\.role: expected "system", "developer", "user", "assistant" or "tool"/,
      );
      try {
        attempt();
      } catch (error) {
        expect(BallastError.isInstance(error) && error.code).toBe('CORE_INVALID_REQUEST');
      }
    });

    it('rejects a missing messages array', () => {
      expect(() => fromOpenAIRequest({ model: 'gpt-4o' })).toThrow(
        /body\.messages: expected an array of messages/,
      );
    });
  });

  describe('when the client used max_tokens and a plugin lowers the cap', () => {
    it('keeps the field name and sends the new value', () => {
      const request = fromOpenAIRequest({ model: 'gpt-4o', max_tokens: 1000, messages: [] });
      const body = toOpenAIRequest({ ...request, maxOutputTokens: 200 });
      expect(body.max_tokens).toBe(200);
      expect(body.max_completion_tokens).toBeUndefined();
    });
  });
});

describe('fromAnthropicRequest / toAnthropicRequest', () => {
  describe.each(anthropicRequests)('when the fixture is anthropic/%s', (name) => {
    it('gives back the same body after a round trip through the neutral form', () => {
      const body = fixture(`anthropic/${name}.json`);
      expect(toAnthropicRequest(fromAnthropicRequest(body))).toEqual(body);
    });
  });

  describe('when a user turn holds tool results and text', () => {
    it('splits it into a tool message then a user message, in order', () => {
      const request = fromAnthropicRequest(fixture('anthropic/request-tools.json'));
      const roles = request.messages.map((message) => message.role);
      expect(roles).toEqual(['user', 'assistant', 'tool', 'user', 'assistant', 'user']);
      const tool = request.messages[2];
      expect(tool?.content.map((part) => part.type === 'tool-result' && part.isError === true)).toEqual([
        false,
        true,
      ]);
    });
  });

  describe('when an assistant tool call has arguments that are not JSON', () => {
    it('fails with a code instead of sending an empty object', () => {
      const request = fromOpenAIRequest({
        model: 'gpt-4o',
        messages: [
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":' } }],
          },
        ],
      });
      expect(() => toAnthropicRequest(request)).toThrow(
        expect.objectContaining({ code: 'CORE_INVALID_TOOL_ARGUMENTS' }) as unknown as Error,
      );
    });
  });
});

describe('convertRequest', () => {
  describe('when an OpenAI conversation with tools goes to Anthropic', () => {
    const source = fixture('openai/request-tools.json');
    const converted = convertRequest('openai', 'anthropic', source) as Record<string, unknown>;

    it('keeps every tool call and result paired by id, with the same arguments', () => {
      const original = parseRequest('openai', source);
      const back = parseRequest('anthropic', converted);
      expect(toolCallsOf(back)).toEqual(toolCallsOf(original));
      expect(toolResultsOf(back)).toEqual(toolResultsOf(original));
    });

    it('puts all tool results of a turn in the user message right after the tool_use turn', () => {
      const messages = converted.messages as Array<{ role: string; content: unknown }>;
      expect(messages.map((message) => message.role)).toEqual([
        'user',
        'assistant',
        'user',
        'assistant',
        'user',
      ]);
      const results = messages[2]?.content as Array<{ type: string }>;
      expect(results.map((block) => block.type)).toEqual(['tool_result', 'tool_result']);
    });

    it('maps tools, tool choice and parallelism', () => {
      expect((converted.tools as Array<{ name: string }>).map((tool) => tool.name)).toEqual([
        'get_weather',
        'get_local_time',
      ]);
      expect(converted.tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: false });
    });

    it('comes back to OpenAI as the same conversation', () => {
      const again = convertRequest('anthropic', 'openai', converted) as Record<string, unknown>;
      // Anthropic requires an output cap, so one is added on the way.
      const { tools: _againTools, max_completion_tokens: cap, ...againRest } = again;
      const { tools: _sourceTools, ...sourceRest } = source;
      expect(againRest).toEqual(sourceRest);
      expect(cap).toBe(DEFAULT_ANTHROPIC_MAX_TOKENS);
    });
  });

  describe('when an Anthropic conversation with a cached system prompt and an error result goes to OpenAI', () => {
    const source = fixture('anthropic/request-tools.json');
    const converted = convertRequest('anthropic', 'openai', source) as {
      messages: Array<{ role: string; content: unknown; tool_call_id?: string }>;
      max_completion_tokens: number;
    };

    it('sends the system prompt as the first message', () => {
      const system = (source.system as Array<{ text: string }>).map((block) => ({
        type: 'text',
        text: block.text,
      }));
      expect(converted.messages[0]).toEqual({ role: 'system', content: system });
    });

    it('keeps the conversation order with one tool message per result', () => {
      expect(converted.messages.map((message) => message.role)).toEqual([
        'system',
        'user',
        'assistant',
        'tool',
        'tool',
        'user',
        'assistant',
        'user',
      ]);
      expect(converted.max_completion_tokens).toBe(source.max_tokens);
    });

    it('keeps every tool call and result paired by id', () => {
      const back = parseRequest('openai', converted);
      const original = parseRequest('anthropic', source);
      expect(toolCallsOf(back)).toEqual(toolCallsOf(original));
      expect(toolResultsOf(back)).toEqual(toolResultsOf(original));
    });
  });

  describe('when images go either way', () => {
    it('turns an OpenAI data URL into an Anthropic base64 source and a plain URL into a url source', () => {
      const converted = convertRequest('openai', 'anthropic', fixture('openai/request-images.json')) as {
        messages: Array<{ content: Array<{ type: string; source?: { type: string; media_type?: string } }> }>;
      };
      const sources = converted.messages[0]?.content
        .filter((block) => block.type === 'image')
        .map((block) => block.source);
      expect(sources?.map((source) => source?.type)).toEqual(['url', 'base64']);
      expect(sources?.[1]?.media_type).toBe('image/png');
    });

    it('turns an Anthropic base64 image into an OpenAI data URL', () => {
      const source = fixture('anthropic/request-images.json');
      const converted = convertRequest('anthropic', 'openai', source) as {
        messages: Array<{ content: Array<{ type: string; image_url?: { url: string } }> }>;
      };
      const urls = converted.messages[0]?.content.flatMap((part) =>
        part.image_url ? [part.image_url.url] : [],
      );
      expect(urls?.[0]).toMatch(/^data:image\/jpeg;base64,/);
      expect(convertRequest('openai', 'anthropic', converted)).toEqual(source);
    });
  });

  describe('when an Anthropic request with thinking goes to OpenAI', () => {
    it('drops signed thinking, which OpenAI cannot take back, and keeps the tool call', () => {
      const converted = convertRequest('anthropic', 'openai', fixture('anthropic/request-thinking.json')) as {
        messages: Array<{ role: string; tool_calls?: unknown[]; content: unknown }>;
      };
      const assistant = converted.messages.find((message) => message.role === 'assistant');
      expect(assistant?.tool_calls).toHaveLength(1);
      expect(JSON.stringify(converted)).not.toContain('signature');
    });
  });
});

describe('responses', () => {
  describe.each([
    ['openai', 'response-text'],
    ['openai', 'response-tools'],
  ] as const)('when the fixture is %s/%s', (_dialect, name) => {
    it('round-trips through the neutral form', () => {
      const body = fixture(`openai/${name}.json`);
      expect(toOpenAIResponse(fromOpenAIResponse(body))).toEqual(body);
    });
  });

  describe.each([
    ['anthropic', 'response-text'],
    ['anthropic', 'response-tools'],
  ] as const)('when the fixture is %s/%s', (_dialect, name) => {
    it('round-trips through the neutral form', () => {
      const body = fixture(`anthropic/${name}.json`);
      expect(toAnthropicResponse(fromAnthropicResponse(body))).toEqual(body);
    });
  });

  describe('when an Anthropic tool-use response is served to an OpenAI client', () => {
    it('gives tool_calls with JSON arguments, finish_reason tool_calls, and the same usage', () => {
      const source = fixture('anthropic/response-tools.json');
      const converted = convertResponse('anthropic', 'openai', source) as {
        choices: Array<{
          finish_reason: string;
          message: { tool_calls: Array<{ function: { arguments: string } }> };
        }>;
      };
      expect(converted.choices[0]?.finish_reason).toBe('tool_calls');
      const call = converted.choices[0]?.message.tool_calls[0];
      const original = (source.content as Array<{ type: string; input?: unknown }>).find(
        (block) => block.type === 'tool_use',
      );
      expect(JSON.parse(call?.function.arguments ?? 'null')).toEqual(original?.input);
      expect(extractUsage('openai', converted)).toEqual(extractUsage('anthropic', source));
    });
  });

  describe('when an OpenAI response is served to an Anthropic client and back', () => {
    it('keeps text, stop reason and usage (cached tokens included)', () => {
      const source = fixture('openai/response-text.json');
      const anthropic = convertResponse('openai', 'anthropic', source);
      const back = parseResponse('anthropic', anthropic);
      const original = parseResponse('openai', source);
      expect(back.message.content).toEqual(original.message.content);
      expect(back.stopReason).toBe(original.stopReason);
      const { reasoningTokens: _dropped, ...usage } = original.usage;
      expect(back.usage).toEqual(usage);
    });
  });
});

/** Runs a whole upstream SSE text through a translator, splitting it at every `step` characters. */
function translate(
  text: string,
  from: 'openai' | 'anthropic',
  to: 'openai' | 'anthropic',
  step: number,
): SseEvent[] {
  const parser = createSseParser();
  const translator = createStreamTranslator({ from, to, includeUsage: true });
  const out: SseEvent[] = [];
  for (let offset = 0; offset < text.length; offset += step) {
    for (const event of parser.push(text.slice(offset, offset + step))) out.push(...translator.push(event));
  }
  for (const event of parser.end()) out.push(...translator.push(event));
  out.push(...translator.end());
  return out;
}

describe('createStreamTranslator', () => {
  const streams = [
    ['openai', 'stream-text'],
    ['openai', 'stream-tools'],
    ['anthropic', 'stream-text'],
    ['anthropic', 'stream-tools'],
    ['anthropic', 'stream-thinking'],
    ['anthropic', 'stream-error'],
  ] as const;

  describe.each(streams)('when %s/%s is translated to the other dialect', (from, name) => {
    const to = from === 'openai' ? 'anthropic' : 'openai';
    const text = fixtureText(`${from}/${name}.sse`);

    it('carries the same text, tool calls, stop reason and output usage', () => {
      const original = assemble(from, parseAll(text));
      const translated = assemble(to, translate(text, from, to, 1 << 20));
      expect(translated.text).toBe(original.text);
      expect(translated.toolCalls).toEqual(original.toolCalls);
      expect(translated.stopReason).toBe(original.stopReason);
      expect(translated.errors).toEqual(original.errors);
      if (original.usage.outputTokens !== undefined && original.ended) {
        expect(translated.usage.outputTokens).toBe(original.usage.outputTokens);
        expect(translated.usage.inputTokens).toBe(original.usage.inputTokens);
      }
    });

    it('gives the same events whatever the upstream chunking', () => {
      const whole = translate(text, from, to, 1 << 20).map(formatSseEvent);
      for (const step of [1, 7, 64]) {
        expect(translate(text, from, to, step).map(formatSseEvent)).toEqual(whole);
      }
    });

    it('translates back to an equivalent stream', () => {
      const there = translate(text, from, to, 1 << 20)
        .map(formatSseEvent)
        .join('');
      const back = assemble(from, translate(there, to, from, 1 << 20));
      const original = assemble(from, parseAll(text));
      expect(back.text).toBe(original.text);
      expect(back.toolCalls).toEqual(original.toolCalls);
    });
  });

  describe('when the target is Anthropic', () => {
    it('opens and closes content blocks in order and ends with message_delta then message_stop', () => {
      const events = translate(fixtureText('openai/stream-tools.sse'), 'openai', 'anthropic', 1 << 20);
      const names = events.map((event) => event.event);
      expect(names[0]).toBe('message_start');
      expect(names.slice(-2)).toEqual(['message_delta', 'message_stop']);
      let open: number | undefined;
      for (const event of events) {
        const payload = JSON.parse(event.data) as { type: string; index?: number };
        if (payload.type === 'content_block_start') {
          expect(open).toBeUndefined();
          open = payload.index;
        }
        if (payload.type === 'content_block_delta') expect(payload.index).toBe(open);
        if (payload.type === 'content_block_stop') {
          expect(payload.index).toBe(open);
          open = undefined;
        }
      }
      expect(open).toBeUndefined();
    });
  });

  describe('when the target is OpenAI and the client asked for usage', () => {
    it('sends one usage chunk with no choices, then [DONE]', () => {
      const events = translate(fixtureText('anthropic/stream-text.sse'), 'anthropic', 'openai', 1 << 20);
      expect(events.at(-1)?.data).toBe('[DONE]');
      const usageChunk = JSON.parse(events.at(-2)?.data ?? '{}') as { choices: unknown[]; usage: unknown };
      expect(usageChunk.choices).toEqual([]);
      expect(usageChunk.usage).toMatchObject({
        prompt_tokens: expect.any(Number),
        completion_tokens: expect.any(Number),
      });
    });
  });

  describe('when upstream stops without its final event', () => {
    it('still closes the client stream properly on end()', () => {
      const text = fixtureText('openai/stream-text.sse');
      const cut = text.slice(0, text.indexOf('"finish_reason":"stop"'));
      const events = translate(cut.slice(0, cut.lastIndexOf('\n\n') + 2), 'openai', 'anthropic', 1 << 20);
      expect(events.at(-1)?.event).toBe('message_stop');
    });
  });

  describe('when both dialects are the same', () => {
    it('passes events through unchanged', () => {
      const events = parseAll(fixtureText('anthropic/stream-tools.sse'));
      const translator = createStreamTranslator({ from: 'anthropic', to: 'anthropic' });
      expect(events.flatMap((event) => translator.push(event))).toEqual(events);
    });
  });
});
