import { type ChatRequest, countTextTokens, type Dialect, parseRequest } from '@ballast/core';

const TOKEN_MODEL = 'gpt-4o';
const CACHE_MAX_ENTRIES = 256;
const CACHE_MAX_BODY_LENGTH = 64 * 1024;
const CHARACTERS_PER_TOKEN = 4;

/** Benchmarks send the same body over and over: remember the count of recent small bodies. */
export interface InputTokenCounter {
  count(dialect: Dialect, body: unknown, rawBody: string): number;
}

function requestText(request: ChatRequest): string {
  const pieces: string[] = [];
  for (const part of request.system ?? []) pieces.push(part.text);
  for (const message of request.messages) {
    for (const part of message.content) {
      if (part.type === 'text' || part.type === 'reasoning') pieces.push(part.text);
      else if (part.type === 'tool-call') pieces.push(part.arguments);
      else if (part.type === 'tool-result') {
        for (const inner of part.content) if (inner.type === 'text') pieces.push(inner.text);
      }
    }
  }
  return pieces.join('\n');
}

function countUncached(dialect: Dialect, body: unknown, rawBody: string): number {
  let text: string;
  try {
    text = requestText(parseRequest(dialect, body));
  } catch {
    // Not a request core understands: still answer with a deterministic count.
    return Math.ceil(rawBody.length / CHARACTERS_PER_TOKEN);
  }
  return text.length === 0 ? 0 : countTextTokens(text, TOKEN_MODEL);
}

/**
 * Creates the counter of default input tokens: the request's message texts (system, text parts, tool
 * arguments and results) counted with `countTextTokens(text, 'gpt-4o')`, or a quarter of the body's
 * length when core cannot parse the body.
 * @returns a counter with a small cache keyed by the raw body
 */
export function createInputTokenCounter(): InputTokenCounter {
  const cache = new Map<string, number>();
  return {
    count(dialect, body, rawBody) {
      if (rawBody.length > CACHE_MAX_BODY_LENGTH) return countUncached(dialect, body, rawBody);
      const key = dialect === 'openai' ? `o${rawBody}` : `a${rawBody}`;
      const hit = cache.get(key);
      if (hit !== undefined) return hit;
      const tokens = countUncached(dialect, body, rawBody);
      if (cache.size >= CACHE_MAX_ENTRIES) cache.clear();
      cache.set(key, tokens);
      return tokens;
    },
  };
}

/** Usage with every field settled. */
export interface ResolvedUsage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
}
