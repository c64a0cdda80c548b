// Translated streams and responses are read by the official SDKs, over a real loopback socket.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dialect } from './chat.js';
import { convertResponse, createStreamTranslator } from './convert.js';
import { formatSseEvent } from './sse.js';
import { assemble, fixture, fixtureText, parseAll } from './test-support.js';

/** Which upstream fixture the server translates for the next request. */
let upstream: { dialect: Dialect; name: string } = { dialect: 'anthropic', name: 'stream-tools' };
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    const client: Dialect = request.url?.endsWith('/chat/completions') ? 'openai' : 'anthropic';
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      const stream = (JSON.parse(body) as { stream?: boolean }).stream === true;
      if (!stream) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify(
            convertResponse(upstream.dialect, client, fixture(`${upstream.dialect}/${upstream.name}.json`)),
          ),
        );
        return;
      }
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const translator = createStreamTranslator({ from: upstream.dialect, to: client, includeUsage: true });
      // One write per translated event, as a proxy would flush them.
      for (const event of parseAll(fixtureText(`${upstream.dialect}/${upstream.name}.sse`))) {
        for (const out of translator.push(event)) response.write(formatSseEvent(out));
      }
      for (const out of translator.end()) response.write(formatSseEvent(out));
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const openai = () => new OpenAI({ apiKey: 'test-key', baseURL: `${baseUrl}/v1`, maxRetries: 0 });
const anthropic = () => new Anthropic({ apiKey: 'test-key', baseURL: baseUrl, maxRetries: 0 });

describe('createStreamTranslator with the official SDKs', () => {
  describe('when an Anthropic tool-use stream is served to the openai SDK', () => {
    it('assembles the same tool calls, finish reason and usage', async () => {
      upstream = { dialect: 'anthropic', name: 'stream-tools' };
      const expected = assemble('anthropic', parseAll(fixtureText('anthropic/stream-tools.sse')));
      const completion = await openai()
        .chat.completions.stream({
          model: 'claude-sonnet-4-5',
          messages: [{ role: 'user', content: 'weather?' }],
          stream_options: { include_usage: true },
        })
        .finalChatCompletion();
      const choice = completion.choices[0];
      expect(choice?.finish_reason).toBe('tool_calls');
      expect(choice?.message.content ?? '').toBe(expected.text);
      expect(
        choice?.message.tool_calls?.map((call) =>
          call.type === 'function'
            ? { id: call.id, name: call.function.name, arguments: call.function.arguments }
            : null,
        ),
      ).toEqual(expected.toolCalls);
      expect(completion.usage?.completion_tokens).toBe(expected.usage.outputTokens);
    });
  });

  describe('when an OpenAI tool-call stream is served to the Anthropic SDK', () => {
    it('assembles the same text, tool inputs, stop reason and usage', async () => {
      upstream = { dialect: 'openai', name: 'stream-tools' };
      const expected = assemble('openai', parseAll(fixtureText('openai/stream-tools.sse')));
      const message = await anthropic()
        .messages.stream({ model: 'gpt-4o', max_tokens: 256, messages: [{ role: 'user', content: 'time?' }] })
        .finalMessage();
      expect(message.stop_reason).toBe('tool_use');
      const toolUses = message.content.filter((block) => block.type === 'tool_use');
      expect(toolUses.map((block) => ({ id: block.id, name: block.name, input: block.input }))).toEqual(
        expected.toolCalls.map((call) => ({
          id: call.id,
          name: call.name,
          input: JSON.parse(call.arguments),
        })),
      );
      expect(message.usage.output_tokens).toBe(expected.usage.outputTokens);
      expect(message.usage.input_tokens + (message.usage.cache_read_input_tokens ?? 0)).toBe(
        expected.usage.inputTokens,
      );
    });
  });

  describe('when an Anthropic thinking stream is served to the openai SDK', () => {
    it('delivers the answer text intact', async () => {
      upstream = { dialect: 'anthropic', name: 'stream-thinking' };
      const expected = assemble('anthropic', parseAll(fixtureText('anthropic/stream-thinking.sse')));
      const completion = await openai()
        .chat.completions.stream({
          model: 'claude-sonnet-4-5',
          messages: [{ role: 'user', content: '27 × 453?' }],
        })
        .finalChatCompletion();
      expect(completion.choices[0]?.message.content).toBe(expected.text);
      expect(completion.choices[0]?.finish_reason).toBe('stop');
    });
  });
});

describe('convertResponse with the official SDKs', () => {
  describe('when an Anthropic response is served to the openai SDK', () => {
    it('parses as a chat completion with the same text', async () => {
      upstream = { dialect: 'anthropic', name: 'response-text' };
      const source = fixture('anthropic/response-text.json') as { content: Array<{ text: string }> };
      const completion = await openai().chat.completions.create({
        model: 'claude-sonnet-4-5',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(completion.choices[0]?.message.content).toBe(source.content.map((block) => block.text).join(''));
    });
  });

  describe('when an OpenAI tool-call response is served to the Anthropic SDK', () => {
    it('parses as a message with tool_use blocks', async () => {
      upstream = { dialect: 'openai', name: 'response-tools' };
      const message = await anthropic().messages.create({
        model: 'gpt-4o',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(message.stop_reason).toBe('tool_use');
      expect(message.content.filter((block) => block.type === 'tool_use')).toHaveLength(2);
    });
  });
});
