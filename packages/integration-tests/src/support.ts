// Shared setup for cross-package tests: a mock provider, a proxy with plugins, real SDK clients.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createMockProvider, type MockProvider } from '@ballast/mock-provider';
import { type BallastProxy, createProxy, parseConfig } from '@ballast/proxy';
import OpenAI from 'openai';

export const packageDir = fileURLToPath(new URL('..', import.meta.url));

export interface KillswitchStack {
  provider: MockProvider;
  proxy: BallastProxy;
  url: string;
  client(session?: string, extraHeaders?: Record<string, string>): OpenAI;
  admin(path: string, body?: unknown): Promise<Response>;
  close(): Promise<void>;
}

export const adminToken = 'test-admin-token';

/**
 * The mock provider behind a proxy that loads `@ballast/killswitch` by package name, after any
 * `pluginsBefore` (e.g. `@ballast/memory`).
 */
export async function startKillswitchStack(
  killswitch: Record<string, unknown>,
  options: {
    provider?: MockProvider;
    pricing?: Record<string, unknown>;
    pluginsBefore?: Array<{ use: string; options?: Record<string, unknown> }>;
  } = {},
): Promise<KillswitchStack> {
  const provider = options.provider ?? (await createMockProvider());
  const config = parseConfig(
    {
      server: { port: 0, adminToken },
      pricing: options.pricing ?? { 'mock-model': { input: 1, output: 2, maxOutputTokens: 1000 } },
      providers: [{ name: 'mock', type: 'openai', baseUrl: provider.openaiBaseUrl }],
      routes: [{ match: '*', targets: [{ provider: 'mock' }] }],
      plugins: [...(options.pluginsBefore ?? []), { use: '@ballast/killswitch', options: killswitch }],
    },
    packageDir,
  );
  const proxy = await createProxy(config);
  const url = await proxy.listen();
  return {
    provider,
    proxy,
    url,
    client: (session, extraHeaders = {}) =>
      new OpenAI({
        apiKey: 'local',
        baseURL: `${url}/v1`,
        maxRetries: 2,
        defaultHeaders: { ...(session ? { 'x-ballast-session': session } : {}), ...extraHeaders },
      }),
    admin: (path, body) =>
      fetch(`${url}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    async close() {
      await proxy.close();
      if (!options.provider) await provider.close();
    },
  };
}

/** A free loopback port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server.close();
  return port;
}

/** A private redis-server on a free port (for tests that stop it), or undefined when the binary is missing. */
export async function startRedisServer(): Promise<{ url: string; stop(): Promise<void> } | undefined> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const failed = await Promise.race([
    once(child, 'error').then(() => true),
    new Promise<boolean>((resolve) => {
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve(false);
      });
    }),
  ]);
  if (failed) return undefined;
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
}

/**
 * The Redis URL for tests, or undefined (the test then skips, saying so) — except in CI, where
 * BALLAST_REQUIRE_REDIS=1 turns a missing Redis into a failure.
 */
export function redisUrl(): string | undefined {
  const url = process.env.REDIS_URL;
  if (!url && process.env.BALLAST_REQUIRE_REDIS === '1') {
    throw new Error('BALLAST_REQUIRE_REDIS=1 but REDIS_URL is not set: Redis tests must run here');
  }
  return url;
}

/** An agent's history after `steps` file reads: long enough for memory to compact. */
export function agentHistory(steps: number): OpenAI.Chat.Completions.ChatCompletionMessageParam[] {
  const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
    { role: 'user', content: 'Fix the failing date test in src/parse.ts.' },
  ];
  for (let step = 0; step < steps; step += 1) {
    messages.push({ role: 'assistant', content: `Reading src/file${step}.ts.` });
    const lines = Array.from(
      { length: 80 },
      (_, line) => `export const value${step}_${line} = parseDate("2024-0${(line % 9) + 1}-1${line % 9}");`,
    );
    messages.push({ role: 'user', content: lines.join('\n') });
  }
  return messages;
}

/** What both dashboard tests run: memory, then the killswitch with a session budget. */
export function startDashboardStack(
  price: { input: number; output: number; maxOutputTokens: number },
  sessionUsd: number,
): Promise<KillswitchStack> {
  return startKillswitchStack(
    { loop: false, budgets: [{ scope: 'session', usd: sessionUsd, requests: 20 }] },
    {
      pricing: { 'mock-model': price },
      pluginsBefore: [{ use: '@ballast/memory', options: { enabled: true, budgetTokens: 600 } }],
    },
  );
}
