import { fileURLToPath } from 'node:url';
import { createMockProvider, type MockProvider } from '@ballast/mock-provider';
import { type BallastProxy, createProxy, parseConfig } from '@ballast/proxy';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

let provider: MockProvider;
let proxy: BallastProxy;
let url: string;

beforeAll(async () => {
  provider = await createMockProvider();
  const config = parseConfig(
    {
      server: { port: 0 },
      pricing: { 'mock-model': { input: 1, output: 2 } },
      providers: [{ name: 'mock', type: 'openai', baseUrl: provider.openaiBaseUrl }],
      routes: [{ match: '*', targets: [{ provider: 'mock' }] }],
      plugins: [{ use: '@ballast/memory', options: { budgetTokens: 1200 } }],
    },
    packageDir,
  );
  proxy = await createProxy(config);
  url = await proxy.listen();
});

afterAll(async () => {
  await proxy.close();
  await provider.close();
});

const client = (session: string, memory = 'on') =>
  new OpenAI({
    apiKey: 'local',
    baseURL: `${url}/v1`,
    maxRetries: 0,
    defaultHeaders: { 'x-ballast-session': session, 'x-ballast-memory': memory },
  });

type Message = OpenAI.Chat.Completions.ChatCompletionMessageParam;

/** A coding-agent session: a task, then tool calls whose outputs are large, as a client replays it. */
function history(steps: number): Message[] {
  const messages: Message[] = [
    { role: 'system', content: 'You are a careful coding agent. Answer briefly.' },
    { role: 'user', content: 'Fix the failing date test in src/parse.ts; do not change the public API.' },
  ];
  for (let step = 0; step < steps; step += 1) {
    const id = `call_${step}`;
    messages.push({
      role: 'assistant',
      content: null,
      tool_calls: [
        { id, type: 'function', function: { name: 'read_file', arguments: `{"path":"src/file${step}.ts"}` } },
      ],
    });
    const lines = Array.from(
      { length: 120 },
      (_, line) => `export const value${step}_${line} = parseDate("2024-0${(line % 9) + 1}-1${line % 9}");`,
    );
    messages.push({ role: 'tool', tool_call_id: id, content: lines.join('\n') });
  }
  messages.push({ role: 'user', content: 'Which file had the failing parse, and what did we decide?' });
  return messages;
}

describe('the memory plugin in ballast-proxy', () => {
  describe('when a session with memory on outgrows the budget', () => {
    it('sends the built context upstream instead of the full history, and says how much it saved', async () => {
      const openai = client('mem-long');
      const messages = history(8);
      const { data, response } = await openai.chat.completions
        .create({ model: 'mock-model', messages })
        .withResponse();
      expect(data.choices[0]?.message.content).toContain('Hello from the mock');
      const saved = Number(response.headers.get('x-ballast-memory-saved-tokens'));
      expect(saved).toBeGreaterThan(1000);
      const upstream = provider.requests.at(-1)?.body as {
        messages: Array<{ role: string; content: unknown; tool_call_id?: string }>;
      };
      const sent = JSON.stringify(upstream.messages);
      // Far smaller than what the client sent, the system prompt kept, the last question verbatim.
      expect(sent.length).toBeLessThan(JSON.stringify(messages).length / 3);
      expect(upstream.messages[0]?.role).toBe('system');
      expect(sent).toContain('careful coding agent');
      expect(sent).toContain('Session memory');
      expect(sent).toContain('src/parse.ts');
      expect(upstream.messages.at(-1)?.content).toBe(
        'Which file had the failing parse, and what did we decide?',
      );
      // Every tool result upstream still follows its call.
      const callIds = new Set(
        upstream.messages.flatMap((message) =>
          ((message as { tool_calls?: Array<{ id: string }> }).tool_calls ?? []).map((call) => call.id),
        ),
      );
      for (const message of upstream.messages) {
        if (message.role === 'tool') expect(callIds.has(message.tool_call_id as string)).toBe(true);
      }
    });

    it('keeps the compacted prefix the same on the next call of the session', async () => {
      const openai = client('mem-prefix');
      const messages = history(8);
      await openai.chat.completions.create({ model: 'mock-model', messages });
      const first = provider.requests.at(-1)?.body as { messages: Array<{ content: string }> };
      messages.push(
        { role: 'assistant', content: 'It was src/file3.ts.' },
        { role: 'user', content: 'Thanks. Now run the tests.' },
      );
      const { response } = await openai.chat.completions
        .create({ model: 'mock-model', messages })
        .withResponse();
      const second = provider.requests.at(-1)?.body as { messages: Array<{ content: string }> };
      expect(response.headers.get('x-ballast-memory-prefix-unchanged')).toBe('1');
      expect(second.messages[1]?.content).toBe(first.messages[1]?.content);
    });
  });

  describe('when the client edits its history', () => {
    it('starts the session over from what the client sent, so nothing stale reaches upstream', async () => {
      const openai = client('mem-edited');
      await openai.chat.completions.create({ model: 'mock-model', messages: history(8) });
      const edited = history(8);
      edited[1] = { role: 'user', content: 'Fix the failing currency test in src/money.ts instead.' };
      const { response } = await openai.chat.completions
        .create({ model: 'mock-model', messages: edited })
        .withResponse();
      const sent = JSON.stringify(provider.requests.at(-1)?.body);
      expect(sent).toContain('src/money.ts');
      expect(sent).not.toContain('src/parse.ts');
      expect(Number(response.headers.get('x-ballast-memory-saved-tokens'))).toBeGreaterThan(1000);
    });
  });

  describe('when memory is off for the request', () => {
    it('passes the full history through untouched', async () => {
      const messages = history(8);
      const { response } = await client('mem-off', 'off')
        .chat.completions.create({ model: 'mock-model', messages })
        .withResponse();
      expect(response.headers.get('x-ballast-memory-saved-tokens')).toBeNull();
      const upstream = provider.requests.at(-1)?.body as { messages: unknown[] };
      expect(upstream.messages).toHaveLength(messages.length);
    });
  });

  describe('when a short session fits the budget', () => {
    it('sends it as is and reports zero saved', async () => {
      const messages: Message[] = [{ role: 'user', content: 'hello' }];
      const { response } = await client('mem-short')
        .chat.completions.create({ model: 'mock-model', messages })
        .withResponse();
      expect(response.headers.get('x-ballast-memory-saved-tokens')).toBe('0');
      const upstream = provider.requests.at(-1)?.body as { messages: unknown[] } | undefined;
      expect(upstream?.messages).toHaveLength(1);
    });
  });
});
