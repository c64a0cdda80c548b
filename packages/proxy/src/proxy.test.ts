import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AbortOutcome, CompletionOutcome, GatewayPlugin } from '@ballast/core';
import { createMockProvider, type MockProvider } from '@ballast/mock-provider';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { post, type StackOptions, startStack, type TestStack } from './test-stack.js';

let stack: TestStack | undefined;
async function stackWith(options: StackOptions = {}): Promise<TestStack> {
  stack = await startStack(options);
  return stack;
}
const extraProviders: MockProvider[] = [];
afterEach(async () => {
  await stack?.close();
  stack = undefined;
  await Promise.all(extraProviders.splice(0).map((provider) => provider.close()));
});

async function startSpare(): Promise<MockProvider> {
  const provider = await createMockProvider({ name: 'spare' });
  extraProviders.push(provider);
  return provider;
}

const weatherCall = {
  id: 'call_weather_1',
  name: 'get_weather',
  arguments: { city: 'Paris', unit: 'celsius' },
};
const tools = [
  {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' }, unit: { type: 'string' } },
        required: ['city'],
      },
    },
  },
];

describe('createProxy', () => {
  describe('when an OpenAI client calls an openai provider', () => {
    it('returns the completion with the routing, cost and overhead headers', async () => {
      const { openai, primary } = await stackWith();
      primary.script({
        kind: 'text',
        text: 'Paris is the capital of France.',
        usage: { inputTokens: 1000, outputTokens: 500 },
      });
      const { data, response } = await openai.chat.completions
        .create({ model: 'mock-model', messages: [{ role: 'user', content: 'Capital of France?' }] })
        .withResponse();
      expect(data.choices[0]?.message.content).toBe('Paris is the capital of France.');
      expect(response.headers.get('x-ballast-provider')).toBe('primary');
      expect(response.headers.get('x-ballast-fallbacks')).toBe('0');
      expect(Number(response.headers.get('x-ballast-cost-usd'))).toBeCloseTo((1000 * 1 + 500 * 2) / 1e6, 10);
      expect(Number(response.headers.get('x-ballast-overhead-ms'))).toBeGreaterThanOrEqual(0);
      expect(response.headers.get('x-ballast-request-id')).toMatch(/^req_/);
      // The provider got the proxy's key, not the client's.
      expect(primary.requests[0]?.headers.authorization).toBe('Bearer sk-primary-secret');
    });
  });

  describe('when an Anthropic client calls an anthropic provider', () => {
    it('returns the message with the same shape', async () => {
      const { anthropic, secondary } = await stackWith();
      secondary.script({ kind: 'text', text: 'Bonjour.' });
      const message = await anthropic.messages.create({
        model: 'claude-sonnet-4-5',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'Say hello in French' }],
      });
      expect(message.content).toEqual([{ type: 'text', text: 'Bonjour.' }]);
      expect(secondary.requests[0]?.headers['x-api-key']).toBe('sk-ant-secondary-secret');
    });
  });

  describe('when an OpenAI client streams', () => {
    it('passes the stream through and hides the usage chunk it did not ask for', async () => {
      const { url, openai, primary } = await stackWith();
      const text = 'One two three four five six seven eight nine ten.';
      primary.setDefaultReply({ kind: 'text', text, chunkCount: 5 });
      const completion = await openai.chat.completions
        .stream({ model: 'mock-model', messages: [{ role: 'user', content: 'count' }] })
        .finalChatCompletion();
      expect(completion.choices[0]?.message.content).toBe(text);
      // Upstream was asked for usage even though the client did not ask...
      expect(primary.requests[0]?.body.stream_options).toEqual({ include_usage: true });
      // ...and the client does not see it.
      const raw = await post(`${url}/v1/chat/completions`, {
        model: 'mock-model',
        stream: true,
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(raw.text).toContain('data: [DONE]');
      expect(raw.text).not.toContain('"choices":[]');
    });

    it('delivers the usage chunk when the client asks for it', async () => {
      const { openai, primary } = await stackWith();
      primary.setDefaultReply({
        kind: 'text',
        text: 'short answer',
        usage: { inputTokens: 12, outputTokens: 3 },
      });
      const completion = await openai.chat.completions
        .stream({
          model: 'mock-model',
          messages: [{ role: 'user', content: 'q' }],
          stream_options: { include_usage: true },
        })
        .finalChatCompletion();
      expect(completion.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 3 });
    });
  });

  describe('when the client speaks the other dialect than the provider', () => {
    it('serves OpenAI tool calls from an anthropic provider, plain and streaming', async () => {
      const { openai, secondary } = await stackWith({
        config: { routes: [{ match: '*', targets: [{ provider: 'secondary' }] }] },
      });
      secondary.setDefaultReply({ kind: 'tool-calls', calls: [weatherCall] });
      const plain = await openai.chat.completions.create({
        model: 'claude-haiku-4-5',
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
        tools,
      });
      expect(plain.choices[0]?.finish_reason).toBe('tool_calls');
      const call = plain.choices[0]?.message.tool_calls?.[0];
      expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual(weatherCall.arguments);
      // The anthropic provider got an Anthropic request with the tool translated.
      expect(secondary.requests[0]?.body.tools[0]).toMatchObject({
        name: 'get_weather',
        input_schema: tools[0]?.function.parameters,
      });

      const streamed = await openai.chat.completions
        .stream({
          model: 'claude-haiku-4-5',
          messages: [{ role: 'user', content: 'Weather in Paris?' }],
          tools,
        })
        .finalChatCompletion();
      const streamedCall = streamed.choices[0]?.message.tool_calls?.[0];
      expect(streamedCall?.type === 'function' && streamedCall.function.name).toBe('get_weather');
      expect(streamedCall?.type === 'function' && JSON.parse(streamedCall.function.arguments)).toEqual(
        weatherCall.arguments,
      );
    });

    it('serves Anthropic tool use from an openai provider, streaming, and a tool result round trip', async () => {
      const { anthropic, primary } = await stackWith({
        config: { routes: [{ match: '*', targets: [{ provider: 'primary' }] }] },
      });
      primary.script(
        { kind: 'tool-calls', calls: [weatherCall] },
        { kind: 'text', text: 'It is 18 °C in Paris.' },
      );
      const first = await anthropic.messages
        .stream({
          model: 'gpt-4o',
          max_tokens: 200,
          messages: [{ role: 'user', content: 'Weather in Paris?' }],
          tools: [
            {
              name: 'get_weather',
              input_schema: { type: 'object', properties: { city: { type: 'string' } } },
            },
          ],
        })
        .finalMessage();
      expect(first.stop_reason).toBe('tool_use');
      const toolUse = first.content.find((block) => block.type === 'tool_use');
      expect(toolUse?.type === 'tool_use' && toolUse.input).toEqual(weatherCall.arguments);
      const second = await anthropic.messages.create({
        model: 'gpt-4o',
        max_tokens: 200,
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: first.content },
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: weatherCall.id, content: '18 °C, sunny' }],
          },
        ],
      });
      expect(second.content[0]).toMatchObject({ type: 'text', text: 'It is 18 °C in Paris.' });
      const upstreamMessages = primary.requests[1]?.body.messages as Array<{
        role: string;
        tool_call_id?: string;
      }>;
      expect(upstreamMessages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool']);
      expect(upstreamMessages[2]?.tool_call_id).toBe(weatherCall.id);
    });
  });

  describe('when the primary provider is out of quota', () => {
    it('falls back to the next target, keeps the answer format, and skips the exhausted one until its reset', async () => {
      const { openai, primary, secondary } = await stackWith();
      primary.script({ kind: 'quota', retryAfterSeconds: 3600 });
      secondary.setDefaultReply({ kind: 'text', text: 'served by the secondary' });
      const { data, response } = await openai.chat.completions
        .create({ model: 'mock-model', messages: [{ role: 'user', content: 'hi' }] })
        .withResponse();
      expect(data.object).toBe('chat.completion');
      expect(data.choices[0]?.message.content).toBe('served by the secondary');
      expect(response.headers.get('x-ballast-provider')).toBe('secondary');
      expect(response.headers.get('x-ballast-fallbacks')).toBe('1');
      expect(response.headers.get('x-ballast-fallback-path')).toBe('primary/mock-model:quota');
      expect(secondary.requests[0]?.model).toBe('mock-model-b');

      await openai.chat.completions.create({
        model: 'mock-model',
        messages: [{ role: 'user', content: 'again' }],
      });
      expect(primary.requests).toHaveLength(1);
      expect(secondary.requests).toHaveLength(2);
      const metrics = await (await fetch(`${stack?.url}/metrics`)).text();
      expect(metrics).toContain(
        'ballast_proxy_fallbacks_total{reason="quota",target="primary/mock-model"} 1',
      );
      expect(metrics).toContain('reason="quota-exhausted"');
    });
  });

  describe('when every target is out of quota', () => {
    it('answers 429 insufficient_quota naming what was tried, and tells the SDK not to retry', async () => {
      const { url, primary, secondary } = await stackWith();
      primary.setDefaultReply({ kind: 'quota' });
      secondary.setDefaultReply({ kind: 'quota' });
      const answer = await post(`${url}/v1/chat/completions`, {
        model: 'mock-model',
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(answer.status).toBe(429);
      expect(answer.headers.get('x-should-retry')).toBe('false');
      expect(answer.json()).toMatchObject({
        error: {
          code: 'insufficient_quota',
          message: expect.stringContaining('tried: primary/mock-model:quota, secondary/mock-model-b:quota'),
        },
      });
    });
  });

  describe('when the provider breaks off a stream', () => {
    it('ends the client stream with an error event in its dialect', async () => {
      const { anthropic, primary } = await stackWith({
        config: { routes: [{ match: '*', targets: [{ provider: 'primary' }] }] },
      });
      primary.setDefaultReply({
        kind: 'disconnect',
        afterChunks: 3,
        text: 'one two three four five six seven eight',
      });
      const stream = anthropic.messages.stream({
        model: 'm',
        max_tokens: 50,
        messages: [{ role: 'user', content: 'go' }],
      });
      await expect(stream.finalMessage()).rejects.toThrow(/broke off the stream/);
    });
  });

  describe('when a target cannot be reached', () => {
    it('falls back to the next one', async () => {
      const dead = await createMockProvider();
      const deadUrl = dead.openaiBaseUrl;
      await dead.close();
      const { openai } = await stackWith({
        config: {
          providers: [
            { name: 'dead', type: 'openai', baseUrl: deadUrl },
            { name: 'spare', type: 'anthropic', baseUrl: (await startSpare()).anthropicBaseUrl },
          ],
          routes: [{ match: '*', targets: [{ provider: 'dead' }, { provider: 'spare' }] }],
        },
      });
      const { data, response } = await openai.chat.completions
        .create({ model: 'mock-model', messages: [{ role: 'user', content: 'hi' }] })
        .withResponse();
      expect(data.choices[0]?.message.content).toBeTruthy();
      expect(response.headers.get('x-ballast-fallback-path')).toBe('dead/mock-model:connection');
    });
  });

  describe('when a target keeps failing', () => {
    it('opens its breaker, skips it, then lets one probe through after the cool-down and closes on success', async () => {
      let clock = 1_000_000;
      const { openai, primary, secondary } = await stackWith({
        now: () => clock,
        config: { breaker: { failureThreshold: 2, windowMs: 10_000, cooldownMs: 5_000 } },
      });
      primary.setDefaultReply({ kind: 'error', status: 500, message: 'boom' });
      const ask = () =>
        openai.chat.completions.create({ model: 'mock-model', messages: [{ role: 'user', content: 'hi' }] });
      await ask();
      await ask();
      expect(primary.requests).toHaveLength(2);
      await ask();
      expect(primary.requests).toHaveLength(2); // open: skipped
      expect(secondary.requests).toHaveLength(3);
      let metrics = await (await fetch(`${stack?.url}/metrics`)).text();
      expect(metrics).toContain('ballast_proxy_breaker_state{target="primary/mock-model"} 2');

      clock += 5_000;
      primary.setDefaultReply({ kind: 'text', text: 'recovered' });
      const probe = await ask();
      expect(probe.choices[0]?.message.content).toBe('recovered');
      expect(primary.requests).toHaveLength(3);
      metrics = await (await fetch(`${stack?.url}/metrics`)).text();
      expect(metrics).toContain('ballast_proxy_breaker_state{target="primary/mock-model"} 0');
    });
  });

  describe('when the client disconnects mid-stream', () => {
    it('aborts upstream and still accounts the tokens streamed so far', async () => {
      const aborted: AbortOutcome[] = [];
      const recorder: GatewayPlugin = {
        name: 'recorder',
        onAbort: (_context, outcome) => void aborted.push(outcome),
      };
      const { url, primary } = await stackWith({ plugins: [recorder] });
      const words = Array.from({ length: 200 }, (_, index) => `word${index}`).join(' ');
      primary.setDefaultReply({ kind: 'text', text: words, chunkCount: 200, chunkDelayMs: 20 });
      const controller = new AbortController();
      const response = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'mock-model',
          stream: true,
          messages: [{ role: 'user', content: 'talk' }],
        }),
        signal: controller.signal,
      });
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      let received = '';
      while (!received.includes('word5')) received += new TextDecoder().decode((await reader.read()).value);
      controller.abort();
      await primary.waitForAborts(1, 3000);
      await expect.poll(() => aborted.length).toBe(1);
      expect(aborted[0]?.reason).toBe('client-disconnect');
      expect(aborted[0]?.usage.outputTokens).toBeGreaterThan(0);
      expect(aborted[0]?.usage.outputTokens).toBeLessThan(400);
      expect(aborted[0]?.costUsd).toBeGreaterThan(0);
    });
  });

  describe('when the input is bad', () => {
    it('answers malformed JSON with 400 in the shape of the endpoint called', async () => {
      const { url } = await stackWith();
      const openaiShape = await post(`${url}/v1/chat/completions`, '{"model": "mock-model", "messages": [');
      expect(openaiShape.status).toBe(400);
      expect(openaiShape.json()).toMatchObject({
        error: { type: 'invalid_request_error', message: expect.stringContaining('not valid JSON') },
      });
      const anthropicShape = await post(`${url}/v1/messages`, '{oops');
      expect(anthropicShape.status).toBe(400);
      expect(anthropicShape.json()).toMatchObject({
        type: 'error',
        error: { type: 'invalid_request_error' },
      });
    });

    it('answers an unknown model with 404 naming the routes', async () => {
      const { openai } = await stackWith();
      const attempt = openai.chat.completions.create({
        model: 'nope-1',
        messages: [{ role: 'user', content: 'x' }],
      });
      await expect(attempt).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
      await expect(attempt).rejects.toThrow(/no route matches model "nope-1".*"mock-\*"/);
    });

    it('answers a body over the limit with 413', async () => {
      const { url } = await stackWith({ config: { server: { port: 0, bodyLimitBytes: 1000 } } });
      const big = await post(`${url}/v1/messages`, {
        model: 'claude-x',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x'.repeat(5000) }],
      });
      expect(big.status).toBe(413);
      expect(big.json()).toMatchObject({
        type: 'error',
        error: { type: 'request_too_large', message: expect.stringContaining('bodyLimitBytes') },
      });
    });

    it('answers an upstream that hangs with 504 after the first-byte timeout', async () => {
      const hanging = await createMockProvider({ defaultReply: { kind: 'hang' } });
      extraProviders.push(hanging);
      const { anthropic } = await stackWith({
        config: {
          providers: [
            { name: 'slow', type: 'openai', baseUrl: hanging.openaiBaseUrl, firstByteTimeoutMs: 150 },
          ],
          routes: [{ match: '*', targets: [{ provider: 'slow' }] }],
        },
      });
      const attempt = anthropic.messages.create({
        model: 'm',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x' }],
      });
      await expect(attempt).rejects.toMatchObject({ status: 504 });
      await expect(attempt).rejects.toThrow(/no response within 150 ms/);
    });
  });

  describe('when plugins run', () => {
    it('denies with the plugin status and x-should-retry: false, so the SDK does not retry', async () => {
      let calls = 0;
      const budget: GatewayPlugin = {
        name: 'budget',
        onRequest: () => {
          calls += 1;
          return {
            action: 'deny',
            code: 'budget_exceeded',
            status: 402,
            message: 'session budget of $1 reached',
          };
        },
      };
      const { url, primary } = await stackWith({ plugins: [budget] });
      const retrying = new OpenAI({ apiKey: 'x', baseURL: `${url}/v1`, maxRetries: 2 });
      const attempt = retrying.chat.completions.create({
        model: 'mock-model',
        messages: [{ role: 'user', content: 'x' }],
      });
      await expect(attempt).rejects.toMatchObject({ status: 402, code: 'budget_exceeded' });
      expect(calls).toBe(1);
      expect(primary.requests).toHaveLength(0);
    });

    it('fails closed when a plugin throws, and passes when it is failOpen', async () => {
      const folder = await mkdtemp(join(tmpdir(), 'ballast-plugin-'));
      await writeFile(
        join(folder, 'broken.mjs'),
        "export default () => ({ name: 'broken', onRequest() { throw new Error('store down'); } });\n",
      );
      const closed = await stackWith({ baseDir: folder, config: { plugins: [{ use: './broken.mjs' }] } });
      await expect(
        closed.openai.chat.completions.create({
          model: 'mock-model',
          messages: [{ role: 'user', content: 'x' }],
        }),
      ).rejects.toMatchObject({ status: 500, code: 'plugin_failed' });
      await closed.close();
      const open = await stackWith({
        baseDir: folder,
        config: { plugins: [{ use: './broken.mjs', failOpen: true }] },
      });
      const passed = await open.openai.chat.completions.create({
        model: 'mock-model',
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(passed.choices[0]?.message.content).toBeTruthy();
    });

    it('lets a plugin rewrite the request and reports usage and cost after', async () => {
      const completed: CompletionOutcome[] = [];
      const memory: GatewayPlugin = {
        name: 'memory',
        onRequest: (context) => ({
          action: 'rewrite',
          request: { ...context.request, messages: context.request.messages.slice(-1) },
        }),
        onResponse: (_context, outcome) => void completed.push(outcome),
      };
      const { openai, secondary } = await stackWith({
        plugins: [memory],
        config: { routes: [{ match: '*', targets: [{ provider: 'secondary' }] }] },
      });
      secondary.setDefaultReply({ kind: 'text', text: 'ok', usage: { inputTokens: 40, outputTokens: 2 } });
      await openai.chat.completions.create({
        model: 'mock-model',
        messages: [
          { role: 'user', content: 'old turn' },
          { role: 'assistant', content: 'old answer' },
          { role: 'user', content: 'latest' },
        ],
      });
      expect(secondary.requests[0]?.body.messages).toEqual([{ role: 'user', content: 'latest' }]);
      expect(completed[0]).toMatchObject({
        usage: { inputTokens: 40, outputTokens: 2 },
        streamed: false,
        status: 200,
      });
      expect(completed[0]?.costUsd).toBeCloseTo((40 * 1 + 2 * 2) / 1e6, 12);
    });

    it('cuts a stream mid-flight with an error event in the client dialect', async () => {
      let events = 0;
      const killswitch: GatewayPlugin = {
        name: 'killswitch',
        onStreamEvent: () =>
          ++events > 5 ? { action: 'cut', code: 'killed', message: 'stopped by an operator' } : undefined,
      };
      const { anthropic, primary } = await stackWith({
        plugins: [killswitch],
        config: { routes: [{ match: '*', targets: [{ provider: 'primary' }] }] },
      });
      primary.setDefaultReply({
        kind: 'text',
        text: Array.from({ length: 100 }, (_, index) => `w${index}`).join(' '),
        chunkCount: 100,
        chunkDelayMs: 5,
      });
      const stream = anthropic.messages.stream({
        model: 'm',
        max_tokens: 500,
        messages: [{ role: 'user', content: 'go' }],
      });
      await expect(stream.finalMessage()).rejects.toThrow(/stopped by an operator/);
      await primary.waitForAborts(1, 3000);
    });
  });

  describe('when client keys are configured', () => {
    it('rejects unknown keys with 401 and names the key owner to plugins', async () => {
      const seen: Array<string | undefined> = [];
      const { url } = await stackWith({
        plugins: [
          { name: 'who', onRequest: (context) => void seen.push(`${context.clientKey}/${context.agent}`) },
        ],
        config: { keys: [{ key: 'team-secret', name: 'team-a', agent: 'planner' }] },
      });
      const denied = new OpenAI({ apiKey: 'wrong', baseURL: `${url}/v1`, maxRetries: 0 });
      await expect(
        denied.chat.completions.create({ model: 'mock-model', messages: [] }),
      ).rejects.toMatchObject({ status: 401 });
      const allowed = new OpenAI({ apiKey: 'team-secret', baseURL: `${url}/v1`, maxRetries: 0 });
      await allowed.chat.completions.create({
        model: 'mock-model',
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(seen).toEqual(['team-a/planner']);
    });
  });

  describe('the other endpoints', () => {
    it('serve health, models in both shapes, and metrics without secrets', async () => {
      const { url, openai } = await stackWith();
      await openai.chat.completions.create({
        model: 'mock-model',
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
      const models = await openai.models.list();
      expect(models.data.map((model) => model.id)).toContain('mock-model-b');
      const anthropicModels = (await (
        await fetch(`${url}/v1/models`, { headers: { 'anthropic-version': '2023-06-01' } })
      ).json()) as {
        data: Array<{ type: string }>;
      };
      expect(anthropicModels.data[0]?.type).toBe('model');
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toContain(
        'ballast_proxy_requests_total{endpoint="openai",provider="primary",status="200"} 1',
      );
      expect(metrics).toContain('ballast_proxy_overhead_seconds_bucket');
      expect(metrics).toContain(
        'ballast_proxy_tokens_total{kind="output",model="mock-model",provider="primary"}',
      );
      expect(metrics).not.toContain('sk-primary-secret');
    });
  });

  describe('close', () => {
    it('lets an in-flight stream finish, then stops accepting', async () => {
      const { url, openai, primary, proxy } = await stackWith();
      primary.setDefaultReply({
        kind: 'text',
        text: 'a b c d e f g h i j',
        chunkCount: 10,
        chunkDelayMs: 30,
      });
      const streaming = openai.chat.completions
        .stream({ model: 'mock-model', messages: [{ role: 'user', content: 'x' }] })
        .finalChatCompletion();
      await new Promise((resolve) => setTimeout(resolve, 60));
      const closing = proxy.close();
      const completion = await streaming;
      expect(completion.choices[0]?.message.content).toBe('a b c d e f g h i j');
      await closing;
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    });
  });
});
