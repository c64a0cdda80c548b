// Starts mock providers and a proxy on loopback for tests. Not exported from the package.
import Anthropic from '@anthropic-ai/sdk';
import type { GatewayPlugin } from '@ballast/core';
import { createMockProvider, type MockProvider } from '@ballast/mock-provider';
import OpenAI from 'openai';
import { parseConfig } from './config.js';
import { type BallastProxy, createProxy } from './proxy.js';

export interface TestStack {
  primary: MockProvider;
  secondary: MockProvider;
  proxy: BallastProxy;
  url: string;
  openai: OpenAI;
  anthropic: Anthropic;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Config fields to merge over the defaults (providers and routes replace the defaults). */
  config?: Record<string, unknown>;
  plugins?: GatewayPlugin[];
  now?: () => number;
  baseDir?: string;
}

/**
 * Two mock providers, `primary` (openai dialect) and `secondary` (anthropic dialect), behind a
 * proxy whose `mock-*` route tries primary then secondary, and `claude-*` secondary then primary.
 */
export async function startStack(options: StackOptions = {}): Promise<TestStack> {
  const primary = await createMockProvider({ name: 'primary' });
  const secondary = await createMockProvider({ name: 'secondary' });
  const config = parseConfig(
    {
      server: { port: 0 },
      pricing: { 'mock-model': { input: 1, output: 2 }, 'mock-model-b': { input: 3, output: 6 } },
      providers: [
        { name: 'primary', type: 'openai', baseUrl: primary.openaiBaseUrl, apiKey: 'sk-primary-secret' },
        {
          name: 'secondary',
          type: 'anthropic',
          baseUrl: secondary.anthropicBaseUrl,
          apiKey: 'sk-ant-secondary-secret',
        },
      ],
      routes: [
        {
          match: 'mock-*',
          targets: [{ provider: 'primary' }, { provider: 'secondary', model: 'mock-model-b' }],
        },
        {
          match: 'claude-*',
          targets: [{ provider: 'secondary' }, { provider: 'primary', model: 'mock-model' }],
        },
      ],
      ...options.config,
    },
    options.baseDir,
  );
  const proxy = await createProxy(config, {
    ...(options.plugins ? { plugins: options.plugins } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const url = await proxy.listen();
  return {
    primary,
    secondary,
    proxy,
    url,
    openai: new OpenAI({ apiKey: 'client-key', baseURL: `${url}/v1`, maxRetries: 0 }),
    anthropic: new Anthropic({ apiKey: 'client-key', baseURL: url, maxRetries: 0 }),
    async close() {
      await proxy.close();
      await Promise.all([primary.close(), secondary.close()]);
    },
  };
}

/** POSTs a JSON (or raw string) body and returns status, headers and text. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; text: string; json: () => unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}
