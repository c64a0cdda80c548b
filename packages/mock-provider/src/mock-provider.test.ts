// The mock provider over real loopback sockets, read by the official SDKs.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import { BallastError, createSseParser, type SseEvent } from '@ballast/core';
import OpenAI from 'openai';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createMockProvider, type MockProvider, type MockProviderOptions } from './index.js';

async function start(options: MockProviderOptions = {}): Promise<MockProvider> {
  const provider = await createMockProvider(options);
  onTestFinished(() => provider.close());
  return provider;
}

function openai(provider: MockProvider, timeout?: number): OpenAI {
  return new OpenAI({
    apiKey: 'test-key',
    baseURL: provider.openaiBaseUrl,
    maxRetries: 0,
    ...(timeout === undefined ? {} : { timeout }),
  });
}

function anthropic(provider: MockProvider): Anthropic {
  return new Anthropic({ apiKey: 'test-key', baseURL: provider.anthropicBaseUrl, maxRetries: 0 });
}

const userMessage = [{ role: 'user' as const, content: 'What is the weather in Paris?' }];

async function post(provider: MockProvider, path: string, body: unknown): Promise<Response> {
  return fetch(`${provider.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function sseEvents(response: Response): Promise<SseEvent[]> {
  const parser = createSseParser();
  return [...parser.push(await response.text()), ...parser.end()];
}

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('createMockProvider', () => {
  describe('when an OpenAI client asks for a completion', () => {
    it('answers with the default text, the echoed model and counted usage', async () => {
      const provider = await start();
      const completion = await openai(provider).chat.completions.create({
        model: 'gpt-4o-mini',
        messages: userMessage,
      });
      expect(completion.id).toBe('chatcmpl-mock-1');
      expect(completion.model).toBe('gpt-4o-mini');
      expect(completion.choices[0]?.message.content).toBe('Hello from the mock provider.');
      expect(completion.choices[0]?.finish_reason).toBe('stop');
      expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
      expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
      expect(completion.usage?.total_tokens).toBe(
        (completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0),
      );
    });

    it('sends the fields of a real chat.completion body', async () => {
      const provider = await start();
      provider.script({
        kind: 'text',
        text: 'Sunny.',
        usage: { inputTokens: 30, outputTokens: 2, cachedInputTokens: 10 },
      });
      const response = await post(provider, '/v1/chat/completions', {
        model: 'gpt-4o',
        messages: userMessage,
      });
      expect(response.headers.get('x-request-id')).toBe('req_mock_1');
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toEqual({
        id: 'chatcmpl-mock-1',
        object: 'chat.completion',
        created: expect.any(Number),
        model: 'gpt-4o',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Sunny.', refusal: null, annotations: [] },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage: {
          prompt_tokens: 30,
          completion_tokens: 2,
          total_tokens: 32,
          prompt_tokens_details: { cached_tokens: 10, audio_tokens: 0 },
          completion_tokens_details: {
            reasoning_tokens: 0,
            audio_tokens: 0,
            accepted_prediction_tokens: 0,
            rejected_prediction_tokens: 0,
          },
        },
        service_tier: 'default',
        system_fingerprint: 'fp_mock',
      });
    });
  });

  describe('when an Anthropic client asks for a message', () => {
    it('answers with the scripted text and end_turn', async () => {
      const provider = await start();
      provider.script({ kind: 'text', text: 'It is sunny in Paris.' });
      const message = await anthropic(provider).messages.create({
        model: 'claude-sonnet-4-5',
        max_tokens: 256,
        messages: userMessage,
      });
      expect(message.id).toBe('msg_mock_1');
      expect(message.model).toBe('claude-sonnet-4-5');
      expect(message.content).toEqual([{ type: 'text', text: 'It is sunny in Paris.' }]);
      expect(message.stop_reason).toBe('end_turn');
      expect(message.usage.input_tokens).toBeGreaterThan(0);
      expect(message.usage.output_tokens).toBeGreaterThan(0);
    });

    it('sends the fields of a real message body, cached tokens apart from input tokens', async () => {
      const provider = await start();
      provider.script({
        kind: 'text',
        text: 'Sunny.',
        usage: { inputTokens: 30, outputTokens: 2, cachedInputTokens: 10 },
      });
      const response = await post(provider, '/v1/messages', {
        model: 'claude-sonnet-4-5',
        max_tokens: 64,
        messages: userMessage,
      });
      expect(response.headers.get('request-id')).toBe('req_mock_1');
      expect(await response.json()).toEqual({
        id: 'msg_mock_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        content: [{ type: 'text', text: 'Sunny.' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: {
          input_tokens: 20,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 10,
          cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
          output_tokens: 2,
          service_tier: 'standard',
        },
      });
    });
  });

  describe('when the request streams', () => {
    it('lets the openai SDK assemble the text', async () => {
      const provider = await start();
      provider.script({ kind: 'text', text: 'One two three four five six seven eight nine ten.' });
      const completion = await openai(provider)
        .chat.completions.stream({ model: 'gpt-4o', messages: userMessage })
        .finalChatCompletion();
      expect(completion.choices[0]?.message.content).toBe(
        'One two three four five six seven eight nine ten.',
      );
      expect(completion.choices[0]?.finish_reason).toBe('stop');
      expect(completion.model).toBe('gpt-4o');
    });

    it('lets the Anthropic SDK assemble the text and usage', async () => {
      const provider = await start();
      provider.script({
        kind: 'text',
        text: 'One two three four five six.',
        usage: { inputTokens: 12, outputTokens: 7 },
      });
      const message = await anthropic(provider)
        .messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: userMessage })
        .finalMessage();
      expect(message.content).toEqual([{ type: 'text', text: 'One two three four five six.' }]);
      expect(message.stop_reason).toBe('end_turn');
      expect(message.usage.input_tokens).toBe(12);
      expect(message.usage.output_tokens).toBe(7);
    });

    it('splits the text into chunkCount content chunks', async () => {
      const provider = await start();
      provider.script({ kind: 'text', text: 'abcdefghij', chunkCount: 3 });
      const stream = await openai(provider).chat.completions.create({
        model: 'gpt-4o',
        messages: userMessage,
        stream: true,
      });
      const pieces: string[] = [];
      for await (const chunk of stream) {
        const content = chunk.choices[0]?.delta.content;
        if (content) pieces.push(content);
      }
      expect(pieces).toEqual(['abc', 'defg', 'hij']);
    });

    it('sends Anthropic events with matching event lines, in the real order', async () => {
      const provider = await start();
      provider.script({ kind: 'text', text: 'Hi there.' });
      const response = await post(provider, '/v1/messages', {
        model: 'claude-sonnet-4-5',
        max_tokens: 64,
        stream: true,
        messages: userMessage,
      });
      expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      const events = await sseEvents(response);
      expect(events.map((event) => event.event)).toEqual([
        'message_start',
        'content_block_start',
        'ping',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ]);
      for (const event of events) expect((JSON.parse(event.data) as { type: string }).type).toBe(event.event);
    });

    it('paces the events by chunkDelayMs', async () => {
      const provider = await start();
      provider.script({ kind: 'text', text: 'a b c d e f g h', chunkCount: 4, chunkDelayMs: 30 });
      const stream = await openai(provider).chat.completions.create({
        model: 'gpt-4o',
        messages: userMessage,
        stream: true,
      });
      const arrivals: number[] = [];
      for await (const chunk of stream) if (chunk.choices[0]?.delta.content) arrivals.push(Date.now());
      expect(arrivals).toHaveLength(4);
      // Four content chunks, each after a pause: they cannot all arrive in the same instant.
      expect((arrivals[3] as number) - (arrivals[0] as number)).toBeGreaterThanOrEqual(60);
    });
  });

  describe('when stream_options.include_usage is set', () => {
    it('sends a usage chunk with empty choices before [DONE]', async () => {
      const provider = await start();
      provider.script({ kind: 'text', text: 'Hi.', usage: { inputTokens: 5, outputTokens: 1 } });
      const response = await post(provider, '/v1/chat/completions', {
        model: 'gpt-4o',
        messages: userMessage,
        stream: true,
        stream_options: { include_usage: true },
      });
      const events = await sseEvents(response);
      expect(events.at(-1)?.data).toBe('[DONE]');
      const usageChunk = JSON.parse(events.at(-2)?.data ?? '{}') as { choices: unknown[]; usage: unknown };
      expect(usageChunk.choices).toEqual([]);
      expect(usageChunk.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 });
      for (const event of events.slice(0, -2)) {
        expect((JSON.parse(event.data) as { usage: unknown }).usage).toBeNull();
      }
    });

    it('lets the openai SDK read the usage', async () => {
      const provider = await start();
      provider.script({ kind: 'text', text: 'Hi.', usage: { inputTokens: 5, outputTokens: 1 } });
      const completion = await openai(provider)
        .chat.completions.stream({
          model: 'gpt-4o',
          messages: userMessage,
          stream_options: { include_usage: true },
        })
        .finalChatCompletion();
      expect(completion.usage?.total_tokens).toBe(6);
    });
  });

  describe('when stream_options.include_usage is not set', () => {
    it('sends no usage chunk and no usage field', async () => {
      const provider = await start();
      const response = await post(provider, '/v1/chat/completions', {
        model: 'gpt-4o',
        messages: userMessage,
        stream: true,
      });
      const events = await sseEvents(response);
      expect(events.at(-1)?.data).toBe('[DONE]');
      const chunks = events.slice(0, -1).map((event) => JSON.parse(event.data) as Record<string, unknown>);
      expect(chunks.every((chunk) => !('usage' in chunk))).toBe(true);
      expect(chunks.every((chunk) => (chunk.choices as unknown[]).length === 1)).toBe(true);
    });
  });

  describe('when the reply is tool calls', () => {
    const reply = {
      kind: 'tool-calls' as const,
      calls: [
        { name: 'get_weather', arguments: { city: 'Paris', unit: 'celsius', days: [1, 2, 3] } },
        { id: 'call_fixed', name: 'get_time', arguments: { zone: 'Europe/Paris' } },
      ],
    };

    it('returns OpenAI tool_calls with JSON arguments', async () => {
      const provider = await start();
      provider.script(reply);
      const completion = await openai(provider).chat.completions.create({
        model: 'gpt-4o',
        messages: userMessage,
      });
      const choice = completion.choices[0];
      expect(choice?.finish_reason).toBe('tool_calls');
      expect(choice?.message.content).toBeNull();
      expect(choice?.message.tool_calls).toEqual([
        {
          id: 'call_mock_1_0',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius","days":[1,2,3]}' },
        },
        {
          id: 'call_fixed',
          type: 'function',
          function: { name: 'get_time', arguments: '{"zone":"Europe/Paris"}' },
        },
      ]);
    });

    it('streams OpenAI tool calls the openai SDK assembles', async () => {
      const provider = await start();
      provider.script({ ...reply, text: 'Let me check.' });
      const completion = await openai(provider)
        .chat.completions.stream({ model: 'gpt-4o', messages: userMessage })
        .finalChatCompletion();
      const choice = completion.choices[0];
      expect(choice?.finish_reason).toBe('tool_calls');
      expect(choice?.message.content).toBe('Let me check.');
      const calls = choice?.message.tool_calls?.map((call) =>
        call.type === 'function' ? [call.id, call.function.name, JSON.parse(call.function.arguments)] : null,
      );
      expect(calls).toEqual([
        ['call_mock_1_0', 'get_weather', { city: 'Paris', unit: 'celsius', days: [1, 2, 3] }],
        ['call_fixed', 'get_time', { zone: 'Europe/Paris' }],
      ]);
    });

    it('streams a tool-only answer whose first chunk carries the role and no content', async () => {
      const provider = await start();
      provider.script(reply);
      const response = await post(provider, '/v1/chat/completions', {
        model: 'gpt-4o',
        messages: userMessage,
        stream: true,
      });
      const events = await sseEvents(response);
      const first = JSON.parse(events[0]?.data ?? '{}') as {
        choices: Array<{ delta: Record<string, unknown> }>;
      };
      expect(first.choices[0]?.delta).toEqual({
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            index: 0,
            id: 'call_mock_1_0',
            type: 'function',
            function: { name: 'get_weather', arguments: '' },
          },
        ],
        refusal: null,
      });
    });

    it('returns Anthropic tool_use blocks with input objects', async () => {
      const provider = await start();
      provider.script({ ...reply, text: 'Let me check.' });
      const message = await anthropic(provider).messages.create({
        model: 'claude-sonnet-4-5',
        max_tokens: 256,
        messages: userMessage,
      });
      expect(message.stop_reason).toBe('tool_use');
      expect(message.content).toEqual([
        { type: 'text', text: 'Let me check.' },
        {
          type: 'tool_use',
          id: 'toolu_mock_1_0',
          name: 'get_weather',
          input: { city: 'Paris', unit: 'celsius', days: [1, 2, 3] },
        },
        { type: 'tool_use', id: 'call_fixed', name: 'get_time', input: { zone: 'Europe/Paris' } },
      ]);
    });

    it('streams Anthropic tool_use blocks the Anthropic SDK assembles', async () => {
      const provider = await start();
      provider.script(reply);
      const message = await anthropic(provider)
        .messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 256, messages: userMessage })
        .finalMessage();
      expect(message.stop_reason).toBe('tool_use');
      expect(message.content).toEqual([
        {
          type: 'tool_use',
          id: 'toolu_mock_1_0',
          name: 'get_weather',
          input: { city: 'Paris', unit: 'celsius', days: [1, 2, 3] },
        },
        { type: 'tool_use', id: 'call_fixed', name: 'get_time', input: { zone: 'Europe/Paris' } },
      ]);
    });
  });

  describe('when the reply is quota', () => {
    it('gives the openai SDK a 429 insufficient_quota error with retry and reset headers', async () => {
      const provider = await start();
      provider.script({ kind: 'quota', retryAfterSeconds: 20 });
      const error = await rejectionOf(
        openai(provider).chat.completions.create({ model: 'gpt-4o', messages: userMessage }),
      );
      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      const apiError = error as InstanceType<typeof OpenAI.RateLimitError>;
      expect(apiError.status).toBe(429);
      expect(apiError.code).toBe('insufficient_quota');
      expect(apiError.type).toBe('insufficient_quota');
      expect(apiError.headers.get('retry-after')).toBe('20');
      expect(apiError.headers.get('x-ratelimit-reset-requests')).toBe('20s');
      expect(apiError.headers.get('x-ratelimit-reset-tokens')).toBe('20s');
    });

    it('gives the Anthropic SDK a 400 credit-balance error with retry and reset headers', async () => {
      const provider = await start();
      provider.script({ kind: 'quota', retryAfterSeconds: 30, resetSeconds: 90 });
      const before = Date.now();
      const error = await rejectionOf(
        anthropic(provider).messages.create({
          model: 'claude-sonnet-4-5',
          max_tokens: 64,
          messages: userMessage,
        }),
      );
      expect(error).toBeInstanceOf(Anthropic.BadRequestError);
      const apiError = error as InstanceType<typeof Anthropic.BadRequestError>;
      expect(apiError.status).toBe(400);
      expect(apiError.error).toEqual({
        type: 'error',
        error: {
          type: 'invalid_request_error',
          message: expect.stringContaining('credit balance is too low'),
        },
      });
      expect(apiError.headers.get('retry-after')).toBe('30');
      const reset = apiError.headers.get('anthropic-ratelimit-requests-reset') ?? '';
      expect(reset).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      expect(Date.parse(reset) - before).toBeGreaterThanOrEqual(89_000);
      expect(Date.parse(reset) - before).toBeLessThanOrEqual(92_000);
    });
  });

  describe('when the reply is an error', () => {
    it('gives the openai SDK a 500 server_error', async () => {
      const provider = await start();
      provider.script({ kind: 'error', status: 500 });
      const error = await rejectionOf(
        openai(provider).chat.completions.create({ model: 'gpt-4o', messages: userMessage }),
      );
      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      const apiError = error as InstanceType<typeof OpenAI.InternalServerError>;
      expect(apiError.status).toBe(500);
      expect(apiError.error).toEqual({
        message: expect.any(String),
        type: 'server_error',
        param: null,
        code: null,
      });
    });

    it('gives the Anthropic SDK a 529 overloaded_error with the scripted headers', async () => {
      const provider = await start();
      provider.script({ kind: 'error', status: 529, headers: { 'retry-after': '3' } });
      const error = await rejectionOf(
        anthropic(provider).messages.create({
          model: 'claude-sonnet-4-5',
          max_tokens: 64,
          messages: userMessage,
        }),
      );
      expect(error).toBeInstanceOf(Anthropic.APIError);
      const apiError = error as InstanceType<typeof Anthropic.APIError>;
      expect(apiError.status).toBe(529);
      expect(apiError.error).toEqual({
        type: 'error',
        error: { type: 'overloaded_error', message: 'Overloaded' },
      });
      expect(apiError.headers?.get('retry-after')).toBe('3');
    });

    it('uses the scripted type, code and message', async () => {
      const provider = await start();
      provider.script({
        kind: 'error',
        status: 503,
        type: 'unavailable',
        code: 'down',
        message: 'Down for a bit.',
      });
      const response = await post(provider, '/v1/chat/completions', {
        model: 'gpt-4o',
        messages: userMessage,
      });
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        error: { message: 'Down for a bit.', type: 'unavailable', param: null, code: 'down' },
      });
    });
  });

  describe('when the body is not JSON', () => {
    it('answers 400 in each dialect’s error shape and consumes no scripted reply', async () => {
      const provider = await start();
      provider.script({ kind: 'text', text: 'kept' });
      const openaiResponse = await post(provider, '/v1/chat/completions', '{"model":');
      expect(openaiResponse.status).toBe(400);
      expect(await openaiResponse.json()).toEqual({
        error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: null },
      });
      const anthropicResponse = await post(provider, '/v1/messages', 'not json');
      expect(anthropicResponse.status).toBe(400);
      expect(await anthropicResponse.json()).toEqual({
        type: 'error',
        error: { type: 'invalid_request_error', message: expect.any(String) },
      });
      const completion = await openai(provider).chat.completions.create({
        model: 'gpt-4o',
        messages: userMessage,
      });
      expect(completion.choices[0]?.message.content).toBe('kept');
    });
  });

  describe('when the reply is hang', () => {
    it('never answers, and counts the abort when the client times out', async () => {
      const provider = await start();
      provider.script({ kind: 'hang' });
      const error = await rejectionOf(
        openai(provider, 200).chat.completions.create({ model: 'gpt-4o', messages: userMessage }),
      );
      expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
      await provider.waitForAborts(1);
      expect(provider.abortedResponses).toBe(1);
    });
  });

  describe('when the reply is hang-after-headers', () => {
    it('sends 200 event-stream headers, then nothing until the client aborts', async () => {
      const provider = await start();
      provider.script({ kind: 'hang-after-headers' });
      const controller = new AbortController();
      const response = await fetch(`${provider.url}/v1/messages`, {
        method: 'POST',
        body: JSON.stringify({
          model: 'claude-sonnet-4-5',
          max_tokens: 64,
          stream: true,
          messages: userMessage,
        }),
        signal: controller.signal,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      const reader = response.body?.getReader();
      const firstRead = reader?.read();
      const outcome = await Promise.race([
        firstRead,
        new Promise((resolve) => setTimeout(() => resolve('nothing yet'), 100)),
      ]);
      expect(outcome).toBe('nothing yet');
      controller.abort();
      await firstRead?.catch(() => undefined);
      await provider.waitForAborts(1);
      expect(provider.abortedResponses).toBe(1);
    });
  });

  describe('when the client aborts a paced stream', () => {
    it('counts the abort', async () => {
      const provider = await start();
      provider.script({ kind: 'text', text: 'a b c d e f g h i j', chunkCount: 10, chunkDelayMs: 50 });
      const stream = await openai(provider).chat.completions.create({
        model: 'gpt-4o',
        messages: userMessage,
        stream: true,
      });
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) break;
      }
      await provider.waitForAborts(1);
      expect(provider.abortedResponses).toBe(1);
    });
  });

  describe('when the reply is disconnect', () => {
    it('makes the openai SDK stream throw after the first chunks', async () => {
      const provider = await start();
      provider.script({
        kind: 'disconnect',
        afterChunks: 2,
        text: 'one two three four five six seven eight nine ten',
      });
      const stream = await openai(provider).chat.completions.create({
        model: 'gpt-4o',
        messages: userMessage,
        stream: true,
      });
      let text = '';
      const error = await rejectionOf(
        (async () => {
          for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
        })(),
      );
      expect(error).toBeInstanceOf(Error);
      expect(text).toBe('one two three four five six seven eight ');
      expect(provider.abortedResponses).toBe(0);
    });

    it('makes the Anthropic SDK stream throw', async () => {
      const provider = await start();
      provider.script({ kind: 'disconnect', afterChunks: 1, text: 'one two three four five six' });
      const error = await rejectionOf(
        anthropic(provider)
          .messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: userMessage })
          .finalMessage(),
      );
      expect(error).toBeInstanceOf(Error);
    });

    it('cuts a non-streaming body in half', async () => {
      const provider = await start();
      provider.script({ kind: 'disconnect', afterChunks: 0, text: 'one two three' });
      const error = await rejectionOf(
        openai(provider).chat.completions.create({ model: 'gpt-4o', messages: userMessage }),
      );
      expect(error).toBeInstanceOf(Error);
      expect(provider.abortedResponses).toBe(0);
    });
  });

  describe('when replies are scripted', () => {
    it('answers in script order, then with the default reply', async () => {
      const provider = await start({ defaultReply: { kind: 'text', text: 'default' } });
      provider.script(
        { kind: 'text', text: 'first' },
        { kind: 'error', status: 500 },
        { kind: 'text', text: 'third' },
      );
      const client = openai(provider);
      const ask = () => client.chat.completions.create({ model: 'gpt-4o', messages: userMessage });
      expect((await ask()).choices[0]?.message.content).toBe('first');
      expect(await rejectionOf(ask())).toBeInstanceOf(OpenAI.InternalServerError);
      expect((await ask()).choices[0]?.message.content).toBe('third');
      expect((await ask()).choices[0]?.message.content).toBe('default');
      provider.setDefaultReply({ kind: 'text', text: 'new default' });
      expect((await ask()).choices[0]?.message.content).toBe('new default');
    });

    it('calls a reply function with the recorded request', async () => {
      const provider = await start({ logRequests: false });
      provider.script((request) => ({
        kind: 'text',
        text: `${request.dialect} ${request.model} ${request.stream}`,
      }));
      const message = await anthropic(provider).messages.create({
        model: 'claude-haiku-4-5',
        max_tokens: 64,
        messages: userMessage,
      });
      expect(message.content).toEqual([{ type: 'text', text: 'anthropic claude-haiku-4-5 false' }]);
    });

    it('answers 500 in the dialect’s shape when a reply function throws', async () => {
      const provider = await start();
      provider.script(() => {
        throw new Error('boom');
      });
      const response = await post(provider, '/v1/messages', {
        model: 'm',
        max_tokens: 1,
        messages: userMessage,
      });
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({
        type: 'error',
        error: { type: 'api_error', message: expect.stringContaining('boom') },
      });
    });
  });

  describe('when requests are logged', () => {
    it('records dialect, path, model, headers, body and stream flag', async () => {
      const provider = await start();
      await openai(provider).chat.completions.create({ model: 'gpt-4o', messages: userMessage });
      await anthropic(provider)
        .messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: userMessage })
        .finalMessage();
      expect(provider.requests).toHaveLength(2);
      const [first, second] = provider.requests;
      expect(first).toMatchObject({
        dialect: 'openai',
        path: '/v1/chat/completions',
        model: 'gpt-4o',
        stream: false,
        body: { model: 'gpt-4o', messages: userMessage },
      });
      expect(first?.headers.authorization).toBe('Bearer test-key');
      expect(first?.receivedAt).toBeGreaterThan(0);
      expect(second).toMatchObject({
        dialect: 'anthropic',
        path: '/v1/messages',
        model: 'claude-sonnet-4-5',
        stream: true,
      });
      // The SDK sends the key as x-api-key or as a bearer token, depending on its version.
      expect(second?.headers['x-api-key'] ?? second?.headers.authorization?.replace(/^Bearer /, '')).toBe(
        'test-key',
      );
      expect(second?.headers['anthropic-version']).toBeTypeOf('string');
    });
  });

  describe('when logRequests is false', () => {
    it('keeps no requests', async () => {
      const provider = await start({ logRequests: false });
      await openai(provider).chat.completions.create({ model: 'gpt-4o', messages: userMessage });
      expect(provider.requests).toEqual([]);
    });
  });

  describe('when other endpoints are called', () => {
    it('lists mock models in OpenAI’s shape', async () => {
      const provider = await start();
      const models = [];
      for await (const model of openai(provider).models.list()) models.push(model);
      expect(models.length).toBeGreaterThan(0);
      expect(models[0]).toEqual({
        id: expect.any(String),
        object: 'model',
        created: expect.any(Number),
        owned_by: 'mock-provider',
      });
    });

    it('answers /healthz with its name', async () => {
      const provider = await start({ name: 'primary' });
      const response = await fetch(`${provider.url}/healthz`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'ok', name: 'primary' });
    });

    it('answers an unknown path with an OpenAI-shaped 404', async () => {
      const provider = await start();
      const response = await fetch(`${provider.url}/v1/nothing`);
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    });
  });
});

describe('MockProvider.waitForAborts', () => {
  describe('when the count is not reached in time', () => {
    it('rejects with MOCK_PROVIDER_WAIT_TIMEOUT', async () => {
      const provider = await start();
      const error = await rejectionOf(provider.waitForAborts(1, 50));
      expect(BallastError.isInstance(error)).toBe(true);
      expect((error as BallastError).code).toBe('MOCK_PROVIDER_WAIT_TIMEOUT');
    });
  });
});

describe('MockProvider.reset', () => {
  describe('when requests, a script and aborts are recorded', () => {
    it('clears them and restarts the response ids', async () => {
      const provider = await start();
      provider.script({ kind: 'hang' }, { kind: 'text', text: 'never used' });
      await rejectionOf(
        openai(provider, 100).chat.completions.create({ model: 'gpt-4o', messages: userMessage }),
      );
      await provider.waitForAborts(1);
      provider.reset();
      expect(provider.requests).toEqual([]);
      expect(provider.abortedResponses).toBe(0);
      const completion = await openai(provider).chat.completions.create({
        model: 'gpt-4o',
        messages: userMessage,
      });
      expect(completion.id).toBe('chatcmpl-mock-1');
      expect(completion.choices[0]?.message.content).toBe('Hello from the mock provider.');
    });
  });
});

describe('MockProvider.close', () => {
  describe('when a request is hanging', () => {
    it('terminates it promptly and does not count it as a client abort', async () => {
      const provider = await createMockProvider();
      provider.script({ kind: 'hang' });
      const pending = rejectionOf(
        openai(provider).chat.completions.create({ model: 'gpt-4o', messages: userMessage }),
      );
      await until(() => provider.requests.length === 1);
      await provider.close();
      expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
      expect(provider.abortedResponses).toBe(0);
    });
  });

  describe('when called twice', () => {
    it('resolves both times', async () => {
      const provider = await createMockProvider();
      await provider.close();
      await expect(provider.close()).resolves.toBeUndefined();
    });
  });
});

const cliPath = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

describe('mock-provider CLI', () => {
  // The CLI is tested as built; `pnpm test` builds first. Build the package to un-skip.
  describe.skipIf(!existsSync(cliPath))('when started with --text and stopped with SIGTERM', () => {
    it('prints one listening line, serves the text and exits 0', async () => {
      const child = spawn(process.execPath, [cliPath, '--port', '0', '--text', 'From the CLI.'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      onTestFinished(() => {
        if (child.exitCode === null) child.kill('SIGKILL');
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      await until(() => output.includes('\n'), 5000);
      const match = /^mock-provider listening on (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(output);
      expect(match).not.toBeNull();
      const client = new OpenAI({ apiKey: 'k', baseURL: `${match?.[1]}/v1`, maxRetries: 0 });
      const completion = await client.chat.completions.create({ model: 'gpt-4o', messages: userMessage });
      expect(completion.choices[0]?.message.content).toBe('From the CLI.');
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output.split('\n').filter(Boolean)).toHaveLength(1);
    });
  });
});
